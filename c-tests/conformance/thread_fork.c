/* fork() from one of our threads while others run: the child (only the forking thread
 * exists there) prints, mallocs, creates and joins a thread of its own, and exits 0; the
 * parent waits for it, then its own threads carry on. Also fork from main while threads run. */
#include "thread_check.h"
#include <pthread.h>
#include <sys/wait.h>

static TC_ATOMIC(int) stop;

static void *busy(void *arg) {
    (void)arg;
    while (!stop) {
        void *p = malloc(100);
        free(p);
    }
    return NULL;
}

static void *child_thread(void *arg) {
    char *s = malloc(64);
    snprintf(s, 64, "child thread %ld", (long)arg);
    return s;
}

/* Runs in the child of fork. */
static int child_work(void) {
    printf("fork child %d: printing\n", getpid());
    fflush(stdout);
    char *big = malloc(1 << 20);
    if (!big) return 10;
    memset(big, 1, 1 << 20);
    free(big);
    for (long i = 0; i < 3; i++) {
        pthread_t t;
        void *v;
        if (pthread_create(&t, NULL, child_thread, (void *)i) != 0) return 11;
        if (pthread_join(t, &v) != 0) return 12;
        char want[64];
        snprintf(want, sizeof want, "child thread %ld", i);
        if (strcmp(v, want) != 0) return 13;
        free(v);
    }
    pthread_t me = pthread_self();
    if (!pthread_equal(me, pthread_self())) return 14;
    return 0;
}

static void *forker(void *arg) {
    (void)arg;
    for (int i = 0; i < 5; i++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            int rc = child_work();
            fflush(stdout);
            _exit(rc);
        }
        CHECK(pid > 0, "fork");
        int st = 0;
        CHECK(waitpid(pid, &st, 0) == pid, "waitpid");
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %#x (exit %d)", st, WEXITSTATUS(st));
    }
    return NULL;
}

int main(void) {
    pthread_t busy_t[3], f;
    for (int i = 0; i < 3; i++) CHECK(pthread_create(&busy_t[i], NULL, busy, NULL) == 0, "create");
    CHECK(pthread_create(&f, NULL, forker, NULL) == 0, "create forker");
    CHECK(pthread_join(f, NULL) == 0, "join forker");
    /* fork from main while our threads run; the child exits through exit() (atexit, stdio) */
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) exit(child_work());
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0, "main's child %#x", st);
    stop = 1;
    for (int i = 0; i < 3; i++) CHECK(pthread_join(busy_t[i], NULL) == 0, "join");
    /* and the parent still creates threads */
    void *v;
    CHECK(pthread_create(&f, NULL, child_thread, (void *)7L) == 0, "create after fork");
    CHECK(pthread_join(f, &v) == 0 && strcmp(v, "child thread 7") == 0, "join after fork");
    free(v);
    return tc_result("thread_fork");
}
