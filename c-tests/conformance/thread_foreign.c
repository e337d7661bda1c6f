/* Threads rpthread did not create: the main thread and the threads glibc itself creates for
 * SIGEV_THREAD timers. pthread_self/equal/getattr_np work in them, and glibc's threads
 * adopted by rpthread are forgotten again when they exit (no stale registry entries). */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include "check.h"


static volatile int callbacks, attr_ok, equal_ok;

static void on_timer(union sigval v) {
    (void)v;
    pthread_attr_t a;
    int local;
    callbacks++;
    if (pthread_getattr_np(pthread_self(), &a) == 0) {
        void *addr; size_t size;
        pthread_attr_getstack(&a, &addr, &size);
        if ((char *)&local >= (char *)addr && (char *)&local < (char *)addr + size) attr_ok++;
        pthread_attr_destroy(&a);
    }
    if (pthread_equal(pthread_self(), pthread_self())) equal_ok++;
}

int main(void) {
    /* Main thread. */
    pthread_attr_t a; void *addr; size_t size; int local;
    CHECK(pthread_getattr_np(pthread_self(), &a) == 0);
    CHECK(pthread_attr_getstack(&a, &addr, &size) == 0);
    CHECK((char *)&local >= (char *)addr && (char *)&local < (char *)addr + size);
    pthread_attr_destroy(&a);
    CHECK(pthread_equal(pthread_self(), pthread_self()));

    /* glibc's SIGEV_THREAD threads. */
    struct sigevent se = {0};
    se.sigev_notify = SIGEV_THREAD;
    se.sigev_notify_function = on_timer;
    timer_t t;
    CHECK(timer_create(CLOCK_MONOTONIC, &se, &t) == 0);
    struct itimerspec its = {{0, 5000000}, {0, 5000000}};
    CHECK(timer_settime(t, 0, &its, NULL) == 0);
    for (int i = 0; i < 400 && callbacks < 20; i++) usleep(5000);
    timer_delete(t);
    usleep(20000);
    CHECK(callbacks >= 5);
    CHECK(attr_ok == callbacks || attr_ok >= callbacks - 1);
    CHECK(equal_ok >= callbacks - 1);
    if (tc_failures) return 1;
    printf("thread_foreign: ok (%d timer callbacks)\n", callbacks);
    return 0;
}
