/* With cancelability disabled a request waits: blocking calls complete normally; enabling
   does not act by itself (deferred type) but the next cancellation point does. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static volatile int stage;
static int go[2];

static void *body(void *arg) {
  (void)arg;
  int old = -1;
  char c;
  if (pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old) || old != PTHREAD_CANCEL_ENABLE) return (void *)1;
  stage = 1;
  if (read(go[0], &c, 1) != 1) return (void *)2; /* cancelled meanwhile; must still read */
  pthread_testcancel();                           /* disabled: no effect */
  usleep(1000);                                   /* not interrupted */
  stage = 2;
  if (pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &old) || old != PTHREAD_CANCEL_DISABLE) return (void *)3;
  stage = 3; /* deferred: enabling did not act */
  pthread_testcancel();
  stage = 4;
  return (void *)4;
}

int main(void) {
  pthread_t t;
  void *res;
  if (pipe(go)) return 1;
  if (pthread_create(&t, NULL, body, NULL)) return 1;
  while (stage != 1) usleep(1000);
  if (pthread_cancel(t)) return 1;
  if (pthread_cancel(t)) return 1; /* a second request is harmless */
  usleep(10000);
  if (write(go[1], "x", 1) != 1) return 1;
  if (pthread_join(t, &res)) return 1;
  if (res != PTHREAD_CANCELED || stage != 3) { printf("value %p stage %d (want canceled at stage 3)\n", res, stage); return 1; }
  return 0;
}
