/* Cancellation of threads blocked in sleep(), usleep(), nanosleep(), clock_nanosleep(),
   pause(), poll(), select(), sigsuspend() and sigwait(): each thread's cleanup handler runs
   and its join value is PTHREAD_CANCELED. */
#define _GNU_SOURCE
#include <pthread.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

enum { N = 9 };
static volatile int handled[N], started[N];

static void handler(void *arg) { handled[(long)arg] = 1; }

static void *body(void *arg) {
  long i = (long)arg;
  struct timespec ts = {1000, 0};
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR2);
  pthread_cleanup_push(handler, arg);
  started[i] = 1;
  switch (i) {
  case 0: sleep(1000); break;
  case 1: usleep(999999); usleep(999999); usleep(999999); break;
  case 2: nanosleep(&ts, NULL); break;
  case 3: clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL); break;
  case 4: pause(); break;
  case 5: poll(NULL, 0, -1); break;
  case 6: select(0, NULL, NULL, NULL, NULL); break;
  case 7: sigemptyset(&set); sigsuspend(&set); break;
  case 8: { int sig; sigprocmask(SIG_BLOCK, &set, NULL); sigwait(&set, &sig); } break;
  }
  printf("thread %ld: call returned\n", i);
  pthread_cleanup_pop(0);
  return NULL;
}

int main(void) {
  pthread_t t[N];
  for (long i = 0; i < N; i++)
    if (pthread_create(&t[i], NULL, body, (void *)i)) return 1;
  for (int i = 0; i < N; i++)
    while (!started[i]) usleep(1000);
  usleep(20000);
  int fails = 0;
  for (int i = 0; i < N; i++) {
    void *res;
    if (pthread_cancel(t[i]) || pthread_join(t[i], &res)) { printf("%d: cancel/join failed\n", i); fails++; continue; }
    if (res != PTHREAD_CANCELED) { printf("%d: join value %p\n", i, res); fails++; }
    if (!handled[i]) { printf("%d: cleanup handler did not run\n", i); fails++; }
  }
  return fails != 0;
}
