/* `order` alone skips the lock-order check for an acquisition it has already checked with
 * the same locks held (a per-thread cache). Each case below makes a program whose one
 * inversion is visible only if that cache is never wrong; nothing deadlocks in any run.
 *   repeat   a thread takes a then b 1000 times (mutexes, write-locked rwlocks, spinlocks;
 *            after the first time from the cache); a second thread takes b then a once:
 *            one inversion per kind.
 *   reorder  1000 rounds take d with b and c held (a, b, c taken, a released first, out of
 *            order), then one takes d with a and c held (b released first): the a -> d
 *            order must be checked then, not taken from the cache. A later d -> a closes
 *            the cycle through that one edge.
 *   reinit   a heap mutex used 1000 times is destroyed and initialized again elsewhere (a
 *            new class, named by the new init site); taken before `other` once, and after it
 *            by a second thread: the inversion names the new class, not the old one.
 * Prints "done". */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t ma = PTHREAD_MUTEX_INITIALIZER, mb = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mc = PTHREAD_MUTEX_INITIALIZER, md = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t ra = PTHREAD_RWLOCK_INITIALIZER, rb = PTHREAD_RWLOCK_INITIALIZER;
static pthread_spinlock_t sa, sb;
static pthread_mutex_t other = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t *heap;

static void *a_then_b(void *arg) {
    (void)arg;
    for (int i = 0; i < 1000; i++) {
        pthread_mutex_lock(&ma);
        pthread_mutex_lock(&mb);
        pthread_mutex_unlock(&mb);
        pthread_mutex_unlock(&ma);
        pthread_rwlock_wrlock(&ra);
        pthread_rwlock_wrlock(&rb);
        pthread_rwlock_unlock(&rb);
        pthread_rwlock_unlock(&ra);
        pthread_spin_lock(&sa);
        pthread_spin_lock(&sb);
        pthread_spin_unlock(&sb);
        pthread_spin_unlock(&sa);
    }
    return NULL;
}

static void *b_then_a(void *arg) {
    (void)arg;
    pthread_mutex_lock(&mb);
    pthread_mutex_lock(&ma);
    pthread_mutex_unlock(&ma);
    pthread_mutex_unlock(&mb);
    pthread_rwlock_wrlock(&rb);
    pthread_rwlock_wrlock(&ra);
    pthread_rwlock_unlock(&ra);
    pthread_rwlock_unlock(&rb);
    pthread_spin_lock(&sb);
    pthread_spin_lock(&sa);
    pthread_spin_unlock(&sa);
    pthread_spin_unlock(&sb);
    return NULL;
}

/* b and c are only ever try-locked: no order edge leads into them, so the only edges are
 * those into d (and d -> a at the end). */
static void *reorder(void *arg) {
    (void)arg;
    for (int i = 0; i < 1000; i++) {
        pthread_mutex_lock(&ma);
        pthread_mutex_trylock(&mb);
        pthread_mutex_trylock(&mc);
        pthread_mutex_unlock(&ma); /* held: b, c */
        pthread_mutex_lock(&md);
        pthread_mutex_unlock(&md);
        pthread_mutex_unlock(&mc);
        pthread_mutex_unlock(&mb);
    }
    pthread_mutex_lock(&ma);
    pthread_mutex_trylock(&mb);
    pthread_mutex_trylock(&mc);
    pthread_mutex_unlock(&mb); /* held: a, c */
    pthread_mutex_lock(&md);   /* a -> d */
    pthread_mutex_unlock(&md);
    pthread_mutex_unlock(&mc);
    pthread_mutex_unlock(&ma);
    return NULL;
}

static void *d_then_a(void *arg) {
    (void)arg;
    pthread_mutex_lock(&md);
    pthread_mutex_lock(&ma);
    pthread_mutex_unlock(&ma);
    pthread_mutex_unlock(&md);
    return NULL;
}

__attribute__((noinline)) static void init_first(void) { pthread_mutex_init(heap, NULL); }
__attribute__((noinline)) static void init_second(void) { pthread_mutex_init(heap, NULL); }

static void *heap_then_other(void *arg) {
    (void)arg;
    for (int i = 0; i < 1000; i++) {
        pthread_mutex_lock(heap);
        pthread_mutex_unlock(heap);
    }
    pthread_mutex_destroy(heap);
    init_second();
    pthread_mutex_lock(heap);
    pthread_mutex_lock(&other);
    pthread_mutex_unlock(&other);
    pthread_mutex_unlock(heap);
    return NULL;
}

static void *other_then_heap(void *arg) {
    (void)arg;
    pthread_mutex_lock(&other);
    pthread_mutex_lock(heap);
    pthread_mutex_unlock(heap);
    pthread_mutex_unlock(&other);
    return NULL;
}

static void in_turn(void *(*first)(void *), void *(*second)(void *)) {
    pthread_t t;
    pthread_create(&t, NULL, first, NULL);
    pthread_join(t, NULL);
    pthread_create(&t, NULL, second, NULL);
    pthread_join(t, NULL);
}

int main(int argc, char **argv) {
    const char *how = argc > 1 ? argv[1] : "repeat";
    pthread_spin_init(&sa, 0);
    pthread_spin_init(&sb, 0);
    if (!strcmp(how, "reorder")) {
        in_turn(reorder, d_then_a);
    } else if (!strcmp(how, "reinit")) {
        heap = malloc(sizeof *heap);
        init_first();
        in_turn(heap_then_other, other_then_heap);
    } else {
        in_turn(a_then_b, b_then_a);
    }
    puts("done");
    return 0;
}
