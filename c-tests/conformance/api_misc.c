/* Issue 5's smaller APIs: names (visible in /proc), affinity (thread and attr), attr signal
 * masks, scheduling parameters, CPU-time clocks, pthread_kill/sigqueue/sigmask (the internal
 * signals stay unblockable), atfork handler order, yield, concurrency. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "check.h"


static volatile int stop, got_sig, got_val, thread_tid;
static sigset_t seen_mask;
static void on_usr1(int s) { got_sig = s; }
static void on_rt(int s, siginfo_t *si, void *u) { (void)s; (void)u; got_val = si->si_value.sival_int; }

static void *idle(void *a) {
    (void)a;
    thread_tid = (int)syscall(SYS_gettid);
    pthread_sigmask(SIG_SETMASK, NULL, &seen_mask);
    while (!stop) usleep(1000);
    return NULL;
}

static char order[16];
static int pos;
static void prep1(void) { order[pos++] = 'a'; }
static void prep2(void) { order[pos++] = 'b'; }
static void parent1(void) { order[pos++] = 'c'; }
static void parent2(void) { order[pos++] = 'd'; }
static void child1(void) { order[pos++] = 'e'; }
static void child2(void) { order[pos++] = 'f'; }

int main(void) {
    signal(SIGUSR1, on_usr1);
    struct sigaction sa = {0};
    sa.sa_sigaction = on_rt;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGRTMIN + 2, &sa, NULL);

    /* attr sigmask: the thread starts with SIGUSR2 blocked */
    pthread_attr_t a;
    pthread_attr_init(&a);
    sigset_t m, got;
    sigemptyset(&m);
    sigaddset(&m, SIGUSR2);
    CHECK(pthread_attr_getsigmask_np(&a, &got) == PTHREAD_ATTR_NO_SIGMASK_NP);
    CHECK(pthread_attr_setsigmask_np(&a, &m) == 0);
    CHECK(pthread_attr_getsigmask_np(&a, &got) == 0 && sigismember(&got, SIGUSR2));
    cpu_set_t cs, cs2;
    CPU_ZERO(&cs); CPU_SET(0, &cs);
    CHECK(pthread_attr_setaffinity_np(&a, sizeof cs, &cs) == 0);
    CHECK(pthread_attr_getaffinity_np(&a, sizeof cs2, &cs2) == 0 && CPU_EQUAL(&cs, &cs2));
    pthread_t t;
    CHECK(pthread_create(&t, &a, idle, NULL) == 0);
    pthread_attr_destroy(&a);
    while (!thread_tid) usleep(1000);
    usleep(10000);
    CHECK(sigismember(&seen_mask, SIGUSR2));
    CHECK(pthread_getaffinity_np(t, sizeof cs2, &cs2) == 0 && CPU_COUNT(&cs2) == 1 && CPU_ISSET(0, &cs2));

    /* names, visible in /proc */
    CHECK(pthread_setname_np(t, "worker-name-xyz") == 0);
    char name[32], path[64], comm[32] = {0};
    CHECK(pthread_getname_np(t, name, sizeof name) == 0 && strcmp(name, "worker-name-xyz") == 0);
    snprintf(path, sizeof path, "/proc/self/task/%d/comm", thread_tid);
    FILE *f = fopen(path, "r");
    CHECK(f && fgets(comm, sizeof comm, f) && strcmp(comm, "worker-name-xyz\n") == 0);
    if (f) fclose(f);
    CHECK(pthread_setname_np(t, "this-name-is-far-too-long") == ERANGE);
    CHECK(pthread_getname_np(t, name, 8) == ERANGE);
    CHECK(pthread_setname_np(pthread_self(), "mainthr") == 0);
    CHECK(pthread_getname_np(pthread_self(), name, sizeof name) == 0 && strcmp(name, "mainthr") == 0);

    /* scheduling */
    int policy; struct sched_param sp;
    CHECK(pthread_getschedparam(t, &policy, &sp) == 0 && policy == SCHED_OTHER && sp.sched_priority == 0);
    sp.sched_priority = 0;
    CHECK(pthread_setschedparam(t, SCHED_BATCH, &sp) == 0);
    CHECK(pthread_getschedparam(t, &policy, &sp) == 0 && policy == SCHED_BATCH);
    CHECK(pthread_setschedprio(t, 50) == EINVAL);

    /* CPU-time clock */
    clockid_t cid; struct timespec ts;
    CHECK(pthread_getcpuclockid(t, &cid) == 0 && clock_gettime(cid, &ts) == 0);

    /* signals */
    CHECK(pthread_kill(t, SIGUSR1) == 0);
    for (int i = 0; i < 200 && !got_sig; i++) usleep(1000);
    CHECK(got_sig == SIGUSR1);
    CHECK(pthread_kill(t, 0) == 0);
    CHECK(pthread_kill(t, 99) == EINVAL);
    CHECK(pthread_kill(t, 32) == EINVAL && pthread_kill(t, 33) == EINVAL);
    union sigval v = { .sival_int = 4242 };
    CHECK(pthread_sigqueue(t, SIGRTMIN + 2, v) == 0);
    for (int i = 0; i < 200 && !got_val; i++) usleep(1000);
    CHECK(got_val == 4242);
    sigset_t all, now;
    sigfillset(&all);
    CHECK(pthread_sigmask(SIG_BLOCK, &all, NULL) == 0);
    CHECK(syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &now, 8) == 0);
    CHECK(!(((unsigned long *)&now)[0] & (3UL << 31))); /* 32 and 33 not blocked */
    CHECK(pthread_sigmask(SIG_SETMASK, &m, NULL) == 0);
    CHECK(pthread_sigmask(12345, &m, NULL) == EINVAL);
    sigemptyset(&m);
    pthread_sigmask(SIG_SETMASK, &m, NULL);

    /* atfork: prepare in reverse order, parent/child in order */
    CHECK(pthread_atfork(prep1, parent1, child1) == 0);
    CHECK(pthread_atfork(prep2, parent2, child2) == 0);
    pid_t pid = fork();
    if (pid == 0) _exit(strcmp(order, "baef") == 0 ? 0 : 1);
    int st;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(strcmp(order, "bacd") == 0);

    CHECK(pthread_yield() == 0);
    CHECK(pthread_getconcurrency() == 0);
    CHECK(pthread_setconcurrency(4) == 0 && pthread_getconcurrency() == 4);
    CHECK(pthread_setconcurrency(-1) == EINVAL);
#ifdef RPTHREAD_PTHREAD_H /* glibc keeps it only as a compat symbol: not linkable */
    pthread_kill_other_threads_np();
#endif

    stop = 1;
    CHECK(pthread_join(t, NULL) == 0);
    CHECK(pthread_kill(t, 0) == ESRCH);
    CHECK(pthread_setname_np(t, "x") == ESRCH);
    if (tc_failures) return 1;
    puts("api_misc: ok");
    return 0;
}
