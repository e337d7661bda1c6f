/* Semaphores: uncontended sem_post+sem_wait (ns, best batch), and ping-pong between two
 * threads over two semaphores (ns per round trip). */
#include "sync_common.h"
#include <pthread.h>
#include <semaphore.h>

static sem_t ping, pong;
static volatile int done;

static void *ponger(void *arg)
{
    (void)arg;
    for (;;) {
        sem_wait(&ping);
        if (done) return NULL;
        sem_post(&pong);
    }
}

int main(void)
{
    sem_t s;
    sem_init(&s, 0, 0);
    double ns;
    SB_NS_PER_OP(ns, { sem_post(&s); sem_wait(&s); });
    sb_result("post_wait_uncontended", ns, "ns", "lower");

    sem_init(&ping, 0, 0);
    sem_init(&pong, 0, 0);
    pthread_t t;
    pthread_create(&t, NULL, ponger, NULL);
    for (int i = 0; i < 1000; i++) { sem_post(&ping); sem_wait(&pong); }
    long n = 0;
    double t0 = sb_now(), end = t0 + 2 * sb_seconds();
    while (sb_now() < end) {
        for (int i = 0; i < 1000; i++) { sem_post(&ping); sem_wait(&pong); }
        n += 1000;
    }
    double per = (sb_now() - t0) * 1e9 / n;
    done = 1;
    sem_post(&ping);
    pthread_join(t, NULL);
    sb_result("ping_pong_round_trip", per, "ns", "lower");
    return 0;
}
