/* Thread-specific data: ns per pthread_getspecific and per pthread_setspecific.
 *
 * One thread, keys in the inline first block and in a second-level block (key >= 32); the
 * loop sums the values read so the calls cannot be dropped. Calls go through the PLT, as in
 * any program. Reported: the best of several batches (least disturbed by other load).
 * Self-contained; prints RESULT <metric> <value> <unit> <better>.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define ITERS 2000000
#define BATCHES 7

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void measure(const char *name, pthread_key_t k) {
  double best_get = 1e30, best_set = 1e30;
  volatile unsigned long sink = 0;
  if (pthread_setspecific(k, (void *)1)) { fprintf(stderr, "setspecific failed\n"); exit(2); }
  for (int b = 0; b < BATCHES; b++) {
    unsigned long sum = 0;
    double t0 = now();
    for (long i = 0; i < ITERS; i++) sum += (unsigned long)pthread_getspecific(k);
    double t1 = now();
    for (long i = 0; i < ITERS; i++) pthread_setspecific(k, (void *)(i | 1));
    double t2 = now();
    sink += sum;
    if ((t1 - t0) < best_get) best_get = t1 - t0;
    if ((t2 - t1) < best_set) best_set = t2 - t1;
  }
  if (sink != (unsigned long)BATCHES * ITERS * 1 && sink == 0) exit(3);
  char m[64];
  snprintf(m, sizeof m, "getspecific_%s", name);
  printf("RESULT %s %.3f ns/call lower\n", m, best_get / ITERS * 1e9);
  snprintf(m, sizeof m, "setspecific_%s", name);
  printf("RESULT %s %.3f ns/call lower\n", m, best_set / ITERS * 1e9);
}

int main(void) {
  pthread_key_t keys[40];
  for (int i = 0; i < 40; i++)
    if (pthread_key_create(&keys[i], NULL)) { fprintf(stderr, "key_create failed\n"); return 2; }
  measure("first_block", keys[0]);
  measure("second_level", keys[39]);
  return 0;
}
