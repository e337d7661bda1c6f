/* The cancellation-point functions behave as glibc's otherwise: sleep returns the seconds
   left when a signal handler interrupts it and keeps errno on success; usleep/nanosleep
   report EINTR; clock_nanosleep returns error numbers; read/write/open/close set errno;
   sigwait returns the signal; select/poll time out. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include "check.h"


static void on_alarm(int s) { (void)s; }

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sigaction(SIGALRM, &sa, NULL);

  errno = 1234;
  REQUIRE(sleep(0) == 0 && errno == 1234);
  alarm(1);
  unsigned left = sleep(5);
  REQUIRE(left >= 1 && left <= 4);
  struct timespec ts = {5, 0}, rem = {0, 0};
  alarm(1);
  REQUIRE(nanosleep(&ts, &rem) == -1 && errno == EINTR && rem.tv_sec >= 1);
  alarm(1);
  REQUIRE(usleep(3000000) == -1 && errno == EINTR);
  ts.tv_nsec = 2000000000;
  REQUIRE(nanosleep(&ts, NULL) == -1 && errno == EINVAL);
  errno = 0;
  REQUIRE(clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL) == EINVAL && errno == 0);
  ts.tv_sec = 0; ts.tv_nsec = 1000;
  REQUIRE(clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &ts, NULL) == EINVAL);
  REQUIRE(clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL) == 0);
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  REQUIRE(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &now, NULL) == 0);

  char buf[4];
  REQUIRE(read(-1, buf, 1) == -1 && errno == EBADF);
  REQUIRE(write(-1, buf, 1) == -1 && errno == EBADF);
  REQUIRE(close(-1) == -1 && errno == EBADF);
  REQUIRE(open("/nonexistent/x", O_RDONLY) == -1 && errno == ENOENT);
  char path[64];
  snprintf(path, sizeof path, "/tmp/rpthread-sem-%d", (int)getpid());
  int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0640);
  REQUIRE(fd >= 0);
  REQUIRE(write(fd, "abcd", 4) == 4);
  REQUIRE(pwrite(fd, "X", 1, 1) == 1);
  REQUIRE(pread(fd, buf, 4, 0) == 4 && memcmp(buf, "aXcd", 4) == 0);
  REQUIRE(fsync(fd) == 0 && fdatasync(fd) == 0);
  char vb[2];
  struct iovec v = {vb, 2};
  REQUIRE(preadv(fd, &v, 1, 2) == 2 && memcmp(vb, "cd", 2) == 0);
  REQUIRE(pwritev(fd, &v, 1, 4) == 2);
  REQUIRE(pread(fd, buf, 4, 2) == 4 && memcmp(buf, "cdcd", 4) == 0);
  REQUIRE(close(fd) == 0);
  fd = creat(path, 0600);
  REQUIRE(fd >= 0 && read(fd, buf, 1) == -1 && errno == EBADF); /* write-only, truncated */
  REQUIRE(close(fd) == 0);
  pid_t pid = fork();
  if (pid == 0) _exit(7);
  int status;
  struct rusage ru;
  REQUIRE(wait4(pid, &status, 0, &ru) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 7);
  REQUIRE(waitpid(-1, &status, WNOHANG) == -1 && errno == ECHILD);
  int fd2 = openat(AT_FDCWD, path, O_RDONLY);
  REQUIRE(fd2 >= 0 && close(fd2) == 0);
  unlink(path);

  struct timeval tv = {0, 1000};
  REQUIRE(select(0, NULL, NULL, NULL, &tv) == 0);
  REQUIRE(poll(NULL, 0, 1) == 0);

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigprocmask(SIG_BLOCK, &set, NULL);
  raise(SIGUSR1);
  int sig = 0;
  REQUIRE(sigwait(&set, &sig) == 0 && sig == SIGUSR1);
  raise(SIGUSR1);
  siginfo_t si;
  REQUIRE(sigwaitinfo(&set, &si) == SIGUSR1 && si.si_signo == SIGUSR1);
  ts.tv_sec = 0; ts.tv_nsec = 1000;
  REQUIRE(sigtimedwait(&set, NULL, &ts) == -1 && errno == EAGAIN);
  /* pthread-family call so the harness sees this program bound to us */
  pthread_testcancel();
  return 0;
}
