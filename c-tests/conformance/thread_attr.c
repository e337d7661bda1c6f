/* Every pthread_attr_* setter/getter round-trips and rejects bad values with EINVAL (scope
 * PROCESS: ENOTSUP), and explicit attributes reach the created thread. */
#include "thread_check.h"
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>

static void *report_attr(void *arg) {
    pthread_attr_t *out = arg;
    return (void *)(long)pthread_getattr_np(pthread_self(), out);
}

int main(void) {
    pthread_attr_t a;
    int v;
    size_t sz;
    void *p;
    struct sched_param sp;
    CHECK(pthread_attr_init(&a) == 0, "init");

    /* initial values */
    CHECK(pthread_attr_getdetachstate(&a, &v) == 0 && v == PTHREAD_CREATE_JOINABLE, "detachstate %d", v);
    CHECK(pthread_attr_getscope(&a, &v) == 0 && v == PTHREAD_SCOPE_SYSTEM, "scope %d", v);
    CHECK(pthread_attr_getinheritsched(&a, &v) == 0 && v == PTHREAD_INHERIT_SCHED, "inheritsched %d", v);
    CHECK(pthread_attr_getschedpolicy(&a, &v) == 0 && v == SCHED_OTHER, "policy %d", v);
    CHECK(pthread_attr_getschedparam(&a, &sp) == 0 && sp.sched_priority == 0, "priority %d", sp.sched_priority);
    CHECK(pthread_attr_getguardsize(&a, &sz) == 0 && sz == (size_t)sysconf(_SC_PAGESIZE), "guard %zu", sz);
    CHECK(pthread_attr_getstacksize(&a, &sz) == 0 && sz >= PTHREAD_STACK_MIN, "stacksize %zu", sz);

    /* detachstate */
    CHECK(pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED) == 0, "set detached");
    CHECK(pthread_attr_getdetachstate(&a, &v) == 0 && v == PTHREAD_CREATE_DETACHED, "get detached");
    CHECK(pthread_attr_setdetachstate(&a, 2) == EINVAL, "detachstate 2");
    CHECK(pthread_attr_setdetachstate(&a, -1) == EINVAL, "detachstate -1");
    CHECK(pthread_attr_getdetachstate(&a, &v) == 0 && v == PTHREAD_CREATE_DETACHED, "kept after EINVAL");
    CHECK(pthread_attr_setdetachstate(&a, PTHREAD_CREATE_JOINABLE) == 0, "set joinable");

    /* stacksize */
    CHECK(pthread_attr_setstacksize(&a, PTHREAD_STACK_MIN) == 0, "stacksize MIN");
    CHECK(pthread_attr_getstacksize(&a, &sz) == 0 && sz == PTHREAD_STACK_MIN, "get MIN %zu", sz);
    CHECK(pthread_attr_setstacksize(&a, PTHREAD_STACK_MIN - 1) == EINVAL, "stacksize MIN-1");
    CHECK(pthread_attr_setstacksize(&a, 0) == EINVAL, "stacksize 0");
    CHECK(pthread_attr_setstacksize(&a, 1 << 20) == 0, "stacksize 1M");
    CHECK(pthread_attr_getstacksize(&a, &sz) == 0 && sz == 1 << 20, "get 1M %zu", sz);

    /* guardsize: any value accepted and reported as set */
    CHECK(pthread_attr_setguardsize(&a, 0) == 0, "guard 0");
    CHECK(pthread_attr_getguardsize(&a, &sz) == 0 && sz == 0, "get guard 0 %zu", sz);
    CHECK(pthread_attr_setguardsize(&a, 12345) == 0, "guard 12345");
    CHECK(pthread_attr_getguardsize(&a, &sz) == 0 && sz == 12345, "get guard 12345 %zu", sz);

    /* stack */
    static char area[128 * 1024];
    CHECK(pthread_attr_setstack(&a, area, sizeof area) == 0, "setstack");
    CHECK(pthread_attr_getstack(&a, &p, &sz) == 0 && p == area && sz == sizeof area, "getstack %p %zu", p, sz);
    CHECK(pthread_attr_getstacksize(&a, &sz) == 0 && sz == sizeof area, "stacksize after setstack %zu", sz);
    CHECK(pthread_attr_setstack(&a, area, PTHREAD_STACK_MIN - 1) == EINVAL, "setstack too small");
    CHECK(pthread_attr_getstack(&a, &p, &sz) == 0 && p == area && sz == sizeof area, "kept after EINVAL");

    /* scope */
    CHECK(pthread_attr_setscope(&a, PTHREAD_SCOPE_SYSTEM) == 0, "scope system");
    CHECK(pthread_attr_setscope(&a, PTHREAD_SCOPE_PROCESS) == ENOTSUP, "scope process");
    CHECK(pthread_attr_setscope(&a, 7) == EINVAL, "scope 7");
    CHECK(pthread_attr_getscope(&a, &v) == 0 && v == PTHREAD_SCOPE_SYSTEM, "get scope");

    /* inheritsched */
    CHECK(pthread_attr_setinheritsched(&a, PTHREAD_EXPLICIT_SCHED) == 0, "explicit");
    CHECK(pthread_attr_getinheritsched(&a, &v) == 0 && v == PTHREAD_EXPLICIT_SCHED, "get explicit");
    CHECK(pthread_attr_setinheritsched(&a, 5) == EINVAL, "inheritsched 5");
    CHECK(pthread_attr_setinheritsched(&a, PTHREAD_INHERIT_SCHED) == 0, "inherit");

    /* policy and priority */
    CHECK(pthread_attr_setschedpolicy(&a, 42) == EINVAL, "policy 42");
    CHECK(pthread_attr_setschedpolicy(&a, -1) == EINVAL, "policy -1");
    CHECK(pthread_attr_setschedpolicy(&a, SCHED_FIFO) == 0, "policy FIFO");
    CHECK(pthread_attr_getschedpolicy(&a, &v) == 0 && v == SCHED_FIFO, "get FIFO");
    int max = sched_get_priority_max(SCHED_FIFO), min = sched_get_priority_min(SCHED_FIFO);
    sp.sched_priority = max;
    CHECK(pthread_attr_setschedparam(&a, &sp) == 0, "FIFO max priority");
    sp.sched_priority = 0;
    CHECK(pthread_attr_getschedparam(&a, &sp) == 0 && sp.sched_priority == max, "get prio %d", sp.sched_priority);
    sp.sched_priority = max + 1;
    CHECK(pthread_attr_setschedparam(&a, &sp) == EINVAL, "FIFO max+1");
    sp.sched_priority = min - 1;
    CHECK(pthread_attr_setschedparam(&a, &sp) == EINVAL, "FIFO min-1");
    CHECK(pthread_attr_setschedpolicy(&a, SCHED_RR) == 0, "policy RR");
    CHECK(pthread_attr_setschedpolicy(&a, SCHED_OTHER) == 0, "policy OTHER");
    sp.sched_priority = 1;
    CHECK(pthread_attr_setschedparam(&a, &sp) == EINVAL, "OTHER priority 1");
    sp.sched_priority = 0;
    CHECK(pthread_attr_setschedparam(&a, &sp) == 0, "OTHER priority 0");

    /* destroy, re-init */
    CHECK(pthread_attr_destroy(&a) == 0, "destroy");
    CHECK(pthread_attr_init(&a) == 0, "re-init");

    /* the created thread sees detachstate/stacksize/guardsize through pthread_getattr_np */
    CHECK(pthread_attr_setstacksize(&a, 200 * 1024) == 0, "stacksize");
    CHECK(pthread_attr_setguardsize(&a, 2 * 4096) == 0, "guardsize");
    pthread_attr_t seen;
    pthread_t t;
    void *rc;
    CHECK(pthread_create(&t, &a, report_attr, &seen) == 0, "create");
    CHECK(pthread_join(t, &rc) == 0 && rc == NULL, "getattr_np in thread: %ld", (long)rc);
    if (rc == NULL) {
        CHECK(pthread_attr_getstacksize(&seen, &sz) == 0 && sz >= 200 * 1024, "thread stacksize %zu", sz);
        CHECK(pthread_attr_getguardsize(&seen, &sz) == 0 && sz == 2 * 4096, "thread guardsize %zu", sz);
        CHECK(pthread_attr_getdetachstate(&seen, &v) == 0 && v == PTHREAD_CREATE_JOINABLE, "thread detachstate");
        CHECK(pthread_attr_getschedpolicy(&seen, &v) == 0 && v == SCHED_OTHER, "thread policy %d", v);
        pthread_attr_destroy(&seen);
    }

    /* explicit scheduling: SCHED_OTHER priority 0 works; FIFO works for root */
    CHECK(pthread_attr_setinheritsched(&a, PTHREAD_EXPLICIT_SCHED) == 0, "explicit");
    CHECK(pthread_attr_setschedpolicy(&a, SCHED_OTHER) == 0, "other");
    CHECK(pthread_create(&t, &a, report_attr, &seen) == 0, "create explicit OTHER");
    CHECK(pthread_join(t, &rc) == 0 && rc == NULL, "join");
    if (rc == NULL) pthread_attr_destroy(&seen);
    CHECK(pthread_attr_setschedpolicy(&a, SCHED_FIFO) == 0, "fifo");
    sp.sched_priority = min;
    CHECK(pthread_attr_setschedparam(&a, &sp) == 0, "fifo min");
    int crc = pthread_create(&t, &a, report_attr, &seen);
    if (geteuid() == 0 && crc != EPERM) { /* EPERM if the container forbids RT scheduling */
        CHECK(crc == 0, "create explicit FIFO: %d", crc);
        if (crc == 0) {
            CHECK(pthread_join(t, &rc) == 0 && rc == NULL, "join");
            CHECK(pthread_attr_getschedpolicy(&seen, &v) == 0 && v == SCHED_FIFO, "thread FIFO policy %d", v);
            CHECK(pthread_attr_getschedparam(&seen, &sp) == 0 && sp.sched_priority == min, "thread prio %d",
                  sp.sched_priority);
            pthread_attr_destroy(&seen);
        }
    } else if (crc == 0) {
        pthread_join(t, NULL);
    } else {
        CHECK(crc == EPERM, "unprivileged FIFO create: %d", crc);
    }
    pthread_attr_destroy(&a);
    return tc_result("thread_attr");
}
