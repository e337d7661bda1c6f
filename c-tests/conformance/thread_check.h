/* Shared helpers of the thread_* conformance tests: a CHECK macro that records failures,
 * and a futex barrier and lock built on C11 atomics so the tests depend only on the thread
 * lifecycle functions (pthread_create/join/...), not on our mutex or barrier. */
#ifndef THREAD_CHECK_H
#define THREAD_CHECK_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifdef __cplusplus
#include <atomic>
#define TC_ATOMIC(T) std::atomic<T>
#else
#include <stdatomic.h>
#define TC_ATOMIC(T) _Atomic T
#endif

#include "check.h"

/* Exit status of a test: 0 if no CHECK failed. */
static inline int tc_result(const char *name) { return check_result(name); }

/* The futex helpers leave errno alone: syscall(2) sets it on EAGAIN/EINTR, and tests check
 * errno across these waits. */
static inline void tc_futex_wait(TC_ATOMIC(int) *w, int val) {
    int saved = errno;
    syscall(SYS_futex, (int *)w, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
    errno = saved;
}

static inline void tc_futex_wake(TC_ATOMIC(int) *w, int n) {
    int saved = errno;
    syscall(SYS_futex, (int *)w, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
    errno = saved;
}

/* A reusable barrier for `n` threads. */
typedef struct {
    TC_ATOMIC(int) count;
    TC_ATOMIC(int) gen;
    int n;
} tc_barrier;

static inline void tc_barrier_init(tc_barrier *b, int n) {
    b->count = 0;
    b->gen = 0;
    b->n = n;
}

static inline void tc_barrier_wait(tc_barrier *b) {
    int g = b->gen;
    if (++b->count == b->n) {
        b->count = 0;
        b->gen++;
        tc_futex_wake(&b->gen, INT_MAX);
    } else {
        while (b->gen == g)
            tc_futex_wait(&b->gen, g);
    }
}

/* A minimal futex lock (0 free, 1 locked, 2 contended). */
typedef struct {
    TC_ATOMIC(int) w;
} tc_lock;

static inline void tc_lock_acquire(tc_lock *l) {
    int z = 0;
#ifdef __cplusplus
    if (l->w.compare_exchange_strong(z, 1)) return;
    while (l->w.exchange(2) != 0) tc_futex_wait(&l->w, 2);
#else
    if (atomic_compare_exchange_strong(&l->w, &z, 1)) return;
    while (atomic_exchange(&l->w, 2) != 0) tc_futex_wait(&l->w, 2);
#endif
}

static inline void tc_lock_release(tc_lock *l) {
#ifdef __cplusplus
    if (l->w.exchange(0) == 2) tc_futex_wake(&l->w, 1);
#else
    if (atomic_exchange(&l->w, 0) == 2) tc_futex_wake(&l->w, 1);
#endif
}

/* malloc + write + free that the compiler cannot elide (GCC removes a malloc/free pair whose
 * memory does not escape, and then the thread never touches malloc at all). */
static inline long tc_malloc_work(size_t size, long n) {
    char *p = (char *)malloc(size);
    __asm__ volatile("" : : "r"(p) : "memory");
    int len = snprintf(p, size < 32 ? size : 32, "task %ld", n);
    __asm__ volatile("" : : "r"(p) : "memory");
    free(p);
    return len;
}

/* Resident set size of this process in bytes (/proc/self/statm). */
static inline long tc_rss_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, res = 0;
    if (!f) return -1;
    if (fscanf(f, "%ld %ld", &size, &res) != 2) res = -1;
    fclose(f);
    return res * sysconf(_SC_PAGESIZE);
}
#endif
