/* Keys: PTHREAD_KEYS_MAX keys then EAGAIN; values per thread; a deleted and re-created key
   never shows a stale value; EINVAL on deleted keys; keys in the main thread. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include "check.h"


static pthread_key_t k1;

static void *other(void *arg) {
  REQUIRE(pthread_getspecific(k1) == NULL); /* values are per thread */
  REQUIRE(pthread_setspecific(k1, arg) == 0);
  REQUIRE(pthread_getspecific(k1) == arg);
  return NULL;
}

int main(void) {
  static pthread_key_t keys[PTHREAD_KEYS_MAX + 1];
  int n = 0, r;
  REQUIRE(PTHREAD_KEYS_MAX == 1024);
  while ((r = pthread_key_create(&keys[n], NULL)) == 0) {
    REQUIRE(n < PTHREAD_KEYS_MAX);
    n++;
  }
  REQUIRE(r == EAGAIN);
  /* Every key works in the main thread (first block and the lazily allocated ones). */
  for (int i = 0; i < n; i++) REQUIRE(pthread_setspecific(keys[i], (void *)(long)(i + 1)) == 0);
  for (int i = 0; i < n; i++) REQUIRE(pthread_getspecific(keys[i]) == (void *)(long)(i + 1));
  for (int i = 0; i < n; i++) REQUIRE(pthread_key_delete(keys[i]) == 0);
  REQUIRE(n >= PTHREAD_KEYS_MAX - 8); /* a few may be used by the C runtime */
  /* Deleted: EINVAL, and a re-created key reads NULL in this thread. */
  REQUIRE(pthread_key_delete(keys[0]) == EINVAL);
  REQUIRE(pthread_setspecific(keys[0], (void *)1) == EINVAL);
  for (int i = 0; i < n; i++) {
    pthread_key_t k;
    REQUIRE(pthread_key_create(&k, NULL) == 0);
    REQUIRE(pthread_getspecific(k) == NULL);
    keys[i] = k;
  }
  for (int i = 0; i < n; i++) REQUIRE(pthread_key_delete(keys[i]) == 0);
  REQUIRE(pthread_key_delete(PTHREAD_KEYS_MAX + 5) == EINVAL);
  REQUIRE(pthread_getspecific(PTHREAD_KEYS_MAX + 5) == NULL);

  REQUIRE(pthread_key_create(&k1, NULL) == 0);
  REQUIRE(pthread_setspecific(k1, (void *)11) == 0);
  pthread_t t;
  void *res;
  REQUIRE(pthread_create(&t, NULL, other, (void *)22) == 0);
  REQUIRE(pthread_join(t, &res) == 0 && res == NULL);
  REQUIRE(pthread_getspecific(k1) == (void *)11);
  return 0;
}
