// pthread_exit unwinds the thread's stack as on glibc: destructors of C++ automatic objects in
// every frame between the start routine and pthread_exit run (inner first), and a catch (...)
// that rethrows sees the forced unwind pass through. The thread_local destructors run after.
#include "thread_check.h"
#include <pthread.h>

static TC_ATOMIC(int) order[8];
static TC_ATOMIC(int) next_slot;
static TC_ATOMIC(int) catch_all_seen;

struct Guard {
    int id;
    explicit Guard(int i) : id(i) {}
    ~Guard() { order[next_slot++] = id; }
};

struct TlsGuard {
    ~TlsGuard() { order[next_slot++] = 100; }
};
static thread_local TlsGuard tls_guard;

static void inner(void *v) {
    Guard g(3);
    pthread_exit(v);
}

static void middle(void *v) {
    Guard g(2);
    try {
        inner(v);
    } catch (...) {
        catch_all_seen++;
        throw; // required for the forced unwind
    }
}

static void *start(void *v) {
    (void)&tls_guard; // construct it
    Guard g(1);
    middle(v);
    return nullptr;
}

int main() {
    pthread_t t;
    void *v = nullptr;
    CHECK(pthread_create(&t, nullptr, start, (void *)42L) == 0, "create");
    CHECK(pthread_join(t, &v) == 0 && v == (void *)42L, "join value %p", v);
    CHECK(next_slot == 4, "%d destructors ran, expected 4", (int)next_slot);
    CHECK(order[0] == 3 && order[1] == 2 && order[2] == 1, "automatic destructors order %d %d %d",
          (int)order[0], (int)order[1], (int)order[2]);
    CHECK(order[3] == 100, "thread_local destructor last: %d", (int)order[3]);
    CHECK(catch_all_seen == 1, "catch (...) saw the unwind %d times", (int)catch_all_seen);
    return tc_result("thread_exit_unwind");
}
