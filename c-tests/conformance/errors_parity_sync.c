/* Results of the other synchronization objects exactly as glibc 2.36 gives them (issue 10):
 * rwlock (destroy is 0 in every state, the preference of the attribute is not checked, a
 * timed lock checks clock and deadline first, a null deadline is none), spinlock (any
 * pshared value, destroy of a held lock), barrier counts, semaphore limits, condition
 * attribute clocks and timed waits.
 * Passes on plain glibc too (gcc -pthread, no LD_PRELOAD). */
// rpthread-test: timeout=60
#include "parity_check.h"
#include <limits.h>
#include <stdint.h>

static int rdlock(void *l) { return pthread_rwlock_rdlock((pthread_rwlock_t *)l); }
static int wrlock(void *l) { return pthread_rwlock_wrlock((pthread_rwlock_t *)l); }
static int rwunlock(void *l) { return pthread_rwlock_unlock((pthread_rwlock_t *)l); }

static void rwlocks(void) {
    pthread_rwlock_t l;
    pthread_rwlockattr_t a;
    holder h;
    struct timespec bad = ts_of(0, 1000000000), zero = ts_of(0, 0);

    /* A free lock: the deadline is checked first (unlike a mutex), the clock before it. */
    EXPECT(pthread_rwlock_init(&l, NULL), 0);
    EXPECT(pthread_rwlock_timedrdlock(&l, &bad), EINVAL);
    EXPECT(pthread_rwlock_timedwrlock(&l, &bad), EINVAL);
    EXPECT(pthread_rwlock_clockrdlock(&l, 99, &zero), EINVAL);
    EXPECT(pthread_rwlock_clockwrlock(&l, CLOCK_PROCESS_CPUTIME_ID, &zero), EINVAL);
    /* A null deadline is none, and its clock is not looked at. (glibc declares the argument
     * non-null: the calls go through pointers that carry no such promise.) */
    int (*volatile timedrd)(pthread_rwlock_t *, const struct timespec *) = pthread_rwlock_timedrdlock;
    int (*volatile clockwr)(pthread_rwlock_t *, clockid_t, const struct timespec *) = pthread_rwlock_clockwrlock;
    EXPECT(timedrd(&l, NULL), 0);
    EXPECT(pthread_rwlock_unlock(&l), 0);
    EXPECT(clockwr(&l, 99, NULL), 0);
    EXPECT(pthread_rwlock_unlock(&l), 0);

    /* Held by the caller: EDEADLK for the write holder; destroy is 0 anyway. */
    EXPECT(pthread_rwlock_wrlock(&l), 0);
    EXPECT(pthread_rwlock_rdlock(&l), EDEADLK);
    EXPECT(pthread_rwlock_timedwrlock(&l, &zero), EDEADLK);
    EXPECT(pthread_rwlock_tryrdlock(&l), EBUSY);
    EXPECT(pthread_rwlock_destroy(&l), 0);
    EXPECT(pthread_rwlock_destroy(&l), 0);

    /* Held by a reader and by a writer that have ended: destroy is 0. */
    EXPECT(pthread_rwlock_init(&l, NULL), 0);
    holder_start(&h, &l, rdlock, NULL);
    holder_stop(&h);
    EXPECT(pthread_rwlock_trywrlock(&l), EBUSY);
    EXPECT(pthread_rwlock_destroy(&l), 0);
    EXPECT(pthread_rwlock_init(&l, NULL), 0);
    holder_start(&h, &l, wrlock, NULL);
    holder_stop(&h);
    EXPECT(pthread_rwlock_tryrdlock(&l), EBUSY);
    EXPECT(pthread_rwlock_destroy(&l), 0);

    /* Held by a live writer: blocking checks, and destroy 0. */
    EXPECT(pthread_rwlock_init(&l, NULL), 0);
    holder_start(&h, &l, wrlock, rwunlock);
    struct timespec neg = ts_of(-1, 0);
    EXPECT(pthread_rwlock_timedrdlock(&l, &neg), ETIMEDOUT);
    EXPECT(pthread_rwlock_timedwrlock(&l, &zero), ETIMEDOUT);
    EXPECT(pthread_rwlock_destroy(&l), 0);
    holder_stop(&h);

    /* The preference is taken as it is. */
    pthread_rwlockattr_init(&a);
    EXPECT(pthread_rwlockattr_setkind_np(&a, 3), EINVAL);
    EXPECT(pthread_rwlockattr_setkind_np(&a, -1), EINVAL);
    ((int *)&a)[0] = 5;
    EXPECT(pthread_rwlock_init(&l, &a), 0);
    EXPECT(pthread_rwlock_rdlock(&l), 0);
    EXPECT(pthread_rwlock_rdlock(&l), 0);
    EXPECT(pthread_rwlock_unlock(&l), 0);
    EXPECT(pthread_rwlock_unlock(&l), 0);
    EXPECT(pthread_rwlock_destroy(&l), 0);
    memset(&a, 0x7f, sizeof a);
    EXPECT(pthread_rwlock_init(&l, &a), 0);
    EXPECT(pthread_rwlock_destroy(&l), 0);
    EXPECT(pthread_rwlockattr_destroy(&a), 0);
}

