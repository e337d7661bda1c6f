/* rwlock: uncontended rdlock+unlock and wrlock+unlock (ns, best batch; first before any
 * thread exists, then in a process that has had a second thread), and read-mostly
 * throughput (1 write in 100 operations, a short critical section) at 2 and 4 threads, with
 * the default kind and (4 threads) with PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP. */
#define _GNU_SOURCE
#include "sync_common.h"
#include <pthread.h>
#include <stdatomic.h>

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static pthread_rwlock_t *cur = &lock;
static volatile long shared_data[8];
static atomic_int stop;
static atomic_long total_ops;

static void *worker(void *arg)
{
    unsigned seed = (unsigned)(long)arg;
    long ops = 0;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        for (int k = 0; k < 100; k++) {
            seed = seed * 1103515245 + 12345;
            if ((seed >> 16) % 100 == 0) {
                pthread_rwlock_wrlock(cur);
                shared_data[seed & 7]++;
                pthread_rwlock_unlock(cur);
            } else {
                pthread_rwlock_rdlock(cur);
                long s = shared_data[0] + shared_data[seed & 7];
                (void)s;
                pthread_rwlock_unlock(cur);
            }
        }
        ops += 100;
    }
    atomic_fetch_add(&total_ops, ops);
    return NULL;
}

static void *nothing(void *arg)
{
    return arg;
}

static double throughput(int threads)
{
    pthread_t t[8];
    atomic_store(&stop, 0);
    atomic_store(&total_ops, 0);
    for (long i = 0; i < threads; i++) pthread_create(&t[i], NULL, worker, (void *)(i + 1));
    double t0 = sb_now();
    struct timespec d = {0, (long)(sb_seconds() * 1e9)};
    nanosleep(&d, NULL);
    atomic_store(&stop, 1);
    for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
    return atomic_load(&total_ops) / (sb_now() - t0) / 1e6;
}

int main(void)
{
    double ns;
    SB_NS_PER_OP(ns, { pthread_rwlock_rdlock(&lock); pthread_rwlock_unlock(&lock); });
    sb_result("rdlock_unlock_uncontended", ns, "ns", "lower");
    SB_NS_PER_OP(ns, { pthread_rwlock_wrlock(&lock); pthread_rwlock_unlock(&lock); });
    sb_result("wrlock_unlock_uncontended", ns, "ns", "lower");
    pthread_t t;
    pthread_create(&t, NULL, nothing, NULL);
    pthread_join(t, NULL);
    SB_NS_PER_OP(ns, { pthread_rwlock_rdlock(&lock); pthread_rwlock_unlock(&lock); });
    sb_result("rdlock_unlock_uncontended_threaded", ns, "ns", "lower");
    SB_NS_PER_OP(ns, { pthread_rwlock_wrlock(&lock); pthread_rwlock_unlock(&lock); });
    sb_result("wrlock_unlock_uncontended_threaded", ns, "ns", "lower");
    sb_result("read_mostly_2_threads", throughput(2), "Mops/s", "higher");
    sb_result("read_mostly_4_threads", throughput(4), "Mops/s", "higher");
    static pthread_rwlock_t wpref;
    pthread_rwlockattr_t a;
    pthread_rwlockattr_init(&a);
    pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&wpref, &a);
    cur = &wpref;
    sb_result("read_mostly_4_threads_prefer_writer", throughput(4), "Mops/s", "higher");
    return 0;
}
