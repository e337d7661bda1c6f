/* Process-shared rwlocks (the default kind and PREFER_WRITER_NONRECURSIVE_NP) between a
 * glibc process and an rpthread process: readers and writers in both processes, writers
 * update two words that readers must always see equal (no torn read, no reader inside a
 * write), with exact totals; then timed locks that time out while the peer holds the lock
 * and succeed once it lets go, and EDEADLK/EBUSY as the peer's library gives them. */
#include "interop.h"

#define ITERS 40000

struct guarded {
    pthread_rwlock_t l;
    volatile long a, b;
    long writes;
    long reads;
};

struct shared {
    struct guarded g[2]; /* [0]: default kind, [1]: writer preference, non-recursive */
};

static struct shared *s;

static void *worker(void *arg)
{
    struct guarded *g = arg;
    unsigned seed = (unsigned)(me * 7919 + (long)pthread_self());
    for (int i = 0; i < ITERS; i++) {
        seed = seed * 1103515245 + 12345;
        if ((seed >> 16) % 10 == 0) {
            int r = pthread_rwlock_wrlock(&g->l);
            if (r != 0) { CHECK(r == 0, "wrlock: %s", strerror(r)); return NULL; }
            g->a++;
            for (volatile int k = 0; k < 20; k++) {}
            g->b++;
            g->writes++;
            CHECK(pthread_rwlock_unlock(&g->l) == 0, "unlock");
        } else {
            int r = pthread_rwlock_rdlock(&g->l);
            if (r != 0) { CHECK(r == 0, "rdlock: %s", strerror(r)); return NULL; }
            long a = g->a;
            for (volatile int k = 0; k < 5; k++) {}
            long b = g->b;
            if (a != b) { CHECK(a == b, "torn read: a %ld b %ld", a, b); }
            __atomic_add_fetch(&g->reads, 1, __ATOMIC_RELAXED);
            CHECK(pthread_rwlock_unlock(&g->l) == 0, "unlock");
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    s = interop_start(argc, argv, sizeof *s);
    if (role == 'A') {
        pthread_rwlockattr_t a;
        pthread_rwlockattr_init(&a);
        pthread_rwlockattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
        CHECK(pthread_rwlock_init(&s->g[0].l, &a) == 0, "init");
        pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
        CHECK(pthread_rwlock_init(&s->g[1].l, &a) == 0, "init");
        pthread_rwlockattr_destroy(&a);
    }
    interop_ready();
    for (int k = 0; k < 2; k++) {
        struct guarded *g = &s->g[k];
        meet(1 + 2 * k);
        run_threads(2, worker, g);
        meet(2 + 2 * k);
        CHECK(g->a == g->writes && g->b == g->writes, "kind %d: a %ld b %ld writes %ld", k, g->a, g->b, g->writes);
        CHECK(g->writes + g->reads == 2L * 2 * ITERS, "kind %d: %ld operations, want %ld", k,
              g->writes + g->reads, 2L * 2 * ITERS);
    }

    /* Timed locks against the peer's holds, each role holding in turn. */
    pthread_rwlock_t *l = &s->g[0].l;
    for (int holder = 0; holder < 2; holder++) {
        int base = 10 + holder * 10;
        if (me == holder) {
            CHECK(pthread_rwlock_rdlock(l) == 0, "rdlock");
            meet(base + 1);
            meet(base + 2); /* the peer's write attempts timed out, its read lock worked */
            CHECK(pthread_rwlock_unlock(l) == 0, "unlock");
            CHECK(pthread_rwlock_wrlock(l) == 0, "wrlock");
            CHECK(pthread_rwlock_rdlock(l) == EDEADLK, "rdlock by the writer");
            meet(base + 3);
            meet(base + 4); /* the peer's attempts timed out */
            interop_sleep_ms(30);
            CHECK(pthread_rwlock_unlock(l) == 0, "unlock");
            meet(base + 5);
        } else {
            meet(base + 1);
            struct timespec t = in_ms(CLOCK_REALTIME, 30);
            CHECK(pthread_rwlock_timedwrlock(l, &t) == ETIMEDOUT, "timedwrlock while read-held");
            t = in_ms(CLOCK_MONOTONIC, 30);
            CHECK(pthread_rwlock_clockwrlock(l, CLOCK_MONOTONIC, &t) == ETIMEDOUT, "clockwrlock");
            CHECK(pthread_rwlock_trywrlock(l) == EBUSY, "trywrlock while read-held");
            t = in_ms(CLOCK_REALTIME, 5000);
            CHECK(pthread_rwlock_timedrdlock(l, &t) == 0, "timedrdlock while read-held");
            CHECK(pthread_rwlock_unlock(l) == 0, "unlock");
            meet(base + 2);
            meet(base + 3);
            t = in_ms(CLOCK_REALTIME, 30);
            CHECK(pthread_rwlock_timedrdlock(l, &t) == ETIMEDOUT, "timedrdlock while write-held");
            t = in_ms(CLOCK_MONOTONIC, 30);
            CHECK(pthread_rwlock_clockwrlock(l, CLOCK_MONOTONIC, &t) == ETIMEDOUT, "clockwrlock");
            CHECK(pthread_rwlock_tryrdlock(l) == EBUSY, "tryrdlock while write-held");
            meet(base + 4);
            t = in_ms(CLOCK_MONOTONIC, 5000);
            CHECK(pthread_rwlock_clockrdlock(l, CLOCK_MONOTONIC, &t) == 0, "clockrdlock once released");
            CHECK(pthread_rwlock_unlock(l) == 0, "unlock");
            meet(base + 5);
        }
    }
    return interop_end("interop_rwlock");
}
