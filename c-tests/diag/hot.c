/* A program with one hot lock: THREADS threads take `hot_lock` ITERS times each and hold it
 * for about HOLD_US microseconds; `cold_lock` is taken rarely. Each thread measures its own
 * wait for hot_lock (clock_gettime around pthread_mutex_lock); main prints the sum:
 *   measured_wait_ns <n>
 * so a test can compare it with what `contention` reports for hot_lock. With the argument
 * `spin`, the hot lock is the spinlock `hot_spin`, taken SPIN_ITERS times for SPIN_HOLD_US. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define THREADS 3
#define ITERS 400
#define HOLD_US 200

static pthread_mutex_t hot_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t cold_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_spinlock_t hot_spin;
static int use_spin;
#define SPIN_ITERS 3000
#define SPIN_HOLD_US 20
static long long waited[THREADS];
static volatile long counter;

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void busy_us(int us) {
    long long end = now_ns() + us * 1000LL;
    while (now_ns() < end) counter++;
}

static void *worker(void *arg) {
    long id = (long)arg;
    int iters = use_spin ? SPIN_ITERS : ITERS, hold = use_spin ? SPIN_HOLD_US : HOLD_US;
    for (int i = 0; i < iters; i++) {
        long long t0 = now_ns();
        if (use_spin) pthread_spin_lock(&hot_spin); else pthread_mutex_lock(&hot_lock);
        waited[id] += now_ns() - t0;
        busy_us(hold);
        if (use_spin) pthread_spin_unlock(&hot_spin); else pthread_mutex_unlock(&hot_lock);
        if (i % 50 == 0) {
            pthread_mutex_lock(&cold_lock);
            counter++;
            pthread_mutex_unlock(&cold_lock);
        }
        busy_us(hold / 4);
    }
    return NULL;
}

int main(int argc, char **argv) {
    pthread_t t[THREADS];
    use_spin = argc > 1 && !strcmp(argv[1], "spin");
    pthread_spin_init(&hot_spin, PTHREAD_PROCESS_PRIVATE);
    for (long i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, worker, (void *)i);
    long long sum = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        sum += waited[i];
    }
    printf("measured_wait_ns %lld\n", sum);
    return 0;
}
