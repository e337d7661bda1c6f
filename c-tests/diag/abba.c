/* Two threads take two locks in opposite orders, one after the other: no deadlock happens
 * in this run, but the orders can deadlock. `order` reports it; with
 * RPTHREAD_DIAG_ON_CYCLE=edeadlk the second thread's lock call fails with EDEADLK. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;

static void *forward(void *arg) {
    (void)arg;
    pthread_mutex_lock(&lock_a);
    pthread_mutex_lock(&lock_b);
    pthread_mutex_unlock(&lock_b);
    pthread_mutex_unlock(&lock_a);
    return NULL;
}

static void *backward(void *arg) {
    int *rc = arg;
    pthread_mutex_lock(&lock_b);
    *rc = pthread_mutex_lock(&lock_a);
    if (*rc == 0) pthread_mutex_unlock(&lock_a);
    pthread_mutex_unlock(&lock_b);
    return NULL;
}

int main(void) {
    pthread_t t;
    int rc = -1;
    pthread_setname_np(pthread_self(), "abba-main");
    pthread_create(&t, NULL, forward, NULL);
    pthread_join(t, NULL);
    pthread_create(&t, NULL, backward, &rc);
    pthread_join(t, NULL);
    printf("second order: lock returned %s\n", rc == 0 ? "0" : strerror(rc));
    return 0;
}
