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

#define CHECK(c) do { if (!(c)) { printf("line %d: failed: %s (errno %d)\n", __LINE__, #c, errno); return 1; } } while (0)

static void on_alarm(int s) { (void)s; }

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sigaction(SIGALRM, &sa, NULL);

  errno = 1234;
  CHECK(sleep(0) == 0 && errno == 1234);
  alarm(1);
  unsigned left = sleep(5);
  CHECK(left >= 1 && left <= 4);
  struct timespec ts = {5, 0}, rem = {0, 0};
  alarm(1);
  CHECK(nanosleep(&ts, &rem) == -1 && errno == EINTR && rem.tv_sec >= 1);
  alarm(1);
  CHECK(usleep(3000000) == -1 && errno == EINTR);
  ts.tv_nsec = 2000000000;
  CHECK(nanosleep(&ts, NULL) == -1 && errno == EINVAL);
  errno = 0;
  CHECK(clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL) == EINVAL && errno == 0);
  ts.tv_sec = 0; ts.tv_nsec = 1000;
  CHECK(clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &ts, NULL) == EINVAL);
  CHECK(clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL) == 0);
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  CHECK(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &now, NULL) == 0);

  char buf[4];
  CHECK(read(-1, buf, 1) == -1 && errno == EBADF);
  CHECK(write(-1, buf, 1) == -1 && errno == EBADF);
  CHECK(close(-1) == -1 && errno == EBADF);
  CHECK(open("/nonexistent/x", O_RDONLY) == -1 && errno == ENOENT);
  char path[64];
  snprintf(path, sizeof path, "/tmp/rpthread-sem-%d", (int)getpid());
  int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0640);
  CHECK(fd >= 0);
  CHECK(write(fd, "abcd", 4) == 4);
  CHECK(pwrite(fd, "X", 1, 1) == 1);
  CHECK(pread(fd, buf, 4, 0) == 4 && memcmp(buf, "aXcd", 4) == 0);
  CHECK(fsync(fd) == 0 && fdatasync(fd) == 0);
  char vb[2];
  struct iovec v = {vb, 2};
  CHECK(preadv(fd, &v, 1, 2) == 2 && memcmp(vb, "cd", 2) == 0);
  CHECK(pwritev(fd, &v, 1, 4) == 2);
  CHECK(pread(fd, buf, 4, 2) == 4 && memcmp(buf, "cdcd", 4) == 0);
  CHECK(close(fd) == 0);
  fd = creat(path, 0600);
  CHECK(fd >= 0 && read(fd, buf, 1) == -1 && errno == EBADF); /* write-only, truncated */
  CHECK(close(fd) == 0);
  pid_t pid = fork();
  if (pid == 0) _exit(7);
  int status;
  struct rusage ru;
  CHECK(wait4(pid, &status, 0, &ru) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 7);
  CHECK(waitpid(-1, &status, WNOHANG) == -1 && errno == ECHILD);
  int fd2 = openat(AT_FDCWD, path, O_RDONLY);
  CHECK(fd2 >= 0 && close(fd2) == 0);
  unlink(path);

  struct timeval tv = {0, 1000};
  CHECK(select(0, NULL, NULL, NULL, &tv) == 0);
  CHECK(poll(NULL, 0, 1) == 0);

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigprocmask(SIG_BLOCK, &set, NULL);
  raise(SIGUSR1);
  int sig = 0;
  CHECK(sigwait(&set, &sig) == 0 && sig == SIGUSR1);
  raise(SIGUSR1);
  siginfo_t si;
  CHECK(sigwaitinfo(&set, &si) == SIGUSR1 && si.si_signo == SIGUSR1);
  ts.tv_sec = 0; ts.tv_nsec = 1000;
  CHECK(sigtimedwait(&set, NULL, &ts) == -1 && errno == EAGAIN);
  /* pthread-family call so the harness sees this program bound to us */
  pthread_testcancel();
  return 0;
}
