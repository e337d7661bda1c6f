#include <pthread.h>
#include <signal.h>
void handler(int sig) { /* 处理信号 */ }
void *thread_func(void *arg) {
signal(SIGUSR1, handler); // 设置信号处理
while (1) { /* 工作 */ }
}
