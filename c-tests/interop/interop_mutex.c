/* Process-shared mutexes (normal and errorcheck) between a glibc process and an rpthread
 * process: two threads in each process increment a plain counter under the mutex (the total
 * must come out exact), trylock sees the peer's lock, and timed locks time out while the
 * peer holds the mutex and succeed once it lets go. */
#include "interop.h"

#define ITERS 100000

struct shared {
    pthread_mutex_t m;
    pthread_mutex_t e; /* errorcheck */
    long counter;
    long counter_e;
};

static struct shared *s;

static void *worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < ITERS; i++) {
        pthread_mutex_t *m = i % 4 == 0 ? &s->e : &s->m;
        long *c = i % 4 == 0 ? &s->counter_e : &s->counter;
        int r = pthread_mutex_lock(m);
        if (r != 0) { CHECK(r == 0, "lock: %s", strerror(r)); return NULL; }
        long v = *c;
        __asm__ volatile("" ::: "memory");
        *c = v + 1;
        r = pthread_mutex_unlock(m);
        if (r != 0) { CHECK(r == 0, "unlock: %s", strerror(r)); return NULL; }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    s = interop_start(argc, argv, sizeof *s);
    if (role == 'A') {
        pthread_mutexattr_t a;
        pthread_mutexattr_init(&a);
        pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
        CHECK(pthread_mutex_init(&s->m, &a) == 0, "init");
        pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
        CHECK(pthread_mutex_init(&s->e, &a) == 0, "init errorcheck");
        pthread_mutexattr_destroy(&a);
    }
    interop_ready();
    meet(1);
    run_threads(2, worker, NULL);
    meet(2);
    CHECK(s->counter == 2L * 2 * ITERS * 3 / 4, "counter %ld, want %ld", s->counter, 2L * 2 * ITERS * 3 / 4);
    CHECK(s->counter_e == 2L * 2 * ITERS / 4, "errorcheck counter %ld", s->counter_e);

    /* Each role holds the mutex in turn; the other sees it held and times out. */
    for (int holder = 0; holder < 2; holder++) {
        int base = 10 + holder * 10;
        if (me == holder) {
            CHECK(pthread_mutex_lock(&s->m) == 0, "lock");
            CHECK(pthread_mutex_lock(&s->e) == 0, "lock errorcheck");
            meet(base + 1);
            meet(base + 2); /* the peer timed out */
            interop_sleep_ms(30);
            CHECK(pthread_mutex_unlock(&s->m) == 0, "unlock");
            CHECK(pthread_mutex_unlock(&s->e) == 0, "unlock errorcheck");
            meet(base + 3);
        } else {
            meet(base + 1);
            CHECK(pthread_mutex_trylock(&s->m) == EBUSY, "trylock of a held mutex");
            CHECK(pthread_mutex_unlock(&s->e) == EPERM, "unlock of the peer's errorcheck mutex");
            struct timespec t = in_ms(CLOCK_REALTIME, 30);
            CHECK(pthread_mutex_timedlock(&s->m, &t) == ETIMEDOUT, "timedlock while held");
            t = in_ms(CLOCK_MONOTONIC, 30);
            CHECK(pthread_mutex_clocklock(&s->e, CLOCK_MONOTONIC, &t) == ETIMEDOUT, "clocklock while held");
            meet(base + 2);
            t = in_ms(CLOCK_REALTIME, 5000);
            CHECK(pthread_mutex_timedlock(&s->m, &t) == 0, "timedlock once released");
            CHECK(pthread_mutex_unlock(&s->m) == 0, "unlock");
            meet(base + 3);
        }
    }
    return interop_end("interop_mutex");
}
