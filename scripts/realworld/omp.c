/* Workload for scripts/realworld.py: GCC's OpenMP runtime (libgomp) creates its thread pool
 * with pthread_create and synchronizes it with its own futex barriers. Parallel loops with
 * reductions, tasks, critical sections, atomics, a nested region and several pool sizes; the
 * result is printed and checked against a serial computation. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

static long fib(int n) {
    if (n < 2) return n;
    if (n < 18) return fib(n - 1) + fib(n - 2);
    long a, b;
#pragma omp task shared(a)
    a = fib(n - 1);
#pragma omp task shared(b)
    b = fib(n - 2);
#pragma omp taskwait
    return a + b;
}

static long fib_serial(int n) { return n < 2 ? n : fib_serial(n - 1) + fib_serial(n - 2); }

int main(void) {
    enum { N = 4000000 };
    double *x = malloc(N * sizeof *x);
    int fails = 0;
    for (int threads = 2; threads <= 8; threads *= 2) {
        omp_set_num_threads(threads);
        double dot = 0;
#pragma omp parallel for reduction(+ : dot) schedule(static)
        for (int i = 0; i < N; i++) {
            x[i] = (double)(i % 1000) / 7.0;
            dot += x[i] * x[i];
        }
        double dot_serial = 0;
        for (int i = 0; i < N; i++) dot_serial += x[i] * x[i];
        long hist[16] = {0};
        long crit = 0, atom = 0;
        int seen = 0;
#pragma omp parallel
        {
#pragma omp atomic
            seen++;
#pragma omp for schedule(dynamic, 1000)
            for (int i = 0; i < N; i++) {
#pragma omp atomic
                hist[i % 16]++;
            }
#pragma omp barrier
#pragma omp for schedule(guided)
            for (int i = 0; i < 100000; i++) {
                if (i % 1000 == 0) {
#pragma omp critical
                    crit += i;
                }
#pragma omp atomic
                atom += i & 7;
            }
        }
        long f = 0;
#pragma omp parallel
#pragma omp single
        f = fib(27);
        long nested = 0;
        omp_set_max_active_levels(2);
#pragma omp parallel num_threads(2) reduction(+ : nested)
        {
#pragma omp parallel num_threads(2) reduction(+ : nested)
            nested += 1;
        }
        int ok = seen == threads && f == fib_serial(27) && nested == 4 && crit == 4950000 &&
                 atom == 350000 && fabs(dot - dot_serial) <= 1e-9 * dot_serial;
        for (int b = 0; b < 16; b++) ok &= hist[b] == N / 16;
        printf("threads %d: dot %.6e fib %ld crit %ld atom %ld nested %ld %s\n", threads, dot, f,
               crit, atom, nested, ok ? "ok" : "MISMATCH");
        fails += !ok;
    }
    free(x);
    return fails != 0;
}
