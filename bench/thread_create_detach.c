/* Thread lifecycle: create+detach throughput, threads created detached (attribute).
 *
 * The main thread creates detached threads that bump a counter and exit at once, in rounds of
 * ROUND threads; after each round it waits (atomic counter + futex) until all of the round's
 * threads ran, so at most ROUND threads exist at a time. Reported: threads per second.
 * thread_detach_after.c includes this file with DETACH_AFTER set: joinable threads detached
 * with pthread_detach right after pthread_create.
 */
#include "bench.h"
#include <pthread.h>

#define ROUND 200
#define WARMUP_ROUNDS 2
#define MIN_ROUNDS 5

static atomic_uint done;

static void *bump(void *arg)
{
    (void)arg;
    atomic_fetch_add(&done, 1);
    bench_futex_wake(&done, 1);
    return NULL;
}

static void wait_done(unsigned target)
{
    for (;;) {
        unsigned now = atomic_load(&done);
        if (now >= target)
            return;
        bench_futex_wait(&done, now);
    }
}

static void run_round(const pthread_attr_t *attr, int detach_after)
{
    unsigned target = atomic_load(&done) + ROUND;
    for (int i = 0; i < ROUND; i++) {
        pthread_t t;
        BENCH_CHECK(pthread_create(&t, attr, bump, NULL));
        if (detach_after)
            BENCH_CHECK(pthread_detach(t));
    }
    wait_done(target);
}

static void measure(const char *name, const pthread_attr_t *attr, int detach_after)
{
    for (int r = 0; r < WARMUP_ROUNDS; r++)
        run_round(attr, detach_after);
    double limit = bench_seconds();
    double start = bench_now(), now;
    long threads = 0;
    int rounds = 0;
    do {
        run_round(attr, detach_after);
        threads += ROUND;
        rounds++;
        now = bench_now();
    } while (rounds < MIN_ROUNDS || now - start < limit);
    bench_result(name, threads / (now - start), "threads/s", "higher");
}

int main(void)
{
#ifdef DETACH_AFTER
    measure("create_then_detach", NULL, 1);
#else
    pthread_attr_t det;
    BENCH_CHECK(pthread_attr_init(&det));
    BENCH_CHECK(pthread_attr_setdetachstate(&det, PTHREAD_CREATE_DETACHED));
    measure("create_detached", &det, 0);
    pthread_attr_destroy(&det);
#endif
    /* Detached threads may still be exiting; give them a moment so the process does not exit
       under them (harmless either way). */
    usleep(10000);
    return 0;
}
