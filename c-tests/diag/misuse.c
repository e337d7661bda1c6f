/* One misuse per run, chosen by argv[1]; each is something glibc lets pass or hangs on.
 * The program itself never fails: the test reads rpthread's report.
 *   unlock_other  unlock of a mutex another thread holds
 *   unlock_free   unlock of a mutex nobody holds
 *   destroy_held  destroy of a locked mutex
 *   destroy_cond  destroy of a condvar a thread waits on
 *   relock        relock of a normal mutex by its owner (the thread then hangs; main exits)
 *   two_mutexes   one condvar waited on with two mutexes at once
 *   exit_holding  a thread ends holding a mutex
 *   never_joined  a joinable thread ends and is never joined
 *   after_destroy lock of a destroyed mutex
 *   uninitialized lock of a mutex whose memory was never initialized (garbage kind field)
 *   cond_unheld   a condition wait with a mutex the thread does not hold
 *   clean         correct use of all of the above objects: no report */
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t m1 = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t m2 = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static volatile int go;

static void *hold_m1(void *arg) {
    (void)arg;
    pthread_mutex_lock(&m1);
    while (!go) usleep(1000);
    return NULL; /* exit_holding: ends with m1 locked */
}

static void *wait_m1(void *arg) {
    (void)arg;
    pthread_mutex_lock(&m1);
    while (!go) pthread_cond_wait(&cv, &m1);
    pthread_mutex_unlock(&m1);
    return NULL;
}

static void *wait_m2(void *arg) {
    (void)arg;
    pthread_mutex_lock(&m2);
    while (!go) pthread_cond_wait(&cv, &m2);
    pthread_mutex_unlock(&m2);
    return NULL;
}

static void *relock(void *arg) {
    (void)arg;
    pthread_mutex_lock(&m2);
    pthread_mutex_lock(&m2); /* blocks forever, as POSIX says */
    return NULL;
}

static void *nothing(void *arg) { return arg; }

int main(int argc, char **argv) {
    const char *c = argc > 1 ? argv[1] : "clean";
    pthread_t t, u;
    if (!strcmp(c, "unlock_other")) {
        pthread_create(&t, NULL, hold_m1, NULL);
        usleep(50000);
        pthread_mutex_unlock(&m1);
        go = 1;
        pthread_join(t, NULL);
    } else if (!strcmp(c, "unlock_free")) {
        pthread_mutex_unlock(&m2);
    } else if (!strcmp(c, "destroy_held")) {
        pthread_mutex_lock(&m2);
        printf("destroy: %d\n", pthread_mutex_destroy(&m2));
        pthread_mutex_unlock(&m2);
    } else if (!strcmp(c, "destroy_cond")) {
        pthread_create(&t, NULL, wait_m1, NULL);
        usleep(50000);
        pthread_mutex_lock(&m1);
        go = 1;
        pthread_cond_broadcast(&cv);
        pthread_mutex_unlock(&m1);
        pthread_cond_destroy(&cv); /* the waiter may still be inside its wait */
        pthread_join(t, NULL);
    } else if (!strcmp(c, "relock")) {
        pthread_create(&t, NULL, relock, NULL);
        usleep(100000);
        printf("main exits, the relocking thread still blocked\n");
        fflush(stdout);
        _exit(0 * pthread_detach(t));
    } else if (!strcmp(c, "two_mutexes")) {
        pthread_create(&t, NULL, wait_m1, NULL);
        usleep(50000);
        pthread_create(&u, NULL, wait_m2, NULL);
        usleep(50000);
        pthread_mutex_lock(&m1);
        go = 1;
        pthread_cond_broadcast(&cv);
        pthread_mutex_unlock(&m1);
        pthread_join(t, NULL);
        pthread_join(u, NULL);
    } else if (!strcmp(c, "exit_holding")) {
        go = 1;
        pthread_create(&t, NULL, hold_m1, NULL);
        pthread_join(t, NULL);
    } else if (!strcmp(c, "never_joined")) {
        pthread_create(&t, NULL, nothing, NULL);
        usleep(50000);
    } else if (!strcmp(c, "after_destroy")) {
        pthread_mutex_destroy(&m2);
        printf("lock after destroy: %d\n", pthread_mutex_lock(&m2));
    } else if (!strcmp(c, "uninitialized")) {
        pthread_mutex_t garbage;
        memset(&garbage, 0x5a, sizeof garbage);
        printf("lock of garbage: %d\n", pthread_mutex_lock(&garbage));
    } else if (!strcmp(c, "cond_unheld")) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 10000000;
        if (ts.tv_nsec >= 1000000000) { ts.tv_sec++; ts.tv_nsec -= 1000000000; }
        printf("wait without the mutex: %d\n", pthread_cond_timedwait(&cv, &m2, &ts));
        pthread_mutex_unlock(&m2); /* the wait returned with it held */
    } else {
        pthread_create(&t, NULL, wait_m1, NULL);
        usleep(20000);
        pthread_mutex_lock(&m1);
        go = 1;
        pthread_cond_broadcast(&cv);
        pthread_mutex_unlock(&m1);
        pthread_join(t, NULL);
        pthread_mutex_lock(&m2);
        pthread_mutex_unlock(&m2);
        pthread_mutex_destroy(&m2);
        pthread_cond_destroy(&cv);
        /* A mutex whose type was set explicitly (glibc then adds its NO_ELISION bit to the
         * kind, as in jemalloc's mutexes): an initialized mutex, not garbage. */
        pthread_mutexattr_t a;
        pthread_mutex_t m3;
        pthread_mutexattr_init(&a);
        pthread_mutexattr_settype(&a, PTHREAD_MUTEX_NORMAL);
        pthread_mutex_init(&m3, &a);
        pthread_mutex_lock(&m3);
        pthread_mutex_unlock(&m3);
        pthread_mutex_destroy(&m3);
        pthread_create(&t, NULL, nothing, NULL);
        pthread_detach(t);
        pthread_create(&t, NULL, nothing, NULL);
        pthread_join(t, NULL);
    }
    return 0;
}
