/* fork() while other threads are creating, joining and detaching threads (and malloc'ing,
 * and reading the default attributes):
 * the child never inherits a lock held by a thread that does not exist there, so it can
 * create and join threads itself and exit 0. 500 forks against 4 churning threads. */
// rpthread-test: timeout=60
#include "thread_check.h"
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

static TC_ATOMIC(int) stop;

static void *leaf(void *arg) { return (void *)(long)tc_malloc_work(100, (long)arg); }

static void *churn(void *arg) {
    long n = (long)arg;
    while (!stop) {
        pthread_t t;
        if (pthread_create(&t, NULL, leaf, (void *)n) == 0) {
            if (n++ % 3 == 0) pthread_detach(t);
            else pthread_join(t, NULL);
        }
    }
    return NULL;
}

/* pthread_attr_init and pthread_getattr_default_np read the process defaults under a lock. */
static void *attr_churn(void *arg) {
    (void)arg;
    while (!stop) {
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_destroy(&a);
        pthread_getattr_default_np(&a);
        pthread_attr_destroy(&a);
    }
    return NULL;
}

static int child(void) {
    for (long i = 0; i < 3; i++) {
        pthread_t t;
        void *v;
        if (pthread_create(&t, NULL, leaf, (void *)i) != 0) return 10;
        if (pthread_join(t, &v) != 0) return 11;
        if ((long)v <= 0) return 12;
    }
    return 0;
}

int main(void) {
    pthread_t c[3], ac;
    for (long i = 0; i < 3; i++) CHECK(pthread_create(&c[i], NULL, churn, (void *)i) == 0, "create");
    CHECK(pthread_create(&ac, NULL, attr_churn, NULL) == 0, "create");
    int bad = 0;
    for (int i = 0; i < 500; i++) {
        pid_t pid = fork();
        if (pid == 0) _exit(child());
        if (pid < 0) { CHECK(0, "fork"); break; }
        int st = 0;
        /* a child that deadlocks is killed after 10 s and reported */
        for (int ms = 0; ms < 10000; ms++) {
            pid_t r = waitpid(pid, &st, WNOHANG);
            if (r == pid) break;
            if (ms == 9999) { kill(pid, SIGKILL); waitpid(pid, &st, 0); }
            usleep(1000);
        }
        if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
            bad++;
            CHECK(0, "fork %d: child status %#x", i, st);
            if (bad > 3) break;
        }
    }
    stop = 1;
    for (int i = 0; i < 3; i++) CHECK(pthread_join(c[i], NULL) == 0, "join");
    CHECK(pthread_join(ac, NULL) == 0, "join");
    return tc_result("thread_fork_churn");
}
