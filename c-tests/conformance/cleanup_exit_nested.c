/* pthread_exit from nested functions with cleanup handlers pending in several frames: every
   handler runs, innermost first, then key destructors; the join value is pthread_exit's.
   Popped handlers run only when asked. Also cancellation through the same frames, and the
   _defer_np variants. Built both ways: our header's macros (link) and glibc's setjmp-based
   macros (preload). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char order[64];
static int pos;
static pthread_key_t key;

static void rec(void *arg) { order[pos++] = (char)(long)arg; }
static void key_dtor(void *v) { (void)v; order[pos++] = 'K'; }

static void level3(int cancel) {
  pthread_cleanup_push(rec, (void *)'3');
  if (cancel) {
    pthread_cancel(pthread_self());
    pthread_testcancel();
  }
  pthread_exit((void *)99);
  pthread_cleanup_pop(0);
}

static void level2(int cancel) {
  pthread_cleanup_push(rec, (void *)'2');
  pthread_cleanup_push(rec, (void *)'b');
  pthread_cleanup_pop(1); /* runs 'b' now */
  pthread_cleanup_push(rec, (void *)'x');
  pthread_cleanup_pop(0); /* never runs */
  level3(cancel);
  pthread_cleanup_pop(0);
}

static void *body(void *arg) {
  pthread_setspecific(key, (void *)1);
  pthread_cleanup_push(rec, (void *)'1');
#ifdef __USE_GNU
  pthread_cleanup_push_defer_np(rec, (void *)'d');
#endif
  level2(arg != NULL);
#ifdef __USE_GNU
  pthread_cleanup_pop_restore_np(0);
#endif
  pthread_cleanup_pop(0);
  return NULL;
}

static int run(int cancel, void *want) {
  pthread_t t;
  void *res;
  pos = 0;
  memset(order, 0, sizeof order);
  if (pthread_create(&t, NULL, body, cancel ? (void *)1 : NULL) || pthread_join(t, &res)) return 1;
  if (res != want) { printf("join value %p, want %p\n", res, want); return 1; }
  if (strcmp(order, "b32d1K")) { printf("order \"%s\", want \"b32d1K\"\n", order); return 1; }
  return 0;
}

int main(void) {
  if (pthread_key_create(&key, key_dtor)) return 1;
  return run(0, (void *)99) || run(1, PTHREAD_CANCELED);
}
