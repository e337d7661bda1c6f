/* Mutex results exactly as glibc 2.36 gives them (issue 10), for every kind but priority
 * protect: a timed lock looks at its deadline only when it must block (a free mutex is taken
 * whatever tv_nsec holds), and then in glibc's order per kind; trylock of a held errorcheck
 * mutex; pthread_mutex_destroy's rule (EBUSY only for non-robust mutexes with users: the
 * holder, a thread that ended holding it, a condition waiter; 0 for robust ones and for a
 * destroyed one); operations on a destroyed mutex; a condition wait on a recursive mutex held
 * twice (the wait only steps it down and times out); glibc's no-elision kind bit; a null
 * deadline; the attribute object's bytes (glibc's encoding); C11 mtx.
 * Passes on plain glibc too (gcc -pthread, no LD_PRELOAD). */
// rpthread-test: timeout=60
#include "parity_check.h"
#include <stdint.h>
#include <threads.h>

enum { NORMAL, RECURSIVE, ERRORCHECK, ADAPTIVE };

static void init_kind(pthread_mutex_t *m, int type, int robust, int protocol) {
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, type);
    pthread_mutexattr_setrobust(&a, robust);
    pthread_mutexattr_setprotocol(&a, protocol);
    EXPECT(pthread_mutex_init(m, &a), 0);
    pthread_mutexattr_destroy(&a);
}

static int take(void *m) { return pthread_mutex_lock((pthread_mutex_t *)m); }
static int give(void *m) { return pthread_mutex_unlock((pthread_mutex_t *)m); }

/* The deadline is not looked at when the lock is free (or a recursive relock). */
static void free_mutex_ignores_deadline(int type, int robust, int protocol) {
    pthread_mutex_t m;
    init_kind(&m, type, robust, protocol);
    struct timespec bad = ts_of(0, 1000000000), worse = ts_of(-1, -1);
    EXPECT(pthread_mutex_timedlock(&m, &bad), 0);
    EXPECT(pthread_mutex_unlock(&m), 0);
    EXPECT(pthread_mutex_timedlock(&m, &worse), 0);
    EXPECT(pthread_mutex_unlock(&m), 0);
    EXPECT(pthread_mutex_clocklock(&m, CLOCK_MONOTONIC, &bad), 0);
    EXPECT(pthread_mutex_unlock(&m), 0);
    /* An unsupported clock is checked first. */
    EXPECT(pthread_mutex_clocklock(&m, CLOCK_PROCESS_CPUTIME_ID, &bad), EINVAL);
    EXPECT(pthread_mutex_clocklock(&m, 99, &bad), EINVAL);
    EXPECT(pthread_mutex_destroy(&m), 0);
}

/* Held by another thread: the deadline is checked as the kind's blocking path does. */
static void held_mutex_checks_deadline(int type, int robust, int protocol, int neg_bad, int neg_ok) {
    pthread_mutex_t m;
    holder h;
    init_kind(&m, type, robust, protocol);
    holder_start(&h, &m, take, give);
    struct timespec t;
    t = ts_of(0, 1000000000);
    EXPECT(pthread_mutex_timedlock(&m, &t), EINVAL);
    t = ts_of(5, -1);
    EXPECT(pthread_mutex_clocklock(&m, CLOCK_MONOTONIC, &t), EINVAL);
    t = ts_of(-1, 1000000000);
    EXPECT(pthread_mutex_timedlock(&m, &t), neg_bad);
    t = ts_of(-1, 0);
    EXPECT(pthread_mutex_timedlock(&m, &t), neg_ok);
    t = ts_of(0, 0);
    EXPECT(pthread_mutex_timedlock(&m, &t), ETIMEDOUT);
    EXPECT(pthread_mutex_trylock(&m), EBUSY);
    if (!robust) /* (a robust one would be destroyed: see destroy_robust_held) */
        EXPECT(pthread_mutex_destroy(&m), EBUSY);
    holder_stop(&h);
    EXPECT(pthread_mutex_destroy(&m), 0);
}

