/* pthread_create failures are reported, not crashes, and leave nothing behind: a stack that
 * cannot be mapped (address-space limit) is EAGAIN; a size that overflows is EAGAIN or EINVAL;
 * afterwards threads are created normally. Two threads joining the same thread: one gets it,
 * the other EINVAL; detaching a thread that is being joined is EINVAL (both undefined in glibc,
 * where the second joiner hangs: rpthread detects them). */
#include "thread_check.h"
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/resource.h>

static void *ret_arg(void *a) { return a; }

static TC_ATOMIC(int) release_flag;
static void *wait_release(void *arg) {
    while (!release_flag) tc_futex_wait(&release_flag, 0);
    return arg;
}

static pthread_t target;
static TC_ATOMIC(int) joiners_started;
static TC_ATOMIC(int) einval_seen;
static void *joiner(void *arg) {
    (void)arg;
    joiners_started++;
    int rc = pthread_join(target, NULL);
    if (rc == EINVAL) einval_seen = 1;
    return (void *)(long)rc;
}

int main(void) {
    pthread_attr_t a;
    pthread_t t;
    void *v;

    /* address-space limit: a 1 GiB stack cannot be mapped under a 512 MiB limit */
    struct rlimit old, lim;
    getrlimit(RLIMIT_AS, &old);
    lim = old;
    lim.rlim_cur = 512UL << 20;
    CHECK(setrlimit(RLIMIT_AS, &lim) == 0, "setrlimit");
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 1UL << 30);
    int rc = pthread_create(&t, &a, ret_arg, NULL);
    CHECK(rc == EAGAIN, "create with an unmappable stack: %d", rc);
    if (rc == 0) pthread_join(t, NULL);
    CHECK(setrlimit(RLIMIT_AS, &old) == 0, "restore rlimit");

    /* a stack size near SIZE_MAX overflows the mapping size */
    CHECK(pthread_attr_setstacksize(&a, SIZE_MAX - 4096) == 0, "huge stacksize accepted by the attr");
    rc = pthread_create(&t, &a, ret_arg, NULL);
    CHECK(rc == EAGAIN || rc == EINVAL, "create with SIZE_MAX stack: %d", rc);
    if (rc == 0) pthread_join(t, NULL);
    pthread_attr_destroy(&a);

    /* everything still works */
    for (long i = 0; i < 100; i++) {
        CHECK(pthread_create(&t, NULL, ret_arg, (void *)i) == 0, "create after failures");
        CHECK(pthread_join(t, &v) == 0 && v == (void *)i, "join after failures");
    }

    /* two joiners: exactly one succeeds, the other gets EINVAL (glibc: undefined; we detect) */
    release_flag = 0;
    CHECK(pthread_create(&target, NULL, wait_release, (void *)7L) == 0, "create target");
    pthread_t j1, j2;
    CHECK(pthread_create(&j1, NULL, joiner, NULL) == 0, "create joiner");
    CHECK(pthread_create(&j2, NULL, joiner, NULL) == 0, "create joiner");
    /* one claims the target and waits; the other fails at once with EINVAL */
    while (!einval_seen) sched_yield();
    void *r1 = NULL, *r2 = NULL;
    /* detaching a thread that a joiner has claimed: 0 and no effect, as glibc's pthread_detach
       (the joiner still gets the value) */
    int drc = pthread_detach(target);
    CHECK(drc == 0, "detach while being joined: %d", drc);
    release_flag = 1;
    tc_futex_wake(&release_flag, INT_MAX);
    CHECK(pthread_join(j1, &r1) == 0 && pthread_join(j2, &r2) == 0, "join joiners");
    long a1 = (long)r1, a2 = (long)r2;
    CHECK((a1 == 0 && a2 == EINVAL) || (a1 == EINVAL && a2 == 0), "joiners got %ld and %ld", a1, a2);
    return tc_result("thread_create_errors");
}
