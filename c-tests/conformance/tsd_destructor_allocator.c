// rpthread-test: timeout=20
/* The pattern of jemalloc (redis-benchmark crashed with SIGSEGV in jemalloc under rpthread):
 * an allocator keeps each thread's state in static TLS (__thread), links that state into a
 * global list of live threads, and unlinks it in a pthread key destructor at thread exit.
 *
 * If key destructors do not run when a thread exits, its node stays on the list; when the next
 * thread gets the same TLS memory (reused stack/TCB), the TLS image is copied over the node
 * while it is still linked (links become zero) and the next list operation crashes. This test
 * checks that every destructor ran and that the list is consistent after each round. */
#include <pthread.h>
#include <stdio.h>

struct node {
    struct node *prev, *next;
    int live;
};

static __thread struct node self; /* zero image: like jemalloc's tsd before initialization */
static struct node head = {&head, &head, 0};
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_key_t key;
static int destructed;

static void cleanup(void *p) {
    struct node *n = p;
    pthread_mutex_lock(&lock);
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->live = 0;
    destructed++;
    pthread_mutex_unlock(&lock);
}

static void *thread_main(void *arg) {
    (void)arg;
    pthread_mutex_lock(&lock);
    self.live = 1;
    self.prev = head.prev;
    self.next = &head;
    head.prev->next = &self;
    head.prev = &self;
    pthread_mutex_unlock(&lock);
    pthread_setspecific(key, &self);
    return 0;
}

int main(void) {
    if (pthread_key_create(&key, cleanup) != 0) { puts("pthread_key_create failed"); return 1; }
    int created = 0;
    for (int round = 0; round < 50; round++) {
        pthread_t t[2];
        for (int i = 0; i < 2; i++) {
            if (pthread_create(&t[i], 0, thread_main, 0) != 0) {
                puts("pthread_create failed");
                return 1;
            }
            created++;
        }
        for (int i = 0; i < 2; i++) pthread_join(t[i], 0);
        pthread_mutex_lock(&lock);
        int ok = destructed == created && head.next == &head && head.prev == &head;
        pthread_mutex_unlock(&lock);
        if (!ok) {
            printf("round %d: %d threads exited, %d key destructors ran, live list %s\n", round,
                   created, destructed,
                   head.next == &head ? "empty" : "NOT empty (stale TLS nodes)");
            return 1;
        }
    }
    return 0;
}
