#include <pthread.h>
#include <stdio.h>
#include <stdlib.h> // for atoi
// 共享变量,需要同步保护
long long sum = 0;
// pthread_mutex_t sum_mutex; // 假设有互斥锁来保护sum
void *runner(void *param) {
int upper = atoi((char *)param);
for (int i = 1; i <= upper; i++) {
// pthread_mutex_lock(&sum_mutex); // 锁定互斥锁
sum += i;
// pthread_mutex_unlock(&sum_mutex); // 解锁互斥锁
}
printf("Thread finished, sum calculated up to %d.\n", upper);
pthread_exit(NULL); // 线程正常退出,返回NULL
}
int main(int argc, char *argv[]) {
if (argc < 2) {
fprintf(stderr, "Usage: %s <upper_limit>\n", argv[0]);
return 1;
}
pthread_t tid; // 线程ID
pthread_attr_t attr; // 线程属性
// 初始化线程属性为默认值
pthread_attr_init(&attr);
// (可选)设置线程为可join状态,这是默认行为
// pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_JOINABLE);
// 创建线程,传递参数argv[1]
printf("Main thread is creating a new thread.\n");
if (pthread_create(&tid, &attr, runner, argv[1]) != 0) {
fprintf(stderr, "Error creating thread!\n");
return 1;
}
// 主线程等待新线程完成
printf("Main thread waiting for child thread (ID: %lu) to finish.\n", tid);
if (pthread_join(tid, NULL) != 0) { // 等待线程终止,不获取返回值
fprintf(stderr, "Error joining thread!\n");
return 1;
}
printf("Child thread (ID: %lu) has terminated.\n", tid);
// 销毁线程属性对象
pthread_attr_destroy(&attr);
// 如果sum是线程安全的,这里可以直接打印最终结果
printf("Final Sum = %lld\n", sum);
return 0;
}
