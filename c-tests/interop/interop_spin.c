/* Process-shared spinlocks between a glibc process and an rpthread process: two threads in
 * each process increment a plain counter under the lock (exact total), and trylock sees the
 * peer's lock held and free. */
#include "interop.h"

#define ITERS 200000

struct shared {
    pthread_spinlock_t l;
    long counter;
};

static struct shared *s;

static void *worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < ITERS; i++) {
        pthread_spin_lock(&s->l);
        long v = s->counter;
        __asm__ volatile("" ::: "memory");
        s->counter = v + 1;
        pthread_spin_unlock(&s->l);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    s = interop_start(argc, argv, sizeof *s);
    if (role == 'A') CHECK(pthread_spin_init(&s->l, PTHREAD_PROCESS_SHARED) == 0, "init");
    interop_ready();
    meet(1);
    run_threads(2, worker, NULL);
    meet(2);
    CHECK(s->counter == 4L * ITERS, "counter %ld, want %ld", s->counter, 4L * ITERS);
    for (int holder = 0; holder < 2; holder++) {
        int base = 10 + holder * 10;
        if (me == holder) {
            CHECK(pthread_spin_trylock(&s->l) == 0, "trylock");
            meet(base + 1);
            meet(base + 2);
            CHECK(pthread_spin_unlock(&s->l) == 0, "unlock");
            meet(base + 3);
        } else {
            meet(base + 1);
            CHECK(pthread_spin_trylock(&s->l) == EBUSY, "trylock of the peer's lock");
            meet(base + 2);
            meet(base + 3);
            CHECK(pthread_spin_lock(&s->l) == 0, "lock once released");
            CHECK(pthread_spin_unlock(&s->l) == 0, "unlock");
        }
    }
    return interop_end("interop_spin");
}
