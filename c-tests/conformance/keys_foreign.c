/* Thread-specific data in threads rpthread did not create (glibc's SIGEV_THREAD timer
 * threads) and in the main thread: values are per thread, destructors run when glibc's thread
 * ends (first block and second-level keys), and a later glibc thread, which may run on the
 * same TCB (glibc's stack cache), starts with NULL values. rpthread keeps the values in each
 * thread's TCB, where glibc does. */
// rpthread-test: flags=-lrt
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include "check.h"


#define NKEYS 40 /* keys 0..31 live in the first block, the others in a second-level one */
static pthread_key_t keys[NKEYS];
static atomic_int destroyed, callbacks, stale;

static void dtor(void *v) {
    if (v == (void *)&keys[0])
        atomic_fetch_add(&destroyed, 1);
}

static void on_timer(union sigval sv) {
    (void)sv;
    for (int i = 0; i < NKEYS; i++)
        if (pthread_getspecific(keys[i]) != NULL)
            atomic_fetch_add(&stale, 1);
    for (int i = 0; i < NKEYS; i++)
        pthread_setspecific(keys[i], &keys[0]);
    for (int i = 0; i < NKEYS; i++)
        if (pthread_getspecific(keys[i]) != &keys[0])
            atomic_fetch_add(&stale, 1000);
    atomic_fetch_add(&callbacks, 1);
}

static void fire_once(void) {
    struct sigevent se = {0};
    se.sigev_notify = SIGEV_THREAD;
    se.sigev_notify_function = on_timer;
    timer_t t;
    CHECK(timer_create(CLOCK_MONOTONIC, &se, &t) == 0);
    struct itimerspec its = {{0, 0}, {0, 1000000}};
    int before = atomic_load(&callbacks);
    CHECK(timer_settime(t, 0, &its, NULL) == 0);
    for (int i = 0; i < 2000 && atomic_load(&callbacks) == before; i++)
        usleep(1000);
    CHECK(atomic_load(&callbacks) == before + 1);
    usleep(50000); /* let the notification thread end */
    timer_delete(t);
}

int main(void) {
    for (int i = 0; i < NKEYS; i++)
        CHECK(pthread_key_create(&keys[i], dtor) == 0);
    int mine = 7;
    for (int i = 0; i < NKEYS; i++)
        CHECK(pthread_setspecific(keys[i], &mine) == 0);
    for (int round = 0; round < 3; round++)
        fire_once();
    CHECK(atomic_load(&callbacks) == 3);
    CHECK(atomic_load(&stale) == 0);
    /* Each ended notification thread ran one destructor per key. */
    CHECK(atomic_load(&destroyed) == 3 * NKEYS);
    for (int i = 0; i < NKEYS; i++)
        CHECK(pthread_getspecific(keys[i]) == &mine);
    if (tc_failures)
        printf("destroyed %d stale %d\n", atomic_load(&destroyed), atomic_load(&stale));
    return tc_failures != 0;
}
