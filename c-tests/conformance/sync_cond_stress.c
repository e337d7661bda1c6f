/* Condition variables under load: no lost wake-ups, no mutual-exclusion violations.
 * 1) Bounded producer/consumer queue with several producers and consumers (signal).
 * 2) Broadcast rounds with 64 waiters (requeue path): every waiter sees every round.
 * 3) Timed waits mixed with signals: every item is consumed.
 * 4) Broadcast rounds whose waiters use short timed waits (some time out while requeued on
 *    the mutex) while plain threads keep locking the same mutex.
 * A lost wake-up shows as a hang: a watchdog alarm turns it into a failure. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER, not_full = PTHREAD_COND_INITIALIZER;
#define CAP 8
static int queue[CAP], head, count;
static long produced_sum, consumed_sum, consumed_n;
static int inside;
static long violations;
static int timed;

#define PRODUCERS 3
#define CONSUMERS 3
#define ITEMS 20000

static void enter(void) { if (__atomic_fetch_add(&inside, 1, __ATOMIC_RELAXED)) violations++; }
static void leave(void) { __atomic_fetch_sub(&inside, 1, __ATOMIC_RELAXED); }

static void wait_on(pthread_cond_t *c) {
    if (!timed) { pthread_cond_wait(c, &m); return; }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 200000; /* 0.2 ms: plenty of timeouts racing with signals */
    if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
    int r = pthread_cond_timedwait(c, &m, &ts);
    if (r != 0 && r != ETIMEDOUT) { printf("timedwait: %s\n", strerror(r)); violations++; }
}

static void *producer(void *arg) {
    long id = (long)arg;
    for (int i = 0; i < ITEMS; i++) {
        pthread_mutex_lock(&m);
        while (count == CAP) wait_on(&not_full);
        enter();
        int v = (int)(id * ITEMS + i);
        queue[(head + count) % CAP] = v;
        count++;
        produced_sum += v;
        leave();
        pthread_cond_signal(&not_empty);
        pthread_mutex_unlock(&m);
    }
    return NULL;
}

static void *consumer(void *arg) {
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&m);
        while (count == 0 && consumed_n < (long)PRODUCERS * ITEMS) wait_on(&not_empty);
        if (count == 0) { pthread_mutex_unlock(&m); return NULL; }
        enter();
        consumed_sum += queue[head];
        head = (head + 1) % CAP;
        count--;
        consumed_n++;
        int done = consumed_n == (long)PRODUCERS * ITEMS;
        leave();
        pthread_mutex_unlock(&m);
        pthread_cond_signal(&not_full); /* outside the mutex, also allowed */
        if (done) {
            pthread_mutex_lock(&m);
            pthread_cond_broadcast(&not_empty);
            pthread_mutex_unlock(&m);
        }
    }
}

static int run_queue(int use_timed) {
    timed = use_timed;
    head = count = 0; produced_sum = consumed_sum = consumed_n = 0;
    pthread_t p[PRODUCERS], c[CONSUMERS];
    for (long i = 0; i < CONSUMERS; i++) pthread_create(&c[i], NULL, consumer, NULL);
    for (long i = 0; i < PRODUCERS; i++) pthread_create(&p[i], NULL, producer, (void *)i);
    for (int i = 0; i < PRODUCERS; i++) pthread_join(p[i], NULL);
    for (int i = 0; i < CONSUMERS; i++) pthread_join(c[i], NULL);
    if (consumed_n != (long)PRODUCERS * ITEMS || consumed_sum != produced_sum) {
        printf("FAIL queue(timed=%d): consumed %ld items, sum %ld vs %ld\n", use_timed, consumed_n, consumed_sum, produced_sum);
        return 1;
    }
    return 0;
}

/* Broadcast rounds. */
#define WAITERS 64
#define ROUNDS 200
static pthread_cond_t go = PTHREAD_COND_INITIALIZER, done_cv = PTHREAD_COND_INITIALIZER;
static int round_no, arrived;
static long seen;

static void *round_waiter(void *arg) {
    (void)arg;
    int mine = 0;
    pthread_mutex_lock(&m);
    while (mine < ROUNDS) {
        while (round_no == mine) pthread_cond_wait(&go, &m);
        enter();
        mine++;
        seen++;
        if (++arrived == WAITERS) pthread_cond_signal(&done_cv);
        leave();
    }
    pthread_mutex_unlock(&m);
    return NULL;
}

static int timed_rounds;
static volatile int hammer_stop;

static void *round_waiter_timed(void *arg) {
    (void)arg;
    int mine = 0;
    pthread_mutex_lock(&m);
    while (mine < ROUNDS) {
        while (round_no == mine) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            ts.tv_nsec += 100000;
            if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
            int r = pthread_cond_clockwait(&go, &m, CLOCK_MONOTONIC, &ts);
            if (r != 0 && r != ETIMEDOUT) { printf("clockwait: %s\n", strerror(r)); violations++; }
        }
        enter();
        mine++;
        seen++;
        if (++arrived == WAITERS) pthread_cond_signal(&done_cv);
        leave();
    }
    pthread_mutex_unlock(&m);
    return NULL;
}

static void *hammer(void *arg) {
    (void)arg;
    while (!hammer_stop) {
        pthread_mutex_lock(&m);
        enter();
        leave();
        pthread_mutex_unlock(&m);
    }
    return NULL;
}

static int run_rounds(void) {
    pthread_t t[WAITERS], h[2];
    hammer_stop = 0;
    if (timed_rounds) for (int i = 0; i < 2; i++) pthread_create(&h[i], NULL, hammer, NULL);
    round_no = arrived = 0; seen = 0;
    for (int i = 0; i < WAITERS; i++)
        pthread_create(&t[i], NULL, timed_rounds ? round_waiter_timed : round_waiter, NULL);
    for (int r = 0; r < ROUNDS; r++) {
        pthread_mutex_lock(&m);
        arrived = 0;
        round_no++;
        pthread_cond_broadcast(&go);
        while (arrived < WAITERS) pthread_cond_wait(&done_cv, &m);
        pthread_mutex_unlock(&m);
    }
    for (int i = 0; i < WAITERS; i++) pthread_join(t[i], NULL);
    hammer_stop = 1;
    if (timed_rounds) for (int i = 0; i < 2; i++) pthread_join(h[i], NULL);
    if (seen != (long)WAITERS * ROUNDS) {
        printf("FAIL rounds: %ld wake-ups seen, want %ld\n", seen, (long)WAITERS * ROUNDS);
        return 1;
    }
    return 0;
}

static void on_alarm(int sig) {
    (void)sig;
    static const char msg[] = "FAIL: hang (lost wake-up?)\n";
    write(1, msg, sizeof msg - 1);
    _exit(3);
}

int main(void) {
    signal(SIGALRM, on_alarm);
    alarm(40);
    int bad = 0;
    bad |= run_queue(0);
    bad |= run_queue(1);
    bad |= run_rounds();
    timed_rounds = 1;
    bad |= run_rounds();
    if (violations) { printf("FAIL: %ld violations\n", violations); bad = 1; }
    if (bad) return 1;
    printf("ok\n");
    return 0;
}
