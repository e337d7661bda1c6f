/* Mutual exclusion under contention, for every plain kind and for process-shared, robust,
 * and priority-inheritance mutexes: many threads, short critical sections, counting
 * violations (two threads inside at once) and lost updates. Both must be zero. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define THREADS 8
#define ITERS 20000

static pthread_mutex_t m;
static volatile int inside;
static long counter;
static long violations;
static int use_trylock;

static void *worker(void *arg) {
    (void)arg;
    for (int i = 0; i < ITERS; i++) {
        int r;
        if (use_trylock && (i & 1)) {
            while ((r = pthread_mutex_trylock(&m)) == EBUSY)
                ;
        } else {
            r = pthread_mutex_lock(&m);
        }
        if (r != 0) { printf("lock: %s\n", strerror(r)); violations++; continue; }
        if (__atomic_fetch_add(&inside, 1, __ATOMIC_RELAXED) != 0) violations++;
        counter++;
        __atomic_fetch_sub(&inside, 1, __ATOMIC_RELAXED);
        r = pthread_mutex_unlock(&m);
        if (r != 0) { printf("unlock: %s\n", strerror(r)); violations++; }
    }
    return NULL;
}

static int run(const char *name, int type, int pshared, int robust, int proto, int trylock) {
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, type);
    pthread_mutexattr_setpshared(&a, pshared);
    pthread_mutexattr_setrobust(&a, robust);
    pthread_mutexattr_setprotocol(&a, proto);
    if (pthread_mutex_init(&m, &a) != 0) { printf("%s: init failed\n", name); return 1; }
    pthread_mutexattr_destroy(&a);
    counter = 0; violations = 0; use_trylock = trylock;
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, worker, NULL);
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    int bad = violations != 0 || counter != (long)THREADS * ITERS;
    if (bad) printf("FAIL %s: counter %ld (want %ld), violations %ld\n", name, counter, (long)THREADS * ITERS, violations);
    if (pthread_mutex_destroy(&m) != 0) { printf("FAIL %s: destroy\n", name); bad = 1; }
    return bad;
}

int main(void) {
    int bad = 0;
    bad |= run("normal", PTHREAD_MUTEX_NORMAL, 0, 0, PTHREAD_PRIO_NONE, 0);
    bad |= run("normal+trylock", PTHREAD_MUTEX_NORMAL, 0, 0, PTHREAD_PRIO_NONE, 1);
    bad |= run("adaptive", PTHREAD_MUTEX_ADAPTIVE_NP, 0, 0, PTHREAD_PRIO_NONE, 0);
    bad |= run("recursive", PTHREAD_MUTEX_RECURSIVE, 0, 0, PTHREAD_PRIO_NONE, 0);
    bad |= run("errorcheck", PTHREAD_MUTEX_ERRORCHECK, 0, 0, PTHREAD_PRIO_NONE, 1);
    bad |= run("pshared", PTHREAD_MUTEX_NORMAL, PTHREAD_PROCESS_SHARED, 0, PTHREAD_PRIO_NONE, 0);
    bad |= run("robust", PTHREAD_MUTEX_NORMAL, 0, PTHREAD_MUTEX_ROBUST, PTHREAD_PRIO_NONE, 1);
    bad |= run("robust-errorcheck-pshared", PTHREAD_MUTEX_ERRORCHECK, PTHREAD_PROCESS_SHARED, PTHREAD_MUTEX_ROBUST, PTHREAD_PRIO_NONE, 0);
    bad |= run("pi", PTHREAD_MUTEX_NORMAL, 0, 0, PTHREAD_PRIO_INHERIT, 1);
    bad |= run("pi-robust-recursive", PTHREAD_MUTEX_RECURSIVE, 0, PTHREAD_MUTEX_ROBUST, PTHREAD_PRIO_INHERIT, 0);
    if (bad) return 1;
    printf("ok\n");
    return 0;
}