/* The caller holds it. */
static void self_held(int type, int robust, int protocol, int trylock_rc) {
    pthread_mutex_t m;
    init_kind(&m, type, robust, protocol);
    EXPECT(pthread_mutex_lock(&m), 0);
    EXPECT(pthread_mutex_trylock(&m), trylock_rc);
    if (type == ERRORCHECK) {
        struct timespec bad = ts_of(0, 1000000000);
        EXPECT(pthread_mutex_timedlock(&m, &bad), EDEADLK);
    }
    if (type == NORMAL) {
        /* Relocking deadlocks until the deadline. Before it: plain kinds check tv_sec < 0
         * (ETIMEDOUT) then tv_nsec, robust ones tv_nsec then tv_sec, and for a PI one the
         * kernel rejects both (EINVAL) before it finds the deadlock. */
        struct timespec bad = ts_of(0, 1000000000), neg = ts_of(-1, 0), negbad = ts_of(-1, 1000000000);
        struct timespec soon = ts_in_ms(CLOCK_REALTIME, 20);
        EXPECT(pthread_mutex_timedlock(&m, &bad), EINVAL);
        EXPECT(pthread_mutex_timedlock(&m, &neg), protocol == PTHREAD_PRIO_INHERIT ? EINVAL : ETIMEDOUT);
        EXPECT(pthread_mutex_timedlock(&m, &negbad),
               protocol == PTHREAD_PRIO_INHERIT || robust ? EINVAL : ETIMEDOUT);
        EXPECT(pthread_mutex_timedlock(&m, &soon), ETIMEDOUT);
    }
    if (type == RECURSIVE) {
        struct timespec bad = ts_of(-1, -1);
        EXPECT(pthread_mutex_timedlock(&m, &bad), 0);
        EXPECT(pthread_mutex_unlock(&m), 0);
        EXPECT(pthread_mutex_unlock(&m), 0); /* the trylock's level */
    }
    EXPECT(pthread_mutex_consistent(&m), EINVAL);
    if (!robust)
        EXPECT(pthread_mutex_destroy(&m), EBUSY);
    EXPECT(pthread_mutex_unlock(&m), 0);
    EXPECT(pthread_mutex_destroy(&m), 0);
}

/* A robust mutex the caller holds is destroyed (0). It stays on the thread's robust list
 * (a destroyed mutex cannot be unlocked), so it lives in static storage. */
static void destroy_robust_held(void) {
    static pthread_mutex_t held[2];
    init_kind(&held[0], ERRORCHECK, 1, PTHREAD_PRIO_NONE);
    init_kind(&held[1], NORMAL, 1, PTHREAD_PRIO_INHERIT);
    for (int i = 0; i < 2; i++) {
        EXPECT(pthread_mutex_lock(&held[i]), 0);
        EXPECT(pthread_mutex_destroy(&held[i]), 0);
        EXPECT(pthread_mutex_unlock(&held[i]), EINVAL);
    }
}

/* A thread ended holding it. */
static void held_by_ended_thread(int type, int robust, int protocol, int trylock_rc) {
    pthread_mutex_t m;
    holder h;
    init_kind(&m, type, robust, protocol);
    holder_start(&h, &m, take, NULL);
    holder_stop(&h);
    EXPECT(pthread_mutex_trylock(&m), trylock_rc);
    if (trylock_rc == EOWNERDEAD) {
        EXPECT(pthread_mutex_consistent(&m), 0);
        EXPECT(pthread_mutex_unlock(&m), 0);
    }
    EXPECT(pthread_mutex_destroy(&m), robust ? 0 : EBUSY);
}

/* Destroyed: destroy again is 0, everything else EINVAL. */
static void destroyed(int type, int robust, int protocol) {
    pthread_mutex_t m;
    init_kind(&m, type, robust, protocol);
    EXPECT(pthread_mutex_destroy(&m), 0);
    EXPECT(pthread_mutex_destroy(&m), 0);
    struct timespec t = ts_in_ms(CLOCK_REALTIME, 10);
    EXPECT(pthread_mutex_lock(&m), EINVAL);
    EXPECT(pthread_mutex_trylock(&m), EINVAL);
    EXPECT(pthread_mutex_timedlock(&m, &t), EINVAL);
    EXPECT(pthread_mutex_unlock(&m), EINVAL);
    EXPECT(pthread_mutex_consistent(&m), EINVAL);
}

