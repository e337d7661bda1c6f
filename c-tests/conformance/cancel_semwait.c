/* sem_wait and sem_timedwait are cancellation points: the waiter is cancelled, leaves the
   semaphore's waiter count (sem_destroy then succeeds), and a later post is not lost. A
   request already pending acts even when a token is there, which stays (as glibc). */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static sem_t s;
static volatile int started, handler_ran;

static void handler(void *arg) { (void)arg; handler_ran++; }

static void *waiter(void *arg) {
  pthread_cleanup_push(handler, NULL);
  started = 1;
  if (arg) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 1000;
    sem_timedwait(&s, &ts);
  } else {
    sem_wait(&s);
  }
  puts("sem wait returned");
  pthread_cleanup_pop(0);
  return NULL;
}

static sem_t full;
static volatile int requested;
static void *taker(void *arg) {
  int old;
  pthread_cleanup_push(handler, NULL);
  pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
  started = 1;
  while (!requested) usleep(1000);
  pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &old); /* deferred: nothing acts yet */
  if (arg) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 1000;
    sem_timedwait(&full, &ts);
  } else {
    sem_wait(&full);
  }
  puts("sem wait with a pending cancel returned");
  pthread_cleanup_pop(0);
  return NULL;
}

int main(void) {
  if (sem_init(&s, 0, 0)) return 1;
  for (long i = 0; i < 2; i++) {
    pthread_t t;
    void *res;
    started = 0;
    if (pthread_create(&t, NULL, waiter, (void *)i)) return 1;
    while (!started) usleep(1000);
    usleep(20000);
    if (pthread_cancel(t) || pthread_join(t, &res) || res != PTHREAD_CANCELED) { printf("case %ld: %p\n", i, res); return 1; }
  }
  if (handler_ran != 2) { printf("handlers %d\n", handler_ran); return 1; }
  if (sem_post(&s) || sem_wait(&s)) { puts("post/wait after cancel"); return 1; }
  if (sem_destroy(&s)) { printf("sem_destroy: %d\n", errno); return 1; }

  if (sem_init(&full, 0, 1)) return 1;
  for (long i = 0; i < 2; i++) {
    pthread_t t;
    void *res;
    started = requested = 0;
    if (pthread_create(&t, NULL, taker, (void *)i)) return 1;
    while (!started) usleep(1000);
    if (pthread_cancel(t)) return 1;
    requested = 1;
    if (pthread_join(t, &res) || res != PTHREAD_CANCELED) { printf("pending case %ld: %p\n", i, res); return 1; }
  }
  int v = -1;
  if (sem_getvalue(&full, &v) || v != 1) { printf("token taken by a cancelled wait: value %d\n", v); return 1; }
  if (handler_ran != 4) { printf("handlers %d\n", handler_ran); return 1; }
  return 0;
}
