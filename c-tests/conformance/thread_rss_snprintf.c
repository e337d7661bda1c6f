/* RSS stays flat over 100,000 create/join cycles with 200 concurrent threads whose work
 * snprintf()s into a malloc'ed buffer before freeing it (the workload of
 * c-tests/stress/rss_flat.c). On rpthread this grows ~700 bytes per thread (malloc_stats:
 * "in use" bytes grow in every arena, i.e. about one lost tcache per thread); on glibc it
 * stays flat. thread_rss_cycles.c, with a slightly different thread body, stays flat on both:
 * the trigger is not yet understood. Growth after warm-up must stay under 20 MB. */
// rpthread-test: xfail=malloc leak of ~700 B per thread in this workload (about one tcache per thread), cause not found yet
#include "thread_check.h"
#include <pthread.h>

#define CONCURRENT 200
#define CYCLES 100000

static void *work(void *arg) {
    long n = (long)arg;
    char *p = malloc(64);
    int len = snprintf(p, 32, "task %ld", n);
    free(p);
    return (void *)(long)len;
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
    printf("thread_rss_snprintf: %ld cycles, %d concurrent: RSS after warm-up %ld KiB, max %ld KiB\n", done,
           CONCURRENT, rss_warm / 1024, rss_max / 1024);
    CHECK(rss_max - rss_warm < 20L << 20, "RSS grew by %ld KiB after warm-up", (rss_max - rss_warm) / 1024);
    return tc_result("thread_rss_snprintf");
}
