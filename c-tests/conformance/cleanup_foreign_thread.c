/* pthread_exit and cleanup handlers in a thread glibc created (a SIGEV_THREAD timer's
   notification thread): the handler runs, the thread ends the glibc way, and the process
   goes on (it must not be mistaken for the last thread). */
// rpthread-test: flags=-lrt
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile int handlers, main_done;

static void handler(void *arg) { (void)arg; handlers++; }

static void on_timer(union sigval v) {
  (void)v;
  pthread_cleanup_push(handler, NULL);
  pthread_exit(NULL);
  pthread_cleanup_pop(0);
}

static void check_at_exit(void) {
  if (!main_done) { puts("process ended before main finished"); _exit(1); }
}

int main(void) {
  atexit(check_at_exit);
  struct sigevent se = {0};
  se.sigev_notify = SIGEV_THREAD;
  se.sigev_notify_function = on_timer;
  timer_t t;
  if (timer_create(CLOCK_MONOTONIC, &se, &t)) return 1;
  struct itimerspec its = {{0, 5000000}, {0, 5000000}};
  if (timer_settime(t, 0, &its, NULL)) return 1;
  for (int i = 0; i < 400 && handlers < 5; i++) usleep(5000);
  timer_delete(t);
  usleep(20000);
  if (handlers < 5) { printf("handlers ran %d times\n", handlers); return 1; }
  pthread_testcancel();
  main_done = 1;
  return 0;
}
