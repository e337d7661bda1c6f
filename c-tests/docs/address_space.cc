#include <iostream>
#include <pthread.h>

int global_var;

void* thread_func(void*) {
    int local_var;
    std::cout << "Global variable: " << &global_var << "\n";
    std::cout << "Local variable: " << &local_var << "\n";
    return nullptr;
}

int main() {
    pthread_t thread1, thread2;
    pthread_create(&thread1, nullptr, thread_func, nullptr);
    pthread_create(&thread2, nullptr, thread_func, nullptr);

    pthread_join(thread1, nullptr);
    pthread_join(thread2, nullptr);

    return 0;
}
