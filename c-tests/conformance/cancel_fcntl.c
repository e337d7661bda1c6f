/* fcntl and lockf: F_SETLKW and F_LOCK are cancellation points (a thread waiting for a lock a child process
   holds is cancelled); other commands behave as glibc's (F_GETFL/F_SETFL, F_GETOWN,
   F_DUPFD_CLOEXEC, EBADF). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK(c) do { if (!(c)) { printf("line %d: failed: %s (errno %d)\n", __LINE__, #c, errno); return 1; } } while (0)

static int fd;
static volatile int started;

static void *locker(void *arg) {
  (void)arg;
  struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
  started = 1;
  fcntl(fd, F_SETLKW, &fl);
  puts("lock acquired?");
  return NULL;
}

static void *lockf_waiter(void *arg) {
  (void)arg;
  started = 1;
  lockf(fd, F_LOCK, 1);
  puts("lockf returned?");
  return NULL;
}

int main(void) {
  char path[64];
  snprintf(path, sizeof path, "/tmp/rpthread-fcntl-%d", (int)getpid());
  fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
  CHECK(fd >= 0);
  unlink(path);
  int ready[2];
  CHECK(pipe(ready) == 0);
  pid_t child = fork();
  if (child == 0) {
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
    if (fcntl(fd, F_SETLK, &fl)) _exit(1);
    if (write(ready[1], "x", 1) != 1) _exit(1);
    for (;;) pause();
  }
  char c;
  CHECK(read(ready[0], &c, 1) == 1);
  pthread_t t;
  void *res;
  CHECK(pthread_create(&t, NULL, locker, NULL) == 0);
  while (!started) usleep(1000);
  usleep(20000);
  CHECK(pthread_cancel(t) == 0 && pthread_join(t, &res) == 0 && res == PTHREAD_CANCELED);
  /* lockf: F_TEST sees the child's lock, F_TLOCK fails, F_LOCK waits and is cancelled. */
  CHECK(lseek(fd, 0, SEEK_SET) == 0);
  CHECK(lockf(fd, F_TEST, 1) == -1 && errno == EACCES);
  CHECK(lockf(fd, F_TLOCK, 1) == -1 && (errno == EACCES || errno == EAGAIN));
  CHECK(lockf(fd, 99, 1) == -1 && errno == EINVAL);
  started = 0;
  CHECK(pthread_create(&t, NULL, lockf_waiter, NULL) == 0);
  while (!started) usleep(1000);
  usleep(20000);
  CHECK(pthread_cancel(t) == 0 && pthread_join(t, &res) == 0 && res == PTHREAD_CANCELED);
  kill(child, SIGKILL);
  waitpid(child, NULL, 0);
  CHECK(lockf(fd, F_TEST, 1) == 0 && lockf(fd, F_TLOCK, 1) == 0 && lockf(fd, F_ULOCK, 1) == 0);

  int fl = fcntl(fd, F_GETFL);
  CHECK(fl >= 0 && (fl & O_ACCMODE) == O_RDWR);
  CHECK(fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0 && (fcntl(fd, F_GETFL) & O_NONBLOCK));
  int d = fcntl(fd, F_DUPFD_CLOEXEC, 10);
  CHECK(d >= 10 && (fcntl(d, F_GETFD) & FD_CLOEXEC));
  CHECK(fcntl(-1, F_GETFL) == -1 && errno == EBADF);
  CHECK(fcntl(fd, F_SETOWN, -getpgrp()) == 0 && fcntl(fd, F_GETOWN) == -getpgrp());
  CHECK(fcntl(fd, F_SETOWN, getpid()) == 0 && fcntl(fd, F_GETOWN) == getpid());
  return 0;
}
