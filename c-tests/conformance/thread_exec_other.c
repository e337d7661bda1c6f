/* execve from a thread other than the main thread, while other threads (one of them joining
 * the main thread, one blocked on a mutex) exist: the kernel turns the caller into the new
 * program's only thread, which runs normally. Run in a child process; the parent checks the
 * exec'ed program's exit status and output. */
#include "thread_check.h"
#include <pthread.h>
#include <sys/wait.h>

static pthread_t main_id;
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;

static void *joins_main(void *a) { (void)a; pthread_join(main_id, NULL); return NULL; }
static void *blocks(void *a) { (void)a; pthread_mutex_lock(&m); return NULL; }

static void *execs(void *a) {
    (void)a;
    char *argv[] = {"/bin/sh", "-c", "echo exec-ok; exit 7", NULL};
    execv("/bin/sh", argv);
    _exit(99);
}

int main(void) {
    int out[2];
    CHECK(pipe(out) == 0, "pipe");
    pid_t pid = fork();
    if (pid == 0) {
        dup2(out[1], 1);
        main_id = pthread_self();
        pthread_mutex_lock(&m);
        pthread_t t1, t2, t3;
        pthread_create(&t1, NULL, joins_main, NULL);
        pthread_create(&t2, NULL, blocks, NULL);
        usleep(20000);
        pthread_create(&t3, NULL, execs, NULL);
        for (;;) pause();
    }
    close(out[1]);
    char buf[64] = "";
    ssize_t n = read(out[0], buf, sizeof buf - 1);
    if (n > 0) buf[n] = 0;
    int st = -1;
    CHECK(waitpid(pid, &st, 0) == pid, "waitpid");
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 7, "exec'ed program status %#x", st);
    CHECK(strcmp(buf, "exec-ok\n") == 0, "output %s", buf);
    return tc_result("thread_exec_other");
}
