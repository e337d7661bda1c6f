// Many threads hammer rwlocks of every kind (including the static initializers); a shared
// "inside" counter catches any exclusion violation. Must print 0 violations.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define THREADS 8
#define ITERS 20000

static pthread_rwlock_t static_default = PTHREAD_RWLOCK_INITIALIZER;
static pthread_rwlock_t static_writer = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;

static pthread_rwlock_t *lock;
static volatile int readers, writers;
static long violations, total_writes;
static long data[4];

static void *worker(void *arg) {
    unsigned seed = (unsigned)(long)arg;
    long my_writes = 0;
    for (int i = 0; i < ITERS; i++) {
        if (rand_r(&seed) % 8 == 0) {
            if (pthread_rwlock_wrlock(lock)) { __atomic_add_fetch(&violations, 1, __ATOMIC_RELAXED); continue; }
            if (__atomic_add_fetch(&writers, 1, __ATOMIC_SEQ_CST) != 1 || __atomic_load_n(&readers, __ATOMIC_SEQ_CST))
                __atomic_add_fetch(&violations, 1, __ATOMIC_RELAXED);
            for (int k = 0; k < 4; k++) data[k]++;
            my_writes++;
            __atomic_sub_fetch(&writers, 1, __ATOMIC_SEQ_CST);
            pthread_rwlock_unlock(lock);
        } else {
            if (pthread_rwlock_rdlock(lock)) { __atomic_add_fetch(&violations, 1, __ATOMIC_RELAXED); continue; }
            __atomic_add_fetch(&readers, 1, __ATOMIC_SEQ_CST);
            if (__atomic_load_n(&writers, __ATOMIC_SEQ_CST)) __atomic_add_fetch(&violations, 1, __ATOMIC_RELAXED);
            long a = data[0], b = data[3];
            if (a != b) __atomic_add_fetch(&violations, 1, __ATOMIC_RELAXED);
            __atomic_sub_fetch(&readers, 1, __ATOMIC_SEQ_CST);
            pthread_rwlock_unlock(lock);
        }
    }
    __atomic_add_fetch(&total_writes, my_writes, __ATOMIC_RELAXED);
    return NULL;
}

static int run(const char *name, pthread_rwlock_t *l) {
    pthread_t t[THREADS];
    lock = l;
    violations = total_writes = 0;
    for (int k = 0; k < 4; k++) data[k] = 0;
    for (long i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, worker, (void *)(i + 1));
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    int bad = violations != 0 || data[0] != total_writes || pthread_rwlock_destroy(l) != 0;
    printf("%s: violations=%ld writes=%ld data=%ld %s\n", name, violations, total_writes, data[0], bad ? "FAIL" : "ok");
    return bad;
}

int main(void) {
    int fails = 0;
    fails += run("static default", &static_default);
    fails += run("static writer-nonrecursive", &static_writer);
    int kinds[] = {PTHREAD_RWLOCK_PREFER_READER_NP, PTHREAD_RWLOCK_PREFER_WRITER_NP,
                   PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP};
    for (int k = 0; k < 3; k++) {
        pthread_rwlockattr_t a;
        pthread_rwlock_t l;
        pthread_rwlockattr_init(&a);
        pthread_rwlockattr_setkind_np(&a, kinds[k]);
        pthread_rwlock_init(&l, &a);
        pthread_rwlockattr_destroy(&a);
        char name[32];
        snprintf(name, sizeof name, "kind %d", kinds[k]);
        fails += run(name, &l);
    }
    return fails != 0;
}