/* A condition waiter keeps counting as a user of the mutex it released (glibc's __nusers). */
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int go;
static sem_t waiting;
static void *cond_waiter(void *arg) {
    pthread_mutex_t *m = (pthread_mutex_t *)arg;
    pthread_mutex_lock(m);
    sem_post(&waiting);
    while (!go)
        pthread_cond_wait(&cv, m);
    pthread_mutex_unlock(m);
    return NULL;
}

static void destroy_with_cond_waiter(int type, int protocol) {
    pthread_mutex_t m;
    pthread_t t;
    init_kind(&m, type, 0, protocol);
    go = 0;
    sem_init(&waiting, 0, 0);
    pthread_create(&t, NULL, cond_waiter, &m);
    while (sem_wait(&waiting) != 0) {
    }
    /* Taking the mutex proves the waiter released it inside pthread_cond_wait. */
    EXPECT(pthread_mutex_lock(&m), 0);
    EXPECT(pthread_mutex_unlock(&m), 0);
    EXPECT(pthread_mutex_destroy(&m), EBUSY);
    pthread_mutex_lock(&m);
    go = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&m);
    pthread_join(t, NULL);
    EXPECT(pthread_mutex_destroy(&m), 0);
    sem_destroy(&waiting);
}

/* A recursive mutex held twice: the wait steps it down once (nobody else can take it), times
 * out, and leaves it held twice again. */
static void cond_wait_recursive_held_twice(void) {
    pthread_mutex_t m;
    pthread_cond_t c = PTHREAD_COND_INITIALIZER;
    init_kind(&m, RECURSIVE, 0, PTHREAD_PRIO_NONE);
    EXPECT(pthread_mutex_lock(&m), 0);
    EXPECT(pthread_mutex_lock(&m), 0);
    struct timespec t = ts_in_ms(CLOCK_REALTIME, 20);
    EXPECT(pthread_cond_timedwait(&c, &m, &t), ETIMEDOUT);
    EXPECT(pthread_mutex_unlock(&m), 0);
    EXPECT(pthread_mutex_unlock(&m), 0);
    EXPECT(pthread_mutex_unlock(&m), EPERM);
    EXPECT(pthread_mutex_destroy(&m), 0);
    EXPECT(pthread_cond_destroy(&c), 0);
}

/* A glibc process that sets the type PTHREAD_MUTEX_NORMAL explicitly before pthread_mutex_init
 * stores kind 512 (PTHREAD_MUTEX_NO_ELISION_NP): a normal mutex, e.g. in shared memory. */
static void no_elision_kind(void) {
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    m.__data.__kind = 512;
    EXPECT(pthread_mutex_lock(&m), 0);
    EXPECT(pthread_mutex_trylock(&m), EBUSY);
    EXPECT(pthread_mutex_unlock(&m), 0);
    struct timespec bad = ts_of(0, 1000000000);
    EXPECT(pthread_mutex_timedlock(&m, &bad), 0);
    EXPECT(pthread_mutex_destroy(&m), EBUSY);
    EXPECT(pthread_mutex_unlock(&m), 0);
    EXPECT(pthread_mutex_destroy(&m), 0);
}

/* A null deadline: the clock is checked, then it is no deadline at all. (glibc declares the
 * argument non-null: the calls go through pointers that carry no such promise.) */
static void null_deadline(void) {
    int (*volatile timedlock)(pthread_mutex_t *, const struct timespec *) = pthread_mutex_timedlock;
    int (*volatile clocklock)(pthread_mutex_t *, clockid_t, const struct timespec *) = pthread_mutex_clocklock;
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    EXPECT(timedlock(&m, NULL), 0);
    EXPECT(pthread_mutex_unlock(&m), 0);
    EXPECT(clocklock(&m, 99, NULL), EINVAL);
    EXPECT(clocklock(&m, CLOCK_MONOTONIC, NULL), 0);
    EXPECT(pthread_mutex_unlock(&m), 0);
}

