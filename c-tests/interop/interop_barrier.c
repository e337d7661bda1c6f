/* A process-shared barrier between a glibc process and an rpthread process: two threads in
 * each process (count 4) pass many rounds; nobody leaves a round before all four arrived,
 * and each round has exactly one PTHREAD_BARRIER_SERIAL_THREAD. */
#include "interop.h"

#define ROUNDS 3000

struct shared {
    pthread_barrier_t b;
    int arrived[ROUNDS];
    int serial[ROUNDS];
};

static struct shared *s;

static void *worker(void *arg)
{
    (void)arg;
    for (int r = 0; r < ROUNDS; r++) {
        __atomic_add_fetch(&s->arrived[r], 1, __ATOMIC_SEQ_CST);
        int x = pthread_barrier_wait(&s->b);
        if (x == PTHREAD_BARRIER_SERIAL_THREAD) __atomic_add_fetch(&s->serial[r], 1, __ATOMIC_SEQ_CST);
        else CHECK(x == 0, "round %d: wait returned %d", r, x);
        int a = __atomic_load_n(&s->arrived[r], __ATOMIC_SEQ_CST);
        if (a != 4) { CHECK(a == 4, "round %d: left with %d arrived", r, a); return NULL; }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    s = interop_start(argc, argv, sizeof *s);
    if (role == 'A') {
        pthread_barrierattr_t a;
        pthread_barrierattr_init(&a);
        pthread_barrierattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
        CHECK(pthread_barrier_init(&s->b, &a, 4) == 0, "init");
        pthread_barrierattr_destroy(&a);
    }
    interop_ready();
    meet(1);
    run_threads(2, worker, NULL);
    meet(2);
    int bad = 0;
    for (int r = 0; r < ROUNDS; r++)
        if (s->serial[r] != 1) bad++;
    CHECK(bad == 0, "%d rounds without exactly one serial thread", bad);
    meet(3);
    if (role == 'B') CHECK(pthread_barrier_destroy(&s->b) == 0, "destroy");
    return interop_end("interop_barrier");
}
