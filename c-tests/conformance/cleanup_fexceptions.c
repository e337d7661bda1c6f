/* C built with -fexceptions: pthread_cleanup_push is a cleanup attribute (glibc's header and
   ours); cancellation and pthread_exit run the handlers through the forced unwind, as well as
   plain __attribute__((cleanup)) variables. */
// rpthread-test: flags=-fexceptions
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char order[16];
static int pos;
static volatile int started;

static void rec(void *arg) { order[pos++] = (char)(long)arg; }
static void attr_cleanup(int *p) { order[pos++] = (char)*p; }

static void inner(int cancel) {
  int v __attribute__((cleanup(attr_cleanup))) = 'v';
  pthread_cleanup_push(rec, (void *)'h');
  if (cancel) {
    started = 1;
    for (;;) pause();
  }
  pthread_exit((void *)3);
  pthread_cleanup_pop(0);
}

static void *body(void *arg) {
  int w __attribute__((cleanup(attr_cleanup))) = 'w';
  inner(arg != NULL);
  return NULL;
}

int main(void) {
  pthread_t t;
  void *res;
  if (pthread_create(&t, NULL, body, NULL) || pthread_join(t, &res)) return 1;
  if (res != (void *)3 || strcmp(order, "hvw")) { printf("exit: %p %s\n", res, order); return 1; }
  pos = 0;
  memset(order, 0, sizeof order);
  if (pthread_create(&t, NULL, body, (void *)1)) return 1;
  while (!started) usleep(1000);
  usleep(10000);
  if (pthread_cancel(t) || pthread_join(t, &res)) return 1;
  if (res != PTHREAD_CANCELED || strcmp(order, "hvw")) { printf("cancel: %p %s\n", res, order); return 1; }
  return 0;
}
