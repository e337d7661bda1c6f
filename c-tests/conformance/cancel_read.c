/* A thread blocked in read() on an empty pipe is cancelled: its cleanup handler runs and its
   join value is PTHREAD_CANCELED. Also: a read that completes is not lost. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fds[2];
static volatile int handler_ran, reached;

static void handler(void *arg) { handler_ran = (int)(long)arg; }

static void *reader(void *arg) {
  char c;
  (void)arg;
  pthread_cleanup_push(handler, (void *)7);
  reached = 1;
  ssize_t n = read(fds[0], &c, 1); /* blocks: nothing is ever written */
  printf("read returned %zd\n", n);
  pthread_cleanup_pop(0);
  return NULL;
}

int main(void) {
  if (pipe(fds)) { perror("pipe"); return 1; }
  pthread_t t;
  if (pthread_create(&t, NULL, reader, NULL)) return 1;
  while (!reached) usleep(1000);
  usleep(20000); /* let it block inside read (either way it must be cancelled) */
  if (pthread_cancel(t)) { puts("pthread_cancel failed"); return 1; }
  void *res;
  if (pthread_join(t, &res)) { puts("join failed"); return 1; }
  if (res != PTHREAD_CANCELED) { printf("join value %p, want PTHREAD_CANCELED\n", res); return 1; }
  if (handler_ran != 7) { puts("cleanup handler did not run"); return 1; }
  /* read still works as read: data, EOF, errno. */
  char buf[8];
  if (write(fds[1], "ab", 2) != 2) { puts("write"); return 1; }
  if (read(fds[0], buf, sizeof buf) != 2 || memcmp(buf, "ab", 2)) { puts("read data"); return 1; }
  if (read(-1, buf, 1) != -1) { puts("read(-1) should fail"); return 1; }
  close(fds[1]);
  if (read(fds[0], buf, 1) != 0) { puts("read EOF"); return 1; }
  return 0;
}
