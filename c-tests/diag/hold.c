/* Two critical sections: `slow_lock` held for 500 ms, `quick_lock` for 5 ms (twice each,
 * the second time after a condition wait on the mutex, which does not count as holding it).
 * With RPTHREAD_DIAG=hold and RPTHREAD_DIAG_HOLD_MS=100 only slow_lock is reported.
 * argv[1] "waited": a thread holds `stuck_lock` while it blocks in read() for 600 ms, and
 * main waits for the lock: the hold is reported while it lasts, with the holder's stack. */
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

static pthread_mutex_t stuck_lock = PTHREAD_MUTEX_INITIALIZER;
static int pipefd[2];

__attribute__((noinline)) static void read_slowly(void) {
    char c;
    while (read(pipefd[0], &c, 1) < 0) {}
}

static void *stuck(void *arg) {
    (void)arg;
    pthread_mutex_lock(&stuck_lock);
    read_slowly();
    pthread_mutex_unlock(&stuck_lock);
    return NULL;
}

static void *writer(void *arg) {
    (void)arg;
    usleep(600000);
    if (write(pipefd[1], "x", 1) != 1) return NULL;
    return NULL;
}

int main(int argc, char **argv) {
    if (argc > 1) {
        pthread_t t, w;
        if (pipe(pipefd) != 0) return 1;
        pthread_create(&t, NULL, stuck, NULL);
        pthread_create(&w, NULL, writer, NULL);
        usleep(50000);
        pthread_mutex_lock(&stuck_lock);
        pthread_mutex_unlock(&stuck_lock);
        pthread_join(t, NULL);
        pthread_join(w, NULL);
        printf("done\n");
        return 0;
    }
    hold_for(&quick_lock, 5);
    hold_for(&slow_lock, 500);
    cond_wait_ms(&quick_lock, 300);
    hold_for(&quick_lock, 5);
    printf("done\n");
    return 0;
}
