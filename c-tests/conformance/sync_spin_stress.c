// Spinlocks: exclusion under contention (a non-atomic counter must come out exact), trylock
// EBUSY, glibc's x86_64 lock word (1 = unlocked, 0 = locked), any pshared value accepted and
// destroy returning 0 whatever the state (as glibc), unlock from another thread, and a
// process-shared spinlock across fork.
#include <pthread.h>
#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

#define THREADS 4
#define ITERS 50000

static pthread_spinlock_t lock;
static long counter;

static void *worker(void *arg) {
    (void)arg;
    for (int i = 0; i < ITERS; i++) {
        pthread_spin_lock(&lock);
        long c = counter;
        __asm__ volatile("" ::: "memory");
        counter = c + 1;
        pthread_spin_unlock(&lock);
    }
    return NULL;
}


static void *unlocker(void *arg) {
    return (void *)(long)pthread_spin_unlock((pthread_spinlock_t *)arg);
}

int main(void) {
    CHECK_EQ(pthread_spin_init(&lock, 7), 0);
    CHECK_EQ(*(volatile int *)&lock, 1);
    CHECK_EQ(pthread_spin_init(&lock, PTHREAD_PROCESS_PRIVATE), 0);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, worker, NULL);
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    if (counter != (long)THREADS * ITERS) { printf("counter %ld, want %ld\n", counter, (long)THREADS * ITERS); tc_failures++; }

    CHECK_EQ(pthread_spin_lock(&lock), 0);
    CHECK_EQ(*(volatile int *)&lock, 0);
    CHECK_EQ(pthread_spin_trylock(&lock), EBUSY);
    CHECK_EQ(pthread_spin_destroy(&lock), 0);
    pthread_t u;
    void *ur = (void *)1L;
    pthread_create(&u, NULL, unlocker, (void *)&lock);
    pthread_join(u, &ur);
    CHECK_EQ((int)(long)ur, 0);
    CHECK_EQ(pthread_spin_trylock(&lock), 0);
    CHECK_EQ(pthread_spin_unlock(&lock), 0);
    CHECK_EQ(pthread_spin_destroy(&lock), 0);

    struct shm { pthread_spinlock_t l; long n; } *s =
        mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK_EQ(pthread_spin_init(&s->l, PTHREAD_PROCESS_SHARED), 0);
    pid_t pid = fork();
    for (int i = 0; i < 100000; i++) {
        pthread_spin_lock(&s->l);
        long c = s->n;
        __asm__ volatile("" ::: "memory");
        s->n = c + 1;
        pthread_spin_unlock(&s->l);
    }
    if (pid == 0) _exit(0);
    int st;
    waitpid(pid, &st, 0);
    if (s->n != 200000) { printf("pshared counter %ld, want 200000\n", s->n); tc_failures++; }

    printf(tc_failures ? "FAIL\n" : "ok\n");
    return tc_failures != 0;
}
