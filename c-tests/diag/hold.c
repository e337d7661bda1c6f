/* Two critical sections: `slow_lock` held for 500 ms, `quick_lock` for 5 ms (twice each,
 * the second time after a condition wait on the mutex, which does not count as holding it).
 * With RPTHREAD_DIAG=hold and RPTHREAD_DIAG_HOLD_MS=100 only slow_lock is reported. */
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t slow_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t quick_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

static void hold_for(pthread_mutex_t *m, int ms) {
    pthread_mutex_lock(m);
    usleep(ms * 1000);
    pthread_mutex_unlock(m);
}

static void cond_wait_ms(pthread_mutex_t *m, int ms) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += ms * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    pthread_mutex_lock(m);
    pthread_cond_timedwait(&cv, m, &ts); /* released while waiting: not a hold */
    pthread_mutex_unlock(m);
}

int main(void) {
    hold_for(&quick_lock, 5);
    hold_for(&slow_lock, 500);
    cond_wait_ms(&quick_lock, 300);
    hold_for(&quick_lock, 5);
    printf("done\n");
    return 0;
}
