// C++: pthread_exit and cancellation unwind the thread's stack: destructors of live objects
// run, interleaved in stack order with pthread_cleanup_push handlers; catch (...) that
// rethrows is allowed; abi::__forced_unwind is the exception type seen.
#include <pthread.h>
#include <unistd.h>
#include <cxxabi.h>
#include <cstdio>
#include <string>

static std::string order;
static volatile int started;
static int fds[2];

struct Rec {
  char c;
  explicit Rec(char c) : c(c) {}
  ~Rec() { order += c; }
};

static void handler(void *arg) { order += (char)(long)arg; }

static void inner(bool cancel) {
  Rec a('a');
  pthread_cleanup_push(handler, (void *)'h');
  Rec b('b');
  if (cancel) {
    started = 1;
    char c;
    if (read(fds[0], &c, 1) < 0) std::puts("read failed");
  } else {
    pthread_exit((void *)7);
  }
  pthread_cleanup_pop(0);
}

static void *body(void *arg) {
  Rec z('z');
  try {
    Rec y('y');
    inner(arg != nullptr);
  } catch (abi::__forced_unwind &) {
    order += 'F';
    throw;
  }
  return nullptr;
}

static void *catch_all(void *) {
  Rec q('q');
  try {
    pthread_exit((void *)8);
  } catch (...) {
    order += 'C';
    throw;
  }
  return nullptr;
}

int main() {
  if (pipe(fds)) return 1;
  pthread_t t;
  void *res;
  if (pthread_create(&t, nullptr, body, nullptr) || pthread_join(t, &res)) return 1;
  if (res != (void *)7 || order != "bhayFz") { std::printf("exit: value %p order %s (want bhayFz)\n", res, order.c_str()); return 1; }
  order.clear();
  if (pthread_create(&t, nullptr, body, (void *)1)) return 1;
  while (!started) usleep(1000);
  usleep(10000);
  if (pthread_cancel(t) || pthread_join(t, &res)) return 1;
  if (res != PTHREAD_CANCELED || order != "bhayFz") { std::printf("cancel: value %p order %s (want bhayFz)\n", res, order.c_str()); return 1; }
  order.clear();
  if (pthread_create(&t, nullptr, catch_all, nullptr) || pthread_join(t, &res)) return 1;
  if (res != (void *)8 || order != "Cq") { std::printf("catch(...): value %p order %s\n", res, order.c_str()); return 1; }
  return 0;
}
