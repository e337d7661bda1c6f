/* Key destructors at thread exit: called for non-NULL values only, with the slot already
   NULL; repeated while destructors set values again, at most PTHREAD_DESTRUCTOR_ITERATIONS
   rounds; not called for deleted keys; also at pthread_exit and cancellation, after the
   cleanup handlers; and for the main thread when it calls pthread_exit. */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"

static pthread_key_t kA, kB, kDel, kHigh;
static volatile int callsA, callsB, callsDel, callsHigh, slot_was_null = 1, handler_first;
static volatile int cleanup_ran, main_dtor_ran_marker;

static void dA(void *v) {
  if (pthread_getspecific(kA) != NULL) slot_was_null = 0;
  callsA++;
  if ((long)v < 10) pthread_setspecific(kA, (void *)((long)v + 1)); /* keeps re-arming */
}
static void dB(void *v) { (void)v; callsB++; }
static void dDel(void *v) { (void)v; callsDel++; }
static void dHigh(void *v) { if (cleanup_ran) handler_first = 1; callsHigh += (v == (void *)5); }

static void *body(void *arg) {
  pthread_setspecific(kA, (void *)1);
  pthread_setspecific(kB, NULL); /* NULL: no call */
  pthread_setspecific(kDel, (void *)1);
  pthread_setspecific(kHigh, (void *)5);
  return arg;
}

static void cleanup(void *a) { (void)a; cleanup_ran = 1; }

static void *exits(void *arg) {
  pthread_setspecific(kHigh, (void *)5);
  pthread_cleanup_push(cleanup, NULL);
  if (arg) { pthread_cancel(pthread_self()); pthread_testcancel(); }
  pthread_exit(NULL);
  pthread_cleanup_pop(0);
  return NULL;
}

static void main_dtor(void *v) {
  (void)v;
  /* Runs in the main thread at its pthread_exit; the helper thread checks the marker. */
  main_dtor_ran_marker = 1;
}

static void *watcher(void *arg) {
  (void)arg;
  while (!main_dtor_ran_marker) usleep(1000);
  exit(0); /* success: the main thread's destructor ran */
}


int main(void) {
  pthread_key_t filler[40];
  /* Put kHigh beyond the first block of 32 slots. */
  for (int i = 0; i < 40; i++) REQUIRE(pthread_key_create(&filler[i], NULL) == 0);
  REQUIRE(pthread_key_create(&kA, dA) == 0);
  REQUIRE(pthread_key_create(&kB, dB) == 0);
  REQUIRE(pthread_key_create(&kDel, dDel) == 0);
  REQUIRE(pthread_key_create(&kHigh, dHigh) == 0);
  REQUIRE(kHigh >= 32);
  pthread_t t;
  void *res;
  REQUIRE(pthread_create(&t, NULL, body, NULL) == 0);
  usleep(1000);
  REQUIRE(pthread_key_delete(kDel) == 0);
  REQUIRE(pthread_join(t, &res) == 0);
  REQUIRE(callsA == PTHREAD_DESTRUCTOR_ITERATIONS);
  REQUIRE(slot_was_null);
  REQUIRE(callsB == 0);
  REQUIRE(callsHigh == 1);
  /* kDel may have been deleted before or after the thread exited: at most one call. */
  REQUIRE(callsDel <= 1);

  /* A deleted key's destructor never runs. */
  pthread_key_t k;
  callsB = 0;
  REQUIRE(pthread_key_create(&k, dB) == 0);
  REQUIRE(pthread_key_delete(k) == 0);
  REQUIRE(pthread_create(&t, NULL, body, NULL) == 0 && pthread_join(t, NULL) == 0);

  for (int c = 0; c < 2; c++) {
    callsHigh = 0; cleanup_ran = 0; handler_first = 0;
    REQUIRE(pthread_create(&t, NULL, exits, c ? (void *)1 : NULL) == 0);
    REQUIRE(pthread_join(t, &res) == 0);
    REQUIRE(res == (c ? PTHREAD_CANCELED : NULL));
    REQUIRE(callsHigh == 1 && handler_first == 1);
  }

  /* The main thread's values get their destructors when it calls pthread_exit. */
  pthread_key_t km;
  REQUIRE(pthread_key_create(&km, main_dtor) == 0);
  REQUIRE(pthread_setspecific(km, (void *)1) == 0);
  REQUIRE(pthread_create(&t, NULL, watcher, NULL) == 0);
  pthread_exit(NULL);
}
