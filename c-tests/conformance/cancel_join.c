/* pthread_join is a cancellation point: a thread blocked joining another is cancelled, and
   the thread it was joining stays joinable. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static int fds[2];
static pthread_t target;
static volatile int joiner_started, handler_ran;

static void *target_fn(void *arg) {
  char c;
  (void)arg;
  if (read(fds[0], &c, 1) != 1) return NULL; /* until main writes */
  return (void *)42;
}

static void handler(void *arg) { (void)arg; handler_ran = 1; }

static void *joiner(void *arg) {
  void *r;
  (void)arg;
  pthread_cleanup_push(handler, NULL);
  joiner_started = 1;
  pthread_join(target, &r);
  puts("joiner: join returned");
  pthread_cleanup_pop(0);
  return NULL;
}

int main(void) {
  pthread_t j;
  void *res;
  if (pipe(fds)) return 1;
  if (pthread_create(&target, NULL, target_fn, NULL)) return 1;
  if (pthread_create(&j, NULL, joiner, NULL)) return 1;
  while (!joiner_started) usleep(1000);
  usleep(20000);
  if (pthread_cancel(j) || pthread_join(j, &res)) { puts("cancel/join joiner failed"); return 1; }
  if (res != PTHREAD_CANCELED || !handler_ran) { printf("joiner: value %p handler %d\n", res, handler_ran); return 1; }
  if (write(fds[1], "x", 1) != 1) return 1;
  if (pthread_join(target, &res)) { puts("target no longer joinable"); return 1; }
  if (res != (void *)42) { printf("target value %p\n", res); return 1; }
  return 0;
}
