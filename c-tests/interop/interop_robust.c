/* A process-shared robust mutex whose owner process dies while holding it: role A locks it
 * and exits without unlocking while role B is blocked in pthread_mutex_lock; B must get
 * EOWNERDEAD (the kernel's robust-list walk marked the word and woke it), make the mutex
 * consistent and use it again. The runner runs both library assignments, so each library
 * both dies holding the mutex and recovers it. */
#include "interop.h"

struct shared {
    pthread_mutex_t m;
    int value;
};

int main(int argc, char **argv)
{
    struct shared *s = interop_start(argc, argv, sizeof *s);
    if (role == 'A') {
        pthread_mutexattr_t a;
        pthread_mutexattr_init(&a);
        pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
        pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
        CHECK(pthread_mutex_init(&s->m, &a) == 0, "init");
        pthread_mutexattr_destroy(&a);
        interop_ready();
        CHECK(pthread_mutex_lock(&s->m) == 0, "lock");
        s->value = 41;
        meet(1);
        /* B is about to block in pthread_mutex_lock: give it time to sleep there. */
        interop_sleep_ms(50);
        /* Die holding the lock (the last step is announced first: B's meet(1000) at the end
         * must not wait for us). */
        __atomic_store_n(&mt->arrived[me], 1000, __ATOMIC_RELEASE);
        fflush(stdout);
        _exit(__atomic_load_n(&mt->failures, __ATOMIC_SEQ_CST) ? 1 : 0);
    }
    interop_ready();
    meet(1);
    int r = pthread_mutex_lock(&s->m);
    CHECK(r == EOWNERDEAD, "lock after the owner died: %d (%s)", r, strerror(r));
    CHECK(s->value == 41, "value %d", s->value);
    s->value++;
    CHECK(pthread_mutex_consistent(&s->m) == 0, "consistent");
    CHECK(pthread_mutex_unlock(&s->m) == 0, "unlock");
    CHECK(pthread_mutex_lock(&s->m) == 0, "lock again");
    CHECK(s->value == 42, "value %d", s->value);
    CHECK(pthread_mutex_unlock(&s->m) == 0, "unlock again");
    return interop_end("interop_robust");
}
