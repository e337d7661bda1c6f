/* Driver (ours, not from the document) for c-tests/docs/signal_handler.c, the "Pthreads信号示例"
 * fragment of seed 001, which has `handler` and `thread_func` but no main.
 *
 * How it is combined: scripts/docs.py compiles the fragment UNCHANGED to its own object file
 * (gcc -c) and links that object with this driver; nothing of the fragment is copied here.
 *
 * What it does: starts the fragment's thread_func in a new thread, waits until that thread has
 * installed `handler` for SIGUSR1 (the fragment does it with signal()), sends SIGUSR1 to that
 * thread with pthread_kill, and waits until the kernel no longer has the signal pending for the
 * thread (read from /proc/self/task/<tid>/status). Had the handler not been installed, SIGUSR1's
 * default action would have killed the process; so reaching the end means the fragment's handler
 * consumed the signal in the fragment's thread. thread_func never returns (while (1)), so the
 * driver ends the process with exit(0) while it still runs.
 *
 * Output: one line "SIGUSR1 handled by thread_func's thread" on success; otherwise a diagnostic
 * and exit status 1.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Defined by the fragment. */
void handler(int sig);
void *thread_func(void *arg);

static volatile pid_t target_tid;

/* Records the kernel tid of the new thread, then runs the fragment's thread function. */
static void *start(void *arg)
{
    __atomic_store_n(&target_tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
    return thread_func(arg);
}

/* Returns 1 while SIGUSR1 is pending for thread `tid`, 0 when not, -1 on error. */
static int usr1_pending(pid_t tid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/self/task/%d/status", (int)tid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int pending = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "SigPnd:", 7) == 0) {
            unsigned long long mask = strtoull(line + 7, NULL, 16);
            pending = (mask >> (SIGUSR1 - 1)) & 1;
            break;
        }
    }
    fclose(f);
    return pending;
}

int main(void)
{
    pthread_t t;
    int err = pthread_create(&t, NULL, start, NULL);
    if (err != 0) {
        printf("pthread_create failed: %s\n", strerror(err));
        return 1;
    }
    /* Wait (bounded by the harness's timeout) until the thread has run signal(SIGUSR1, handler). */
    for (;;) {
        struct sigaction sa;
        if (sigaction(SIGUSR1, NULL, &sa) != 0) {
            perror("sigaction");
            return 1;
        }
        if (sa.sa_handler == handler && __atomic_load_n(&target_tid, __ATOMIC_ACQUIRE) != 0)
            break;
        sched_yield();
    }
    err = pthread_kill(t, SIGUSR1);
    if (err != 0) {
        printf("pthread_kill failed: %s\n", strerror(err));
        return 1;
    }
    pid_t tid = __atomic_load_n(&target_tid, __ATOMIC_ACQUIRE);
    int p;
    while ((p = usr1_pending(tid)) == 1)
        sched_yield();
    if (p < 0) {
        printf("cannot read the signal state of thread %d\n", (int)tid);
        return 1;
    }
    printf("SIGUSR1 handled by thread_func's thread\n");
    fflush(stdout);
    exit(0);
}
