/* Thread lifecycle: create+join latency, one thread at a time.
 *
 * The main thread creates a thread that returns at once and joins it, over and over. A few
 * hundred warm-up cycles (stack caches, lazy binding) are excluded; then cycles run in batches
 * of BATCH for about BENCH_SECONDS. Reported: the mean over all measured cycles and the best
 * batch (less sensitive to other load on the machine). Both default attributes and a 64 KiB
 * stack are measured.
 */
#include "bench.h"
#include <pthread.h>

#define WARMUP 300
#define BATCH 500
#define MIN_BATCHES 5

static void *noop(void *arg)
{
    return arg;
}

static void measure(const char *name, const pthread_attr_t *attr)
{
    pthread_t t;
    void *ret;
    for (int i = 0; i < WARMUP; i++) {
        BENCH_CHECK(pthread_create(&t, attr, noop, NULL));
        BENCH_CHECK(pthread_join(t, &ret));
    }
    double limit = bench_seconds();
    double start = bench_now(), best = 1e30;
    long cycles = 0;
    int batches = 0;
    for (;;) {
        double b0 = bench_now();
        for (int i = 0; i < BATCH; i++) {
            BENCH_CHECK(pthread_create(&t, attr, noop, (void *)(long)i));
            BENCH_CHECK(pthread_join(t, &ret));
            if (ret != (void *)(long)i) {
                fprintf(stderr, "join returned %p, expected %d\n", ret, i);
                exit(3);
            }
        }
        double b1 = bench_now();
        cycles += BATCH;
        batches++;
        if ((b1 - b0) / BATCH < best)
            best = (b1 - b0) / BATCH;
        if (batches >= MIN_BATCHES && b1 - start >= limit)
            break;
    }
    double total = bench_now() - start;
    char metric[96];
    snprintf(metric, sizeof metric, "%s_mean", name);
    bench_result(metric, total / cycles * 1e6, "us/cycle", "lower");
    snprintf(metric, sizeof metric, "%s_best_batch", name);
    bench_result(metric, best * 1e6, "us/cycle", "lower");
}

int main(void)
{
    measure("create_join", NULL);
    pthread_attr_t small;
    BENCH_CHECK(pthread_attr_init(&small));
    BENCH_CHECK(pthread_attr_setstacksize(&small, 64 * 1024));
    measure("create_join_64k_stack", &small);
    pthread_attr_destroy(&small);
    return 0;
}
