/* The main thread can be cancelled (here while blocked in read()): its cleanup handler and
   key destructor run, the other threads go on, and the process exits when the last one
   does. The main thread never called into the library before being cancelled except
   pthread_create. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static pthread_t main_thread;
static volatile int main_handler_ran, main_dtor_ran;
static int fds[2];
static pthread_key_t key;

static void main_handler(void *arg) { (void)arg; main_handler_ran = 1; }
static void dtor(void *v) { (void)v; main_dtor_ran = 1; }

static void *canceller(void *arg) {
  (void)arg;
  usleep(20000);
  if (pthread_cancel(main_thread)) { puts("pthread_cancel(main) failed"); exit(1); }
  for (int i = 0; i < 5000 && !main_dtor_ran; i++) usleep(1000);
  if (!main_handler_ran || !main_dtor_ran) { printf("handler %d dtor %d\n", main_handler_ran, main_dtor_ran); exit(1); }
  return NULL; /* last thread: the process exits with 0 */
}

int main(void) {
  char c;
  main_thread = pthread_self();
  if (pipe(fds) || pthread_key_create(&key, dtor) || pthread_setspecific(key, (void *)1)) return 1;
  pthread_t t;
  if (pthread_create(&t, NULL, canceller, NULL)) return 1;
  pthread_cleanup_push(main_handler, NULL);
  if (read(fds[0], &c, 1) >= 0) puts("read returned");
  pthread_cleanup_pop(0);
  return 3;
}
