// rpthread-test: modes=preload
// (link mode needs pthread_once and pthread_key_* in our header, which this branch lacks:
// add "link" back once they are merged.)
// C++ std::mutex, std::recursive_mutex, std::timed_mutex, std::condition_variable (and
// wait_for on the steady clock, which uses pthread_cond_clockwait) on rpthread.
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

int main() {
    std::mutex m;
    std::condition_variable cv;
    std::deque<int> q;
    bool done = false;
    long sum = 0, want = 0;
    const int N = 20000;
    std::vector<std::thread> consumers;
    for (int i = 0; i < 3; i++)
        consumers.emplace_back([&] {
            std::unique_lock<std::mutex> l(m);
            for (;;) {
                cv.wait(l, [&] { return !q.empty() || done; });
                if (q.empty()) return;
                sum += q.front();
                q.pop_front();
            }
        });
    for (int i = 0; i < N; i++) {
        {
            std::lock_guard<std::mutex> g(m);
            q.push_back(i);
            want += i;
        }
        cv.notify_one();
    }
    {
        std::lock_guard<std::mutex> g(m);
        done = true;
    }
    cv.notify_all();
    for (auto &t : consumers) t.join();
    if (sum != want) { std::printf("FAIL sum %ld want %ld\n", sum, want); return 1; }

    std::recursive_mutex rm;
    rm.lock(); rm.lock();
    if (!rm.try_lock()) { std::printf("FAIL recursive try_lock\n"); return 1; }
    rm.unlock(); rm.unlock(); rm.unlock();

    std::timed_mutex tm;
    tm.lock();
    bool got = true;
    std::thread([&] { got = tm.try_lock_for(std::chrono::milliseconds(20)); }).join();
    if (got) { std::printf("FAIL timed_mutex acquired while held\n"); return 1; }
    tm.unlock();

    std::unique_lock<std::mutex> l(m);
    auto r = cv.wait_for(l, std::chrono::milliseconds(20));
    if (r != std::cv_status::timeout) { std::printf("FAIL wait_for did not time out\n"); return 1; }
    std::printf("ok\n");
    return 0;
}
