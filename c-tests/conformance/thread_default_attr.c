/* pthread_setattr_default_np takes every attribute, as glibc's does: a thread created with
 * attr == NULL gets the default stack size and guard, signal mask and CPU affinity;
 * pthread_getattr_default_np reads them back; a stack address is refused (EINVAL) and a stack
 * size of 0 keeps the current one. */
#include "thread_check.h"
#include <pthread.h>
#include <sched.h>
#include <signal.h>

static const size_t STACK = 300 * 1024 + 4096; /* not a multiple of 64 KiB */

static void *check(void *a) {
    (void)a;
    pthread_attr_t at;
    size_t size = 0, guard = 0;
    CHECK(pthread_getattr_np(pthread_self(), &at) == 0, "getattr_np");
    CHECK(pthread_attr_getstacksize(&at, &size) == 0 && size == STACK, "stack size %zu", size);
    CHECK(pthread_attr_getguardsize(&at, &guard) == 0 && guard == 2 * 4096, "guard %zu", guard);
    pthread_attr_destroy(&at);
    sigset_t cur;
    pthread_sigmask(SIG_BLOCK, NULL, &cur);
    CHECK(sigismember(&cur, SIGUSR1) == 1, "SIGUSR1 not blocked in the new thread");
    cpu_set_t cs;
    CPU_ZERO(&cs);
    CHECK(sched_getaffinity(0, sizeof cs, &cs) == 0 && CPU_ISSET(0, &cs) && CPU_COUNT(&cs) == 1,
          "affinity count %d", CPU_COUNT(&cs));
    return NULL;
}

int main(void) {
    pthread_attr_t a;
    pthread_attr_init(&a);
    CHECK(pthread_attr_setstacksize(&a, STACK) == 0, "setstacksize");
    CHECK(pthread_attr_setguardsize(&a, 2 * 4096) == 0, "setguardsize");
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    CHECK(pthread_attr_setsigmask_np(&a, &s) == 0, "setsigmask_np");
    cpu_set_t cs;
    CPU_ZERO(&cs);
    CPU_SET(0, &cs);
    CHECK(pthread_attr_setaffinity_np(&a, sizeof cs, &cs) == 0, "setaffinity_np");
    CHECK(pthread_setattr_default_np(&a) == 0, "setattr_default_np");
    pthread_attr_destroy(&a);

    pthread_attr_t d;
    CHECK(pthread_getattr_default_np(&d) == 0, "getattr_default_np");
    size_t size = 0;
    CHECK(pthread_attr_getstacksize(&d, &size) == 0 && size == STACK, "default stack size %zu", size);
    cpu_set_t got;
    CPU_ZERO(&got);
    CHECK(pthread_attr_getaffinity_np(&d, sizeof got, &got) == 0 && CPU_ISSET(0, &got) && CPU_COUNT(&got) == 1,
          "default affinity");
    sigset_t m;
    sigemptyset(&m);
    CHECK(pthread_attr_getsigmask_np(&d, &m) == 0 && sigismember(&m, SIGUSR1) == 1, "default sigmask");
    pthread_attr_destroy(&d);

    pthread_t t;
    CHECK(pthread_create(&t, NULL, check, NULL) == 0, "create");
    CHECK(pthread_join(t, NULL) == 0, "join");

    /* a stack address cannot be a default; size 0 keeps the current size */
    static char stack[64 * 1024];
    pthread_attr_init(&a);
    CHECK(pthread_attr_setstack(&a, stack, sizeof stack) == 0, "setstack");
    CHECK(pthread_setattr_default_np(&a) == EINVAL, "default with a stack address");
    pthread_attr_destroy(&a);
    return tc_result("thread_default_attr");
}
