/* Threads blocked on a robust mutex (plain and timed lock, normal and errorcheck kinds) when
 * its owner ends without unlocking it are woken by the kernel's owner-death handling and one
 * of them gets EOWNERDEAD (glibc waits on the shared futex for robust mutexes: the kernel's
 * wake-up is a shared one). */
#include "thread_check.h"
#include <pthread.h>
#include <time.h>

static pthread_mutex_t m;
static TC_ATOMIC(int) owner_ready, release_owner, woken;

static void *owner(void *a) {
    (void)a;
    CHECK(pthread_mutex_lock(&m) == 0, "owner lock");
    owner_ready = 1;
    while (!release_owner) usleep(1000);
    return NULL; /* ends holding the mutex */
}

static void *waiter(void *a) {
    int rc;
    if (a) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 30;
        rc = pthread_mutex_timedlock(&m, &ts);
    } else {
        rc = pthread_mutex_lock(&m);
    }
    if (rc == EOWNERDEAD) {
        CHECK(pthread_mutex_consistent(&m) == 0, "consistent");
        rc = 0;
    }
    CHECK(rc == 0, "waiter lock: %d", rc);
    woken++;
    CHECK(pthread_mutex_unlock(&m) == 0, "waiter unlock");
    return NULL;
}

int main(void) {
    for (int kind = 0; kind < 2; kind++) {
        for (int timed = 0; timed < 2; timed++) {
            pthread_mutexattr_t a;
            pthread_mutexattr_init(&a);
            pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
            pthread_mutexattr_settype(&a, kind ? PTHREAD_MUTEX_ERRORCHECK : PTHREAD_MUTEX_NORMAL);
            CHECK(pthread_mutex_init(&m, &a) == 0, "init");
            owner_ready = release_owner = woken = 0;
            pthread_t o, w[2];
            CHECK(pthread_create(&o, NULL, owner, NULL) == 0, "owner");
            while (!owner_ready) usleep(1000);
            for (int i = 0; i < 2; i++)
                CHECK(pthread_create(&w[i], NULL, waiter, timed ? (void *)1 : NULL) == 0, "waiter");
            usleep(100000); /* both asleep on the mutex */
            release_owner = 1;
            CHECK(pthread_join(o, NULL) == 0, "join owner");
            for (int i = 0; i < 2; i++) CHECK(pthread_join(w[i], NULL) == 0, "join waiter");
            CHECK(woken == 2, "kind %d timed %d: %d waiters got the mutex", kind, timed, (int)woken);
            pthread_mutex_destroy(&m);
        }
    }
    return tc_result("sync_robust_wait");
}
