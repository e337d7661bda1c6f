#include <pthread.h>
void *task(void *arg) { /* 线程任务 */ }
int main() {
pthread_t tid;
pthread_create(&tid, NULL, task, NULL); // 创建内核线程
pthread_join(tid, NULL);
return 0;
}
