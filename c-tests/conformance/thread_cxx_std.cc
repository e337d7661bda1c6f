// std::thread and std::mutex on rpthread: 8 std::threads increment a shared counter under a
// std::mutex (and std::lock_guard), std::thread::join, hardware_concurrency, this_thread::get_id.
#include <atomic>
#include <cstdio>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

int main() {
    std::mutex m;
    long counter = 0;
    std::set<std::thread::id> ids;
    std::vector<std::thread> ts;
    for (int i = 0; i < 8; i++)
        ts.emplace_back([&] {
            {
                std::lock_guard<std::mutex> g(m);
                ids.insert(std::this_thread::get_id());
            }
            for (int k = 0; k < 100000; k++) {
                m.lock();
                counter++;
                m.unlock();
            }
        });
    for (auto &t : ts) t.join();
    int fails = 0;
    if (counter != 800000) { fprintf(stderr, "counter %ld\n", counter); fails++; }
    if (ids.size() != 8 || ids.count(std::this_thread::get_id())) { fprintf(stderr, "ids %zu\n", ids.size()); fails++; }
    std::thread detached([] {});
    detached.detach();
    if (fails) return 1;
    printf("thread_cxx_std: ok\n");
    return 0;
}
