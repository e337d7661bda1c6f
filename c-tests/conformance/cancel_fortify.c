/* Built with _FORTIFY_SOURCE, read() and recv() become __read_chk/__recv_chk calls: they are
   cancellation points too, and still read data. */
// rpthread-test: flags=-D_FORTIFY_SOURCE=2
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int fds[2], sock[2];
static volatile int started;
static volatile size_t len = 16; /* unknown at compile time: the _chk variants are called */

static void *body(void *arg) {
  char buf[16];
  started = 1;
  if (arg) recv(sock[0], buf, len, 0);
  else read(fds[0], buf, len);
  puts("returned");
  return NULL;
}

int main(void) {
  char buf[8];
  if (pipe(fds) || socketpair(AF_UNIX, SOCK_STREAM, 0, sock)) return 1;
  for (long i = 0; i < 2; i++) {
    pthread_t t;
    void *res;
    started = 0;
    if (pthread_create(&t, NULL, body, (void *)i)) return 1;
    while (!started) usleep(1000);
    usleep(10000);
    if (pthread_cancel(t) || pthread_join(t, &res) || res != PTHREAD_CANCELED) { printf("case %ld: %p\n", i, res); return 1; }
  }
  if (write(fds[1], "hey", 3) != 3 || read(fds[0], buf, len / 2) != 3 || memcmp(buf, "hey", 3)) return 1;
  return 0;
}
