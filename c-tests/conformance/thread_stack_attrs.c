/* Stack attributes honoured: a 64 KiB stack can use 48 KiB; guard size 0 with a set stack
 * size works; a caller-supplied (malloc'ed 256 KiB) stack is the one the thread runs on and
 * pthread_getattr_np reports it; pthread_getattr_np of a default thread reports at least the
 * default size and contains a local of the thread; of the main thread, a stack containing a
 * local of main; pthread_getattr_default_np/pthread_setattr_default_np. */
#include "thread_check.h"
#include <limits.h>
#include <pthread.h>
#include <errno.h>
#include <stdint.h>

static int use_stack(size_t bytes) {
    volatile char buf[bytes];
    for (size_t i = 0; i < bytes; i += 512) buf[i] = (char)i;
    int sum = 0;
    for (size_t i = 0; i < bytes; i += 512) sum += buf[i];
    return sum;
}

static void *use_48k(void *arg) {
    (void)arg;
    use_stack(48 * 1024);
    return (void *)1;
}

struct where {
    uintptr_t local;
    void *addr;
    size_t size, guard;
    int rc;
};

static void *report(void *arg) {
    struct where *w = arg;
    int local;
    w->local = (uintptr_t)&local;
    pthread_attr_t a;
    w->rc = pthread_getattr_np(pthread_self(), &a);
    if (w->rc == 0) {
        pthread_attr_getstack(&a, &w->addr, &w->size);
        pthread_attr_getguardsize(&a, &w->guard);
        pthread_attr_destroy(&a);
    }
    return NULL;
}

static int in_stack(const struct where *w) {
    return w->local >= (uintptr_t)w->addr && w->local < (uintptr_t)w->addr + w->size;
}

int main(void) {
    pthread_attr_t a;
    pthread_t t;
    void *v;

    /* 64 KiB stack, 48 KiB used; also with guard size 0 */
    for (int guard0 = 0; guard0 < 2; guard0++) {
        pthread_attr_init(&a);
        CHECK(pthread_attr_setstacksize(&a, 64 * 1024) == 0, "setstacksize 64k");
        if (guard0) CHECK(pthread_attr_setguardsize(&a, 0) == 0, "setguardsize 0");
        CHECK(pthread_create(&t, &a, use_48k, NULL) == 0, "create 64k guard0=%d", guard0);
        CHECK(pthread_join(t, &v) == 0 && v == (void *)1, "join");
        struct where w = {0};
        CHECK(pthread_create(&t, &a, report, &w) == 0, "create");
        CHECK(pthread_join(t, NULL) == 0, "join");
        CHECK(w.rc == 0 && in_stack(&w), "guard0=%d: local %#lx not in [%p, +%zu)", guard0,
              (unsigned long)w.local, w.addr, w.size);
        CHECK(w.size >= 64 * 1024, "guard0=%d: reported size %zu < 64 KiB", guard0, w.size);
        CHECK(w.guard == (guard0 ? 0 : (size_t)sysconf(_SC_PAGESIZE)), "guard0=%d: guard %zu", guard0, w.guard);
        pthread_attr_destroy(&a);
    }

    /* default thread: size >= the default the attr reports */
    size_t def = 0;
    pthread_attr_init(&a);
    CHECK(pthread_attr_getstacksize(&a, &def) == 0 && def >= PTHREAD_STACK_MIN, "default stacksize %zu", def);
    pthread_attr_destroy(&a);
    struct where w = {0};
    CHECK(pthread_create(&t, NULL, report, &w) == 0, "create");
    CHECK(pthread_join(t, NULL) == 0, "join");
    CHECK(w.rc == 0 && in_stack(&w), "default: local %#lx not in [%p, +%zu)", (unsigned long)w.local, w.addr, w.size);
    CHECK(w.size >= def, "default thread reports %zu < default %zu", w.size, def);

    /* user-supplied stack */
    size_t ssz = 256 * 1024;
    char *stack = malloc(ssz);
    pthread_attr_init(&a);
    CHECK(pthread_attr_setstack(&a, stack, ssz) == 0, "setstack");
    void *ga;
    size_t gs;
    CHECK(pthread_attr_getstack(&a, &ga, &gs) == 0 && ga == stack && gs == ssz, "getstack %p %zu", ga, gs);
    memset(&w, 0, sizeof w);
    CHECK(pthread_create(&t, &a, report, &w) == 0, "create on user stack");
    CHECK(pthread_join(t, NULL) == 0, "join");
    CHECK(w.local >= (uintptr_t)stack && w.local < (uintptr_t)stack + ssz, "local %#lx not on the user stack %p",
          (unsigned long)w.local, stack);
    CHECK(w.rc == 0 && (char *)w.addr >= stack && (char *)w.addr + w.size <= stack + ssz && in_stack(&w),
          "getattr_np on user stack: [%p, +%zu), user [%p, +%zu)", w.addr, w.size, stack, ssz);
    /* the same user stack can be used again after the join */
    CHECK(pthread_create(&t, &a, use_48k, NULL) == 0, "create on user stack again");
    CHECK(pthread_join(t, &v) == 0 && v == (void *)1, "join");
    pthread_attr_destroy(&a);
    free(stack);

    /* main thread */
    int local;
    CHECK(pthread_getattr_np(pthread_self(), &a) == 0, "getattr_np(main)");
    CHECK(pthread_attr_getstack(&a, &ga, &gs) == 0, "getstack(main)");
    CHECK((uintptr_t)&local >= (uintptr_t)ga && (uintptr_t)&local < (uintptr_t)ga + gs,
          "main's local %p not in [%p, +%zu)", (void *)&local, ga, gs);
    int ds;
    CHECK(pthread_attr_getdetachstate(&a, &ds) == 0 && ds == PTHREAD_CREATE_JOINABLE, "main detachstate");
    pthread_attr_destroy(&a);

    /* process defaults */
    pthread_attr_t d;
    CHECK(pthread_getattr_default_np(&d) == 0, "getattr_default_np");
    size_t dsz;
    CHECK(pthread_attr_getstacksize(&d, &dsz) == 0 && dsz == def, "default np size %zu vs %zu", dsz, def);
    CHECK(pthread_attr_setstacksize(&d, 1 << 20) == 0, "setstacksize 1M");
    CHECK(pthread_setattr_default_np(&d) == 0, "setattr_default_np");
    pthread_attr_destroy(&d);
    memset(&w, 0, sizeof w);
    CHECK(pthread_create(&t, NULL, report, &w) == 0, "create");
    CHECK(pthread_join(t, NULL) == 0, "join");
    CHECK(w.rc == 0 && w.size >= (1 << 20) && w.size < (2 << 20) && in_stack(&w),
          "new default: thread reports %zu bytes", w.size);
    pthread_attr_init(&a);
    CHECK(pthread_attr_getstacksize(&a, &dsz) == 0 && dsz == 1 << 20, "attr_init after default change: %zu", dsz);
    pthread_attr_destroy(&a);
    CHECK(pthread_getattr_default_np(&d) == 0 && pthread_attr_getstacksize(&d, &dsz) == 0 && dsz == 1 << 20,
          "getattr_default_np after set: %zu", dsz);
    pthread_attr_destroy(&d);
    /* a stack address in the defaults is EINVAL */
    static char area[64 * 1024];
    pthread_attr_init(&d);
    pthread_attr_setstack(&d, area, sizeof area);
    CHECK(pthread_setattr_default_np(&d) == EINVAL, "setattr_default_np with a stack");
    pthread_attr_destroy(&d);
    return tc_result("thread_stack_attrs");
}
