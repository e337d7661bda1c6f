/* A program linked with jemalloc (as Debian's redis-server is): jemalloc registers fork
 * handlers and a thread-specific-data key while it initializes, before rpthread's own
 * constructor has run. fork() must return in the parent and the child (it self-deadlocked
 * when a pthread call made while jemalloc initialized allocated), and jemalloc's key
 * destructor must run in every thread that ends (threads whose destructor was skipped left
 * dangling entries in jemalloc's thread list: a crash in realloc of a later thread). */
// rpthread-test: flags=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2; timeout=120
#include "thread_check.h"
#include <pthread.h>
#include <sys/wait.h>

static void *churn(void *a) {
    (void)a;
    char *p = NULL;
    for (int i = 1; i < 4000; i++) {
        p = realloc(p, (size_t)(i * 37) % 5000 + 1);
        p[0] = 1;
        if (i % 100 == 0) { free(p); p = NULL; }
    }
    free(p);
    return NULL;
}

static int fork_and_wait(void) {
    pid_t pid = fork();
    if (pid == 0) {
        void *p = malloc(100); /* the child's allocator works */
        free(p);
        _exit(7);
    }
    int st = 0;
    return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int main(void) {
    void *p = malloc(100);
    free(p);
    CHECK(fork_and_wait() == 7, "fork with no thread yet");
    for (int round = 0; round < 30; round++) {
        pthread_t t[4];
        for (int i = 0; i < 4; i++) CHECK(pthread_create(&t[i], NULL, churn, NULL) == 0, "create");
        if (round % 10 == 0) CHECK(fork_and_wait() == 7, "fork while threads run");
        for (int i = 0; i < 4; i++) CHECK(pthread_join(t[i], NULL) == 0, "join");
    }
    CHECK(fork_and_wait() == 7, "fork after the threads ended");
    return tc_result("thread_fork_jemalloc");
}
