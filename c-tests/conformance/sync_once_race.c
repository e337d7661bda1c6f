// pthread_once: many racing threads run the routine exactly once (static PTHREAD_ONCE_INIT,
// fresh controls per round); a routine that ends its thread (pthread_exit) leaves the
// control reset, so another caller runs it; recursion on the same control is EDEADLK.
#include <pthread.h>
#include <errno.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#define THREADS 8
#define ROUNDS 200

static pthread_once_t static_once = PTHREAD_ONCE_INIT;
static pthread_once_t onces[ROUNDS];
static int runs[ROUNDS];
static int static_runs;
static volatile int go;
static int fails;

static int round_no;
static void init_round(void) {
    __atomic_add_fetch(&runs[round_no], 1, __ATOMIC_RELAXED);
    usleep(100);
}
static void init_static(void) { __atomic_add_fetch(&static_runs, 1, __ATOMIC_RELAXED); }

static pthread_barrier_t start;

static void *racer(void *arg) {
    (void)arg;
    for (int r = 0; r < ROUNDS; r++) {
        pthread_barrier_wait(&start);
        if (pthread_once(&onces[r], init_round) != 0) __atomic_add_fetch(&fails, 1, __ATOMIC_RELAXED);
        if (__atomic_load_n(&runs[r], __ATOMIC_RELAXED) != 1) __atomic_add_fetch(&fails, 1, __ATOMIC_RELAXED);
        pthread_once(&static_once, init_static);
        pthread_barrier_wait(&start);
        if (arg == 0) round_no = r + 1;
        pthread_barrier_wait(&start);
    }
    return NULL;
}

static pthread_once_t exit_once = PTHREAD_ONCE_INIT;
static int exit_attempts, exit_completions;
static void init_exits(void) {
    if (__atomic_add_fetch(&exit_attempts, 1, __ATOMIC_SEQ_CST) == 1) {
        usleep(20000); // let the other caller block on the control
        pthread_exit(NULL);
    }
    exit_completions++;
}
static void *exiter(void *arg) {
    (void)arg;
    pthread_once(&exit_once, init_exits);
    return NULL;
}

static pthread_once_t rec_once = PTHREAD_ONCE_INIT;
static int rec_result = -1;
static void init_rec(void) { rec_result = pthread_once(&rec_once, init_rec); }

// fork() while another thread runs a once routine: the child's copy of the control says
// "running" by a thread that does not exist in the child; the child must run it itself.
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;
static volatile int fork_in_routine, fork_release, fork_runs;
static void init_slow(void) {
    fork_runs++;
    fork_in_routine = 1;
    while (!fork_release) usleep(1000);
}
static void *fork_runner(void *arg) {
    (void)arg;
    pthread_once(&fork_once, init_slow);
    return NULL;
}

int main(void) {
    pthread_t t[THREADS];
    pthread_barrier_init(&start, NULL, THREADS);
    for (long i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, racer, (void *)i);
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    for (int r = 0; r < ROUNDS; r++)
        if (runs[r] != 1) { printf("round %d ran %d times\n", r, runs[r]); fails++; }
    if (static_runs != 1) { printf("static once ran %d times\n", static_runs); fails++; }

    pthread_t a, b;
    pthread_create(&a, NULL, exiter, NULL);
    usleep(5000);
    pthread_create(&b, NULL, exiter, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    if (exit_attempts != 2 || exit_completions != 1) {
        printf("exiting routine: attempts=%d completions=%d (want 2, 1)\n", exit_attempts, exit_completions);
        fails++;
    }
    pthread_once(&exit_once, init_exits); // done: must not run again
    if (exit_attempts != 2) { printf("ran after completion\n"); fails++; }

    pthread_once(&rec_once, init_rec);
    if (rec_result != EDEADLK) { printf("recursive once returned %d, want EDEADLK\n", rec_result); fails++; }
    if (pthread_once(NULL, init_rec) != EINVAL) { printf("null control not EINVAL\n"); fails++; }

    pthread_t fr;
    pthread_create(&fr, NULL, fork_runner, NULL);
    while (!fork_in_routine) usleep(1000);
    pid_t pid = fork();
    if (pid == 0) {
        fork_release = 1; // the child's routine returns at once
        pthread_once(&fork_once, init_slow);
        _exit(fork_runs == 2 ? 0 : 1); // the parent's run (copied) + the child's own
    }
    int st;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) { printf("once in fork child: status %d\n", st); fails++; }
    fork_release = 1;
    pthread_join(fr, NULL);
    if (fork_runs != 1) { printf("parent: %d runs\n", fork_runs); fails++; }

    printf(fails ? "FAIL\n" : "ok\n");
    return fails != 0;
}
