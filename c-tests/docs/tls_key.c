#include <pthread.h>
pthread_key_t key; void *thread_func(void *arg) { pthread_setspecific(key, malloc(sizeof(int))); // 设置TLS
// 使用TLS
} int main() { pthread_key_create(&key, NULL); pthread_t tid; pthread_create(&tid, NULL, thread_func, NULL); pthread_join(tid, NULL); return 0; }
