#include <pthread.h>
void *worker(void *arg) {
while (1) {
// 工作
pthread_testcancel(); // 检查取消请求
}
}
int main() {
pthread_t tid;
pthread_create(&tid, NULL, worker, NULL);
sleep(1);
pthread_cancel(tid); // 请求取消
pthread_join(tid, NULL);
return 0;
}
