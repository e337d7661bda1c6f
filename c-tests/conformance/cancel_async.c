/* Asynchronous cancellation stops a busy loop that never calls a cancellation point, and its
   cleanup handler runs. Switching to asynchronous with a request pending acts at once. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static volatile int running, handler_ran, after_switch;
static volatile unsigned long counter;

static void handler(void *arg) { (void)arg; handler_ran = 1; }

static void *spin(void *arg) {
  (void)arg;
  pthread_cleanup_push(handler, NULL);
  int old = -1;
  if (pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, &old) || old != PTHREAD_CANCEL_DEFERRED) return (void *)1;
  running = 1;
  for (;;) counter++;
  pthread_cleanup_pop(0);
  return NULL;
}

static void *late_switch(void *arg) {
  (void)arg;
  pthread_cancel(pthread_self()); /* deferred: pending, nothing happens yet */
  after_switch = 1;
  pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL); /* acts here */
  after_switch = 2;
  return NULL;
}

int main(void) {
  pthread_t t;
  void *res;
  if (pthread_create(&t, NULL, spin, NULL)) return 1;
  while (!running) usleep(1000);
  if (pthread_cancel(t) || pthread_join(t, &res)) { puts("cancel/join failed"); return 1; }
  if (res != PTHREAD_CANCELED || !handler_ran) { printf("value %p handler %d\n", res, handler_ran); return 1; }
  if (pthread_create(&t, NULL, late_switch, NULL) || pthread_join(t, &res)) return 1;
  if (res != PTHREAD_CANCELED || after_switch != 1) { printf("late switch: value %p stage %d\n", res, after_switch); return 1; }
  return 0;
}
