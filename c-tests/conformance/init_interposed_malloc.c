// rpthread-test: timeout=20
/* A program that interposes its own malloc, initialized on first use the way jemalloc is
 * (redis-server links libjemalloc): the initialization calls pthread_atfork, and any other
 * thread that calls malloc meanwhile spins until it is over.
 *
 * That pthread_atfork can be the process's first call into the threads library, from inside
 * malloc, possibly even from inside the library's own set-up (which allocates). The set-up
 * must neither wait for another thread that allocates (deadlock: the other thread spins in
 * malloc) nor re-enter itself. Then ordinary threads must work with the interposed malloc. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define ARENA (64u << 20)
static char *arena;
static _Atomic size_t used;
static _Atomic int init_state; /* 0 none, 1 running, 2 done */
static _Atomic pid_t initializer;
static _Atomic int forks_prepared;

static void prepare(void) { forks_prepared++; }

static void ensure_malloc_init(void) {
    if (atomic_load(&init_state) == 2) return;
    pid_t self = gettid();
    int expect = 0;
    if (atomic_compare_exchange_strong(&init_state, &expect, 1)) {
        initializer = self;
        arena = mmap(0, ARENA, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (arena == MAP_FAILED) _exit(3);
        /* Recursive allocations by the initializing thread are served (jemalloc's
         * "recursible" state); pthread_atfork may allocate or initialize the library. */
        atomic_store(&init_state, 3);
        if (pthread_atfork(prepare, 0, 0) != 0) _exit(4);
        atomic_store(&init_state, 2);
        return;
    }
    if (initializer == self) return;
    while (atomic_load(&init_state) != 2) sched_yield(); /* other threads wait */
}

static void *bump(size_t size, size_t align) {
    ensure_malloc_init();
    while (atomic_load(&init_state) == 1) sched_yield(); /* arena not mapped yet */
    if (align < 16) align = 16;
    size_t need = size + align + 16;
    size_t at = atomic_fetch_add(&used, (need + 15) & ~(size_t)15);
    if (at + need > ARENA) return 0;
    uintptr_t p = ((uintptr_t)arena + at + 16 + align - 1) & ~(uintptr_t)(align - 1);
    ((size_t *)p)[-1] = size;
    return (void *)p;
}

void *malloc(size_t n) { return bump(n, 16); }
void free(void *p) { (void)p; }
void *calloc(size_t a, size_t b) { return bump(a * b, 16); } /* the arena is fresh zeroes */
void *realloc(void *p, size_t n) {
    void *q = bump(n, 16);
    if (p && q) {
        size_t old = ((size_t *)p)[-1];
        memcpy(q, p, old < n ? old : n);
    }
    return q;
}
void *memalign(size_t al, size_t n) { return bump(n, al); }
void *aligned_alloc(size_t al, size_t n) { return bump(n, al); }
int posix_memalign(void **out, size_t al, size_t n) {
    *out = bump(n, al);
    return *out ? 0 : 12;
}
void *valloc(size_t n) { return bump(n, 4096); }
void *pvalloc(size_t n) { return bump((n + 4095) & ~(size_t)4095, 4096); }
size_t malloc_usable_size(void *p) { return p ? ((size_t *)p)[-1] : 0; }

static void *worker(void *arg) {
    char *buf = malloc(100);
    snprintf(buf, 100, "worker %ld", (long)(intptr_t)arg);
    return buf;
}

int main(void) {
    pthread_t t[8];
    for (long i = 0; i < 8; i++)
        if (pthread_create(&t[i], 0, worker, (void *)i) != 0) {
            puts("pthread_create failed");
            return 1;
        }
    for (long i = 0; i < 8; i++) {
        void *r;
        char want[32];
        pthread_join(t[i], &r);
        snprintf(want, sizeof want, "worker %ld", i);
        if (strcmp(r, want) != 0) { printf("thread %ld returned %s\n", i, (char *)r); return 1; }
    }
    pid_t pid = fork();
    if (pid == 0) _exit(0);
    if (forks_prepared != 1) { printf("fork handler ran %d times\n", forks_prepared); return 1; }
    return 0;
}
