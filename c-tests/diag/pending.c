/* Short contended waits, which `contention` adds to the waiting thread's tally for that lock
 * instead of booking them in the lock's class inside its critical section: every one must be
 * counted, the last one included. A worker waits WAITS times, each time for the lock main
 * holds for about HOLD_US: `pend_spin`, or every third time the plain mutex `pend_mutex`, so
 * that its tally changes lock (and kind) four times and is booked each time. Its last tally
 * is still unbooked when it ends (argument "exit": main joins it; booked at the thread's end)
 * or when the process exits with it still alive (argument "alive": booked by the exit
 * report). The test expects 6 contended acquisitions of pend_spin and 2 of pend_mutex. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WAITS 8
#define HOLD_US 100

static pthread_spinlock_t pend_spin;
static pthread_mutex_t pend_mutex = PTHREAD_MUTEX_INITIALIZER;

/* Wait i is for the mutex every third time. */
static int on_mutex(int i) { return i % 3 == 2; }
static atomic_int step, trying;

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void *worker(void *arg) {
    int alive = arg != NULL;
    for (int i = 0; i < WAITS; i++) {
        while (atomic_load(&step) != 2 * i + 1) sched_yield(); /* main holds the lock */
        atomic_store(&trying, 1);
        if (on_mutex(i)) {
            pthread_mutex_lock(&pend_mutex);
            pthread_mutex_unlock(&pend_mutex);
        } else {
            pthread_spin_lock(&pend_spin);
            pthread_spin_unlock(&pend_spin);
        }
        atomic_store(&trying, 0);
        atomic_store(&step, 2 * i + 2);
    }
    if (alive)
        for (;;) pause();
    return NULL;
}

int main(int argc, char **argv) {
    int alive = argc > 1 && !strcmp(argv[1], "alive");
    pthread_t t;
    pthread_spin_init(&pend_spin, PTHREAD_PROCESS_PRIVATE);
    pthread_create(&t, NULL, worker, alive ? (void *)1 : NULL);
    for (int i = 0; i < WAITS; i++) {
        if (on_mutex(i))
            pthread_mutex_lock(&pend_mutex);
        else
            pthread_spin_lock(&pend_spin);
        atomic_store(&step, 2 * i + 1);
        while (!atomic_load(&trying)) sched_yield();
        long long end = now_ns() + HOLD_US * 1000LL; /* the worker spins meanwhile */
        while (now_ns() < end) {}
        if (on_mutex(i))
            pthread_mutex_unlock(&pend_mutex);
        else
            pthread_spin_unlock(&pend_spin);
        while (atomic_load(&step) != 2 * i + 2) sched_yield();
    }
    if (!alive) pthread_join(t, NULL);
    printf("waits %d\n", WAITS);
    return 0;
}
