/* malloc/free in many threads, including frees of blocks another thread allocated (glibc
 * malloc's arenas and tcache must work inside our threads). */
#include "thread_check.h"
#include <pthread.h>
#include <stdint.h>

#define THREADS 8
#define ROUNDS 20000
#define SLOTS 256

/* Producer/consumer pairs exchange blocks through a ring guarded by a tc_lock. */
struct ring {
    tc_lock lock;
    void *slot[SLOTS];
    int head, tail;
};
static struct ring rings[THREADS / 2];
static TC_ATOMIC(long) freed_cross;

static void *producer(void *arg) {
    struct ring *r = &rings[(long)arg];
    for (int i = 0; i < ROUNDS; i++) {
        size_t sz = 16 + (i * 37) % 4000;
        unsigned char *p = malloc(sz);
        if (!p) { CHECK(0, "malloc %zu", sz); return NULL; }
        memset(p, (unsigned char)i, sz);
        *(size_t *)p = sz;
        for (;;) {
            tc_lock_acquire(&r->lock);
            if (r->head - r->tail < SLOTS) {
                r->slot[r->head++ % SLOTS] = p;
                tc_lock_release(&r->lock);
                break;
            }
            tc_lock_release(&r->lock);
            sched_yield();
        }
        /* some private churn too, with realloc and calloc */
        char *q = calloc(1, 64 + i % 512);
        q = realloc(q, 1024 + i % 8192);
        free(q);
    }
    return NULL;
}

static void *consumer(void *arg) {
    struct ring *r = &rings[(long)arg];
    for (int i = 0; i < ROUNDS; i++) {
        unsigned char *p = NULL;
        while (!p) {
            tc_lock_acquire(&r->lock);
            if (r->tail < r->head) p = r->slot[r->tail++ % SLOTS];
            tc_lock_release(&r->lock);
            if (!p) sched_yield();
        }
        size_t sz = *(size_t *)p;
        CHECK(sz == 16 + (size_t)(i * 37) % 4000, "block %d size %zu", i, sz);
        for (size_t k = sizeof(size_t); k < sz; k++)
            if (p[k] != (unsigned char)i) { CHECK(0, "block %d corrupted at %zu", i, k); break; }
        free(p);
        freed_cross++;
    }
    return NULL;
}

static void *alloc_block(void *arg) {
    char *p = malloc(100 + (long)arg * 1000);
    strcpy(p, "allocated in a thread");
    return p;
}

int main(void) {
    pthread_t t[THREADS];
    for (long i = 0; i < THREADS / 2; i++) {
        CHECK(pthread_create(&t[2 * i], NULL, producer, (void *)i) == 0, "create");
        CHECK(pthread_create(&t[2 * i + 1], NULL, consumer, (void *)i) == 0, "create");
    }
    for (int i = 0; i < THREADS; i++) CHECK(pthread_join(t[i], NULL) == 0, "join");
    CHECK(freed_cross == (long)THREADS / 2 * ROUNDS, "freed %ld", (long)freed_cross);
    /* main frees blocks allocated by threads that have exited (their arenas live on) */
    for (int round = 0; round < 50; round++) {
        for (long i = 0; i < THREADS; i++)
            CHECK(pthread_create(&t[i], NULL, alloc_block, (void *)i) == 0, "create");
        for (long i = 0; i < THREADS; i++) {
            void *v = NULL;
            CHECK(pthread_join(t[i], &v) == 0 && v != NULL, "join");
            CHECK(v && strcmp(v, "allocated in a thread") == 0, "block content");
            free(v);
        }
    }
    return tc_result("thread_malloc");
}
