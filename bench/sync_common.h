/* Helpers of the sync benchmarks on top of bench.h (clock, result line): timed parts of half
 * BENCH_SECONDS and a best-of-batches ns/op loop. */
#ifndef RPTHREAD_SYNC_BENCH_H
#define RPTHREAD_SYNC_BENCH_H
#include "bench.h"

#define sb_now bench_now
#define sb_result bench_result

/* Each timed part of the sync benchmarks runs half of BENCH_SECONDS (0.25 s by default). */
static inline double sb_seconds(void)
{
    return bench_seconds() / 2;
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
