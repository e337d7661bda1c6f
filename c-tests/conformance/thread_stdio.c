/* printf from 8 threads x 10,000 lines into one stream: every line arrives whole, none lost
 * (stdio locking must be on in our threads). Also stdout through a pipe. */
#include "thread_check.h"
#include <pthread.h>
#include <sys/wait.h>

#define THREADS 8
#define LINES 10000

static FILE *out;

static void *writer(void *arg) {
    long id = (long)arg;
    for (int i = 0; i < LINES; i++)
        fprintf(out, "thread %ld line %05d of the printf test\n", id, i);
    return NULL;
}

static void *stdout_writer(void *arg) {
    long id = (long)arg;
    for (int i = 0; i < LINES; i++)
        printf("t%ld %05d\n", id, i);
    return NULL;
}

static void verify(FILE *f, const char *what, int stdout_fmt) {
    static int seen[THREADS][LINES];
    memset(seen, 0, sizeof seen);
    char line[256];
    long lines = 0, bytes = 0;
    while (fgets(line, sizeof line, f)) {
        long id;
        int i;
        int ok = stdout_fmt ? sscanf(line, "t%ld %d", &id, &i) == 2
                            : sscanf(line, "thread %ld line %d of the printf test", &id, &i) == 2;
        size_t want = stdout_fmt ? strlen("t0 00000\n") : strlen("thread 0 line 00000 of the printf test\n");
        if (!ok || id < 0 || id >= THREADS || i < 0 || i >= LINES || strlen(line) != want) {
            CHECK(0, "%s: garbled line %ld: '%s'", what, lines, line);
            return;
        }
        seen[id][i]++;
        lines++;
        bytes += strlen(line);
    }
    long want_bytes = (long)THREADS * LINES *
                      (stdout_fmt ? strlen("t0 00000\n") : strlen("thread 0 line 00000 of the printf test\n"));
    CHECK(lines == THREADS * LINES, "%s: %ld lines, expected %d", what, lines, THREADS * LINES);
    CHECK(bytes == want_bytes, "%s: %ld bytes, expected %ld", what, bytes, want_bytes);
    for (int t = 0; t < THREADS; t++)
        for (int i = 0; i < LINES; i++)
            if (seen[t][i] != 1) {
                CHECK(0, "%s: line %d of thread %d seen %d times", what, i, t, seen[t][i]);
                return;
            }
}

int main(void) {
    pthread_t t[THREADS];
    /* 1: a shared FILE on a temporary file */
    out = tmpfile();
    CHECK(out != NULL, "tmpfile");
    for (long i = 0; i < THREADS; i++) CHECK(pthread_create(&t[i], NULL, writer, (void *)i) == 0, "create");
    for (int i = 0; i < THREADS; i++) CHECK(pthread_join(t[i], NULL) == 0, "join");
    CHECK(fflush(out) == 0, "fflush");
    rewind(out);
    verify(out, "tmpfile", 0);
    fclose(out);

    /* 2: stdout redirected to a pipe read by a child process that copies into a file */
    int p[2];
    CHECK(pipe(p) == 0, "pipe");
    FILE *sink = tmpfile();
    pid_t pid = fork();
    if (pid == 0) {
        close(p[1]);
        char buf[65536];
        ssize_t n;
        while ((n = read(p[0], buf, sizeof buf)) > 0)
            if (fwrite(buf, 1, n, sink) != (size_t)n) _exit(2);
        fflush(sink);
        _exit(0);
    }
    close(p[0]);
    fflush(stdout);
    int saved = dup(1);
    dup2(p[1], 1);
    close(p[1]);
    for (long i = 0; i < THREADS; i++) CHECK(pthread_create(&t[i], NULL, stdout_writer, (void *)i) == 0, "create");
    for (int i = 0; i < THREADS; i++) CHECK(pthread_join(t[i], NULL) == 0, "join");
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0, "reader child");
    rewind(sink);
    verify(sink, "stdout pipe", 1);
    fclose(sink);
    return tc_result("thread_stdio");
}
