/* Join and detach semantics: the return value through join, return == pthread_exit (also from
 * a nested function), and every error case of join/tryjoin/timedjoin/clockjoin/detach. */
#include "thread_check.h"
#include <errno.h>
#include <pthread.h>
#include <time.h>

static void *ret_value(void *arg) { return (char *)arg + 1; }

static void nested_exit(int depth, void *v) {
    if (depth == 0) pthread_exit(v);
    nested_exit(depth - 1, v);
    fprintf(stderr, "pthread_exit returned\n");
    abort();
}

static void *exit_nested(void *arg) {
    nested_exit(5, arg);
    return NULL;
}

static void *exit_direct(void *arg) { pthread_exit(arg); }

static TC_ATOMIC(int) release_flag;

static void *wait_release(void *arg) {
    while (!release_flag) tc_futex_wait(&release_flag, 0);
    return arg;
}

static void release_all(void) {
    release_flag = 1;
    tc_futex_wake(&release_flag, INT_MAX);
}

static TC_ATOMIC(long) finished_tid;
static void *record_tid(void *arg) {
    finished_tid = syscall(SYS_gettid);
    return arg;
}

/* Waits until kernel thread `tid` of this process is gone from /proc. */
static void wait_task_gone(long tid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%ld", tid);
    while (access(path, F_OK) == 0) usleep(1000);
}

static void *self_join(void *arg) {
    (void)arg;
    return (void *)(long)pthread_join(pthread_self(), NULL);
}

/* Two threads join each other: one must get EDEADLK (the other then joins normally). */
static pthread_t mutual[2];
static TC_ATOMIC(int) mutual_ready;
static TC_ATOMIC(int) mutual_rc[2];

static void *mutual_join(void *arg) {
    long i = (long)arg;
    mutual_ready++;
    while (mutual_ready < 2) sched_yield();
    int rc = pthread_join(mutual[1 - i], NULL);
    mutual_rc[i] = rc;
    return NULL;
}

