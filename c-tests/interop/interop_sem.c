/* Unnamed process-shared semaphores (sem_init pshared=1) between a glibc process and an
 * rpthread process: two threads in each process post tokens the other process's threads
 * wait for (every token taken exactly once, the counts end at 0), a ping-pong, and timed
 * waits on both clocks that time out on an empty semaphore and succeed when the peer posts
 * in time. */
#include "interop.h"
#include <semaphore.h>

#define TOKENS 50000
#define ROUNDS 2000

struct shared {
    sem_t to[2];   /* to[r]: tokens for role r's waiters */
    sem_t ping[2]; /* ping-pong */
    sem_t timed;
    long taken[2];
};

static struct shared *s;

static void *poster(void *arg)
{
    (void)arg;
    for (int i = 0; i < TOKENS; i++) CHECK(sem_post(&s->to[peer]) == 0, "post: %s", strerror(errno));
    return NULL;
}

static void *taker(void *arg)
{
    (void)arg;
    for (int i = 0; i < TOKENS; i++) {
        int got = 0;
        if (i % 3 == 0) {
            got = sem_trywait(&s->to[me]) == 0;
            CHECK(got || errno == EAGAIN, "trywait: %s", strerror(errno));
        }
        if (!got) CHECK(sem_wait(&s->to[me]) == 0, "wait: %s", strerror(errno));
        __atomic_add_fetch(&s->taken[me], 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

static void *both(void *arg)
{
    (void)arg;
    pthread_t t[4];
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, poster, NULL);
    for (int i = 2; i < 4; i++) pthread_create(&t[i], NULL, taker, NULL);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    return NULL;
}

int main(int argc, char **argv)
{
    s = interop_start(argc, argv, sizeof *s);
    if (role == 'A') {
        for (int i = 0; i < 2; i++) {
            CHECK(sem_init(&s->to[i], 1, 0) == 0, "init");
            CHECK(sem_init(&s->ping[i], 1, 0) == 0, "init");
        }
        CHECK(sem_init(&s->timed, 1, 3) == 0, "init");
    }
    interop_ready();
    int v = -1;
    CHECK(sem_getvalue(&s->timed, &v) == 0 && v == 3, "value %d set by A", v);
    meet(1);
    run_threads(1, both, NULL);
    meet(2);
    CHECK(s->taken[0] == 2L * TOKENS && s->taken[1] == 2L * TOKENS, "taken %ld / %ld", s->taken[0], s->taken[1]);
    for (int i = 0; i < 2; i++) {
        CHECK(sem_getvalue(&s->to[i], &v) == 0 && v == 0, "value %d left", v);
    }

    for (int i = 0; i < ROUNDS; i++) {
        if (role == 'A') {
            CHECK(sem_post(&s->ping[1]) == 0, "post");
            CHECK(sem_wait(&s->ping[0]) == 0, "wait");
        } else {
            CHECK(sem_wait(&s->ping[1]) == 0, "wait");
            CHECK(sem_post(&s->ping[0]) == 0, "post");
        }
    }
    meet(3);

    /* Three tokens from init: one role takes them, then both time out in turn. */
    if (role == 'B') {
        for (int i = 0; i < 3; i++) CHECK(sem_trywait(&s->timed) == 0, "trywait");
    }
    meet(4);
    for (int waiter = 0; waiter < 2; waiter++) {
        int base = 10 + waiter * 10;
        if (me == waiter) {
            struct timespec t = in_ms(CLOCK_REALTIME, 30);
            double t0 = now_ms();
            CHECK(sem_timedwait(&s->timed, &t) == -1 && errno == ETIMEDOUT, "timedwait on 0");
            CHECK(now_ms() - t0 >= 25, "timed out after %.1f ms", now_ms() - t0);
            t = in_ms(CLOCK_MONOTONIC, 30);
            CHECK(sem_clockwait(&s->timed, CLOCK_MONOTONIC, &t) == -1 && errno == ETIMEDOUT, "clockwait on 0");
            CHECK(sem_trywait(&s->timed) == -1 && errno == EAGAIN, "trywait on 0");
            meet(base + 1);
            t = in_ms(CLOCK_MONOTONIC, 10000);
            CHECK(sem_clockwait(&s->timed, CLOCK_MONOTONIC, &t) == 0, "clockwait posted in time");
            t = in_ms(CLOCK_REALTIME, 10000);
            CHECK(sem_timedwait(&s->timed, &t) == 0, "timedwait posted in time");
            meet(base + 2);
        } else {
            meet(base + 1);
            for (int k = 0; k < 2; k++) {
                interop_sleep_ms(20);
                CHECK(sem_post(&s->timed) == 0, "post");
            }
            meet(base + 2);
        }
    }
    CHECK(sem_getvalue(&s->timed, &v) == 0 && v == 0, "value %d at the end", v);
    return interop_end("interop_sem");
}
