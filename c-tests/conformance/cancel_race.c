/* No lost cancellation: a thread loops on read() from a pipe the main thread keeps feeding;
   the cancel request lands at varying moments (before the check, between the check and the
   system call, during the sleep, just after a read completed). Every round must end with
   PTHREAD_CANCELED; a request lost in the window would leave the reader blocked forever
   (the test would time out). */
// rpthread-test: timeout=60
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static int fds[2];
static volatile unsigned long got;

static void *reader(void *arg) {
  char c;
  (void)arg;
  for (;;)
    if (read(fds[0], &c, 1) == 1) got++;
  return NULL;
}

int main(void) {
  if (pipe(fds)) return 1;
  for (int round = 0; round < 300; round++) {
    pthread_t t;
    void *res;
    if (pthread_create(&t, NULL, reader, NULL)) return 1;
    for (int i = 0; i < round % 7; i++)
      if (write(fds[1], "x", 1) != 1) return 1;
    for (volatile int spin = 0; spin < (round * 37) % 5000; spin++) {
    }
    if (pthread_cancel(t) || pthread_join(t, &res)) return 1;
    if (res != PTHREAD_CANCELED) { printf("round %d: %p\n", round, res); return 1; }
  }
  return 0;
}
