/* What a new thread inherits from its creator (POSIX pthread_create): the signal mask, the
 * floating-point environment (rounding mode), the CPU affinity and scheduling policy; and
 * what it does not: pending signals and the alternate signal stack. */
// rpthread-test: flags=-lm
#include "thread_check.h"
#include <fenv.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>

struct seen {
    sigset_t mask;
    int round;
    cpu_set_t cpus;
    int altstack_disabled;
    int pending_usr2;
};

static void *report(void *arg) {
    struct seen *s = arg;
    pthread_sigmask(SIG_BLOCK, NULL, &s->mask);
    s->round = fegetround();
    sched_getaffinity(0, sizeof s->cpus, &s->cpus);
    stack_t ss;
    sigaltstack(NULL, &ss);
    s->altstack_disabled = (ss.ss_flags & SS_DISABLE) != 0;
    sigset_t pend;
    sigpending(&pend);
    s->pending_usr2 = sigismember(&pend, SIGUSR2);
    return NULL;
}

int main(void) {
    /* creator state */
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigaddset(&block, SIGUSR2);
    sigaddset(&block, SIGRTMIN + 3);
    CHECK(pthread_sigmask(SIG_BLOCK, &block, NULL) == 0, "block");
    /* a pending signal of the creator thread (tgkill to itself) is not the new thread's */
    CHECK(syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR2) == 0, "tgkill");
    CHECK(fesetround(FE_UPWARD) == 0, "fesetround");
    static char alt[64 * 1024];
    stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0};
    CHECK(sigaltstack(&ss, NULL) == 0, "sigaltstack");
    cpu_set_t all, one;
    sched_getaffinity(0, sizeof all, &all);
    int first = -1;
    for (int i = 0; i < CPU_SETSIZE && first < 0; i++)
        if (CPU_ISSET(i, &all)) first = i;
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    CHECK(sched_setaffinity(0, sizeof one, &one) == 0, "setaffinity");

    struct seen s;
    memset(&s, 0, sizeof s);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, report, &s) == 0, "create");
    CHECK(pthread_join(t, NULL) == 0, "join");

    CHECK(sigismember(&s.mask, SIGUSR1) && sigismember(&s.mask, SIGUSR2) && sigismember(&s.mask, SIGRTMIN + 3),
          "signal mask not inherited");
    CHECK(!sigismember(&s.mask, SIGTERM) && !sigismember(&s.mask, SIGINT), "extra signals blocked in the thread");
    CHECK(s.round == FE_UPWARD, "rounding mode %d, expected FE_UPWARD %d", s.round, FE_UPWARD);
    CHECK(CPU_EQUAL(&s.cpus, &one), "affinity not inherited (%d CPUs)", CPU_COUNT(&s.cpus));
    CHECK(s.altstack_disabled, "alternate signal stack inherited");
    CHECK(!s.pending_usr2, "creator's pending thread-directed signal is pending in the new thread");

    /* clean up: restore, and consume the pending SIGUSR2 */
    fesetround(FE_TONEAREST);
    sched_setaffinity(0, sizeof all, &all);
    struct timespec zero = {0, 0};
    sigset_t usr2;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    CHECK(sigtimedwait(&usr2, NULL, &zero) == SIGUSR2, "SIGUSR2 still pending in main");
    return tc_result("thread_inherit");
}
