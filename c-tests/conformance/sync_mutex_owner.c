/* The holder's tid in pthread_mutex_t.__data.__owner, as glibc keeps it for every kind (gdb's
 * pretty-printer and some programs' "held by me" assertions read it): set while a thread
 * holds the mutex (also after a condition wait gives it back), 0 once unlocked.
 * glibc's own header is needed for the field names: preload mode only. */
// rpthread-test: modes=preload
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "check.h"


static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static int ready;

static void *holder(void *arg) {
    pthread_mutex_t *mx = arg;
    CHECK_EQ(pthread_mutex_lock(mx), 0);
    CHECK_EQ(mx->__data.__owner, gettid());
    CHECK_EQ(pthread_mutex_unlock(mx), 0);
    CHECK_EQ(mx->__data.__owner, 0);
    return NULL;
}

static void *signaller(void *arg) {
    (void)arg;
    pthread_mutex_lock(&m);
    ready = 1;
    pthread_cond_signal(&c);
    pthread_mutex_unlock(&m);
    return NULL;
}

int main(void) {
    int kinds[] = {PTHREAD_MUTEX_NORMAL, PTHREAD_MUTEX_RECURSIVE, PTHREAD_MUTEX_ERRORCHECK,
                   PTHREAD_MUTEX_ADAPTIVE_NP};
    for (unsigned i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        pthread_mutexattr_t a;
        pthread_mutex_t mx;
        pthread_mutexattr_init(&a);
        pthread_mutexattr_settype(&a, kinds[i]);
        CHECK_EQ(pthread_mutex_init(&mx, &a), 0);
        CHECK_EQ(mx.__data.__owner, 0);
        CHECK_EQ(pthread_mutex_lock(&mx), 0);
        CHECK_EQ(mx.__data.__owner, gettid());
        CHECK_EQ(pthread_mutex_unlock(&mx), 0);
        CHECK_EQ(mx.__data.__owner, 0);
        CHECK_EQ(pthread_mutex_trylock(&mx), 0);
        CHECK_EQ(mx.__data.__owner, gettid());
        CHECK_EQ(pthread_mutex_unlock(&mx), 0);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        CHECK_EQ(pthread_mutex_timedlock(&mx, &ts), 0);
        CHECK_EQ(mx.__data.__owner, gettid());
        CHECK_EQ(pthread_mutex_unlock(&mx), 0);
        /* Another thread's tid while that thread holds it. */
        pthread_t t;
        CHECK_EQ(pthread_create(&t, NULL, holder, &mx), 0);
        CHECK_EQ(pthread_join(t, NULL), 0);
        CHECK_EQ(mx.__data.__owner, 0);
        CHECK_EQ(pthread_mutex_destroy(&mx), 0);
    }
    /* After a condition wait returns, the waiter holds the mutex again: its tid. */
    pthread_t t;
    CHECK_EQ(pthread_mutex_lock(&m), 0);
    CHECK_EQ(pthread_create(&t, NULL, signaller, NULL), 0);
    while (!ready) CHECK_EQ(pthread_cond_wait(&c, &m), 0);
    CHECK_EQ(m.__data.__owner, gettid());
    CHECK_EQ(pthread_mutex_unlock(&m), 0);
    CHECK_EQ(m.__data.__owner, 0);
    CHECK_EQ(pthread_join(t, NULL), 0);

    if (tc_failures) { printf("%d failures\n", tc_failures); return 1; }
    printf("ok\n");
    return 0;
}
