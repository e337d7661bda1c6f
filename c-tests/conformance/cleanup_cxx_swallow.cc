// C++ code that catches the forced unwind of pthread_exit with catch (...) and does not
// rethrow: as on glibc, the process aborts with "FATAL: exception not rethrown".
// rpthread-test: expect=signal:SIGABRT
#include <pthread.h>
#include <cstdio>

static void *body(void *) {
  try {
    pthread_exit(nullptr);
  } catch (...) {
    std::puts("swallowed");
  }
  std::puts("after catch");
  return nullptr;
}

int main() {
  pthread_t t;
  if (pthread_create(&t, nullptr, body, nullptr)) return 1;
  pthread_join(t, nullptr);
  std::puts("not reached");
  return 0;
}
