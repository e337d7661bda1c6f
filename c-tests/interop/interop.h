/* Shared helpers of the interop tests. Each test is one ordinary glibc program run as two
 * processes that share a file mapped MAP_SHARED, one on plain glibc and one preloaded with
 * rpthread (scripts/interop.py runs both assignments):
 *
 *     prog A|B SHMFILE NAME        (NAME: a prefix for named semaphores)
 *
 * Role A initializes the objects in the shared page and then publishes `ready`; role B
 * waits for it. The two processes meet at numbered steps (`meet`) built on plain atomics
 * and sleeps, so the test's own coordination never depends on the objects under test. */
#ifndef INTEROP_H
#define INTEROP_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define INTEROP_READY 0x1e57c0de

/* The first bytes of the shared page: coordination of the two processes. */
struct meeting {
    int ready;      /* INTEROP_READY once A initialized the objects */
    int arrived[2]; /* per role: the last step reached */
    int failures;   /* both processes' CHECK failures */
};

static char role;      /* 'A' or 'B' */
static int me, peer;   /* 0 for A, 1 for B */
static const char *sem_prefix;
static struct meeting *mt;

#define CHECK(cond, ...)                                                                  \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            fprintf(stderr, "[%c] %s:%d: CHECK(%s) failed: ", role, __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                                 \
            fputc('\n', stderr);                                                          \
            __atomic_add_fetch(&mt->failures, 1, __ATOMIC_SEQ_CST);                       \
        }                                                                                 \
    } while (0)

/* The error number of a pthread-style call, or -1 with errno (sem_* style), as one int. */
#define ERRNO_OF(call) ((call) == 0 ? 0 : errno)

/* Maps the shared file (at least `size` bytes) and sets up the role; returns the objects'
 * area, after the meeting block. A hang is a failure: SIGALRM ends the process. */
static inline void *interop_start(int argc, char **argv, size_t size)
{
    if (argc < 4 || (argv[1][0] != 'A' && argv[1][0] != 'B')) {
        fprintf(stderr, "usage: %s A|B SHMFILE NAME\n", argv[0]);
        exit(2);
    }
    role = argv[1][0];
    me = role == 'B';
    peer = !me;
    sem_prefix = argv[3];
    int fd = open(argv[2], O_RDWR);
    if (fd < 0) { perror("open"); exit(2); }
    size += 4096;
    if (ftruncate(fd, (off_t)size) != 0) { perror("ftruncate"); exit(2); }
    char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) { perror("mmap"); exit(2); }
    close(fd);
    mt = (struct meeting *)p;
    alarm(30);
    return p + 4096;
}

static inline void interop_sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* A publishes the initialized objects; B waits for them. */
static inline void interop_ready(void)
{
    if (role == 'A') {
        __atomic_store_n(&mt->ready, INTEROP_READY, __ATOMIC_RELEASE);
        return;
    }
    while (__atomic_load_n(&mt->ready, __ATOMIC_ACQUIRE) != INTEROP_READY) interop_sleep_ms(1);
}

/* Both processes reach step `n` (1, 2, ...) before either goes on. */
static inline void meet(int n)
{
    __atomic_store_n(&mt->arrived[me], n, __ATOMIC_RELEASE);
    while (__atomic_load_n(&mt->arrived[peer], __ATOMIC_ACQUIRE) < n) sched_yield();
}

/* Now plus `ms` on `clk`. */
static inline struct timespec in_ms(clockid_t clk, long ms)
{
    struct timespec t;
    clock_gettime(clk, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) { t.tv_sec++; t.tv_nsec -= 1000000000L; }
    return t;
}

static inline double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* Starts `n` threads running `fn(arg)` and joins them. */
static inline void run_threads(int n, void *(*fn)(void *), void *arg)
{
    pthread_t t[8];
    for (int i = 0; i < n; i++)
        if (pthread_create(&t[i], NULL, fn, arg) != 0) { perror("pthread_create"); exit(2); }
    for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
}

/* The exit status: 0 if neither process failed a check (the last one out reports). */
static inline int interop_end(const char *name)
{
    meet(1000);
    int f = __atomic_load_n(&mt->failures, __ATOMIC_SEQ_CST);
    if (f) {
        fprintf(stderr, "[%c] %s: %d check(s) failed\n", role, name, f);
        return 1;
    }
    printf("[%c] %s: ok\n", role, name);
    return 0;
}
#endif
