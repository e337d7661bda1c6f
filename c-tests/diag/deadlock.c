/* A real deadlock: argv[1] threads (2 or 3) each take their own lock, meet at a barrier,
 * then take the next thread's lock. Every thread blocks for good; `deadlock` reports the
 * cycle. The program never ends by itself (the test kills it). With "join" as argv[1]:
 * main holds a lock and joins a thread that waits for that lock; "rwlock" and "spin": two
 * threads, the same with write-locked rwlocks and with spinlocks. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX 3
static pthread_mutex_t locks[MAX] = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
                                     PTHREAD_MUTEX_INITIALIZER};
static pthread_barrier_t barrier;
static int n;
static pthread_rwlock_t rw[2] = {PTHREAD_RWLOCK_INITIALIZER, PTHREAD_RWLOCK_INITIALIZER};
static pthread_spinlock_t spins[2];

static void *rw_worker(void *arg) {
    long i = (long)arg;
    pthread_rwlock_wrlock(&rw[i]);
    pthread_barrier_wait(&barrier);
    pthread_rwlock_wrlock(&rw[1 - i]);
    return NULL;
}

static void *spin_worker(void *arg) {
    long i = (long)arg;
    pthread_spin_lock(&spins[i]);
    pthread_barrier_wait(&barrier);
    pthread_spin_lock(&spins[1 - i]);
    return NULL;
}

static void *worker(void *arg) {
    long i = (long)arg;
    pthread_mutex_lock(&locks[i]);
    pthread_barrier_wait(&barrier);
    pthread_mutex_lock(&locks[(i + 1) % n]);
    return NULL;
}

static void *want_lock0(void *arg) {
    (void)arg;
    pthread_mutex_lock(&locks[0]);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "join")) {
        pthread_t t;
        pthread_mutex_lock(&locks[0]);
        pthread_create(&t, NULL, want_lock0, NULL);
        printf("ready\n");
        fflush(stdout);
        pthread_join(t, NULL);
        return 0;
    }
    if (argc > 1 && (!strcmp(argv[1], "rwlock") || !strcmp(argv[1], "spin"))) {
        pthread_t t[2];
        int spin = !strcmp(argv[1], "spin");
        pthread_spin_init(&spins[0], 0);
        pthread_spin_init(&spins[1], 0);
        pthread_barrier_init(&barrier, NULL, 2);
        for (long i = 0; i < 2; i++) pthread_create(&t[i], NULL, spin ? spin_worker : rw_worker, (void *)i);
        printf("ready\n");
        fflush(stdout);
        for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
        return 0;
    }
    n = argc > 1 ? atoi(argv[1]) : 2;
    if (n < 2 || n > MAX) n = 2;
    pthread_t t[MAX];
    pthread_barrier_init(&barrier, NULL, n);
    for (long i = 0; i < n; i++) pthread_create(&t[i], NULL, worker, (void *)i);
    printf("ready\n");
    fflush(stdout);
    for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
    return 0;
}
