/* The single-threaded fast path of private mutexes (plain stores while the process has one
 * thread) hands over correctly when threads appear: a mutex locked while alone is seen held
 * by a new thread, which then sleeps on it and is woken by the unlock; a glibc-created thread
 * (SIGEV_THREAD timer) also ends the shortcut. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include "check.h"


static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t tm = PTHREAD_MUTEX_INITIALIZER;
static volatile int trylock_result = -1, got_it, timer_count;
static long counter;

static void *contender(void *arg) {
    (void)arg;
    trylock_result = pthread_mutex_trylock(&m);
    pthread_mutex_lock(&m); /* sleeps until main unlocks */
    got_it = 1;
    pthread_mutex_unlock(&m);
    return NULL;
}

static void on_timer(union sigval v) {
    (void)v;
    for (int i = 0; i < 100000; i++) { pthread_mutex_lock(&tm); counter++; pthread_mutex_unlock(&tm); }
    timer_count++;
}

int main(void) {
    /* Alone: lock/unlock/trylock behave. */
    for (int i = 0; i < 1000; i++) { CHECK(pthread_mutex_lock(&m) == 0); CHECK(pthread_mutex_unlock(&m) == 0); }
    CHECK(pthread_mutex_trylock(&m) == 0);
    CHECK(pthread_mutex_trylock(&m) == EBUSY);
    CHECK(pthread_mutex_unlock(&m) == 0);

    /* A glibc-created thread contends with main. */
    struct sigevent se = {0};
    se.sigev_notify = SIGEV_THREAD;
    se.sigev_notify_function = on_timer;
    timer_t t;
    CHECK(timer_create(CLOCK_MONOTONIC, &se, &t) == 0);
    struct itimerspec its = {{0, 0}, {0, 1000000}};
    CHECK(timer_settime(t, 0, &its, NULL) == 0);
    for (int i = 0; i < 100000; i++) { pthread_mutex_lock(&tm); counter++; pthread_mutex_unlock(&tm); }
    for (int i = 0; i < 500 && !timer_count; i++) usleep(2000);
    CHECK(timer_count == 1);
    pthread_mutex_lock(&tm);
    CHECK(counter == 200000);
    pthread_mutex_unlock(&tm);
    timer_delete(t);

    /* Locked while alone, then a thread of ours appears and must wait for it. */
    CHECK(pthread_mutex_lock(&m) == 0);
    pthread_t th;
    CHECK(pthread_create(&th, NULL, contender, NULL) == 0);
    while (trylock_result == -1) usleep(1000);
    CHECK(trylock_result == EBUSY);
    usleep(20000);
    CHECK(!got_it);
    CHECK(pthread_mutex_unlock(&m) == 0);
    CHECK(pthread_join(th, NULL) == 0);
    CHECK(got_it);
    if (tc_failures) return 1;
    puts("sync_mutex_solo: ok");
    return 0;
}
