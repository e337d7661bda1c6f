// rwlock error cases, timeouts on both clocks, writer preference, reader recursion with
// PREFER_WRITER_NP, attributes, and a process-shared rwlock across fork.
#define _GNU_SOURCE
#include <pthread.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "check.h"


static pthread_rwlock_t wl;
static volatile int writer_state; // 1 = about to wrlock, 2 = got it

static void *writer(void *arg) {
    (void)arg;
    writer_state = 1;
    if (pthread_rwlock_wrlock(&wl) != 0) { tc_failures++; return NULL; }
    writer_state = 2;
    pthread_rwlock_unlock(&wl);
    return NULL;
}

static void *try_reader(void *arg) {
    int r = pthread_rwlock_tryrdlock((pthread_rwlock_t *)arg);
    if (r == 0) pthread_rwlock_unlock((pthread_rwlock_t *)arg);
    return (void *)(long)r;
}

static void *timed_reader(void *arg) {
    struct timespec t = ts_in_ms(CLOCK_MONOTONIC, 50);
    int r = pthread_rwlock_clockrdlock((pthread_rwlock_t *)arg, CLOCK_MONOTONIC, &t);
    if (r == 0) pthread_rwlock_unlock((pthread_rwlock_t *)arg);
    return (void *)(long)r;
}

static void writer_preference(int kind) {
    pthread_rwlockattr_t a;
    pthread_rwlockattr_init(&a);
    CHECK_EQ(pthread_rwlockattr_setkind_np(&a, kind), 0);
    int k = -1;
    CHECK_EQ(pthread_rwlockattr_getkind_np(&a, &k), 0);
    CHECK_EQ(k, kind);
    pthread_rwlock_init(&wl, &a);
    CHECK_EQ(pthread_rwlock_rdlock(&wl), 0);
    pthread_t w, r;
    writer_state = 0;
    pthread_create(&w, NULL, writer, NULL);
    void *res = 0;
    if (kind == PTHREAD_RWLOCK_PREFER_WRITER_NP) {
        // As on glibc, this kind only orders writers among themselves: readers still get
        // in while a writer waits (so read recursion cannot deadlock).
        while (writer_state != 1) usleep(1000);
        usleep(20000);
        pthread_create(&r, NULL, try_reader, &wl);
        pthread_join(r, &res);
        CHECK_EQ((int)(long)res, 0);
        pthread_create(&r, NULL, timed_reader, &wl);
        pthread_join(r, &res);
        CHECK_EQ((int)(long)res, 0);
        CHECK_EQ(pthread_rwlock_rdlock(&wl), 0);
        CHECK_EQ(pthread_rwlock_unlock(&wl), 0);
    } else {
        // Wait until the writer is queued: tryrdlock from another thread becomes EBUSY.
        for (int i = 0; i < 2000; i++) {
            pthread_create(&r, NULL, try_reader, &wl);
            pthread_join(r, &res);
            if ((long)res != 0) break;
            usleep(1000);
        }
        CHECK_EQ((int)(long)res, EBUSY);
        pthread_create(&r, NULL, timed_reader, &wl);
        pthread_join(r, &res);
        CHECK_EQ((int)(long)res, ETIMEDOUT);
        CHECK_EQ(pthread_rwlock_tryrdlock(&wl), EBUSY);
    }
    CHECK_EQ(writer_state, 1);
    CHECK_EQ(pthread_rwlock_unlock(&wl), 0);
    pthread_join(w, NULL);
    CHECK_EQ(writer_state, 2);
    CHECK_EQ(pthread_rwlock_destroy(&wl), 0);
}

// Writer preference keeps a writer from starving behind a stream of overlapping readers.
static pthread_rwlock_t sl_lock;
static volatile int writer_done;
static void *stream_reader(void *arg) {
    (void)arg;
    while (!writer_done) {
        if (pthread_rwlock_rdlock(&sl_lock) != 0) { tc_failures++; return NULL; }
        usleep(200);
        pthread_rwlock_unlock(&sl_lock);
    }
    return NULL;
}
static void no_writer_starvation(int kind) {
    pthread_rwlockattr_t a;
    pthread_rwlockattr_init(&a);
    pthread_rwlockattr_setkind_np(&a, kind);
    pthread_rwlock_init(&sl_lock, &a);
    writer_done = 0;
    pthread_t r[4];
    for (int i = 0; i < 4; i++) pthread_create(&r[i], NULL, stream_reader, NULL);
    usleep(10000);
    // Generous: readers never all leave at once, so only writer preference lets us in.
    struct timespec t = ts_in_ms(CLOCK_MONOTONIC, 10000);
    CHECK_EQ(pthread_rwlock_clockwrlock(&sl_lock, CLOCK_MONOTONIC, &t), 0);
    writer_done = 1;
    pthread_rwlock_unlock(&sl_lock);
    for (int i = 0; i < 4; i++) pthread_join(r[i], NULL);
    pthread_rwlock_destroy(&sl_lock);
}