static void spinlocks(void) {
    pthread_spinlock_t s;
    EXPECT(pthread_spin_init(&s, 2), 0);
    EXPECT(pthread_spin_init(&s, -1), 0);
    EXPECT(pthread_spin_init(&s, PTHREAD_PROCESS_SHARED), 0);
    EXPECT(pthread_spin_lock(&s), 0);
    EXPECT(pthread_spin_trylock(&s), EBUSY);
    EXPECT(pthread_spin_destroy(&s), 0);
    EXPECT(pthread_spin_destroy(&s), 0);
}

static void barriers(void) {
    pthread_barrier_t b;
    pthread_barrierattr_t a;
    EXPECT(pthread_barrier_init(&b, NULL, 0), EINVAL);
    EXPECT(pthread_barrier_init(&b, NULL, (unsigned)INT_MAX), EINVAL);
    EXPECT(pthread_barrier_init(&b, NULL, (unsigned)INT_MAX + 1), EINVAL);
    EXPECT(pthread_barrier_init(&b, NULL, UINT_MAX), EINVAL);
    EXPECT(pthread_barrier_init(&b, NULL, (unsigned)INT_MAX - 1), 0);
    EXPECT(pthread_barrier_destroy(&b), 0);
    EXPECT(pthread_barrier_init(&b, NULL, 1), 0);
    EXPECT(pthread_barrier_wait(&b), PTHREAD_BARRIER_SERIAL_THREAD);
    EXPECT(pthread_barrier_destroy(&b), 0);
    pthread_barrierattr_init(&a);
    EXPECT(pthread_barrierattr_setpshared(&a, 2), EINVAL);
    EXPECT(pthread_barrierattr_destroy(&a), 0);
}

static void semaphores(void) {
    sem_t s;
    int v;
    struct timespec bad = ts_of(0, 1000000000);
    errno = 0;
    EXPECT(sem_init(&s, 0, (unsigned)SEM_VALUE_MAX + 1), -1);
    EXPECT(errno, EINVAL);
    EXPECT(sem_init(&s, 2, 0), 0); /* any pshared value */
    EXPECT(sem_init(&s, 0, SEM_VALUE_MAX), 0);
    errno = 0;
    EXPECT(sem_post(&s), -1);
    EXPECT(errno, EOVERFLOW);
    EXPECT(sem_getvalue(&s, &v), 0);
    EXPECT(v, SEM_VALUE_MAX);
    /* The deadline is checked first, even with a token to take. */
    errno = 0;
    EXPECT(sem_timedwait(&s, &bad), -1);
    EXPECT(errno, EINVAL);
    errno = 0;
    EXPECT(sem_clockwait(&s, 99, &bad), -1);
    EXPECT(errno, EINVAL);
    EXPECT(sem_destroy(&s), 0);
    EXPECT(sem_init(&s, 0, 0), 0);
    struct timespec neg = ts_of(-1, 0);
    errno = 0;
    EXPECT(sem_timedwait(&s, &neg), -1);
    EXPECT(errno, ETIMEDOUT);
    errno = 0;
    EXPECT(sem_trywait(&s), -1);
    EXPECT(errno, EAGAIN);
    EXPECT(sem_destroy(&s), 0);
    EXPECT(sem_destroy(&s), 0);
}

static void conditions(void) {
    pthread_condattr_t a;
    pthread_cond_t c;
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    clockid_t clk;
    pthread_condattr_init(&a);
    EXPECT(pthread_condattr_setclock(&a, CLOCK_MONOTONIC), 0);
    EXPECT(pthread_condattr_setclock(&a, CLOCK_REALTIME), 0);
    static const clockid_t refused[] = {CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID,
                                        CLOCK_MONOTONIC_RAW, CLOCK_REALTIME_COARSE,
                                        CLOCK_MONOTONIC_COARSE, CLOCK_BOOTTIME, CLOCK_TAI, 99, -1};
    for (unsigned i = 0; i < sizeof refused / sizeof refused[0]; i++)
        EXPECT(pthread_condattr_setclock(&a, refused[i]), EINVAL);
    EXPECT(pthread_condattr_getclock(&a, &clk), 0);
    EXPECT(clk, CLOCK_REALTIME);
    EXPECT(pthread_condattr_setpshared(&a, 2), EINVAL);
    EXPECT(pthread_cond_init(&c, &a), 0);
    pthread_mutex_lock(&m);
    struct timespec bad = ts_of(0, 1000000000), neg = ts_of(-1, 0), zero = ts_of(0, 0);
    EXPECT(pthread_cond_timedwait(&c, &m, &bad), EINVAL);
    EXPECT(pthread_cond_timedwait(&c, &m, &neg), ETIMEDOUT);
    EXPECT(pthread_cond_clockwait(&c, &m, 99, &zero), EINVAL);
    EXPECT(pthread_cond_clockwait(&c, &m, CLOCK_MONOTONIC, &zero), ETIMEDOUT);
    pthread_mutex_unlock(&m);
    /* Not held: errorcheck mutexes are checked (after the deadline). */
    pthread_mutex_t em;
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutex_init(&em, &ma);
    EXPECT(pthread_cond_timedwait(&c, &em, &bad), EINVAL);
    EXPECT(pthread_cond_timedwait(&c, &em, &zero), EPERM);
    EXPECT(pthread_mutex_destroy(&em), 0);
    EXPECT(pthread_cond_destroy(&c), 0);
    EXPECT(pthread_cond_destroy(&c), 0);
    EXPECT(pthread_condattr_destroy(&a), 0);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    rwlocks();
    spinlocks();
    barriers();
    semaphores();
    conditions();
    return parity_result("errors_parity_sync");
}
