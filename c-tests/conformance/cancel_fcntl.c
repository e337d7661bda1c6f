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
#include "check.h"


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
  REQUIRE(fd >= 0);
  unlink(path);
  int ready[2];
  REQUIRE(pipe(ready) == 0);
  pid_t child = fork();
  if (child == 0) {
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
    if (fcntl(fd, F_SETLK, &fl)) _exit(1);
    if (write(ready[1], "x", 1) != 1) _exit(1);
    for (;;) pause();
  }
  char c;
  REQUIRE(read(ready[0], &c, 1) == 1);
  pthread_t t;
  void *res;
  REQUIRE(pthread_create(&t, NULL, locker, NULL) == 0);
  while (!started) usleep(1000);
  usleep(20000);
  REQUIRE(pthread_cancel(t) == 0 && pthread_join(t, &res) == 0 && res == PTHREAD_CANCELED);
  /* lockf: F_TEST sees the child's lock, F_TLOCK fails, F_LOCK waits and is cancelled. */
  REQUIRE(lseek(fd, 0, SEEK_SET) == 0);
  REQUIRE(lockf(fd, F_TEST, 1) == -1 && errno == EACCES);
  REQUIRE(lockf(fd, F_TLOCK, 1) == -1 && (errno == EACCES || errno == EAGAIN));
  REQUIRE(lockf(fd, 99, 1) == -1 && errno == EINVAL);
  started = 0;
  REQUIRE(pthread_create(&t, NULL, lockf_waiter, NULL) == 0);
  while (!started) usleep(1000);
  usleep(20000);
  REQUIRE(pthread_cancel(t) == 0 && pthread_join(t, &res) == 0 && res == PTHREAD_CANCELED);
  kill(child, SIGKILL);
  waitpid(child, NULL, 0);
  REQUIRE(lockf(fd, F_TEST, 1) == 0 && lockf(fd, F_TLOCK, 1) == 0 && lockf(fd, F_ULOCK, 1) == 0);

  int fl = fcntl(fd, F_GETFL);
  REQUIRE(fl >= 0 && (fl & O_ACCMODE) == O_RDWR);
  REQUIRE(fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0 && (fcntl(fd, F_GETFL) & O_NONBLOCK));
  int d = fcntl(fd, F_DUPFD_CLOEXEC, 10);
  REQUIRE(d >= 10 && (fcntl(d, F_GETFD) & FD_CLOEXEC));
  REQUIRE(fcntl(-1, F_GETFL) == -1 && errno == EBADF);
  REQUIRE(fcntl(fd, F_SETOWN, -getpgrp()) == 0 && fcntl(fd, F_GETOWN) == -getpgrp());
  REQUIRE(fcntl(fd, F_SETOWN, getpid()) == 0 && fcntl(fd, F_GETOWN) == getpid());
  return 0;
}
