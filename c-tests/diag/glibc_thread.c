/* `contention` starts counting when the process first has a second thread. Here the only
 * other thread is made by glibc's own pthread_create (as jemalloc's background threads are,
 * through dlsym): it and main take `shared_lock` ITERS times each, holding it about HOLD_US
 * microseconds and sleeping a little in between, so they wait for each other. The first wait arms the counting; the report
 * must show the lock waited for. Also takes `solo_lock` before the thread exists (not
 * counted: nothing can wait then). Prints "done". */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define ITERS 200
#define HOLD_US 200

typedef int (*create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
typedef int (*join_fn)(pthread_t, void **);

static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t solo_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile long counter;

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void *worker(void *arg) {
    (void)arg;
    for (int i = 0; i < ITERS; i++) {
        pthread_mutex_lock(&shared_lock);
        long long end = now_ns() + HOLD_US * 1000LL;
        while (now_ns() < end) counter++;
        pthread_mutex_unlock(&shared_lock);
        usleep(100); /* lets the other thread in: when this one comes back, it waits */
    }
    return NULL;
}

int main(void) {
    for (int i = 0; i < 1000; i++) {
        pthread_mutex_lock(&solo_lock);
        pthread_mutex_unlock(&solo_lock);
    }
    void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    if (!libc) return 2;
    create_fn glibc_create = (create_fn)dlsym(libc, "pthread_create");
    join_fn glibc_join = (join_fn)dlsym(libc, "pthread_join");
    if (!glibc_create || !glibc_join) return 2;
    pthread_t t;
    if (glibc_create(&t, NULL, worker, NULL)) return 2;
    worker(NULL);
    glibc_join(t, NULL);
    puts("done");
    return 0;
}