/* Attribute objects hold glibc's encoding: bit 31 shared, 30 robust, 28-29 protocol, 12-23
 * ceiling, the rest the kind (PTHREAD_MUTEX_NORMAL set explicitly adds the no-elision bit,
 * which gettype hides). All ones: robust with protocol 3, which init refuses. */
static void attr_bytes(void) {
    pthread_mutexattr_t a;
    int v;
    memset(&a, 0, sizeof a);
    EXPECT(pthread_mutexattr_gettype(&a, &v), 0);
    EXPECT(v, PTHREAD_MUTEX_NORMAL);
    EXPECT(pthread_mutexattr_settype(&a, PTHREAD_MUTEX_NORMAL), 0);
    EXPECT(pthread_mutexattr_gettype(&a, &v), 0);
    EXPECT(v, PTHREAD_MUTEX_NORMAL);
    pthread_mutex_t m;
    EXPECT(pthread_mutex_init(&m, &a), 0);
    EXPECT(m.__data.__kind, 512);
    EXPECT(pthread_mutex_destroy(&m), 0);
    memset(&a, 0xff, sizeof a);
    EXPECT(pthread_mutexattr_gettype(&a, &v), 0);
    EXPECT(v, 0x0f000dff);
    EXPECT(pthread_mutexattr_getpshared(&a, &v), 0);
    EXPECT(v, PTHREAD_PROCESS_SHARED);
    EXPECT(pthread_mutexattr_getrobust(&a, &v), 0);
    EXPECT(v, PTHREAD_MUTEX_ROBUST);
    EXPECT(pthread_mutexattr_getprotocol(&a, &v), 0);
    EXPECT(v, 3);
    EXPECT(pthread_mutexattr_getprioceiling(&a, &v), 0);
    EXPECT(v, 4095);
    EXPECT(pthread_mutex_init(&m, &a), ENOTSUP);
    /* A robust mutex is marked process-shared in its kind, as glibc marks it. */
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    EXPECT(pthread_mutex_init(&m, &a), 0);
    EXPECT(m.__data.__kind, 16 | 128);
    EXPECT(pthread_mutex_destroy(&m), 0);
    pthread_mutexattr_destroy(&a);
    EXPECT(pthread_mutexattr_destroy(&a), 0);
}

/* C11: mtx_timedlock follows pthread_mutex_timedlock; mtx_init makes a recursive mutex only
 * for mtx_plain|mtx_recursive and mtx_timed|mtx_recursive, anything else is a plain one. */
static void c11_mtx(void) {
    mtx_t m;
    struct timespec bad = ts_of(0, 1000000000);
    EXPECT(mtx_init(&m, mtx_plain), thrd_success);
    EXPECT(mtx_timedlock(&m, &bad), thrd_success);
    EXPECT(mtx_trylock(&m), thrd_busy);
    EXPECT(mtx_unlock(&m), thrd_success);
    mtx_destroy(&m);
    static const int plain[] = {mtx_plain, mtx_timed, mtx_plain | mtx_timed, 5, 7, -1, 99};
    for (unsigned i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        EXPECT(mtx_init(&m, plain[i]), thrd_success);
        EXPECT(mtx_lock(&m), thrd_success);
        EXPECT(mtx_trylock(&m), thrd_busy);
        EXPECT(mtx_unlock(&m), thrd_success);
        mtx_destroy(&m);
    }
    static const int recursive[] = {mtx_plain | mtx_recursive, mtx_timed | mtx_recursive};
    for (unsigned i = 0; i < sizeof recursive / sizeof recursive[0]; i++) {
        EXPECT(mtx_init(&m, recursive[i]), thrd_success);
        EXPECT(mtx_lock(&m), thrd_success);
        EXPECT(mtx_trylock(&m), thrd_success);
        EXPECT(mtx_unlock(&m), thrd_success);
        EXPECT(mtx_unlock(&m), thrd_success);
        mtx_destroy(&m);
    }
}

