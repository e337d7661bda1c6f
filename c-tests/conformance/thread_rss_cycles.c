/* RSS stays flat over 100,000 create/join cycles with 200 concurrent threads (a short version
 * of c-tests/stress/rss_flat.c): growth after warm-up under 20 MB. Each thread mallocs,
 * snprintf's into the block and frees it: a thread's first malloc creates its tcache (~700 B),
 * which glibc frees at thread exit and rpthread must hand on to the next thread. */
#include "thread_check.h"
#include <pthread.h>

#define CONCURRENT 200
#define CYCLES 100000

static void *work(void *arg) {
    long n = (long)arg;
    return (void *)tc_malloc_work(64 + n % 2000, n);
}

int main(void) {
    static pthread_t t[CONCURRENT];
    long done = 0, rss_warm = 0, rss_max = 0;
    for (int i = 0; i < CONCURRENT; i++) CHECK(pthread_create(&t[i], NULL, work, (void *)(long)i) == 0, "create");
    long next = CONCURRENT;
    while (done < CYCLES) {
        /* join the oldest, start a new one in its slot: always 200 in flight */
        int slot = done % CONCURRENT;
        void *v;
        if (pthread_join(t[slot], &v) != 0) { CHECK(0, "join %ld", done); break; }
        done++;
        if (next < CYCLES) {
            if (pthread_create(&t[slot], NULL, work, (void *)next) != 0) { CHECK(0, "create %ld", next); break; }
            next++;
        }
        if (done % 5000 == 0) {
            long rss = tc_rss_bytes();
            if (done == 10000) rss_warm = rss;
            if (rss > rss_max) rss_max = rss;
        }
    }
    printf("thread_rss_cycles: %ld cycles, %d concurrent: RSS after warm-up %ld KiB, max %ld KiB\n", done,
           CONCURRENT, rss_warm / 1024, rss_max / 1024);
    CHECK(rss_max - rss_warm < 20L << 20, "RSS grew by %ld KiB after warm-up", (rss_max - rss_warm) / 1024);
    return tc_result("thread_rss_cycles");
}
