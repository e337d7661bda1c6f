/* Small helpers of the sync benchmarks (self-contained: clock, result line, timed loops).
 * Output: RESULT <metric> <value> <unit> <better>. BENCH_SECONDS scales each timed part
 * (default 0.25 s). */
#ifndef RPTHREAD_SYNC_BENCH_H
#define RPTHREAD_SYNC_BENCH_H
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline double sb_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline double sb_seconds(void)
{
    const char *s = getenv("BENCH_SECONDS");
    double v = s ? atof(s) : 0.0;
    return v > 0.0 ? v / 2 : 0.25;
}

static inline void sb_result(const char *metric, double value, const char *unit, const char *better)
{
    printf("RESULT %s %.6g %s %s\n", metric, value, unit, better);
    fflush(stdout);
}

/* Best-of-batches ns per iteration of `body` (a statement), single thread. */
#define SB_NS_PER_OP(out, body)                                                        \
    do {                                                                               \
        double sb_best = 1e30, sb_end = sb_now() + sb_seconds();                       \
        for (int sb_w = 0; sb_w < 10000; sb_w++) { body; }                              \
        do {                                                                           \
            double sb_t0 = sb_now();                                                   \
            for (int sb_i = 0; sb_i < 100000; sb_i++) { body; }                          \
            double sb_ns = (sb_now() - sb_t0) * 1e9 / 100000;                          \
            if (sb_ns < sb_best) sb_best = sb_ns;                                      \
        } while (sb_now() < sb_end);                                                   \
        (out) = sb_best;                                                               \
    } while (0)
#endif
