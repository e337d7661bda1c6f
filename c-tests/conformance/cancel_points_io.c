/* More cancellation points, each blocking until cancelled: write to a full pipe, open of a
   FIFO without writer, accept, recv, recvmsg, waitpid on a child that never exits, msgrcv,
   ppoll, pselect, sigtimedwait, readv, epoll_wait, mq_receive, wait4, epoll_pwait. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <mqueue.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

enum { N = 15 };
static volatile int handled[N], started[N];
static int full_pipe[2], listen_fd, sock[2], msq, epfd;
static mqd_t mq;
static char mqname[64];
static pid_t child;
static char fifo[64];

static void handler(void *arg) { handled[(long)arg] = 1; }

static void *body(void *arg) {
  long i = (long)arg;
  static char big[65536];
  struct msghdr mh;
  struct iovec iov = {big, 1};
  struct { long type; char text[8]; } msg;
  struct timespec ts = {1000, 0};
  sigset_t set;
  memset(&mh, 0, sizeof mh);
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  pthread_cleanup_push(handler, arg);
  started[i] = 1;
  switch (i) {
  case 0: for (;;) if (write(full_pipe[1], big, sizeof big) < 0) break; break;
  case 1: open(fifo, O_RDONLY); break;
  case 2: accept(listen_fd, NULL, NULL); break;
  case 3: recv(sock[0], big, 1, 0); break;
  case 4: recvmsg(sock[0], &mh, 0); break;
  case 5: waitpid(child, NULL, 0); break;
  case 6: msgrcv(msq, &msg, sizeof msg.text, 0, 0); break;
  case 7: ppoll(NULL, 0, &ts, NULL); break;
  case 8: pselect(0, NULL, NULL, NULL, &ts, NULL); break;
  case 9: sigtimedwait(&set, NULL, &ts); break;
  case 10: readv(sock[1], &iov, 1); break;
  case 11: { struct epoll_event ev; epoll_wait(epfd, &ev, 1, -1); } break;
  case 12: { static char mbuf[8192]; mq_receive(mq, mbuf, sizeof mbuf, NULL); } break;
  case 13: wait4(child, NULL, 0, NULL); break;
  case 14: { struct epoll_event ev; epoll_pwait(epfd, &ev, 1, -1, &set); } break;
  }
  printf("thread %ld: call returned\n", i);
  pthread_cleanup_pop(0);
  return NULL;
}

int main(void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigprocmask(SIG_BLOCK, &set, NULL);
  if (pipe(full_pipe)) return 1;
  snprintf(fifo, sizeof fifo, "/tmp/rpthread-cp-%d", (int)getpid());
  if (mkfifo(fifo, 0600)) { perror("mkfifo"); return 1; }
  listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un { sa_family_t f; char p[108]; } sa = {AF_UNIX, ""};
  snprintf(sa.p + 1, sizeof sa.p - 1, "rpthread-cp-%d", (int)getpid()); /* abstract */
  if (bind(listen_fd, (void *)&sa, sizeof sa) || listen(listen_fd, 1)) { perror("bind"); return 1; }
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sock)) return 1;
  child = fork();
  if (child == 0) { for (;;) pause(); }
  msq = msgget(IPC_PRIVATE, 0600);
  if (msq < 0) { perror("msgget"); return 1; }
  epfd = epoll_create1(0);
  snprintf(mqname, sizeof mqname, "/rpthread-cp-%d", (int)getpid());
  struct mq_attr ma = {0, 4, 64, 0};
  mq = mq_open(mqname, O_CREAT | O_RDWR, 0600, &ma);
  if (epfd < 0 || mq == (mqd_t)-1) { perror("epoll/mq"); return 1; }
  pthread_t t[N];
  for (long i = 0; i < N; i++)
    if (pthread_create(&t[i], NULL, body, (void *)i)) return 1;
  for (int i = 0; i < N; i++)
    while (!started[i]) usleep(1000);
  usleep(30000);
  int fails = 0;
  for (int i = 0; i < N; i++) {
    void *res;
    if (pthread_cancel(t[i]) || pthread_join(t[i], &res)) { printf("%d: cancel/join failed\n", i); fails++; continue; }
    if (res != PTHREAD_CANCELED) { printf("%d: join value %p\n", i, res); fails++; }
    if (!handled[i]) { printf("%d: cleanup handler did not run\n", i); fails++; }
  }
  kill(child, SIGKILL);
  waitpid(child, NULL, 0);
  msgctl(msq, IPC_RMID, NULL);
  unlink(fifo);
  mq_close(mq);
  mq_unlink(mqname);
  return fails != 0;
}
