/* setresgid() repeated while other threads create, join and detach threads: glibc's
 * SIGSETXID broadcast must neither hang on a thread that is starting or exiting nor miss a
 * running one. Every thread checks, when it starts and ends, that its gids are one of the two
 * values main alternates between and that all three are equal. Some creations ask for an
 * impossible CPU set, so their thread fails its set-up and ends before user code while
 * setxid() calls run. Then main calls pthread_exit
 * while a thread loops on setresgid() (in child processes). Needs root. */
// rpthread-test: timeout=60
#include "thread_check.h"
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>

static TC_ATOMIC(int) stop;
static TC_ATOMIC(int) torn;

static void check_ids(void) {
    gid_t r, e, s;
    getresgid(&r, &e, &s);
    if (!(r == e && e == s && (r == 0 || r == 4321))) torn++;
}

static void *leaf(void *arg) {
    check_ids();
    tc_malloc_work(64, (long)arg);
    check_ids();
    return NULL;
}

static void *churn(void *arg) {
    long n = (long)arg;
    /* every 4th create asks for an impossible CPU set: the new thread fails its set-up and
     * ends before user code (pthread_create: EINVAL), still answering setxid() */
    pthread_attr_t bad;
    pthread_attr_init(&bad);
    cpu_set_t none;
    CPU_ZERO(&none);
    CPU_SET(CPU_SETSIZE - 1, &none);
    pthread_attr_setaffinity_np(&bad, sizeof none, &none);
    while (!stop) {
        pthread_t t;
        if (n % 4 == 3) {
            int rc = pthread_create(&t, &bad, leaf, (void *)n++);
            if (rc == 0) { pthread_join(t, NULL); torn++; } /* CPU 1023 should not exist */
            continue;
        }
        if (pthread_create(&t, NULL, leaf, (void *)n) == 0) {
            if (n++ % 2) pthread_detach(t);
            else pthread_join(t, NULL);
        }
    }
    pthread_attr_destroy(&bad);
    return NULL;
}

/* In a child process: main calls pthread_exit while a thread of ours loops on setresgid();
 * the thread ends the process when done. */
static void *setxid_loop(void *arg) {
    (void)arg;
    for (int i = 0; i < 300; i++) {
        gid_t g = (i % 2) ? 4321 : 0;
        if (setresgid(g, g, g) != 0) _exit(3);
    }
    _exit(0);
}

static void main_exits_during_setxid(void) {
    for (int round = 0; round < 20; round++) {
        pid_t pid = fork();
        if (pid == 0) {
            pthread_t t;
            if (pthread_create(&t, NULL, setxid_loop, NULL) != 0) _exit(2);
            pthread_exit(NULL);
        }
        int st = 0;
        for (int ms = 0; ms < 10000; ms++) {
            if (waitpid(pid, &st, WNOHANG) == pid) break;
            if (ms == 9999) { kill(pid, SIGKILL); waitpid(pid, &st, 0); }
            usleep(1000);
        }
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "round %d: child status %#x (hung in setxid?)", round, st);
        if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) break;
    }
}

int main(void) {
    if (geteuid() != 0) {
        printf("thread_setxid_churn: SKIP (needs root)\n");
        return 0;
    }
    pthread_t c[3];
    for (long i = 0; i < 3; i++) CHECK(pthread_create(&c[i], NULL, churn, (void *)i) == 0, "create");
    for (int i = 0; i < 3000; i++) {
        gid_t g = (i % 2) ? 4321 : 0;
        if (setresgid(g, g, g) != 0) { CHECK(0, "setresgid %d", i); break; }
    }
    stop = 1;
    for (int i = 0; i < 3; i++) CHECK(pthread_join(c[i], NULL) == 0, "join");
    CHECK(torn == 0, "%d threads saw inconsistent gids", (int)torn);
    /* the last call (i = 2999) set 4321 */
    gid_t r, e, s;
    getresgid(&r, &e, &s);
    CHECK(r == 4321 && e == 4321 && s == 4321, "main gids %d %d %d", r, e, s);
    main_exits_during_setxid();
    return tc_result("thread_setxid_churn");
}
