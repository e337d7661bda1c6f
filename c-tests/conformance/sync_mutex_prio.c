/* Priority protocols: PTHREAD_PRIO_PROTECT raises the holder to the ceiling and restores it
 * on unlock (nested ceilings too); a caller above the ceiling gets EINVAL; ceilings can be
 * read and changed. PTHREAD_PRIO_INHERIT: kernel PI futex, ownership errors. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "check.h"


static int prio(void) {
    struct sched_param p;
    sched_getparam(0, &p);
    return p.sched_priority;
}

static void init_pp(pthread_mutex_t *m, int ceiling, int type) {
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    CHECK_EQ(pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_PROTECT), 0);
    CHECK_EQ(pthread_mutexattr_setprioceiling(&a, ceiling), 0);
    pthread_mutexattr_settype(&a, type);
    CHECK_EQ(pthread_mutex_init(m, &a), 0);
    pthread_mutexattr_destroy(&a);
}

static void *pp_thread(void *arg) {
    (void)arg;
    struct sched_param sp = { .sched_priority = 10 };
    if (sched_setscheduler(0, SCHED_FIFO, &sp) != 0) {
        printf("SCHED_FIFO not permitted here (%s): priority-protect raise not checked\n", strerror(errno));
        return NULL;
    }
    pthread_mutex_t a, b;
    int v;
    init_pp(&a, 20, PTHREAD_MUTEX_ERRORCHECK);
    init_pp(&b, 30, PTHREAD_MUTEX_NORMAL);
    CHECK_EQ(pthread_mutex_getprioceiling(&a, &v), 0); CHECK_EQ(v, 20);
    CHECK_EQ(prio(), 10);
    CHECK_EQ(pthread_mutex_lock(&a), 0);
    CHECK_EQ(prio(), 20);
    CHECK_EQ(pthread_mutex_lock(&a), EDEADLK);
    CHECK_EQ(pthread_mutex_lock(&b), 0);
    CHECK_EQ(prio(), 30);
    CHECK_EQ(pthread_mutex_unlock(&b), 0);
    CHECK_EQ(prio(), 20);
    /* Changing the ceiling of a held errorcheck mutex is EDEADLK (glibc); of a held
     * recursive one, it moves the priority with it. */
    CHECK_EQ(pthread_mutex_setprioceiling(&a, 25, &v), EDEADLK);
    CHECK_EQ(pthread_mutex_unlock(&a), 0);
    CHECK_EQ(prio(), 10);
    pthread_mutex_t c;
    init_pp(&c, 20, PTHREAD_MUTEX_RECURSIVE);
    CHECK_EQ(pthread_mutex_lock(&c), 0);
    CHECK_EQ(prio(), 20);
    CHECK_EQ(pthread_mutex_setprioceiling(&c, 25, &v), 0); CHECK_EQ(v, 20);
    CHECK_EQ(prio(), 25);
    CHECK_EQ(pthread_mutex_unlock(&c), 0);
    CHECK_EQ(prio(), 10);
    CHECK_EQ(pthread_mutex_getprioceiling(&c, &v), 0); CHECK_EQ(v, 25);
    CHECK_EQ(pthread_mutex_destroy(&c), 0);
    /* Not held: setprioceiling locks and unlocks it. */
    CHECK_EQ(pthread_mutex_setprioceiling(&b, 5, &v), 0); CHECK_EQ(v, 30);
    CHECK_EQ(prio(), 10);
    /* Caller above the ceiling. */
    CHECK_EQ(pthread_mutex_lock(&b), EINVAL);
    CHECK_EQ(pthread_mutex_trylock(&b), EINVAL);
    CHECK_EQ(pthread_mutex_setprioceiling(&b, 1000, &v), EINVAL);
    CHECK_EQ(pthread_mutex_destroy(&a), 0);
    CHECK_EQ(pthread_mutex_destroy(&b), 0);
    return NULL;
}

static void *pi_other(void *arg) {
    return (void *)(long)pthread_mutex_trylock(arg);
}

/* Another thread's timed locks of a mutex we hold time out on either clock (FUTEX_LOCK_PI
 * for CLOCK_REALTIME, FUTEX_LOCK_PI2 for CLOCK_MONOTONIC; robust: FUTEX_WAIT). */
static void *timed_other(void *arg) {
    pthread_mutex_t *m = arg;
    struct timespec ts = ts_in_ms(CLOCK_MONOTONIC, 20);
    int a = pthread_mutex_clocklock(m, CLOCK_MONOTONIC, &ts);
    ts = ts_in_ms(CLOCK_REALTIME, 20);
    int b = pthread_mutex_timedlock(m, &ts);
    return (void *)(long)(a == ETIMEDOUT && b == ETIMEDOUT);
}

static void timed_kinds(void) {
    int protos[] = { PTHREAD_PRIO_INHERIT, PTHREAD_PRIO_NONE };
    for (int i = 0; i < 2; i++) {
        pthread_mutexattr_t a;
        pthread_mutex_t m;
        pthread_t t;
        void *rv;
        pthread_mutexattr_init(&a);
        pthread_mutexattr_setprotocol(&a, protos[i]);
        pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
        CHECK_EQ(pthread_mutex_init(&m, &a), 0);
        pthread_mutexattr_destroy(&a);
        CHECK_EQ(pthread_mutex_lock(&m), 0);
        pthread_create(&t, NULL, timed_other, &m);
        pthread_join(t, &rv);
        CHECK_EQ((int)(long)rv, 1);
        CHECK_EQ(pthread_mutex_unlock(&m), 0);
        CHECK_EQ(pthread_mutex_destroy(&m), 0);
    }
}

int main(void) {
    pthread_t t;
    pthread_create(&t, NULL, pp_thread, NULL);
    pthread_join(t, NULL);

    pthread_mutexattr_t a;
    pthread_mutex_t m;
    void *rv;
    pthread_mutexattr_init(&a);
    CHECK_EQ(pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT), 0);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
    CHECK_EQ(pthread_mutex_init(&m, &a), 0);
    CHECK_EQ(pthread_mutex_unlock(&m), EPERM);
    CHECK_EQ(pthread_mutex_lock(&m), 0);
    CHECK_EQ(pthread_mutex_lock(&m), EDEADLK);
    pthread_create(&t, NULL, pi_other, &m);
    pthread_join(t, &rv);
    CHECK_EQ((int)(long)rv, EBUSY);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += 0;
    CHECK_EQ(pthread_mutex_destroy(&m), EBUSY);
    CHECK_EQ(pthread_mutex_unlock(&m), 0);
    CHECK_EQ(pthread_mutex_destroy(&m), 0);

    /* Normal PI mutex: timed relock by the owner times out (it would deadlock). */
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_NORMAL);
    CHECK_EQ(pthread_mutex_init(&m, &a), 0);
    CHECK_EQ(pthread_mutex_lock(&m), 0);
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += 20000000; if (ts.tv_nsec >= 1000000000) { ts.tv_sec++; ts.tv_nsec -= 1000000000; }
    CHECK_EQ(pthread_mutex_clocklock(&m, CLOCK_MONOTONIC, &ts), ETIMEDOUT);
    CHECK_EQ(pthread_mutex_unlock(&m), 0);
    CHECK_EQ(pthread_mutex_destroy(&m), 0);
    pthread_mutexattr_destroy(&a);
    timed_kinds();

    if (tc_failures) { printf("%d failures\n", tc_failures); return 1; }
    printf("ok\n");
    return 0;
}
