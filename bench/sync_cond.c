/* Condition-variable benchmarks: ping-pong between two threads (ns per round trip),
 * broadcast to 8 and 64 waiters (µs per round: broadcast until every waiter has woken,
 * re-taken the mutex and checked in), and a bounded producer/consumer queue (items/s).
 * Prints `RESULT <metric> <value> <unit> <better>` lines. About 2 s in all. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c1 = PTHREAD_COND_INITIALIZER, c2 = PTHREAD_COND_INITIALIZER;

/* Ping-pong. */
static int turn;
static long pp_rounds;
static void *ponger(void *arg) {
    (void)arg;
    pthread_mutex_lock(&m);
    for (long i = 0; i < pp_rounds; i++) {
        while (turn != 1) pthread_cond_wait(&c2, &m);
        turn = 0;
        pthread_cond_signal(&c1);
    }
    pthread_mutex_unlock(&m);
    return NULL;
}
static void pingpong(void) {
    pp_rounds = 40000;
    turn = 0;
    pthread_t t;
    pthread_create(&t, NULL, ponger, NULL);
    double t0 = now();
    pthread_mutex_lock(&m);
    for (long i = 0; i < pp_rounds; i++) {
        turn = 1;
        pthread_cond_signal(&c2);
        while (turn != 0) pthread_cond_wait(&c1, &m);
    }
    pthread_mutex_unlock(&m);
    double dt = now() - t0;
    pthread_join(t, NULL);
    printf("RESULT cond_pingpong %.0f ns lower\n", dt * 1e9 / pp_rounds);
}

/* Broadcast rounds. */
static int round_no, arrived, nwaiters, nrounds;
static void *bwaiter(void *arg) {
    (void)arg;
    int mine = 0;
    pthread_mutex_lock(&m);
    while (mine < nrounds) {
        while (round_no == mine) pthread_cond_wait(&c1, &m);
        mine++;
        if (++arrived == nwaiters) pthread_cond_signal(&c2);
    }
    pthread_mutex_unlock(&m);
    return NULL;
}
static void broadcast(int waiters, int rounds) {
    pthread_t t[64];
    nwaiters = waiters; nrounds = rounds; round_no = 0; arrived = 0;
    for (int i = 0; i < waiters; i++) pthread_create(&t[i], NULL, bwaiter, NULL);
    /* Let every waiter block first. */
    pthread_mutex_lock(&m);
    pthread_mutex_unlock(&m);
    usleep(20000);
    double t0 = now();
    for (int r = 0; r < rounds; r++) {
        pthread_mutex_lock(&m);
        arrived = 0;
        round_no++;
        pthread_cond_broadcast(&c1);
        while (arrived < waiters) pthread_cond_wait(&c2, &m);
        pthread_mutex_unlock(&m);
    }
    double dt = now() - t0;
    for (int i = 0; i < waiters; i++) pthread_join(t[i], NULL);
    printf("RESULT cond_broadcast_%dw %.1f us lower\n", waiters, dt * 1e6 / rounds);
}

/* Producer/consumer. */
#define CAP 16
static int q[CAP], qh, qn;
static long items_total;
static long consumed;
static void *producer(void *arg) {
    long n = (long)arg;
    for (long i = 0; i < n; i++) {
        pthread_mutex_lock(&m);
        while (qn == CAP) pthread_cond_wait(&c2, &m);
        q[(qh + qn++) % CAP] = (int)i;
        pthread_cond_signal(&c1);
        pthread_mutex_unlock(&m);
    }
    return NULL;
}
static void *consumer(void *arg) {
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&m);
        while (qn == 0 && consumed < items_total) pthread_cond_wait(&c1, &m);
        if (qn == 0) { pthread_mutex_unlock(&m); return NULL; }
        qh = (qh + 1) % CAP; qn--;
        if (++consumed == items_total) pthread_cond_broadcast(&c1);
        pthread_cond_signal(&c2);
        pthread_mutex_unlock(&m);
    }
}
static void prodcons(void) {
    const long per = 100000;
    items_total = 2 * per; consumed = 0; qh = qn = 0;
    pthread_t p[2], c[2];
    double t0 = now();
    for (int i = 0; i < 2; i++) pthread_create(&c[i], NULL, consumer, NULL);
    for (int i = 0; i < 2; i++) pthread_create(&p[i], NULL, producer, (void *)per);
    for (int i = 0; i < 2; i++) pthread_join(p[i], NULL);
    for (int i = 0; i < 2; i++) pthread_join(c[i], NULL);
    printf("RESULT cond_prodcons %.3f Mitems/s higher\n", items_total / (now() - t0) / 1e6);
}

int main(void) {
    pingpong();
    broadcast(8, 2000);
    broadcast(64, 300);
    prodcons();
    return 0;
}
