// Named semaphores: /dev/shm/sem.<name>, O_CREAT/O_EXCL, mode, initial value, the same
// address for a second open in one process, refcounted close, unlink, bad names, and a
// parent and a forked child that opens the semaphore by name.
// rpthread-test: flags=-lrt
#include <pthread.h>
#include <semaphore.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"


int main(void) {
    char name[64], path[96], name2[64];
    snprintf(name, sizeof name, "/rpthread-ct-%d", (int)getpid());
    snprintf(name2, sizeof name2, "/rpthread-ct2-%d", (int)getpid());
    snprintf(path, sizeof path, "/dev/shm/sem.%s", name + 1);
    sem_unlink(name);

    errno = 0;
    CHECK(sem_open(name, 0) == SEM_FAILED && errno == ENOENT);
    mode_t old = umask(0);
    sem_t *a = sem_open(name, O_CREAT | O_EXCL, 0640, 3);
    umask(old);
    CHECK(a != SEM_FAILED);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0640 && st.st_size >= (off_t)sizeof(sem_t));
    errno = 0;
    CHECK(sem_open(name, O_CREAT | O_EXCL, 0600, 0) == SEM_FAILED && errno == EEXIST);
    sem_t *b = sem_open(name, O_CREAT, 0600, 9); // exists: value ignored
    CHECK(b == a);
    sem_t *c = sem_open(name, 0);
    CHECK(c == a);
    int v = -1;
    CHECK(sem_getvalue(a, &v) == 0 && v == 3);
    errno = 0;
    CHECK(sem_open(name2, O_CREAT, 0600, (unsigned)SEM_VALUE_MAX + 1) == SEM_FAILED && errno == EINVAL);
    errno = 0;
    CHECK(sem_open("/", O_CREAT, 0600, 0) == SEM_FAILED && errno == EINVAL);
    errno = 0;
    CHECK(sem_open("/a/b", O_CREAT, 0600, 0) == SEM_FAILED && errno == EINVAL);

    // Parent and child: the child opens by name, takes the 3 tokens, posts 5 on a second one.
    sem_t *back = sem_open(name2, O_CREAT | O_EXCL, 0600, 0);
    CHECK(back != SEM_FAILED);
    pid_t pid = fork();
    if (pid == 0) {
        sem_t *x = sem_open(name, 0);
        sem_t *y = sem_open(name2, 0);
        if (x == SEM_FAILED || y == SEM_FAILED) _exit(2);
        for (int i = 0; i < 3; i++) if (sem_wait(x) != 0) _exit(3);
        for (int i = 0; i < 5; i++) sem_post(y);
        // Then wait for the parent's post.
        if (sem_wait(x) != 0) _exit(4);
        sem_close(x);
        sem_close(y);
        _exit(0);
    }
    for (int i = 0; i < 5; i++) CHECK(sem_wait(back) == 0);
    CHECK(sem_getvalue(a, &v) == 0 && v == 0);
    CHECK(sem_post(a) == 0);
    int ws;
    waitpid(pid, &ws, 0);
    CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);

    // Refcounted close: a, b, c are one mapping with three references.
    CHECK(sem_close(a) == 0);
    CHECK(sem_close(b) == 0);
    CHECK(sem_post(c) == 0); // still mapped
    CHECK(sem_close(c) == 0);
    errno = 0;
    CHECK(sem_close(c) == -1 && errno == EINVAL);
    CHECK(sem_close(back) == 0);

    CHECK(sem_unlink(name) == 0);
    CHECK(sem_unlink(name2) == 0);
    errno = 0;
    CHECK(sem_unlink(name) == -1 && errno == ENOENT);
    CHECK(access(path, F_OK) != 0);

    printf(tc_failures ? "FAIL\n" : "ok\n");
    return tc_failures != 0;
}
