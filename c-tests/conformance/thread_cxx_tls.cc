// C++ thread_local objects in our threads: constructed on first use with their initial value,
// distinct per thread, destroyed at thread exit (return and pthread_exit alike), in reverse
// order of construction; and a C++ exception thrown and caught inside a thread.
#include "thread_check.h"
#include <pthread.h>
#include <stdexcept>
#include <string>

static TC_ATOMIC(int) constructed;
static TC_ATOMIC(int) destroyed;
static TC_ATOMIC(int) order_errors;

struct Tracked {
    int value;
    std::string name;
    Tracked *before;
    static thread_local Tracked *last;
    Tracked() : value(77), name("tracked object with a long enough name to allocate") {
        constructed++;
        before = last;
        last = this;
    }
    ~Tracked() {
        if (last != this) order_errors++;
        last = before;
        destroyed++;
    }
};
thread_local Tracked *Tracked::last = nullptr;

static thread_local Tracked first;
static thread_local Tracked second;
static thread_local int plain_counter = 5;
static Tracked *seen[16];

static void *worker(void *arg) {
    long id = (long)arg;
    CHECK(plain_counter == 5, "plain thread_local %d", plain_counter);
    plain_counter += (int)id;
    CHECK(first.value == 77 && second.value == 77, "initial values");
    first.value = (int)id;
    seen[id] = &first;
    try {
        throw std::runtime_error("inside a thread");
    } catch (const std::exception &e) {
        CHECK(std::string(e.what()) == "inside a thread", "exception text");
    }
    if (id % 2) pthread_exit((void *)(long)first.value);
    return (void *)(long)first.value;
}

static void *no_tls_use(void *) { return nullptr; }

int main() {
    const int n = 16;
    pthread_t t[n];
    for (long i = 0; i < n; i++) CHECK(pthread_create(&t[i], nullptr, worker, (void *)i) == 0, "create");
    for (long i = 0; i < n; i++) {
        void *v;
        CHECK(pthread_join(t[i], &v) == 0 && (long)v == i, "join %ld", i);
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < i; j++) CHECK(seen[i] != seen[j], "threads %d and %d share thread_local", i, j);
    CHECK(constructed == 2 * n, "constructed %d, expected %d", (int)constructed, 2 * n);
    CHECK(destroyed == 2 * n, "destroyed %d at thread exit, expected %d", (int)destroyed, 2 * n);
    CHECK(order_errors == 0, "%d destructors out of reverse order", (int)order_errors);
    // A thread that never touches the objects constructs and destroys none.
    CHECK(pthread_create(&t[0], nullptr, no_tls_use, nullptr) == 0, "create");
    CHECK(pthread_join(t[0], nullptr) == 0, "join");
    CHECK(constructed == 2 * n && destroyed == 2 * n, "untouched thread_local was constructed");
    return tc_result("thread_cxx_tls");
}
