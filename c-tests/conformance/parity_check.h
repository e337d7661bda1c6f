/* Shared helpers of the errors_parity_* tests (issue 10: return values and errno exactly as
 * glibc 2.36 gives them). Each of those tests must pass on plain glibc too: built with
 * `gcc -pthread` and run without LD_PRELOAD it exits 0.
 *
 * EXPECT(expr, want): `expr` (an int result) must be `want`; a mismatch is printed with both
 * error names and counted. parity_result() is the exit status. The holder thread lets a test
 * put an object in the state "held by another, live thread" and end it again. */
#ifndef PARITY_CHECK_H
#define PARITY_CHECK_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

/* EXPECT is the shared CHECK_EQ (check.h); the name stays for these tests' readability. */
#define EXPECT(expr, want) CHECK_EQ(expr, want)

static inline int parity_result(const char *name) { return check_result(name); }

/* A timespec with the given fields. */
static inline struct timespec ts_of(long sec, long nsec) {
    struct timespec t;
    t.tv_sec = sec;
    t.tv_nsec = nsec;
    return t;
}


/* A thread that runs `take(obj)`, reports it with a semaphore, and runs `give(obj)` once
 * released (give may be NULL: the thread then ends holding whatever it took). */
typedef struct {
    void *obj;
    int (*take)(void *);
    int (*give)(void *);
    sem_t taken, release;
    pthread_t thread;
    int take_rc;
} holder;

static void *holder_main(void *arg) {
    holder *h = (holder *)arg;
    h->take_rc = h->take(h->obj);
    sem_post(&h->taken);
    if (h->give) {
        while (sem_wait(&h->release) != 0) {
        }
        h->give(h->obj);
    }
    return NULL;
}

static inline void holder_start(holder *h, void *obj, int (*take)(void *), int (*give)(void *)) {
    h->obj = obj;
    h->take = take;
    h->give = give;
    sem_init(&h->taken, 0, 0);
    sem_init(&h->release, 0, 0);
    pthread_create(&h->thread, NULL, holder_main, h);
    while (sem_wait(&h->taken) != 0) {
    }
}

/* Releases the object (if the holder gives it back) and joins the holder. */
static inline void holder_stop(holder *h) {
    sem_post(&h->release);
    pthread_join(h->thread, NULL);
    sem_destroy(&h->taken);
    sem_destroy(&h->release);
}
#endif
