/* Helpers shared by rpthread's benchmarks (the bench programs): clocks, raw futex waits, result lines.
 *
 * The benchmarks are ordinary glibc programs; bench/run.py runs each under glibc and under
 * LD_PRELOAD=librpthread.so. Waiting is done with raw futex system calls and C11 atomics, not
 * with pthread mutexes/condvars, so a lifecycle benchmark measures only the lifecycle calls.
 *
 * Output protocol, one line per metric:  RESULT <metric> <value> <unit> <better>
 * where <better> is "higher" or "lower".
 *
 * Environment: BENCH_SECONDS scales the time each timed loop runs (default 0.5 s; run.py
 * --quick sets it lower).
 */
#ifndef RPTHREAD_BENCH_H
#define RPTHREAD_BENCH_H

#include <errno.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Seconds a timed loop should run. */
static inline double bench_seconds(void)
{
    const char *s = getenv("BENCH_SECONDS");
    double v = s ? atof(s) : 0.0;
    return v > 0.0 ? v : 0.5;
}

/* Waits while *word == val (private futex; spurious returns are the caller's loop's job). */
static inline void bench_futex_wait(atomic_uint *word, unsigned val)
{
    syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static inline void bench_futex_wake(atomic_uint *word, int n)
{
    syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

/* A one-shot gate: threads wait until it opens. */
static inline void bench_gate_wait(atomic_uint *gate)
{
    while (atomic_load(gate) == 0)
        bench_futex_wait(gate, 0);
}

static inline void bench_gate_open(atomic_uint *gate)
{
    atomic_store(gate, 1);
    bench_futex_wake(gate, 0x7fffffff);
}

static inline void bench_result(const char *metric, double value, const char *unit,
                                const char *better)
{
    printf("RESULT %s %.6g %s %s\n", metric, value, unit, better);
    fflush(stdout);
}

/* Aborts the benchmark with a message when a pthread call fails. */
#define BENCH_CHECK(call)                                                          \
    do {                                                                           \
        int bench_rc_ = (call);                                                    \
        if (bench_rc_ != 0) {                                                      \
            fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call,   \
                    strerror(bench_rc_));                                          \
            exit(2);                                                               \
        }                                                                          \
    } while (0)

static int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median of n values (sorts the array). */
static inline double bench_median(double *v, int n)
{
    qsort(v, n, sizeof *v, bench_cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#endif
