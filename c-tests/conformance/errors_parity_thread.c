/* Thread functions' results exactly as glibc 2.36 gives them (issue 10): the timed joins
 * look at their deadline only while the thread runs (a self-join is EDEADLK first, an ended
 * thread is joined whatever the deadline holds, a bad tv_nsec waits for the end); what each
 * function does with a thread that has ended but is not joined yet (pthread_kill takes any
 * signal number but the internal ones, pthread_sigqueue is ESRCH, the scheduling functions
 * ESRCH, the names ENOENT after the length checks, affinity acts on the caller as glibc's
 * tid 0 does); attribute objects used without pthread_attr_init or after destroy, and the
 * stack a fresh attribute object reports.
 * Passes on plain glibc too (gcc -pthread, no LD_PRELOAD). */
// rpthread-test: timeout=60
#include "parity_check.h"
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>

static void *ret_arg(void *arg) { return arg; }

static void *sleep_then_return(void *arg) {
    usleep(50000);
    return arg;
}

/* A thread that has ended (the kernel cleared its tid) but is not joined. */
static pthread_t ended_thread(void *value) {
    pthread_t t;
    clockid_t c;
    pthread_create(&t, NULL, ret_arg, value);
    while (pthread_getcpuclockid(t, &c) != ESRCH)
        usleep(1000);
    return t;
}

static void *self_joins(void *arg) {
    (void)arg;
    struct timespec bad = ts_of(0, -1), zero = ts_of(0, 0);
    EXPECT(pthread_timedjoin_np(pthread_self(), NULL, &bad), EDEADLK);
    EXPECT(pthread_clockjoin_np(pthread_self(), NULL, CLOCK_MONOTONIC, &bad), EDEADLK);
    EXPECT(pthread_clockjoin_np(pthread_self(), NULL, CLOCK_PROCESS_CPUTIME_ID, &zero), EINVAL);
    EXPECT(pthread_tryjoin_np(pthread_self(), NULL), EBUSY);
    EXPECT(pthread_join(pthread_self(), NULL), EDEADLK);
    return NULL;
}

static void joins(void) {
    pthread_t t;
    void *v = NULL;
    pthread_create(&t, NULL, self_joins, NULL);
    pthread_join(t, NULL);

    /* Ended: joined at once, the deadline unread. */
    struct timespec bad = ts_of(0, 1000000000), worse = ts_of(-1, -1);
    t = ended_thread((void *)1);
    EXPECT(pthread_timedjoin_np(t, &v, &bad), 0);
    EXPECT((intptr_t)v, 1);
    t = ended_thread((void *)2);
    EXPECT(pthread_clockjoin_np(t, &v, CLOCK_MONOTONIC, &worse), 0);
    EXPECT((intptr_t)v, 2);
    t = ended_thread((void *)3);
    EXPECT(pthread_clockjoin_np(t, &v, 99, &bad), EINVAL); /* the clock is checked first */
    EXPECT(pthread_join(t, &v), 0);

    /* Running: a negative tv_sec has passed (ETIMEDOUT) whatever tv_nsec holds... */
    pthread_create(&t, NULL, sleep_then_return, (void *)4);
    struct timespec neg = ts_of(-1, 1000000000);
    EXPECT(pthread_timedjoin_np(t, &v, &neg), ETIMEDOUT);
    neg = ts_of(-1, -5);
    EXPECT(pthread_clockjoin_np(t, &v, CLOCK_MONOTONIC, &neg), ETIMEDOUT);
    /* ...and a bad tv_nsec otherwise never times out: the join waits for the thread. */
    EXPECT(pthread_timedjoin_np(t, &v, &bad), 0);
    EXPECT((intptr_t)v, 4);
}

static void signals_to_ended_thread(void) {
    pthread_t t = ended_thread(NULL);
    union sigval sv = {0};
    /* pthread_kill: internal signals are refused first; then nothing is sent to an ended
     * thread, whatever the number. */
    EXPECT(pthread_kill(t, 32), EINVAL);
    EXPECT(pthread_kill(t, 33), EINVAL);
    EXPECT(pthread_kill(t, 0), 0);
    EXPECT(pthread_kill(t, SIGUSR1), 0);
    EXPECT(pthread_kill(t, 99), 0);
    EXPECT(pthread_kill(t, -1), 0);
    /* pthread_sigqueue: ESRCH before anything else. */
    EXPECT(pthread_sigqueue(t, SIGUSR1, sv), ESRCH);
    EXPECT(pthread_sigqueue(t, 0, sv), ESRCH);
    EXPECT(pthread_sigqueue(t, 32, sv), ESRCH);
    EXPECT(pthread_sigqueue(t, 99, sv), ESRCH);
    EXPECT(pthread_cancel(t), 0);
    EXPECT(pthread_join(t, NULL), 0);
}

static void signals_to_live_thread(void) {
    pthread_t self = pthread_self();
    union sigval sv = {0};
    EXPECT(pthread_kill(self, 99), EINVAL);
    EXPECT(pthread_kill(self, -1), EINVAL);
    EXPECT(pthread_kill(self, 32), EINVAL);
    EXPECT(pthread_kill(self, 0), 0);
    EXPECT(pthread_sigqueue(self, 0, sv), 0);
    EXPECT(pthread_sigqueue(self, 32, sv), EINVAL);
    EXPECT(pthread_sigqueue(self, 33, sv), EINVAL);
    EXPECT(pthread_sigqueue(self, 65, sv), EINVAL);
    EXPECT(pthread_sigqueue(self, -1, sv), EINVAL);
}

