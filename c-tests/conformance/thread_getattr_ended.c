/* pthread_getattr_np on a thread that has ended but is not joined yet reports the scheduling
 * policy last given through the pthread API (creation attributes, inherited from the creator,
 * pthread_setschedparam), as glibc does from its descriptor, never the caller's own policy.
 * The main thread runs SCHED_BATCH (no privilege needed) to tell the two apart. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "check.h"


static void *record_tid(void *arg) {
    *(volatile pid_t *)arg = gettid();
    return NULL;
}

static pthread_barrier_t live_barrier;
static void *live(void *arg) {
    pthread_barrier_wait(&live_barrier);
    return arg;
}

static void *become_idle(void *arg) {
    struct sched_param p = {0};
    CHECK_EQ(pthread_setschedparam(pthread_self(), SCHED_IDLE, &p), 0);
    return record_tid(arg);
}

/* Waits until the kernel has reaped thread `tid` (its /proc entry is gone). */
static void wait_ended(volatile pid_t *tid) {
    while (*tid == 0) usleep(1000);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d", (int)*tid);
    for (int i = 0; i < 5000 && access(path, F_OK) == 0; i++) usleep(1000);
    CHECK_EQ(access(path, F_OK), -1);
}

static int policy_of_ended(pthread_attr_t *create_attr, void *(*fn)(void *)) {
    volatile pid_t tid = 0;
    pthread_t t;
    CHECK_EQ(pthread_create(&t, create_attr, fn, (void *)&tid), 0);
    wait_ended(&tid);
    pthread_attr_t a;
    int policy = -1;
    CHECK_EQ(pthread_getattr_np(t, &a), 0);
    CHECK_EQ(pthread_attr_getschedpolicy(&a, &policy), 0);
    pthread_attr_destroy(&a);
    CHECK_EQ(pthread_join(t, NULL), 0);
    return policy;
}

int main(void) {
    struct sched_param p = {0};
    CHECK_EQ(pthread_setschedparam(pthread_self(), SCHED_BATCH, &p), 0);

    /* Explicit SCHED_OTHER: reported as such, not as the caller's SCHED_BATCH. */
    pthread_attr_t explicit_other;
    pthread_attr_init(&explicit_other);
    CHECK_EQ(pthread_attr_setinheritsched(&explicit_other, PTHREAD_EXPLICIT_SCHED), 0);
    CHECK_EQ(pthread_attr_setschedpolicy(&explicit_other, SCHED_OTHER), 0);
    CHECK_EQ(pthread_attr_setschedparam(&explicit_other, &p), 0);
    CHECK_EQ(policy_of_ended(&explicit_other, record_tid), SCHED_OTHER);

    /* Inherited from a creator that set its policy through the API. */
    CHECK_EQ(policy_of_ended(NULL, record_tid), SCHED_BATCH);

    /* Changed by the thread itself before it ended. */
    CHECK_EQ(policy_of_ended(NULL, become_idle), SCHED_IDLE);

    /* A live thread: the kernel's answer (here the inherited SCHED_BATCH). */
    pthread_barrier_init(&live_barrier, NULL, 2);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, live, NULL), 0);
    pthread_attr_t a;
    int policy = -1;
    CHECK_EQ(pthread_getattr_np(t, &a), 0);
    CHECK_EQ(pthread_attr_getschedpolicy(&a, &policy), 0);
    CHECK_EQ(policy, SCHED_BATCH);
    pthread_attr_destroy(&a);
    pthread_barrier_wait(&live_barrier);
    CHECK_EQ(pthread_join(t, NULL), 0);
    pthread_attr_destroy(&explicit_other);

    if (tc_failures) { printf("%d failures\n", tc_failures); return 1; }
    printf("ok\n");
    return 0;
}
