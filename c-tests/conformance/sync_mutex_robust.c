/* Robust mutexes: owner death by thread exit and by process death (fork + MAP_SHARED),
 * EOWNERDEAD, pthread_mutex_consistent, ENOTRECOVERABLE, waiters woken by the death,
 * robust + priority inheritance, EPERM for non-owners. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"


static void init_robust(pthread_mutex_t *m, int pshared, int proto, int type) {
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutexattr_setpshared(&a, pshared);
    pthread_mutexattr_setprotocol(&a, proto);
    pthread_mutexattr_settype(&a, type);
    CHECK_EQ(pthread_mutex_init(m, &a), 0);
    pthread_mutexattr_destroy(&a);
}

static void *lock_and_die(void *arg) {
    pthread_mutex_t *m = arg;
    pthread_mutex_lock(m);
    return NULL; /* exits holding it */
}

static void *lock_two_and_die(void *arg) {
    pthread_mutex_t *m = arg;
    pthread_mutex_lock(&m[0]);
    pthread_mutex_lock(&m[1]);
    pthread_mutex_unlock(&m[0]); /* leaves only m[1] held */
    pthread_mutex_lock(&m[0]);
    return NULL;
}

static void *unlock_other(void *arg) {
    return (void *)(long)pthread_mutex_unlock(arg);
}

struct waiter { pthread_mutex_t *m; int result; };
static void *blocked_locker(void *arg) {
    struct waiter *w = arg;
    w->result = pthread_mutex_lock(w->m);
    if (w->result == EOWNERDEAD) pthread_mutex_consistent(w->m);
    pthread_mutex_unlock(w->m);
    return NULL;
}

static void thread_death(int proto, const char *name) {
    pthread_mutex_t m;
    pthread_t t;
    init_robust(&m, 0, proto, PTHREAD_MUTEX_NORMAL);
    pthread_create(&t, NULL, lock_and_die, &m);
    pthread_join(t, NULL);
    CHECK_EQ(pthread_mutex_lock(&m), EOWNERDEAD);
    CHECK_EQ(pthread_mutex_consistent(&m), 0);
    CHECK_EQ(pthread_mutex_consistent(&m), EINVAL);
    CHECK_EQ(pthread_mutex_unlock(&m), 0);
    CHECK_EQ(pthread_mutex_lock(&m), 0); /* consistent again */
    CHECK_EQ(pthread_mutex_unlock(&m), 0);

    /* Without consistent: unlock makes it unrecoverable. */
    pthread_create(&t, NULL, lock_and_die, &m);
    pthread_join(t, NULL);
    CHECK_EQ(pthread_mutex_trylock(&m), EOWNERDEAD);
    CHECK_EQ(pthread_mutex_unlock(&m), 0);
    CHECK_EQ(pthread_mutex_lock(&m), ENOTRECOVERABLE);
    CHECK_EQ(pthread_mutex_trylock(&m), ENOTRECOVERABLE);
    CHECK_EQ(pthread_mutex_destroy(&m), 0);

    /* Several held at death (list with more than one entry, one removed in the middle). */
    pthread_mutex_t two[2];
    init_robust(&two[0], 0, proto, PTHREAD_MUTEX_NORMAL);
    init_robust(&two[1], 0, proto, PTHREAD_MUTEX_NORMAL);
    pthread_create(&t, NULL, lock_two_and_die, two);
    pthread_join(t, NULL);
    CHECK_EQ(pthread_mutex_lock(&two[0]), EOWNERDEAD);
    CHECK_EQ(pthread_mutex_lock(&two[1]), EOWNERDEAD);
    pthread_mutex_consistent(&two[0]);
    pthread_mutex_consistent(&two[1]);
    pthread_mutex_unlock(&two[0]);
    pthread_mutex_unlock(&two[1]);

    /* A waiter blocked when the owner dies is woken with EOWNERDEAD. */
    init_robust(&m, 0, proto, PTHREAD_MUTEX_ERRORCHECK);
    CHECK_EQ(pthread_mutex_lock(&m), 0);
    pthread_create(&t, NULL, unlock_other, &m);
    void *rv;
    pthread_join(t, &rv);
    CHECK_EQ((int)(long)rv, EPERM);
    CHECK_EQ(pthread_mutex_lock(&m), EDEADLK);
    CHECK_EQ(pthread_mutex_unlock(&m), 0);
    printf("%s: thread death checked\n", name);
}

static void process_death(int proto, const char *name) {
    pthread_mutex_t *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    init_robust(m, PTHREAD_PROCESS_SHARED, proto, PTHREAD_MUTEX_NORMAL);
    int *ready = (int *)(m + 1);
    pid_t pid = fork();
    if (pid == 0) {
        if (pthread_mutex_lock(m) != 0) _exit(2);
        __atomic_store_n(ready, 1, __ATOMIC_SEQ_CST);
        pause(); /* killed while holding it */
        _exit(0);
    }
    while (!__atomic_load_n(ready, __ATOMIC_SEQ_CST)) usleep(1000);
    /* A thread of ours blocks on it, then the owner process dies. */
    struct waiter w = { m, -1 };
    pthread_t t;
    pthread_create(&t, NULL, blocked_locker, &w);
    usleep(50000);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    pthread_join(t, NULL);
    CHECK_EQ(w.result, EOWNERDEAD);
    CHECK_EQ(pthread_mutex_lock(m), 0);
    CHECK_EQ(pthread_mutex_unlock(m), 0);

    /* Child exits normally holding it. */
    pid = fork();
    if (pid == 0) { pthread_mutex_lock(m); _exit(0); }
    waitpid(pid, NULL, 0);
    CHECK_EQ(pthread_mutex_lock(m), EOWNERDEAD);
    CHECK_EQ(pthread_mutex_consistent(m), 0);
    CHECK_EQ(pthread_mutex_unlock(m), 0);
    CHECK_EQ(pthread_mutex_destroy(m), 0);
    munmap(m, 4096);
    printf("%s: process death checked\n", name);
}

int main(void) {
    thread_death(PTHREAD_PRIO_NONE, "robust");
    thread_death(PTHREAD_PRIO_INHERIT, "robust-pi");
    process_death(PTHREAD_PRIO_NONE, "robust");
    process_death(PTHREAD_PRIO_INHERIT, "robust-pi");
    if (tc_failures) { printf("%d failures\n", tc_failures); return 1; }
    printf("ok\n");
    return 0;
}
