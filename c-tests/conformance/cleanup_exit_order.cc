// The order of a thread's exit, as on glibc: cleanup handlers and destructors of stack
// objects (innermost first), then C++ thread_local destructors, then key destructors; for
// pthread_exit, cancellation and a plain return.
#include <pthread.h>
#include <unistd.h>
#include <cstdio>
#include <string>

static std::string order;
static pthread_key_t key;

struct Local {
  ~Local() { order += 'L'; }
};
struct TL {
  int used = 0;
  ~TL() { order += 'T'; }
};
thread_local TL tl;

static void handler(void *) { order += 'H'; }
static void key_dtor(void *) { order += 'K'; }

static void *body(void *arg) {
  long mode = (long)arg;
  tl.used = 1;
  pthread_setspecific(key, (void *)1);
  Local l;
  pthread_cleanup_push(handler, nullptr);
  if (mode == 1) pthread_exit(nullptr);
  if (mode == 2) {
    pthread_cancel(pthread_self());
    pthread_testcancel();
  }
  pthread_cleanup_pop(1);
  return nullptr;
}

int main() {
  if (pthread_key_create(&key, key_dtor)) return 1;
  for (long mode = 0; mode < 3; mode++) {
    order.clear();
    pthread_t t;
    if (pthread_create(&t, nullptr, body, (void *)mode) || pthread_join(t, nullptr)) return 1;
    if (order != "HLTK") {
      std::printf("mode %ld: order %s, want HLTK\n", mode, order.c_str());
      return 1;
    }
  }
  return 0;
}
