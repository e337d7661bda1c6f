// A C++ exception thrown by a once routine propagates to the caller of pthread_once /
// std::call_once, and the once is reset so that the next call runs the routine again (glibc's
// behaviour, on which std::call_once's "exceptional call" rule rests). Also with a second
// thread waiting in call_once while the first one's routine throws: it must not hang, and
// exactly one routine completes.
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <thread>
#include "check.h"


static int c_runs;
static bool c_throw = true;
extern "C" void c_init(void) {
    c_runs++;
    if (c_throw)
        throw std::runtime_error("first try fails");
}

int main() {
    // std::call_once: the first call throws, the second completes, the third does nothing.
    std::once_flag flag;
    int runs = 0;
    auto attempt = [&](bool fail) {
        std::call_once(flag, [&] {
            runs++;
            if (fail)
                throw std::runtime_error("exceptional call");
        });
    };
    bool caught = false;
    try {
        attempt(true);
    } catch (const std::runtime_error &) {
        caught = true;
    }
    CHECK(caught);
    CHECK(runs == 1);
    attempt(false);
    CHECK(runs == 2);
    attempt(true);
    CHECK(runs == 2);

    // pthread_once itself, with a routine of C linkage that throws.
    pthread_once_t once = PTHREAD_ONCE_INIT;
    caught = false;
    try {
        pthread_once(&once, c_init);
    } catch (const std::runtime_error &) {
        caught = true;
    }
    CHECK(caught);
    c_throw = false;
    CHECK(pthread_once(&once, c_init) == 0);
    CHECK(c_runs == 2);
    CHECK(pthread_once(&once, c_init) == 0);
    CHECK(c_runs == 2);

    // A waiter: the routine of thread 1 throws while thread 2 waits for it.
    std::once_flag flag2;
    std::atomic<int> started{0}, completed{0}, exceptions{0};
    auto worker = [&](bool fail) {
        for (;;) {
            try {
                std::call_once(flag2, [&] {
                    started++;
                    usleep(20000);
                    if (fail)
                        throw std::runtime_error("slow failure");
                    completed++;
                });
                return;
            } catch (const std::runtime_error &) {
                exceptions++;
                fail = false; // retry, succeeding this time (if nobody else did)
            }
        }
    };
    std::thread t1(worker, true);
    usleep(5000);
    std::thread t2(worker, false);
    t1.join();
    t2.join();
    CHECK(exceptions == 1);
    CHECK(completed == 1);
    CHECK(started == 2);
    return tc_failures != 0;
}
