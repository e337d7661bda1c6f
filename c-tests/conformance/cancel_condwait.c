/* A thread cancelled in pthread_cond_wait re-acquires the mutex before its cleanup handlers
   run (the handler unlocks it, as the classic pattern does). */

#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static volatile int waiting, held_in_handler = -1;

static void unlock(void *arg) {
  (void)arg;
  held_in_handler = pthread_mutex_trylock(&m); /* EBUSY if we (the handler's thread) hold it */
  pthread_mutex_unlock(&m);
}

static void *waiter(void *arg) {
  (void)arg;
  pthread_mutex_lock(&m);
  pthread_cleanup_push(unlock, NULL);
  waiting = 1;
  for (;;) pthread_cond_wait(&c, &m);
  pthread_cleanup_pop(0);
  return NULL;
}

int main(void) {
  pthread_t t;
  void *res;
  if (pthread_create(&t, NULL, waiter, NULL)) return 1;
  for (;;) {
    pthread_mutex_lock(&m);
    int w = waiting;
    pthread_mutex_unlock(&m);
    if (w) break;
    usleep(1000);
  }
  if (pthread_cancel(t) || pthread_join(t, &res)) return 1;
  if (res != PTHREAD_CANCELED) { printf("value %p\n", res); return 1; }
  if (held_in_handler == -1) { puts("handler did not run"); return 1; }
  if (pthread_mutex_trylock(&m) != 0) { puts("mutex left locked"); return 1; }
  pthread_mutex_unlock(&m);
  return 0;
}
