// Unnamed semaphores: producer/consumer with many threads (no lost or duplicated tokens),
// sem_post from a signal handler, EOVERFLOW, EINVAL for value > SEM_VALUE_MAX and bad
// timespecs, ETIMEDOUT on both clocks, EINVAL for other clocks, destroy with a sleeper (0,
// as glibc), and a process-shared semaphore across fork.
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

#define PRODUCERS 3
#define CONSUMERS 3
#define PER_PRODUCER 30000

static sem_t items, sig_sem;
static long consumed;

#define CHECK_ERR(expr, err) do { errno = 0; int r_ = (expr); if (r_ != -1 || errno != (err)) { \
    printf("FAIL line %d: %s = %d errno %d, want -1 errno %d\n", __LINE__, #expr, r_, errno, (err)); tc_failures++; } } while (0)

static void *producer(void *arg) {
    (void)arg;
    for (int i = 0; i < PER_PRODUCER; i++) sem_post(&items);
    return NULL;
}

static void *consumer(void *arg) {
    long n = (long)arg;
    for (long i = 0; i < n; i++) {
        while (sem_wait(&items) != 0) if (errno != EINTR) { tc_failures++; return NULL; }
        __atomic_add_fetch(&consumed, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

static void on_alarm(int sig) {
    (void)sig;
    int e = errno;
    sem_post(&sig_sem);
    errno = e;
}

static void *blocked_waiter(void *arg) {
    sem_wait((sem_t *)arg);
    return NULL;
}

int main(void) {
    // Producers and consumers: every token consumed once, none left, none lost.
    CHECK_EQ(sem_init(&items, 0, 0), 0);
    pthread_t p[PRODUCERS], c[CONSUMERS];
    long per_consumer = (long)PRODUCERS * PER_PRODUCER / CONSUMERS;
    for (long i = 0; i < CONSUMERS; i++) pthread_create(&c[i], NULL, consumer, (void *)per_consumer);
    for (int i = 0; i < PRODUCERS; i++) pthread_create(&p[i], NULL, producer, NULL);
    for (int i = 0; i < PRODUCERS; i++) pthread_join(p[i], NULL);
    for (int i = 0; i < CONSUMERS; i++) pthread_join(c[i], NULL);
    int v = -1;
    CHECK_EQ(sem_getvalue(&items, &v), 0);
    CHECK_EQ(v, 0);
    if (consumed != (long)PRODUCERS * PER_PRODUCER) { printf("consumed %ld\n", consumed); tc_failures++; }
    CHECK_EQ(sem_destroy(&items), 0);

    // sem_post from a signal handler wakes a sleeping sem_wait.
    CHECK_EQ(sem_init(&sig_sem, 0, 0), 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    for (int i = 0; i < 5; i++) {
        ualarm(2000, 0);
        int r;
        while ((r = sem_wait(&sig_sem)) != 0 && errno == EINTR) {}
        CHECK_EQ(r, 0);
    }
    CHECK_EQ(sem_trywait(&sig_sem), -1);

    // Errors and limits.
    sem_t s;
    CHECK_ERR(sem_init(&s, 0, (unsigned)SEM_VALUE_MAX + 1), EINVAL);
    CHECK_EQ(sem_init(&s, 0, SEM_VALUE_MAX), 0);
    CHECK_ERR(sem_post(&s), EOVERFLOW);
    CHECK_EQ(sem_getvalue(&s, &v), 0);
    CHECK_EQ(v, SEM_VALUE_MAX);
    CHECK_EQ(sem_init(&s, 0, 0), 0);
    CHECK_ERR(sem_trywait(&s), EAGAIN);
    struct timespec t = ts_in_ms(CLOCK_REALTIME, 20);
    CHECK_ERR(sem_timedwait(&s, &t), ETIMEDOUT);
    t = ts_in_ms(CLOCK_MONOTONIC, 20);
    CHECK_ERR(sem_clockwait(&s, CLOCK_MONOTONIC, &t), ETIMEDOUT);
    t = ts_in_ms(CLOCK_REALTIME, 20);
    CHECK_ERR(sem_clockwait(&s, CLOCK_REALTIME, &t), ETIMEDOUT);
    CHECK_ERR(sem_clockwait(&s, CLOCK_THREAD_CPUTIME_ID, &t), EINVAL);
    struct timespec bad = {0, 1000000000L};
    CHECK_ERR(sem_timedwait(&s, &bad), EINVAL);
    bad.tv_nsec = -5;
    CHECK_ERR(sem_timedwait(&s, &bad), EINVAL);
    struct timespec past = {-1, 0};
    CHECK_ERR(sem_timedwait(&s, &past), ETIMEDOUT);
    CHECK_EQ(sem_post(&s), 0);
    t = ts_in_ms(CLOCK_MONOTONIC, 1000);
    CHECK_EQ(sem_clockwait(&s, CLOCK_MONOTONIC, &t), 0);
    // A monotonic deadline is not mistaken for a realtime one (that would be decades ago).
    t = ts_in_ms(CLOCK_MONOTONIC, 30);
    CHECK_ERR(sem_clockwait(&s, CLOCK_MONOTONIC, &t), ETIMEDOUT);

    // Destroy while a thread sleeps on it: glibc's sem_destroy does nothing and returns 0
    // (the program breaks POSIX's rule, the semaphore goes on working).
    pthread_t w;
    pthread_create(&w, NULL, blocked_waiter, &s);
    usleep(20000);
    CHECK_EQ(sem_destroy(&s), 0);
    CHECK_EQ(sem_post(&s), 0);
    pthread_join(w, NULL);
    CHECK_EQ(sem_destroy(&s), 0);

    // Process-shared across fork: ping-pong 2000 times.
    sem_t *shm = mmap(NULL, 2 * sizeof(sem_t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK_EQ(sem_init(&shm[0], 1, 0), 0);
    CHECK_EQ(sem_init(&shm[1], 1, 0), 0);
    pid_t pid = fork();
    if (pid == 0) {
        for (int i = 0; i < 2000; i++) {
            if (sem_wait(&shm[0]) != 0) _exit(2);
            sem_post(&shm[1]);
        }
        _exit(0);
    }
    for (int i = 0; i < 2000; i++) {
        sem_post(&shm[0]);
        if (sem_wait(&shm[1]) != 0) { tc_failures++; break; }
    }
    int st;
    waitpid(pid, &st, 0);
    CHECK_EQ(WIFEXITED(st) && WEXITSTATUS(st) == 0, 1);

    printf(tc_failures ? "FAIL\n" : "ok\n");
    return tc_failures != 0;
}
