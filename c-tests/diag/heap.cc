// Heap locks are named by where they were made: `Account` objects (a std::mutex member,
// statically initialized, so named by where each class of them was first locked) and a
// queue whose mutex is made with pthread_mutex_init. Two transfers in opposite directions
// take two accounts' mutexes in opposite orders: `order` reports the inversion between the
// two classes "first locked at transfer". The queue lock is contended by four threads.
#include <mutex>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <thread>
#include <vector>

struct Account {
    std::mutex m;
    long balance = 100;
};

static void transfer(Account &from, Account &to, long amount) {
    std::lock_guard<std::mutex> a(from.m);
    std::lock_guard<std::mutex> b(to.m);
    from.balance -= amount;
    to.balance += amount;
}

struct Queue {
    pthread_mutex_t lock;
    long items;
};

__attribute__((noinline)) static Queue *make_queue() {
    Queue *q = static_cast<Queue *>(malloc(sizeof(Queue)));
    pthread_mutex_init(&q->lock, nullptr);
    q->items = 0;
    return q;
}

int main() {
    Account *checking = new Account, *savings = new Account;
    std::thread t1([&] { transfer(*checking, *savings, 10); });
    t1.join();
    std::thread t2([&] { transfer(*savings, *checking, 5); });
    t2.join();
    Queue *q = make_queue();
    std::vector<std::thread> ts;
    for (int i = 0; i < 4; i++)
        ts.emplace_back([q] {
            for (int k = 0; k < 20000; k++) {
                pthread_mutex_lock(&q->lock);
                q->items++;
                pthread_mutex_unlock(&q->lock);
            }
        });
    for (auto &t : ts) t.join();
    printf("%ld %ld %ld\n", checking->balance, savings->balance, q->items);
    return 0;
}