int main(void) {
    pthread_t t;
    void *v;
    char buf[4];

    /* return value through join; return == pthread_exit; nested pthread_exit */
    CHECK(pthread_create(&t, NULL, ret_value, buf) == 0, "create");
    CHECK(pthread_join(t, &v) == 0 && v == buf + 1, "join value %p", v);
    CHECK(pthread_create(&t, NULL, exit_direct, buf + 2) == 0, "create");
    CHECK(pthread_join(t, &v) == 0 && v == buf + 2, "pthread_exit value %p", v);
    CHECK(pthread_create(&t, NULL, exit_nested, buf + 3) == 0, "create");
    CHECK(pthread_join(t, &v) == 0 && v == buf + 3, "nested pthread_exit value %p", v);
    CHECK(pthread_create(&t, NULL, exit_direct, NULL) == 0, "create");
    CHECK(pthread_join(t, NULL) == 0, "join with NULL retval");

    /* join self -> EDEADLK, in main and in a thread */
    CHECK(pthread_join(pthread_self(), NULL) == EDEADLK, "main self-join");
    CHECK(pthread_create(&t, NULL, self_join, NULL) == 0, "create");
    CHECK(pthread_join(t, &v) == 0 && (long)v == EDEADLK, "thread self-join gave %ld", (long)v);

    /* joining a detached thread -> EINVAL; detach twice -> EINVAL */
    release_flag = 0;
    CHECK(pthread_create(&t, NULL, wait_release, NULL) == 0, "create");
    CHECK(pthread_detach(t) == 0, "detach");
    CHECK(pthread_join(t, NULL) == EINVAL, "join detached");
    CHECK(pthread_detach(t) == EINVAL, "detach twice");
    release_all();

    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    release_flag = 0;
    CHECK(pthread_create(&t, &a, wait_release, NULL) == 0, "create detached");
    CHECK(pthread_join(t, NULL) == EINVAL, "join created-detached");
    CHECK(pthread_detach(t) == EINVAL, "detach created-detached");
    release_all();
    pthread_attr_destroy(&a);

    /* tryjoin: EBUSY while running; timedjoin: ETIMEDOUT (a bad nsec is glibc's business
     * only: see errors_parity_thread.c); clockjoin: monotonic works, invalid clock EINVAL */
    release_flag = 0;
    CHECK(pthread_create(&t, NULL, wait_release, buf) == 0, "create");
    CHECK(pthread_tryjoin_np(t, &v) == EBUSY, "tryjoin running");
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 20 * 1000 * 1000;
    if (ts.tv_nsec >= 1000000000) { ts.tv_sec++; ts.tv_nsec -= 1000000000; }
    CHECK(pthread_timedjoin_np(t, &v, &ts) == ETIMEDOUT, "timedjoin deadline");
    struct timespec past = {0, 0};
    CHECK(pthread_timedjoin_np(t, &v, &past) == ETIMEDOUT, "timedjoin past deadline");
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += 10 * 1000 * 1000;
    if (ts.tv_nsec >= 1000000000) { ts.tv_sec++; ts.tv_nsec -= 1000000000; }
    CHECK(pthread_clockjoin_np(t, &v, CLOCK_MONOTONIC, &ts) == ETIMEDOUT, "clockjoin monotonic");
    CHECK(pthread_clockjoin_np(t, &v, 12345, &ts) == EINVAL, "clockjoin invalid clock");
    CHECK(pthread_clockjoin_np(t, &v, CLOCK_PROCESS_CPUTIME_ID, &ts) == EINVAL, "clockjoin cputime clock");
    release_all();
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += 30;
    v = NULL;
    CHECK(pthread_clockjoin_np(t, &v, CLOCK_MONOTONIC, &ts) == 0 && v == buf, "clockjoin after release");

    /* timedjoin of a finished thread succeeds at once */
    CHECK(pthread_create(&t, NULL, ret_value, buf) == 0, "create");
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 30;
    CHECK(pthread_timedjoin_np(t, &v, &ts) == 0 && v == buf + 1, "timedjoin value");

    /* tryjoin of a finished thread */
    CHECK(pthread_create(&t, NULL, ret_value, buf) == 0, "create");
    int rc;
    while ((rc = pthread_tryjoin_np(t, &v)) == EBUSY) sched_yield();
    CHECK(rc == 0 && v == buf + 1, "tryjoin finished rc=%d", rc);

    /* joining twice: glibc calls it undefined; we return an error, never crash */
    CHECK(pthread_create(&t, NULL, ret_value, buf) == 0, "create");
    CHECK(pthread_join(t, NULL) == 0, "first join");
    rc = pthread_join(t, NULL);
    CHECK(rc == ESRCH || rc == EINVAL, "second join gave %d", rc);
    rc = pthread_detach(t);
    CHECK(rc == ESRCH || rc == EINVAL, "detach after join gave %d", rc);

    /* detach of an already finished (not yet joined) thread frees it; handle then ESRCH */
    CHECK(pthread_create(&t, NULL, ret_value, buf) == 0, "create");
    CHECK(pthread_detach(t) == 0, "detach");

    /* detach of a thread that has already ended (not joined): frees it; then ESRCH */
    finished_tid = 0;
    CHECK(pthread_create(&t, NULL, record_tid, buf) == 0, "create");
    while (!finished_tid) sched_yield();
    wait_task_gone(finished_tid);
    CHECK(pthread_detach(t) == 0, "detach of an ended thread");
    rc = pthread_join(t, NULL);
    CHECK(rc == ESRCH, "join after detaching an ended thread: %d", rc);
    /* join of a thread that has already ended returns its value at once */
    finished_tid = 0;
    CHECK(pthread_create(&t, NULL, record_tid, buf) == 0, "create");
    while (!finished_tid) sched_yield();
    wait_task_gone(finished_tid);
    CHECK(pthread_tryjoin_np(t, &v) == 0 && v == buf, "tryjoin of an ended thread");

    /* bogus handles: a heap address, and a random number */
    void *heap = malloc(4096);
    memset(heap, 0x5a, 4096);
    pthread_t bogus = (pthread_t)((char *)heap + 1024);
    CHECK(pthread_join(bogus, NULL) == ESRCH, "join heap handle");
    CHECK(pthread_detach(bogus) == ESRCH, "detach heap handle");
    CHECK(pthread_tryjoin_np(bogus, NULL) == ESRCH, "tryjoin heap handle");
    CHECK(pthread_join((pthread_t)0x1234560, NULL) == ESRCH, "join bogus number");
    free(heap);

    /* mutual join: exactly one EDEADLK unless one joined the other first and it ended */
    for (int round = 0; round < 20; round++) {
        mutual_ready = 0;
        mutual_rc[0] = mutual_rc[1] = -1;
        /* create both before either can run its join: hold them with mutual_ready */
        mutual_ready = -10;
        CHECK(pthread_create(&mutual[0], NULL, mutual_join, (void *)0L) == 0, "create");
        CHECK(pthread_create(&mutual[1], NULL, mutual_join, (void *)1L) == 0, "create");
        mutual_ready += 10;
        /* The loser of the race gets EDEADLK and returns; the winner's join then succeeds and
         * frees it; main joins the winner. */
        int deadlk = -1;
        for (;;) {
            if (mutual_rc[0] == EDEADLK) { deadlk = 0; break; }
            if (mutual_rc[1] == EDEADLK) { deadlk = 1; break; }
            if (mutual_rc[0] != -1 && mutual_rc[1] != -1) break;
            sched_yield();
        }
        CHECK(deadlk >= 0, "no EDEADLK in mutual join (rc %d %d)", (int)mutual_rc[0], (int)mutual_rc[1]);
        if (deadlk < 0) break;
        CHECK(pthread_join(mutual[1 - deadlk], NULL) == 0, "join winner");
        CHECK(mutual_rc[1 - deadlk] == 0, "winner's join gave %d", (int)mutual_rc[1 - deadlk]);
    }
    return tc_result("thread_join");
}
