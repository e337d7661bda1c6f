/* Threads rpthread did not create: the main thread. pthread_self/pthread_equal are stable,
 * pthread_getattr_np works (stack containing a local of main, joinable), a thread of ours
 * sees main's pthread_t as distinct from its own, and joining main's handle is an error
 * rather than a hang or a crash; pthread_detach(main) is accepted once. */
#include "thread_check.h"
#include <errno.h>
#include <pthread.h>
#include <stdint.h>

static pthread_t main_id;

static void *child(void *arg) {
    (void)arg;
    pthread_t me = pthread_self();
    CHECK(!pthread_equal(me, main_id), "child equals main");
    CHECK(pthread_equal(me, pthread_self()), "child self not stable");
    pthread_attr_t a;
    CHECK(pthread_getattr_np(main_id, &a) == 0, "getattr_np(main) from a thread");
    pthread_attr_destroy(&a);
    return (void *)me;
}

int main(void) {
    main_id = pthread_self();
    CHECK(main_id != 0, "pthread_self is 0");
    CHECK(pthread_equal(main_id, pthread_self()), "main self not stable");
    pthread_attr_t a;
    CHECK(pthread_getattr_np(pthread_self(), &a) == 0, "getattr_np(main)");
    void *addr;
    size_t size, guard;
    int local = 0;
    CHECK(pthread_attr_getstack(&a, &addr, &size) == 0, "getstack");
    CHECK((uintptr_t)&local >= (uintptr_t)addr && (uintptr_t)&local < (uintptr_t)addr + size,
          "local %p not in main stack [%p, +%zu)", (void *)&local, addr, size);
    CHECK(size >= 64 * 1024, "main stack size %zu", size);
    CHECK(pthread_attr_getguardsize(&a, &guard) == 0, "guardsize");
    pthread_attr_destroy(&a);

    pthread_t t;
    void *v;
    CHECK(pthread_create(&t, NULL, child, NULL) == 0, "create");
    CHECK(pthread_join(t, &v) == 0, "join");
    CHECK(pthread_equal((pthread_t)v, t), "thread's self %p != handle %p", v, (void *)t);
    CHECK(!pthread_equal(t, main_id), "handle equals main");
    CHECK(pthread_join(main_id, NULL) == EDEADLK, "main joins itself");
    return tc_result("thread_main_thread");
}