int main(void) {
    pthread_rwlock_t l;
    CHECK_EQ(pthread_rwlock_init(&l, NULL), 0);
    CHECK_EQ(pthread_rwlock_unlock(&l), EPERM);
    CHECK_EQ(pthread_rwlock_wrlock(&l), 0);
    CHECK_EQ(pthread_rwlock_wrlock(&l), EDEADLK);
    CHECK_EQ(pthread_rwlock_rdlock(&l), EDEADLK);
    CHECK_EQ(pthread_rwlock_tryrdlock(&l), EBUSY);
    CHECK_EQ(pthread_rwlock_trywrlock(&l), EBUSY);
    CHECK_EQ(pthread_rwlock_destroy(&l), 0); // glibc's destroy checks nothing
    CHECK_EQ(pthread_rwlock_unlock(&l), 0);
    CHECK_EQ(pthread_rwlock_rdlock(&l), 0);
    CHECK_EQ(pthread_rwlock_tryrdlock(&l), 0);
    CHECK_EQ(pthread_rwlock_trywrlock(&l), EBUSY);
    struct timespec t = ts_in_ms(CLOCK_REALTIME, 20);
    CHECK_EQ(pthread_rwlock_timedwrlock(&l, &t), ETIMEDOUT);
    t = ts_in_ms(CLOCK_MONOTONIC, 20);
    CHECK_EQ(pthread_rwlock_clockwrlock(&l, CLOCK_MONOTONIC, &t), ETIMEDOUT);
    CHECK_EQ(pthread_rwlock_clockwrlock(&l, CLOCK_PROCESS_CPUTIME_ID, &t), EINVAL);
    struct timespec bad = {0, 1000000000L};
    CHECK_EQ(pthread_rwlock_timedwrlock(&l, &bad), EINVAL);
    bad.tv_nsec = -1;
    CHECK_EQ(pthread_rwlock_timedrdlock(&l, &bad), EINVAL); // checked first, as glibc
    struct timespec past = {-1, 0};
    CHECK_EQ(pthread_rwlock_timedwrlock(&l, &past), ETIMEDOUT);
    CHECK_EQ(pthread_rwlock_unlock(&l), 0);
    CHECK_EQ(pthread_rwlock_unlock(&l), 0);
    CHECK_EQ(pthread_rwlock_timedwrlock(&l, &past), 0); // free: no wait needed
    CHECK_EQ(pthread_rwlock_unlock(&l), 0);
    CHECK_EQ(pthread_rwlock_destroy(&l), 0);

    pthread_rwlockattr_t a;
    int v = -1;
    CHECK_EQ(pthread_rwlockattr_init(&a), 0);
    CHECK_EQ(pthread_rwlockattr_getpshared(&a, &v), 0);
    CHECK_EQ(v, PTHREAD_PROCESS_PRIVATE);
    CHECK_EQ(pthread_rwlockattr_getkind_np(&a, &v), 0);
    CHECK_EQ(v, PTHREAD_RWLOCK_PREFER_READER_NP);
    CHECK_EQ(pthread_rwlockattr_setkind_np(&a, 7), EINVAL);
    CHECK_EQ(pthread_rwlockattr_setpshared(&a, 5), EINVAL);
    CHECK_EQ(pthread_rwlockattr_setpshared(&a, PTHREAD_PROCESS_SHARED), 0);
    CHECK_EQ(pthread_rwlockattr_getpshared(&a, &v), 0);
    CHECK_EQ(v, PTHREAD_PROCESS_SHARED);

    // Process-shared: the child takes the write lock the parent waits for.
    pthread_rwlock_t *sl = mmap(NULL, sizeof *sl, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK_EQ(pthread_rwlock_init(sl, &a), 0);
    CHECK_EQ(pthread_rwlock_wrlock(sl), 0);
    pid_t pid = fork();
    if (pid == 0) {
        // The parent holds it: wait for it, then hold it a while.
        if (pthread_rwlock_wrlock(sl) != 0) _exit(2);
        usleep(20000);
        pthread_rwlock_unlock(sl);
        _exit(0);
    }
    usleep(20000);
    CHECK_EQ(pthread_rwlock_unlock(sl), 0);
    int st;
    waitpid(pid, &st, 0);
    CHECK_EQ(WIFEXITED(st) && WEXITSTATUS(st) == 0, 1);
    CHECK_EQ(pthread_rwlock_rdlock(sl), 0);
    CHECK_EQ(pthread_rwlock_unlock(sl), 0);
    CHECK_EQ(pthread_rwlock_destroy(sl), 0);

    writer_preference(PTHREAD_RWLOCK_PREFER_WRITER_NP);
    writer_preference(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);

    // (Not PREFER_WRITER_NP: on glibc its writers can starve behind overlapping readers.)
    no_writer_starvation(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);

    if (tc_failures) printf("%d failures\n", tc_failures);
    else printf("ok\n");
    return tc_failures != 0;
}
