#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
void *my_thread_function(void *arg) { char *message = (char *)arg; printf("Hello from thread! Message: %s\n", message); pthread_exit(NULL); // 线程正常退出
} int main() { pthread_t tid; char *msg = "Hello from main!"; if (pthread_create(&tid, NULL, my_thread_function, (void *)msg) != 0) { fprintf(stderr, "Error creating thread\n"); return 1; } printf("Main thread created child thread with ID: %lu\n", tid); pthread_join(tid, NULL); // 等待子线程结束
return 0; }
