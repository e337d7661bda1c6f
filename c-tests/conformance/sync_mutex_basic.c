/* Mutex semantics: static initializers, kinds (errorcheck, recursive, adaptive), error codes
 * (EDEADLK, EPERM, EBUSY, EINVAL, ETIMEDOUT), attributes and their bad values, clocks. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "check.h"


static pthread_mutex_t s_normal = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t s_rec = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static pthread_mutex_t s_err = PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP;
static pthread_mutex_t s_adapt = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;

static void *other_thread(void *arg) {
    pthread_mutex_t *m = arg;
    /* Not the owner: checked kinds refuse. */
    return (void *)(long)pthread_mutex_unlock(m);
}

static void *try_from_other(void *arg) {
    return (void *)(long)pthread_mutex_trylock(arg);
}

int main(void) {
    void *rv;
    pthread_t t;

    /* PTHREAD_MUTEX_INITIALIZER: normal. */
    CHECK_EQ(pthread_mutex_lock(&s_normal), 0);
    CHECK_EQ(pthread_mutex_trylock(&s_normal), EBUSY);
    CHECK_EQ(pthread_mutex_destroy(&s_normal), EBUSY);
    CHECK_EQ(pthread_mutex_unlock(&s_normal), 0);
    CHECK_EQ(pthread_mutex_destroy(&s_normal), 0);

    /* Recursive initializer: counts. */
    CHECK_EQ(pthread_mutex_lock(&s_rec), 0);
    CHECK_EQ(pthread_mutex_lock(&s_rec), 0);
    CHECK_EQ(pthread_mutex_trylock(&s_rec), 0);
    pthread_create(&t, NULL, try_from_other, &s_rec);
    pthread_join(t, &rv);
    CHECK_EQ((int)(long)rv, EBUSY);
    pthread_create(&t, NULL, other_thread, &s_rec);
    pthread_join(t, &rv);
    CHECK_EQ((int)(long)rv, EPERM);
    CHECK_EQ(pthread_mutex_unlock(&s_rec), 0);
    CHECK_EQ(pthread_mutex_unlock(&s_rec), 0);
    CHECK_EQ(pthread_mutex_unlock(&s_rec), 0);
    CHECK_EQ(pthread_mutex_unlock(&s_rec), EPERM);

    /* Errorcheck initializer. */
    CHECK_EQ(pthread_mutex_unlock(&s_err), EPERM);
    CHECK_EQ(pthread_mutex_lock(&s_err), 0);
    CHECK_EQ(pthread_mutex_lock(&s_err), EDEADLK);
    CHECK_EQ(pthread_mutex_trylock(&s_err), EBUSY);
    pthread_create(&t, NULL, other_thread, &s_err);
    pthread_join(t, &rv);
    CHECK_EQ((int)(long)rv, EPERM);
    struct timespec ts = ts_in_ms(CLOCK_REALTIME, 10);
    CHECK_EQ(pthread_mutex_timedlock(&s_err, &ts), EDEADLK);
    CHECK_EQ(pthread_mutex_unlock(&s_err), 0);
    CHECK_EQ(pthread_mutex_unlock(&s_err), EPERM);

    /* Adaptive initializer behaves as normal. */
    CHECK_EQ(pthread_mutex_lock(&s_adapt), 0);
    CHECK_EQ(pthread_mutex_trylock(&s_adapt), EBUSY);
    CHECK_EQ(pthread_mutex_unlock(&s_adapt), 0);

    /* Attributes. */
    pthread_mutexattr_t a;
    int v;
    CHECK_EQ(pthread_mutexattr_init(&a), 0);
    CHECK_EQ(pthread_mutexattr_gettype(&a, &v), 0); CHECK_EQ(v, PTHREAD_MUTEX_DEFAULT);
    CHECK_EQ(pthread_mutexattr_getpshared(&a, &v), 0); CHECK_EQ(v, PTHREAD_PROCESS_PRIVATE);
    CHECK_EQ(pthread_mutexattr_getrobust(&a, &v), 0); CHECK_EQ(v, PTHREAD_MUTEX_STALLED);
    CHECK_EQ(pthread_mutexattr_getprotocol(&a, &v), 0); CHECK_EQ(v, PTHREAD_PRIO_NONE);
    CHECK_EQ(pthread_mutexattr_settype(&a, 4), EINVAL);
    CHECK_EQ(pthread_mutexattr_settype(&a, -1), EINVAL);
    CHECK_EQ(pthread_mutexattr_setpshared(&a, 2), EINVAL);
    CHECK_EQ(pthread_mutexattr_setrobust(&a, 2), EINVAL);
    CHECK_EQ(pthread_mutexattr_setprotocol(&a, 3), EINVAL);
    CHECK_EQ(pthread_mutexattr_setprioceiling(&a, 1000), EINVAL);
    CHECK_EQ(pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ADAPTIVE_NP), 0);
    CHECK_EQ(pthread_mutexattr_gettype(&a, &v), 0); CHECK_EQ(v, PTHREAD_MUTEX_ADAPTIVE_NP);
    CHECK_EQ(pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK), 0);
    CHECK_EQ(pthread_mutexattr_setrobust_np(&a, PTHREAD_MUTEX_ROBUST_NP), 0);
    CHECK_EQ(pthread_mutexattr_getrobust_np(&a, &v), 0); CHECK_EQ(v, PTHREAD_MUTEX_ROBUST);
    CHECK_EQ(pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED), 0);
    CHECK_EQ(pthread_mutexattr_getpshared(&a, &v), 0); CHECK_EQ(v, PTHREAD_PROCESS_SHARED);
    CHECK_EQ(pthread_mutexattr_setprioceiling(&a, 10), 0);
    CHECK_EQ(pthread_mutexattr_getprioceiling(&a, &v), 0); CHECK_EQ(v, 10);
    CHECK_EQ(pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT), 0);
    CHECK_EQ(pthread_mutexattr_getprotocol(&a, &v), 0); CHECK_EQ(v, PTHREAD_PRIO_INHERIT);
    CHECK_EQ(pthread_mutexattr_destroy(&a), 0);

    /* Errorcheck via attr, timed and clock locks. */
    pthread_mutex_t m;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
    CHECK_EQ(pthread_mutex_init(&m, &a), 0);
    pthread_mutexattr_destroy(&a);
    CHECK_EQ(pthread_mutex_lock(&m), 0);
    CHECK_EQ(pthread_mutex_lock(&m), EDEADLK);
    CHECK_EQ(pthread_mutex_unlock(&m), 0);
    CHECK_EQ(pthread_mutex_destroy(&m), 0);

    CHECK_EQ(pthread_mutex_init(&m, NULL), 0);
    CHECK_EQ(pthread_mutex_lock(&m), 0);
    ts = ts_in_ms(CLOCK_REALTIME, 20);
    CHECK_EQ(pthread_mutex_timedlock(&m, &ts), ETIMEDOUT);
    ts = ts_in_ms(CLOCK_MONOTONIC, 20);
    CHECK_EQ(pthread_mutex_clocklock(&m, CLOCK_MONOTONIC, &ts), ETIMEDOUT);
    ts = ts_in_ms(CLOCK_REALTIME, 20);
    CHECK_EQ(pthread_mutex_clocklock(&m, CLOCK_REALTIME, &ts), ETIMEDOUT);
    CHECK_EQ(pthread_mutex_clocklock(&m, CLOCK_PROCESS_CPUTIME_ID, &ts), EINVAL);
    ts.tv_nsec = 1000000000L;
    CHECK_EQ(pthread_mutex_timedlock(&m, &ts), EINVAL);
    ts.tv_nsec = -1;
    CHECK_EQ(pthread_mutex_timedlock(&m, &ts), EINVAL);
    /* A deadline in the past on a held mutex: ETIMEDOUT at once. */
    ts.tv_sec = 0; ts.tv_nsec = 0;
    CHECK_EQ(pthread_mutex_timedlock(&m, &ts), ETIMEDOUT);
    CHECK_EQ(pthread_mutex_unlock(&m), 0);
    /* Free mutex: timedlock succeeds. */
    ts = ts_in_ms(CLOCK_MONOTONIC, 20);
    CHECK_EQ(pthread_mutex_clocklock(&m, CLOCK_MONOTONIC, &ts), 0);
    CHECK_EQ(pthread_mutex_unlock(&m), 0);
    CHECK_EQ(pthread_mutex_destroy(&m), 0);
    /* Destroyed: no longer a valid mutex. */
    CHECK_EQ(pthread_mutex_lock(&m), EINVAL);

    /* Priority ceiling functions on a mutex that is not priority-protect. */
    CHECK_EQ(pthread_mutex_init(&m, NULL), 0);
    CHECK_EQ(pthread_mutex_getprioceiling(&m, &v), EINVAL);
    CHECK_EQ(pthread_mutex_setprioceiling(&m, 10, &v), EINVAL);
    /* consistent on a non-robust mutex. */
    CHECK_EQ(pthread_mutex_consistent(&m), EINVAL);
    CHECK_EQ(pthread_mutex_destroy(&m), 0);

    if (tc_failures) { printf("%d failures\n", tc_failures); return 1; }
    printf("ok\n");
    return 0;
}
