/* Process-shared condition variables between a glibc process and an rpthread process:
 * a ping-pong that hands a turn back and forth (each wake-up comes from the other side),
 * producers and consumers in both processes with signal and a final broadcast (every token
 * consumed exactly once, nobody left asleep), and timed waits on both clocks that time out
 * with no signal and that return 0 when the peer signals in time. */
#include "interop.h"

#define ROUNDS 2000
#define TOKENS 20000

struct shared {
    pthread_mutex_t m;
    pthread_cond_t turn_cv;
    pthread_cond_t items;
    pthread_cond_t mono; /* CLOCK_MONOTONIC */
    int turn;            /* whose turn in the ping-pong: 0 = A, 1 = B */
    long produced, consumed, done_producers;
    long consumed_by[2];
    int flag;
};

static struct shared *s;

static void *producer(void *arg)
{
    (void)arg;
    for (int i = 0; i < TOKENS; i++) {
        pthread_mutex_lock(&s->m);
        s->produced++;
        pthread_cond_signal(&s->items);
        pthread_mutex_unlock(&s->m);
    }
    pthread_mutex_lock(&s->m);
    s->done_producers++;
    pthread_cond_broadcast(&s->items);
    pthread_mutex_unlock(&s->m);
    return NULL;
}

static void *consumer(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&s->m);
    for (;;) {
        while (s->consumed == s->produced && s->done_producers < 2)
            CHECK(pthread_cond_wait(&s->items, &s->m) == 0, "wait");
        if (s->consumed == s->produced) break; /* both producers done, nothing left */
        s->consumed++;
        s->consumed_by[me]++;
    }
    pthread_mutex_unlock(&s->m);
    return NULL;
}

static void *role_threads(void *arg)
{
    (void)arg;
    pthread_t p, c[2];
    pthread_create(&p, NULL, producer, NULL);
    for (int i = 0; i < 2; i++) pthread_create(&c[i], NULL, consumer, NULL);
    pthread_join(p, NULL);
    for (int i = 0; i < 2; i++) pthread_join(c[i], NULL);
    return NULL;
}

int main(int argc, char **argv)
{
    s = interop_start(argc, argv, sizeof *s);
    if (role == 'A') {
        pthread_mutexattr_t ma;
        pthread_condattr_t ca;
        pthread_mutexattr_init(&ma);
        pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
        CHECK(pthread_mutex_init(&s->m, &ma) == 0, "mutex init");
        pthread_condattr_init(&ca);
        pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
        CHECK(pthread_cond_init(&s->turn_cv, &ca) == 0, "cond init");
        CHECK(pthread_cond_init(&s->items, &ca) == 0, "cond init");
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        CHECK(pthread_cond_init(&s->mono, &ca) == 0, "cond init");
    }
    interop_ready();
    meet(1);

    /* Ping-pong: every wait is ended by the other process's signal. */
    pthread_mutex_lock(&s->m);
    for (int i = 0; i < ROUNDS; i++) {
        while (s->turn != me) CHECK(pthread_cond_wait(&s->turn_cv, &s->m) == 0, "wait");
        s->turn = peer;
        pthread_cond_signal(&s->turn_cv);
    }
    pthread_mutex_unlock(&s->m);
    meet(2);

    /* Producers and consumers on both sides. */
    run_threads(1, role_threads, NULL);
    meet(3);
    CHECK(s->produced == 2L * TOKENS, "produced %ld", s->produced);
    CHECK(s->consumed == 2L * TOKENS, "consumed %ld", s->consumed);
    if (role == 'A')
        printf("[A] tokens consumed by A %ld, by B %ld\n", s->consumed_by[0], s->consumed_by[1]);

    /* Timed waits: each role waits in turn, first with nobody signalling (both clocks),
     * then until the peer signals. */
    for (int waiter = 0; waiter < 2; waiter++) {
        int base = 10 + waiter * 10;
        if (me == waiter) {
            pthread_mutex_lock(&s->m);
            struct timespec t = in_ms(CLOCK_REALTIME, 30);
            double t0 = now_ms();
            CHECK(pthread_cond_timedwait(&s->items, &s->m, &t) == ETIMEDOUT, "realtime timeout");
            CHECK(now_ms() - t0 >= 25, "timed out after %.1f ms", now_ms() - t0);
            CHECK(pthread_mutex_trylock(&s->m) == EBUSY, "mutex held again after the timeout");
            t = in_ms(CLOCK_MONOTONIC, 30);
            CHECK(pthread_cond_timedwait(&s->mono, &s->m, &t) == ETIMEDOUT, "monotonic timeout");
            t = in_ms(CLOCK_MONOTONIC, 30);
            CHECK(pthread_cond_clockwait(&s->items, &s->m, CLOCK_MONOTONIC, &t) == ETIMEDOUT, "clockwait timeout");
            s->flag = 0;
            pthread_mutex_unlock(&s->m);
            meet(base + 1);
            pthread_mutex_lock(&s->m);
            int r = 0;
            t = in_ms(CLOCK_MONOTONIC, 10000);
            while (!s->flag && r == 0) r = pthread_cond_timedwait(&s->mono, &s->m, &t);
            CHECK(r == 0 && s->flag, "monotonic wait signalled in time: %d", r);
            s->flag = 0;
            t = in_ms(CLOCK_REALTIME, 10000);
            r = 0;
            while (!s->flag && r == 0) r = pthread_cond_timedwait(&s->items, &s->m, &t);
            CHECK(r == 0 && s->flag, "realtime wait signalled in time: %d", r);
            s->flag = 0;
            pthread_mutex_unlock(&s->m);
            meet(base + 2);
        } else {
            meet(base + 1);
            for (int k = 0; k < 2; k++) {
                interop_sleep_ms(20);
                pthread_mutex_lock(&s->m);
                s->flag = 1;
                pthread_cond_signal(k == 0 ? &s->mono : &s->items);
                pthread_mutex_unlock(&s->m);
                /* Wait until the waiter took the flag before setting it again. */
                for (;;) {
                    pthread_mutex_lock(&s->m);
                    int f = s->flag;
                    pthread_mutex_unlock(&s->m);
                    if (!f) break;
                    interop_sleep_ms(1);
                }
            }
            meet(base + 2);
        }
    }
    /* Nobody waits any more: destroy returns at once, whichever library runs it. */
    meet(30);
    if (role == 'A') CHECK(pthread_cond_destroy(&s->items) == 0, "destroy");
    return interop_end("interop_cond");
}
