/* Threads that glibc's own pthread_create made (as jemalloc makes its background threads,
 * looking the function up past rpthread) work with every function of ours: they can be
 * joined (value returned), detached, cancelled (cleanup handler, PTHREAD_CANCELED), named,
 * signalled and inspected, tryjoin/timedjoin report EBUSY/ETIMEDOUT while they run, and key
 * destructors run when they end. */
// rpthread-test: flags=-ldl; glibc=pthread_create
#include "thread_check.h"
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

typedef int (*create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
static create_fn glibc_create;

static TC_ATOMIC(int) release_flag, dtor_ran, handler_ran, started;
static pthread_key_t key;

static void dtor(void *v) { if (v == (void *)0x55) dtor_ran++; }
static void handler(void *a) { (void)a; handler_ran++; }

static void *returns_value(void *a) {
    pthread_setspecific(key, (void *)0x55);
    return a;
}

static void *waits(void *a) {
    char local;
    *(char **)a = &local;
    started = 1;
    tc_futex_wake(&started, INT_MAX);
    while (!release_flag) tc_futex_wait(&release_flag, 0);
    return NULL;
}

static void *blocks_in_read(void *a) {
    int *fds = a;
    char c;
    pthread_cleanup_push(handler, NULL);
    started = 1;
    tc_futex_wake(&started, INT_MAX);
    if (read(fds[0], &c, 1) >= 0) fputs("read returned\n", stderr);
    pthread_cleanup_pop(0);
    return (void *)1;
}

static void wait_started(void) {
    while (!started) tc_futex_wait(&started, 0);
    started = 0;
}

int main(void) {
    /* glibc's own pthread_create: looked up in libc itself, past any preloaded library. */
    void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    CHECK(libc != NULL, "dlopen libc: %s", dlerror());
    glibc_create = (create_fn)dlsym(libc, "pthread_create");
    CHECK(glibc_create != NULL && (void *)glibc_create != (void *)pthread_create,
          "glibc's pthread_create must differ from the one programs bind to");
    CHECK(pthread_key_create(&key, dtor) == 0, "key");

    /* join: the value comes back; the key destructor ran in the glibc thread */
    pthread_t t;
    void *r = NULL;
    CHECK(glibc_create(&t, NULL, returns_value, (void *)0x1234) == 0, "create 1");
    CHECK(pthread_join(t, &r) == 0 && r == (void *)0x1234, "join: %p", r);
    CHECK(dtor_ran == 1, "key destructor in glibc's thread ran %d times", (int)dtor_ran);

    /* a running thread: tryjoin EBUSY, timedjoin ETIMEDOUT, kill 0, name, getattr_np */
    char *local = NULL;
    CHECK(glibc_create(&t, NULL, waits, &local) == 0, "create 2");
    wait_started();
    CHECK(pthread_tryjoin_np(t, &r) == EBUSY, "tryjoin of a running thread");
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 20 * 1000 * 1000;
    if (ts.tv_nsec >= 1000000000) { ts.tv_sec++; ts.tv_nsec -= 1000000000; }
    CHECK(pthread_timedjoin_np(t, &r, &ts) == ETIMEDOUT, "timedjoin of a running thread");
    CHECK(pthread_kill(t, 0) == 0, "pthread_kill(t, 0)");
    CHECK(pthread_setname_np(t, "glibc-made") == 0, "setname");
    char name[16] = "";
    CHECK(pthread_getname_np(t, name, sizeof name) == 0 && strcmp(name, "glibc-made") == 0,
          "getname: %s", name);
    pthread_attr_t a;
    CHECK(pthread_getattr_np(t, &a) == 0, "getattr_np");
    void *addr;
    size_t size;
    int ds = -1;
    CHECK(pthread_attr_getstack(&a, &addr, &size) == 0, "getstack");
    CHECK(local > (char *)addr && local < (char *)addr + size, "its local %p not in [%p, +%zu)",
          (void *)local, addr, size);
    CHECK(pthread_attr_getdetachstate(&a, &ds) == 0 && ds == PTHREAD_CREATE_JOINABLE, "detachstate");
    pthread_attr_destroy(&a);
    struct sched_param sp;
    int policy = -1;
    CHECK(pthread_getschedparam(t, &policy, &sp) == 0 && policy == SCHED_OTHER, "getschedparam");
    release_flag = 1;
    tc_futex_wake(&release_flag, INT_MAX);
    CHECK(pthread_join(t, NULL) == 0, "join 2");

    /* cancel: blocked in read(), its cleanup handler runs, join sees PTHREAD_CANCELED */
    int fds[2];
    CHECK(pipe(fds) == 0, "pipe");
    CHECK(glibc_create(&t, NULL, blocks_in_read, fds) == 0, "create 3");
    wait_started();
    usleep(10000);
    CHECK(pthread_cancel(t) == 0, "cancel");
    CHECK(pthread_join(t, &r) == 0 && r == PTHREAD_CANCELED, "join cancelled: %p", r);
    CHECK(handler_ran == 1, "cleanup handler ran %d times", (int)handler_ran);

    /* detach: then it is gone (a second detach or a join is refused or ESRCH) */
    release_flag = 0;
    CHECK(glibc_create(&t, NULL, waits, &local) == 0, "create 4");
    wait_started();
    CHECK(pthread_detach(t) == 0, "detach");
    CHECK(pthread_detach(t) == EINVAL, "second detach");
    release_flag = 1;
    tc_futex_wake(&release_flag, INT_MAX);
    return tc_result("thread_glibc_created");
}