static void scheduling_of_ended_thread(void) {
    pthread_t t = ended_thread(NULL);
    int policy = -1;
    struct sched_param sp = {0};
    clockid_t c;
    char name[32];
    EXPECT(pthread_getschedparam(t, &policy, &sp), ESRCH);
    EXPECT(pthread_setschedparam(t, SCHED_OTHER, &sp), ESRCH);
    EXPECT(pthread_setschedparam(t, 99, &sp), ESRCH);
    EXPECT(pthread_setschedprio(t, 0), ESRCH);
    EXPECT(pthread_getcpuclockid(t, &c), ESRCH);
    /* Names: the length checks first, then /proc/self/task/0 does not exist. */
    EXPECT(pthread_setname_np(t, "0123456789abcdef"), ERANGE);
    EXPECT(pthread_getname_np(t, name, 15), ERANGE);
    EXPECT(pthread_setname_np(t, "x"), ENOENT);
    EXPECT(pthread_getname_np(t, name, sizeof name), ENOENT);
    /* Affinity: the kernel is asked about tid 0, the caller. */
    cpu_set_t mine, got;
    CPU_ZERO(&mine);
    memset(&got, 0x5a, sizeof got);
    sched_getaffinity(0, sizeof mine, &mine);
    EXPECT(pthread_getaffinity_np(t, sizeof got, &got), 0);
    EXPECT(CPU_EQUAL(&got, &mine), 1);
    EXPECT(pthread_setaffinity_np(t, sizeof mine, &mine), 0);
    EXPECT(pthread_join(t, NULL), 0);
}

/* An attribute object is whatever its bytes say: zeroed (never initialized) it is a joinable,
 * inheriting, guardless attribute with the default stack size; destroy leaves the values. */
static void attributes(void) {
    pthread_attr_t a;
    int v;
    size_t s;
    void *p;
    pthread_t t;
    memset(&a, 0, sizeof a);
    EXPECT(pthread_attr_getdetachstate(&a, &v), 0);
    EXPECT(v, PTHREAD_CREATE_JOINABLE);
    EXPECT(pthread_attr_getguardsize(&a, &s), 0);
    EXPECT(s, 0);
    EXPECT(pthread_attr_getstacksize(&a, &s), 0);
    EXPECT(s >= PTHREAD_STACK_MIN, 1);
    EXPECT(pthread_attr_getinheritsched(&a, &v), 0);
    EXPECT(v, PTHREAD_INHERIT_SCHED);
    EXPECT(pthread_create(&t, &a, ret_arg, (void *)5), 0);
    void *rv = NULL;
    EXPECT(pthread_join(t, &rv), 0);
    EXPECT((intptr_t)rv, 5);
    EXPECT(pthread_attr_setdetachstate(&a, PTHREAD_CREATE_JOINABLE), 0);
    EXPECT(pthread_attr_destroy(&a), 0);
    EXPECT(pthread_attr_destroy(&a), 0);
    EXPECT(pthread_attr_setstacksize(&a, 1 << 20), 0);
    EXPECT(pthread_attr_getstacksize(&a, &s), 0);
    EXPECT(s, 1 << 20);
    EXPECT(pthread_create(&t, &a, ret_arg, NULL), 0);
    EXPECT(pthread_join(t, NULL), 0);
    EXPECT(pthread_attr_destroy(&a), 0);

    /* The stack pthread_attr_getstack reports is top - size of what was set: nothing set is
     * (NULL, 0), a size alone is (-size, size), an address alone (addr, 0). */
    pthread_attr_init(&a);
    EXPECT(pthread_attr_getstack(&a, &p, &s), 0);
    EXPECT((intptr_t)p, 0);
    EXPECT(s, 0);
    EXPECT(pthread_attr_setstacksize(&a, 65536), 0);
    EXPECT(pthread_attr_getstack(&a, &p, &s), 0);
    EXPECT((intptr_t)p, -65536);
    EXPECT(s, 65536);
    pthread_attr_destroy(&a);
    pthread_attr_init(&a);
    char *addr = (char *)0x100000;
    EXPECT(pthread_attr_setstackaddr(&a, addr), 0);
    EXPECT(pthread_attr_getstack(&a, &p, &s), 0);
    EXPECT(p == addr, 1);
    EXPECT(s, 0);
    /* A range that wraps is not checked here. */
    EXPECT(pthread_attr_setstack(&a, (void *)-8192, 16384), 0);
    EXPECT(pthread_attr_getstackaddr(&a, &p), 0);
    EXPECT((intptr_t)p, 8192);
    pthread_attr_destroy(&a);

    /* Default attributes: a stack address is refused even a null one; a zeroed attribute
     * object is taken as it is (no guard). */
    pthread_attr_t saved;
    EXPECT(pthread_getattr_default_np(&saved), 0);
    pthread_attr_init(&a);
    EXPECT(pthread_attr_setstackaddr(&a, NULL), 0);
    EXPECT(pthread_setattr_default_np(&a), EINVAL);
    pthread_attr_destroy(&a);
    memset(&a, 0, sizeof a);
    EXPECT(pthread_setattr_default_np(&a), 0);
    pthread_attr_init(&a);
    EXPECT(pthread_getattr_default_np(&a), 0);
    EXPECT(pthread_attr_getguardsize(&a, &s), 0);
    EXPECT(s, 0);
    pthread_attr_destroy(&a);
    EXPECT(pthread_setattr_default_np(&saved), 0);
    pthread_attr_destroy(&saved);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    signal(SIGUSR1, SIG_IGN);
    joins();
    signals_to_ended_thread();
    signals_to_live_thread();
    scheduling_of_ended_thread();
    attributes();
    return parity_result("errors_parity_thread");
}
