/* Cancellation inside glibc's own functions: a thread blocked in fprintf (a full pipe), in
 * fgets (an empty pipe), in system() and in sigpause() acts on pthread_cancel: its cleanup
 * handler runs and pthread_join returns PTHREAD_CANCELED. glibc implements these on its
 * internal cancellable system calls, which read the thread's cancellation state in glibc's
 * TCB: the state rpthread keeps there too. */
#include "thread_check.h"
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

static TC_ATOMIC(int) handlers, started;
static int fds[2];
static FILE *w, *r;

static void handler(void *a) { (void)a; handlers++; }

static void *in_fprintf(void *a) {
    (void)a;
    static char line[4096];
    memset(line, 'x', sizeof line - 1);
    pthread_cleanup_push(handler, NULL);
    started = 1;
    for (;;) fprintf(w, "%s\n", line); /* the pipe fills: write(2) blocks */
    pthread_cleanup_pop(0);
    return NULL;
}

static void *in_fgets(void *a) {
    (void)a;
    char buf[64];
    pthread_cleanup_push(handler, NULL);
    started = 1;
    if (fgets(buf, sizeof buf, r)) fputs("fgets returned\n", stderr);
    pthread_cleanup_pop(0);
    return NULL;
}

static void *in_system(void *a) {
    (void)a;
    pthread_cleanup_push(handler, NULL);
    started = 1;
    if (system("sleep 30") >= 0) fputs("system returned\n", stderr);
    pthread_cleanup_pop(0);
    return NULL;
}

static void *in_sigpause(void *a) {
    (void)a;
    pthread_cleanup_push(handler, NULL);
    started = 1;
    sigpause(SIGINT); /* X/Open: unblock SIGINT and wait for a signal */
    fputs("sigpause returned\n", stderr);
    pthread_cleanup_pop(0);
    return NULL;
}

static void run(void *(*fn)(void *), const char *what) {
    pthread_t t;
    void *res = NULL;
    int before = handlers;
    started = 0;
    CHECK(pthread_create(&t, NULL, fn, NULL) == 0, "create %s", what);
    while (!started) usleep(1000);
    usleep(100000); /* into the blocking call */
    CHECK(pthread_cancel(t) == 0, "cancel %s", what);
    CHECK(pthread_join(t, &res) == 0, "join %s", what);
    CHECK(res == PTHREAD_CANCELED, "%s: join value %p", what, res);
    CHECK(handlers == before + 1, "%s: cleanup handler ran %d times", what, handlers - before);
}

int main(void) {
    CHECK(pipe(fds) == 0, "pipe");
    w = fdopen(fds[1], "w");
    r = fdopen(fds[0], "r");
    run(in_fprintf, "fprintf");
    /* the cancelled fprintf left the stream locked: empty the pipe through the raw fd */
    int fl[2];
    CHECK(pipe(fl) == 0, "pipe 2");
    r = fdopen(fl[0], "r");
    run(in_fgets, "fgets");
    run(in_system, "system");
    run(in_sigpause, "sigpause");
    /* The stream the cancelled fprintf held stays locked (as on glibc): exit() would wait
       for it when flushing all streams, so leave without flushing. */
    int rc = tc_result("cancel_in_glibc");
    fflush(stdout);
    fflush(stderr);
    _exit(rc);
}
