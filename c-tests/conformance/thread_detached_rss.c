/* 100,000 detached threads, created in waves: each frees its own stack and TLS when it ends,
 * so the process's resident size stays bounded (a generous bound, not a timing). */
#include "thread_check.h"
#include <errno.h>
#include <pthread.h>

#define TOTAL 100000
#define WAVE 100
static TC_ATOMIC(int) finished;

static void *work(void *arg) {
    tc_malloc_work(200 + ((long)arg & 1023), (long)arg);
    finished++;
    tc_futex_wake(&finished, 1);
    return NULL;
}

int main(void) {
    pthread_attr_t a, explicit_attr;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    /* detached with explicit scheduling: pthread_create waits for the thread to apply it */
    pthread_attr_init(&explicit_attr);
    pthread_attr_setdetachstate(&explicit_attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setinheritsched(&explicit_attr, PTHREAD_EXPLICIT_SCHED);
    pthread_attr_setschedpolicy(&explicit_attr, SCHED_OTHER);
    long rss_warm = 0, rss_max = 0;
    int created = 0;
    while (created < TOTAL) {
        for (int i = 0; i < WAVE; i++, created++) {
            pthread_t t;
            int rc;
            /* half created detached (some with explicit scheduling), half detached after creation */
            if (created % 10 == 1) {
                while ((rc = pthread_create(&t, &explicit_attr, work, (void *)(long)created)) == EAGAIN) sched_yield();
            } else if (created & 1) {
                while ((rc = pthread_create(&t, &a, work, (void *)(long)created)) == EAGAIN) sched_yield();
            } else {
                while ((rc = pthread_create(&t, NULL, work, (void *)(long)created)) == EAGAIN) sched_yield();
                if (rc == 0) CHECK(pthread_detach(t) == 0, "detach");
            }
            if (rc) { CHECK(0, "create %d: %d", created, rc); return tc_result("thread_detached_rss"); }
        }
        int f;
        while ((f = finished) < created) tc_futex_wait(&finished, f);
        long rss = tc_rss_bytes();
        if (created == 10 * WAVE * 10) rss_warm = rss;
        if (rss > rss_max) rss_max = rss;
    }
    long rss_end = tc_rss_bytes();
    printf("thread_detached_rss: %d detached threads; RSS after warm-up %ld KiB, max %ld KiB, end %ld KiB\n",
           TOTAL, rss_warm / 1024, rss_max / 1024, rss_end / 1024);
    /* each thread leaking even 1 KiB would be ~100 MB */
    CHECK(rss_max - rss_warm < 32L << 20, "RSS grew by %ld KiB after warm-up", (rss_max - rss_warm) / 1024);
    CHECK(rss_max < 128L << 20, "RSS reached %ld KiB", rss_max / 1024);
    pthread_attr_destroy(&a);
    pthread_attr_destroy(&explicit_attr);
    return tc_result("thread_detached_rss");
}
