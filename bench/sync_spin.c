/* Spinlocks: uncontended lock+unlock (ns, best batch), and two threads contending on one
 * lock with a short critical section (total Mops/s). */
#include "sync_common.h"
#include <pthread.h>
#include <stdatomic.h>

static pthread_spinlock_t lock;
static volatile long counter;
static atomic_int stop;
static atomic_long total_ops;

static void *worker(void *arg)
{
    (void)arg;
    long ops = 0;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        for (int k = 0; k < 100; k++) {
            pthread_spin_lock(&lock);
            counter++;
            pthread_spin_unlock(&lock);
        }
        ops += 100;
    }
    atomic_fetch_add(&total_ops, ops);
    return NULL;
}

int main(void)
{
    pthread_spin_init(&lock, PTHREAD_PROCESS_PRIVATE);
    double ns;
    SB_NS_PER_OP(ns, { pthread_spin_lock(&lock); pthread_spin_unlock(&lock); });
    sb_result("lock_unlock_uncontended", ns, "ns", "lower");

    pthread_t t[2];
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, worker, NULL);
    double t0 = sb_now();
    struct timespec d = {0, (long)(2 * sb_seconds() * 1e9)};
    nanosleep(&d, NULL);
    atomic_store(&stop, 1);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    sb_result("contended_2_threads", atomic_load(&total_ops) / (sb_now() - t0) / 1e6, "Mops/s", "higher");
    return 0;
}
