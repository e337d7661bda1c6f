/* A thread dump while one thread holds stdout's and stderr's locks and another is inside
 * malloc with the allocator locked (this program's own malloc, which aborts if anyone else
 * calls it meanwhile): the dump must use neither. A third thread waits for a mutex a fourth
 * holds; a fifth sleeps in nanosleep, which the dump must not cut short. Main raises SIGQUIT
 * (or argv[1] says "api": calls rpthread_diag_dump), then lets everyone go and prints
 * "done". */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static volatile int malloc_held;   /* 1 while thread "allocator" sits in malloc */
static int release_pipe[2];        /* the threads block in read() until main writes */
static volatile int in_place;
static pthread_t allocator;

static void check_malloc(void) {
    if (__atomic_load_n(&malloc_held, __ATOMIC_ACQUIRE) && !pthread_equal(pthread_self(), allocator)) {
        static const char msg[] = "FAIL: malloc called while the allocator lock is held\n";
        write(2, msg, sizeof msg - 1);
        abort();
    }
}

void *malloc(size_t n) {
    check_malloc();
    return __libc_malloc(n);
}
void *calloc(size_t a, size_t b) {
    check_malloc();
    return __libc_calloc(a, b);
}
void *realloc(void *p, size_t n) {
    check_malloc();
    return __libc_realloc(p, n);
}
void free(void *p) {
    check_malloc();
    __libc_free(p);
}

static pthread_mutex_t contended = PTHREAD_MUTEX_INITIALIZER;

static void arrive(void) { __atomic_add_fetch(&in_place, 1, __ATOMIC_ACQ_REL); }
/* Blocks in read(2), a call the kernel restarts after a signal handler, so the dump may ask
 * for this thread's stack (a thread in nanosleep would be left alone: see src/diag/dump.rs). */
static void wait_release(void) {
    char c;
    while (read(release_pipe[0], &c, 1) < 0) {}
}

static void *hold_stdio(void *arg) {
    (void)arg;
    pthread_setname_np(pthread_self(), "stdio-holder");
    flockfile(stdout);
    flockfile(stderr);
    arrive();
    wait_release();
    funlockfile(stderr);
    funlockfile(stdout);
    return NULL;
}

static void sit_in_malloc(void) {
    /* "inside the allocator with its lock held" */
    __atomic_store_n(&malloc_held, 1, __ATOMIC_RELEASE);
    arrive();
    wait_release();
    __atomic_store_n(&malloc_held, 0, __ATOMIC_RELEASE);
}

static void *hold_malloc(void *arg) {
    (void)arg;
    pthread_setname_np(pthread_self(), "allocator");
    sit_in_malloc();
    return NULL;
}

static void *hold_mutex(void *arg) {
    (void)arg;
    pthread_setname_np(pthread_self(), "mutex-holder");
    pthread_mutex_lock(&contended);
    arrive();
    wait_release();
    pthread_mutex_unlock(&contended);
    return NULL;
}

static void *want_mutex(void *arg) {
    (void)arg;
    pthread_setname_np(pthread_self(), "mutex-waiter");
    while (__atomic_load_n(&in_place, __ATOMIC_ACQUIRE) < 1) usleep(1000);
    arrive();
    pthread_mutex_lock(&contended);
    pthread_mutex_unlock(&contended);
    return NULL;
}

static volatile int slept_short;

static void *sleeper(void *arg) {
    (void)arg;
    pthread_setname_np(pthread_self(), "sleeper");
    struct timespec t0, t1, d = {1, 200000000};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    arrive();
    nanosleep(&d, NULL); /* a signal would end it early (EINTR) */
    clock_gettime(CLOCK_MONOTONIC, &t1);
    slept_short = (t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec) < 1150000000L;
    return NULL;
}

int rpthread_diag_dump(void) __attribute__((weak));

int main(int argc, char **argv) {
    pthread_t t[3];
    if (pipe(release_pipe) != 0) return 1;
    pthread_create(&t[0], NULL, hold_mutex, NULL);
    pthread_create(&t[1], NULL, want_mutex, NULL);
    while (__atomic_load_n(&in_place, __ATOMIC_ACQUIRE) < 2) usleep(1000);
    pthread_t sl;
    pthread_create(&sl, NULL, sleeper, NULL);
    pthread_create(&t[2], NULL, hold_stdio, NULL);
    while (__atomic_load_n(&in_place, __ATOMIC_ACQUIRE) < 4) usleep(1000);
    /* Last: from here on nobody but the allocator thread may call malloc. */
    pthread_create(&allocator, NULL, hold_malloc, NULL);
    while (__atomic_load_n(&in_place, __ATOMIC_ACQUIRE) < 5) usleep(1000);
    usleep(100000); /* the waiter is asleep in the mutex by now */
    if (argc > 1 && !strcmp(argv[1], "api") && rpthread_diag_dump)
        rpthread_diag_dump();
    else
        raise(SIGQUIT);
    if (write(release_pipe[1], "xxx", 3) != 3) return 1;
    for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
    pthread_join(allocator, NULL);
    pthread_join(sl, NULL);
    if (slept_short) {
        printf("FAIL: the dump cut the sleeper's nanosleep short\n");
        return 1;
    }
    printf("done\n");
    return 0;
}
