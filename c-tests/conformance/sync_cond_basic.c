/* Condition variable semantics: static initializer, attributes (clock, pshared) and bad
 * values, timed waits on both clocks (ETIMEDOUT, mutex held again), invalid deadlines,
 * clockwait's clock argument, EPERM for a checked mutex not held, destroy with a blocked
 * waiter waiting for it to leave (glibc), destroy right after a broadcast, signal/broadcast
 * without waiters, glibc's condattr encoding. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "check.h"


static pthread_cond_t s_cond = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t s_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t s_err = PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP;
static int flag;

static int waiting, destroyed;
static void *waiter(void *arg) {
    pthread_cond_t *c = arg;
    pthread_mutex_lock(&s_mutex);
    waiting = 1;
    while (!flag) pthread_cond_wait(c, &s_mutex);
    pthread_mutex_unlock(&s_mutex);
    return NULL;
}

static void *destroyer(void *arg) {
    int r = pthread_cond_destroy(arg);
    __atomic_store_n(&destroyed, 1, __ATOMIC_SEQ_CST);
    return (void *)(long)r;
}

int main(void) {
    pthread_condattr_t a;
    clockid_t clk;
    int v;
    struct timespec ts;

    /* Static initializer; no waiters. */
    CHECK_EQ(pthread_cond_signal(&s_cond), 0);
    CHECK_EQ(pthread_cond_broadcast(&s_cond), 0);
    pthread_mutex_lock(&s_mutex);
    ts = ts_in_ms(CLOCK_REALTIME, 20);
    CHECK_EQ(pthread_cond_timedwait(&s_cond, &s_mutex, &ts), ETIMEDOUT);
    CHECK_EQ(pthread_mutex_trylock(&s_mutex), EBUSY); /* held again */
    ts.tv_nsec = 1000000000L;
    CHECK_EQ(pthread_cond_timedwait(&s_cond, &s_mutex, &ts), EINVAL);
    ts.tv_nsec = -5;
    CHECK_EQ(pthread_cond_timedwait(&s_cond, &s_mutex, &ts), EINVAL);
    ts = ts_in_ms(CLOCK_MONOTONIC, 20);
    CHECK_EQ(pthread_cond_clockwait(&s_cond, &s_mutex, CLOCK_MONOTONIC, &ts), ETIMEDOUT);
    ts = ts_in_ms(CLOCK_REALTIME, 20);
    CHECK_EQ(pthread_cond_clockwait(&s_cond, &s_mutex, CLOCK_REALTIME, &ts), ETIMEDOUT);
    CHECK_EQ(pthread_cond_clockwait(&s_cond, &s_mutex, CLOCK_THREAD_CPUTIME_ID, &ts), EINVAL);
    ts.tv_sec = 0; ts.tv_nsec = 0; /* long past */
    CHECK_EQ(pthread_cond_timedwait(&s_cond, &s_mutex, &ts), ETIMEDOUT);
    pthread_mutex_unlock(&s_mutex);

    /* Errorcheck mutex not held: EPERM, nothing blocks. */
    CHECK_EQ(pthread_cond_wait(&s_cond, &s_err), EPERM);
    ts = ts_in_ms(CLOCK_REALTIME, 20);
    CHECK_EQ(pthread_cond_timedwait(&s_cond, &s_err, &ts), EPERM);
    CHECK_EQ(pthread_cond_destroy(&s_cond), 0);

    /* Attributes. */
    CHECK_EQ(pthread_condattr_init(&a), 0);
    CHECK_EQ(pthread_condattr_getclock(&a, &clk), 0); CHECK_EQ(clk, CLOCK_REALTIME);
    CHECK_EQ(pthread_condattr_getpshared(&a, &v), 0); CHECK_EQ(v, PTHREAD_PROCESS_PRIVATE);
    CHECK_EQ(pthread_condattr_setclock(&a, CLOCK_PROCESS_CPUTIME_ID), EINVAL);
    CHECK_EQ(pthread_condattr_setclock(&a, 12345), EINVAL);
    CHECK_EQ(pthread_condattr_setpshared(&a, 5), EINVAL);
    CHECK_EQ(pthread_condattr_setclock(&a, CLOCK_MONOTONIC), 0);
    CHECK_EQ(pthread_condattr_getclock(&a, &clk), 0); CHECK_EQ(clk, CLOCK_MONOTONIC);
    CHECK_EQ(pthread_condattr_setpshared(&a, PTHREAD_PROCESS_SHARED), 0);
    CHECK_EQ(pthread_condattr_getpshared(&a, &v), 0); CHECK_EQ(v, PTHREAD_PROCESS_SHARED);
    CHECK_EQ(*(int *)&a, 3); /* glibc's encoding: bit 0 process-shared, bit 1 the clock */
    CHECK_EQ(pthread_condattr_setpshared(&a, PTHREAD_PROCESS_PRIVATE), 0);

    /* A CLOCK_MONOTONIC condvar measures timedwait deadlines on that clock: a monotonic
     * deadline 20 ms ahead times out (a realtime reading would be decades ahead). */
    pthread_cond_t c;
    CHECK_EQ(pthread_cond_init(&c, &a), 0);
    pthread_condattr_destroy(&a);
    pthread_mutex_lock(&s_mutex);
    ts = ts_in_ms(CLOCK_MONOTONIC, 20);
    CHECK_EQ(pthread_cond_timedwait(&c, &s_mutex, &ts), ETIMEDOUT);
    pthread_mutex_unlock(&s_mutex);

    /* Destroy with a blocked waiter: as glibc, destroy waits until the waiter has left. */
    pthread_t t, d;
    flag = 0;
    waiting = 0;
    pthread_create(&t, NULL, waiter, &c);
    pthread_mutex_lock(&s_mutex);
    while (!waiting) { pthread_mutex_unlock(&s_mutex); usleep(1000); pthread_mutex_lock(&s_mutex); }
    pthread_mutex_unlock(&s_mutex); /* the waiter is inside pthread_cond_wait now */
    pthread_create(&d, NULL, destroyer, &c);
    usleep(20000);
    CHECK_EQ(__atomic_load_n(&destroyed, __ATOMIC_SEQ_CST), 0);
    pthread_mutex_lock(&s_mutex);
    flag = 1;
    pthread_cond_broadcast(&c);
    pthread_mutex_unlock(&s_mutex);
    void *dr = (void *)1L;
    pthread_join(d, &dr);
    CHECK_EQ((int)(long)dr, 0);
    pthread_join(t, NULL);

    /* Destroy right after the broadcast, while the waiter may still be leaving. */
    CHECK_EQ(pthread_cond_init(&c, NULL), 0);
    flag = 0;
    waiting = 0;
    pthread_create(&t, NULL, waiter, &c);
    pthread_mutex_lock(&s_mutex);
    while (!waiting) { pthread_mutex_unlock(&s_mutex); usleep(1000); pthread_mutex_lock(&s_mutex); }
    flag = 1;
    pthread_cond_broadcast(&c);
    pthread_mutex_unlock(&s_mutex);
    CHECK_EQ(pthread_cond_destroy(&c), 0);
    pthread_join(t, NULL);

    if (tc_failures) { printf("%d failures\n", tc_failures); return 1; }
    printf("ok\n");
    return 0;
}
