/* Argument checking and edge cases of the cancellation API. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
#include "check.h"

static void *quick(void *arg) { return arg; }

int main(void) {
  int old = -1;
  CHECK(pthread_setcancelstate(2, &old) == EINVAL);
  CHECK(pthread_setcancelstate(-1, NULL) == EINVAL);
  CHECK(pthread_setcanceltype(2, &old) == EINVAL);
  CHECK(pthread_setcanceltype(PTHREAD_CANCEL_DEFERRED, NULL) == 0);
  CHECK(pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL) == 0);
  CHECK(pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old) == 0 && old == PTHREAD_CANCEL_ENABLE);
  CHECK(pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &old) == 0 && old == PTHREAD_CANCEL_DISABLE);
  CHECK(pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, &old) == 0 && old == PTHREAD_CANCEL_DEFERRED);
  CHECK(pthread_setcanceltype(PTHREAD_CANCEL_DEFERRED, &old) == 0 && old == PTHREAD_CANCEL_ASYNCHRONOUS);
  /* An exited, not yet joined thread: 0, and it still joins with its own value. */
  pthread_t t;
  void *res;
  CHECK(pthread_create(&t, NULL, quick, (void *)5) == 0);
  usleep(20000);
  CHECK(pthread_cancel(t) == 0);
  CHECK(pthread_join(t, &res) == 0 && res == (void *)5);
  pthread_testcancel(); /* nothing pending */
  return tc_failures != 0;
}
