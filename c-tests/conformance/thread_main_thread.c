/* Threads rpthread did not create: the main thread. pthread_self/pthread_equal are stable,
 * pthread_getattr_np works as glibc's (the [stack] mapping holding a local of main, topped
 * at the page above __libc_stack_end, no deeper than RLIMIT_STACK allows; joinable), a
 * thread of ours sees main's pthread_t as distinct from its own, and main joining itself is
 * EDEADLK. */
#include "thread_check.h"
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/resource.h>

/* The [stack] line of /proc/self/maps: [*lo, *hi). */
static int stack_mapping(uintptr_t *lo, uintptr_t *hi) {
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    int found = 0;
    while (f && fgets(line, sizeof line, f)) {
        if (strstr(line, "[stack]") && sscanf(line, "%lx-%lx", lo, hi) == 2) found = 1;
    }
    if (f) fclose(f);
    return found;
}

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
    uintptr_t lo = 0, hi = 0;
    CHECK(stack_mapping(&lo, &hi), "no [stack] mapping");
    CHECK((uintptr_t)addr + size <= hi && (uintptr_t)addr + size > lo,
          "reported top %p not in the [stack] mapping [%lx, %lx)", (void *)((char *)addr + size), lo, hi);
    struct rlimit rl;
    CHECK(getrlimit(RLIMIT_STACK, &rl) == 0, "getrlimit");
    if (rl.rlim_cur != RLIM_INFINITY)
        CHECK(size <= rl.rlim_cur, "main stack size %zu beyond RLIMIT_STACK %lu", size, (unsigned long)rl.rlim_cur);
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
