/* Thread lifecycle: create+join with 8 concurrent creators.
 *
 * Eight creator threads each create+join a thread that returns at once, in a loop, all at the
 * same time, for about BENCH_SECONDS. This stresses what creation shares between threads (the
 * stack cache, the thread registry, glibc's stack list lock). Reported: total create+join
 * cycles per second over all creators, and the mean latency of one cycle seen by a creator.
 */
#include "bench.h"
#include <pthread.h>

#define CREATORS 8
#define WARMUP 50

static atomic_uint gate;
static atomic_int stop;
static long counts[CREATORS];

static void *noop(void *arg)
{
    return arg;
}

static void *creator(void *arg)
{
    long idx = (long)arg, n = 0;
    pthread_t t;
    void *ret;
    for (int i = 0; i < WARMUP; i++) {
        BENCH_CHECK(pthread_create(&t, NULL, noop, NULL));
        BENCH_CHECK(pthread_join(t, &ret));
    }
    bench_gate_wait(&gate);
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        BENCH_CHECK(pthread_create(&t, NULL, noop, (void *)n));
        BENCH_CHECK(pthread_join(t, &ret));
        if (ret != (void *)n) {
            fprintf(stderr, "join returned %p, expected %ld\n", ret, n);
            exit(3);
        }
        n++;
    }
    counts[idx] = n;
    return NULL;
}

int main(void)
{
    pthread_t cs[CREATORS];
    for (long i = 0; i < CREATORS; i++)
        BENCH_CHECK(pthread_create(&cs[i], NULL, creator, (void *)i));
    /* Let the creators finish their warm-up before the clock starts. */
    usleep(50000);
    double t0 = bench_now();
    bench_gate_open(&gate);
    struct timespec d;
    double secs = bench_seconds();
    d.tv_sec = (time_t)secs;
    d.tv_nsec = (long)((secs - (double)d.tv_sec) * 1e9);
    nanosleep(&d, NULL);
    atomic_store(&stop, 1);
    for (int i = 0; i < CREATORS; i++)
        BENCH_CHECK(pthread_join(cs[i], NULL));
    double el = bench_now() - t0;
    long total = 0;
    for (int i = 0; i < CREATORS; i++)
        total += counts[i];
    bench_result("create_join_8_creators", total / el, "cycles/s", "higher");
    bench_result("create_join_8_creators_latency", el * CREATORS / total * 1e6, "us/cycle", "lower");
    return 0;
}
