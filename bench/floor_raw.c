/* Hardware floors: what the primitives under the pthread calls cost on this machine, with no
 * library in the way. run.py prints each primitive's distance from its floor, for glibc and
 * for rpthread (the floors themselves make no pthread call, so both sides measure the same).
 *
 * - floor_xchg_cas_pair: one compare-and-swap (lock) plus one exchange (unlock) on a private
 *   word, inline: the least an uncontended lock+unlock pair can cost.
 * - floor_futex_pingpong: round trip between two threads that hand a word back and forth
 *   with raw FUTEX_WAIT/FUTEX_WAKE: the least a blocking hand-off (condvar, semaphore
 *   ping-pong) can cost.
 * - floor_clone_exit_wait: clone(2) of a thread that exits at once, on a stack reused every
 *   time, the parent waiting for the kernel to clear its tid: the least a create+join cycle
 *   can cost.
 * The helper threads of the ping-pong are started with pthread_create, outside the timed part.
 */
#define _GNU_SOURCE
#include "bench.h"
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>

static void xchg_cas_pair(void)
{
    static atomic_uint word;
    double limit = bench_seconds() / 2, best = 1e30, end = bench_now() + limit;
    do {
        double t0 = bench_now();
        for (int i = 0; i < 1000000; i++) {
            unsigned expected = 0;
            atomic_compare_exchange_strong_explicit(&word, &expected, 1, memory_order_acquire,
                                                    memory_order_relaxed);
            __asm__ volatile("" ::: "memory");
            atomic_exchange_explicit(&word, 0, memory_order_release);
        }
        double ns = (bench_now() - t0) * 1e9 / 1000000;
        if (ns < best)
            best = ns;
    } while (bench_now() < end);
    bench_result("floor_xchg_cas_pair", best, "ns", "lower");
}

static atomic_uint turn;
static long rounds;

static void *ponger(void *arg)
{
    (void)arg;
    for (long i = 0; i < rounds; i++) {
        while (atomic_load(&turn) != 1)
            bench_futex_wait(&turn, 0);
        atomic_store(&turn, 0);
        bench_futex_wake(&turn, 1);
    }
    return NULL;
}

static void futex_pingpong(void)
{
    rounds = 40000;
    pthread_t t;
    BENCH_CHECK(pthread_create(&t, NULL, ponger, NULL));
    double t0 = bench_now();
    for (long i = 0; i < rounds; i++) {
        atomic_store(&turn, 1);
        bench_futex_wake(&turn, 1);
        while (atomic_load(&turn) != 0)
            bench_futex_wait(&turn, 1);
    }
    double dt = bench_now() - t0;
    BENCH_CHECK(pthread_join(t, NULL));
    bench_result("floor_futex_pingpong", dt * 1e9 / rounds, "ns", "lower");
}

static int exit_at_once(void *arg)
{
    (void)arg;
    return 0; /* glibc's clone() wrapper makes the exit system call with this value */
}

static void clone_exit_wait(void)
{
    const size_t size = 64 * 1024;
    char *stack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) {
        perror("mmap");
        exit(2);
    }
    const int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
                      CLONE_SYSVSEM | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
    static atomic_uint tid; /* the kernel writes the child's tid here and clears it at exit */
    double limit = bench_seconds(), best = 1e30, end = bench_now() + limit;
    int batches = 0;
    do {
        double t0 = bench_now();
        for (int i = 0; i < 200; i++) {
            if (clone(exit_at_once, stack + size, flags, NULL, &tid, NULL, &tid) < 0) {
                perror("clone");
                exit(2);
            }
            unsigned v;
            while ((v = atomic_load(&tid)) != 0)
                syscall(SYS_futex, &tid, FUTEX_WAIT, v, NULL, NULL, 0);
        }
        double us = (bench_now() - t0) * 1e6 / 200;
        if (us < best)
            best = us;
        batches++;
    } while (batches < 5 || bench_now() < end);
    bench_result("floor_clone_exit_wait", best, "us/cycle", "lower");
    munmap(stack, size);
}

int main(void)
{
    xchg_cas_pair();
    futex_pingpong();
    clone_exit_wait();
    return 0;
}
