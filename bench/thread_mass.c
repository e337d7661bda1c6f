/* Thread lifecycle: mass creation, 10,000 threads alive at once.
 *
 * The main thread creates N threads (default 10,000; BENCH_MASS_N overrides) that all block on
 * a futex gate, so all N exist at the same time; then it opens the gate and joins them all.
 * Reported per attribute set (64 KiB stacks; default attributes, i.e. 8 MiB stacks, if the
 * machine lets us create that many): the time to create all N, the time to release and join
 * them, and the total. Each phase is the best of REPS repetitions.
 */
#include "bench.h"
#include <pthread.h>

#define REPS 2

static atomic_uint gate;
static atomic_uint started;

static void *blocked(void *arg)
{
    atomic_fetch_add(&started, 1);
    bench_gate_wait(&gate);
    return arg;
}

/* Returns 0, or the pthread_create error that stopped the run (times are not valid then). */
static int one_rep(pthread_t *ts, int n, const pthread_attr_t *attr, double *create_s,
                   double *join_s)
{
    atomic_store(&gate, 0);
    atomic_store(&started, 0);
    int made = 0, err = 0;
    double t0 = bench_now();
    for (; made < n; made++) {
        err = pthread_create(&ts[made], attr, blocked, (void *)(long)made);
        if (err)
            break;
    }
    double t1 = bench_now();
    bench_gate_open(&gate);
    for (int i = 0; i < made; i++) {
        void *ret;
        BENCH_CHECK(pthread_join(ts[i], &ret));
        if (ret != (void *)(long)i) {
            fprintf(stderr, "join returned %p, expected %d\n", ret, i);
            exit(3);
        }
    }
    double t2 = bench_now();
    if (err) {
        fprintf(stderr, "note: pthread_create failed after %d threads: %s\n", made,
                strerror(err));
        return err;
    }
    *create_s = t1 - t0;
    *join_s = t2 - t1;
    return 0;
}

static void measure(const char *name, pthread_t *ts, int n, const pthread_attr_t *attr)
{
    double best_c = 1e30, best_j = 1e30, best_t = 1e30;
    for (int r = 0; r < REPS; r++) {
        double c, j;
        if (one_rep(ts, n, attr, &c, &j)) {
            printf("NOTE %s skipped: could not create %d threads at once\n", name, n);
            return;
        }
        if (c < best_c)
            best_c = c;
        if (j < best_j)
            best_j = j;
        if (c + j < best_t)
            best_t = c + j;
    }
    char metric[96];
    snprintf(metric, sizeof metric, "%s_create_all", name);
    bench_result(metric, best_c * 1e3, "ms", "lower");
    snprintf(metric, sizeof metric, "%s_release_join_all", name);
    bench_result(metric, best_j * 1e3, "ms", "lower");
    snprintf(metric, sizeof metric, "%s_total", name);
    bench_result(metric, best_t * 1e3, "ms", "lower");
}

int main(void)
{
    const char *s = getenv("BENCH_MASS_N");
    int n = s ? atoi(s) : 10000;
    if (n <= 0)
        n = 10000;
    pthread_t *ts = calloc(n, sizeof *ts);
    if (!ts)
        return 2;
    pthread_attr_t small;
    BENCH_CHECK(pthread_attr_init(&small));
    BENCH_CHECK(pthread_attr_setstacksize(&small, 64 * 1024));
    measure("mass10k_64k_stack", ts, n, &small);
    pthread_attr_destroy(&small);
    measure("mass10k_default_attr", ts, n, NULL);
    free(ts);
    return 0;
}