/* A priority-protect mutex locked by a thread whose policy has no priorities (SCHED_OTHER):
 * glibc's first lock in the thread fails with EINVAL (its ceiling bookkeeping cannot raise
 * the thread) and leaves the bookkeeping allocated, so the following locks succeed. */
static void *pp_under_sched_other(void *arg) {
    (void)arg;
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_PROTECT);
    pthread_mutexattr_setprioceiling(&a, 10);
    pthread_mutex_t m;
    EXPECT(pthread_mutex_init(&m, &a), 0);
    EXPECT(pthread_mutex_lock(&m), EINVAL);
    for (int i = 0; i < 2; i++) {
        EXPECT(pthread_mutex_lock(&m), 0);
        EXPECT(pthread_mutex_unlock(&m), 0);
    }
    EXPECT(pthread_mutex_destroy(&m), 0);
    return NULL;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    {
        /* A fresh thread: the bookkeeping is per thread. SCHED_OTHER is the default. */
        pthread_t t;
        EXPECT(pthread_create(&t, NULL, pp_under_sched_other, NULL), 0);
        EXPECT(pthread_join(t, NULL), 0);
    }
    const int none = PTHREAD_PRIO_NONE, pi = PTHREAD_PRIO_INHERIT;
    for (int type = NORMAL; type <= ADAPTIVE; type++) {
        free_mutex_ignores_deadline(type, 0, none);
        free_mutex_ignores_deadline(type, 1, none);
        free_mutex_ignores_deadline(type, 0, pi);
        free_mutex_ignores_deadline(type, 1, pi);
        /* Blocking: plain kinds check tv_sec < 0 (ETIMEDOUT) before tv_nsec, robust ones
         * tv_nsec first, priority-inheritance ones leave both to the kernel (EINVAL). */
        held_mutex_checks_deadline(type, 0, none, ETIMEDOUT, ETIMEDOUT);
        held_mutex_checks_deadline(type, 1, none, EINVAL, ETIMEDOUT);
        held_mutex_checks_deadline(type, 0, pi, EINVAL, EINVAL);
        held_mutex_checks_deadline(type, 1, pi, EINVAL, EINVAL);
        destroyed(type, 0, none);
        destroyed(type, 1, none);
        destroyed(type, 0, pi);
    }
    /* trylock of a mutex the caller holds: EBUSY, but EDEADLK for a robust or
     * priority-inheritance errorcheck mutex; a recursive one counts up. */
    self_held(NORMAL, 0, none, EBUSY);
    self_held(ERRORCHECK, 0, none, EBUSY);
    self_held(RECURSIVE, 0, none, 0);
    self_held(NORMAL, 1, none, EBUSY);
    self_held(ERRORCHECK, 1, none, EDEADLK);
    self_held(RECURSIVE, 1, none, 0);
    self_held(NORMAL, 0, pi, EBUSY);
    self_held(ERRORCHECK, 0, pi, EDEADLK);
    self_held(RECURSIVE, 0, pi, 0);
    self_held(ERRORCHECK, 1, pi, EDEADLK);
    /* Its holder ended: a plain or priority-inheritance mutex stays held and in use. */
    held_by_ended_thread(NORMAL, 0, none, EBUSY);
    held_by_ended_thread(ERRORCHECK, 0, none, EBUSY);
    held_by_ended_thread(NORMAL, 0, pi, EBUSY);
    held_by_ended_thread(NORMAL, 1, none, EOWNERDEAD);
    held_by_ended_thread(ERRORCHECK, 1, pi, EOWNERDEAD);
    destroy_with_cond_waiter(NORMAL, none);
    destroy_with_cond_waiter(RECURSIVE, none);
    destroy_with_cond_waiter(ERRORCHECK, none);
    destroy_with_cond_waiter(NORMAL, pi);
    destroy_robust_held();
    cond_wait_recursive_held_twice();
    null_deadline();
    attr_bytes();
    no_elision_kind();
    c11_mtx();
    return parity_result("errors_parity_mutex");
}
