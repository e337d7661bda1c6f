/* Footprint under thread churn: address space (VmSize) while and after many short threads run.
 *
 * - detached churn: N detached threads (default 20,000) that each malloc, touch and free a
 *   block, created as fast as possible; VmSize sampled every 500 creations (peak) and once
 *   all have ended (end). What stays is the stack cache (glibc's is bounded at 40 MiB) and
 *   malloc's arenas (64 MiB of address space each; glibc makes one per thread mallocing at
 *   the same time, reused once the thread ends).
 * - mixed stack sizes: 2,000 joinable threads, 16 alive at a time, with stacks of 64 KiB,
 *   256 KiB, 1 MiB and 8 MiB in turn; VmSize at the end (the cache must stay bounded and give
 *   memory back, whatever the sizes).
 */
#include "bench.h"
#include <pthread.h>

static atomic_uint done;

static long vmsize_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmSize:", 7) == 0)
            v = atol(line + 7);
    if (f)
        fclose(f);
    return v;
}

static void *use_malloc(void *arg)
{
    char *p = malloc(64 + (long)arg % 2048);
    memset(p, 1, 64);
    __asm__ volatile("" : : "r"(p) : "memory"); /* the block is really allocated */
    free(p);
    atomic_fetch_add(&done, 1);
    bench_futex_wake(&done, 1);
    return NULL;
}

static void wait_done(unsigned target)
{
    unsigned now;
    while ((now = atomic_load(&done)) < target)
        bench_futex_wait(&done, now);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 20000;
    pthread_attr_t detached;
    BENCH_CHECK(pthread_attr_init(&detached));
    BENCH_CHECK(pthread_attr_setdetachstate(&detached, PTHREAD_CREATE_DETACHED));
    long peak = 0;
    for (int i = 0; i < n; i++) {
        pthread_t t;
        while (pthread_create(&t, &detached, use_malloc, (void *)(long)i) != 0)
            usleep(1000); /* out of memory for now: wait for threads to end */
        if (i % 500 == 0) {
            long v = vmsize_kib();
            if (v > peak)
                peak = v;
        }
    }
    wait_done(n);
    usleep(20000); /* the last threads are past their counter bump; let them be gone */
    bench_result("detached_churn_vmsize_peak", peak, "KiB", "lower");
    bench_result("detached_churn_vmsize_end", vmsize_kib(), "KiB", "lower");

    static const size_t sizes[] = {64 << 10, 256 << 10, 1 << 20, 8 << 20};
    pthread_attr_t a[4];
    for (int k = 0; k < 4; k++) {
        BENCH_CHECK(pthread_attr_init(&a[k]));
        BENCH_CHECK(pthread_attr_setstacksize(&a[k], sizes[k]));
    }
    pthread_t live[16];
    for (int i = 0; i < 2000; i++) {
        if (i >= 16)
            BENCH_CHECK(pthread_join(live[i % 16], NULL));
        BENCH_CHECK(pthread_create(&live[i % 16], &a[i % 4], use_malloc, (void *)(long)i));
    }
    for (int i = 0; i < 16; i++)
        BENCH_CHECK(pthread_join(live[i], NULL));
    bench_result("mixed_stacks_vmsize_end", vmsize_kib(), "KiB", "lower");
    return 0;
}
