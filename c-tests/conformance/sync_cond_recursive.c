/* A condition wait on a recursive mutex locked several times releases one level, as glibc's
 * does (the mutex stays the waiter's), and the wake-up counts it back: the waiter returns
 * holding it as often as before, after a signal and after a broadcast. */
#include "thread_check.h"
#include <pthread.h>

static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t mut = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static TC_ATOMIC(int) waiting;

static void *waiter(void *arg) {
    (void)arg;
    for (int i = 0; i < 3; i++) CHECK(pthread_mutex_lock(&mut) == 0, "lock %d", i);
    waiting = 1;
    CHECK(pthread_cond_wait(&cond, &mut) == 0, "wait");
    /* still locked three times: three unlocks succeed, a fourth is EPERM */
    for (int i = 0; i < 3; i++) CHECK(pthread_mutex_unlock(&mut) == 0, "unlock %d", i);
    CHECK(pthread_mutex_unlock(&mut) == EPERM, "unlock beyond the count");
    return NULL;
}

int main(void) {
    for (int round = 0; round < 2; round++) {
        pthread_t t;
        waiting = 0;
        CHECK(pthread_create(&t, NULL, waiter, NULL) == 0, "create");
        while (!waiting) usleep(1000);
        usleep(50000); /* let it reach the wait */
        if (round == 0)
            CHECK(pthread_cond_signal(&cond) == 0, "signal");
        else
            CHECK(pthread_cond_broadcast(&cond) == 0, "broadcast");
        CHECK(pthread_join(t, NULL) == 0, "join");
    }
    return tc_result("sync_cond_recursive");
}
