#define _GNU_SOURCE // 启用CLONE_VM等GNU扩展标志
#include <sched.h> // for clone()
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h> // for getpid()
// 线程要执行的函数
int thread_function(void *arg) {
printf("Hello from the cloned thread!\n");
printf("Child PID (LWPID): %d, Parent PID: %d\n", getpid(), getppid());
sleep(1); // 模拟工作
return 0;
}
int main() {
const int STACK_SIZE = 4096; // 线程栈大小
char *child_stack = (char *)malloc(STACK_SIZE); // 为子线程分配栈空间
if (child_stack == NULL) {
perror("Failed to allocate stack");
return 1;
}
// 使用CLONE_VM等标志创建线程(共享内存空间、文件、信号处理)
// CLONE_SIGHAND: 共享信号处理表
// CLONE_VM: 共享地址空间
// CLONE_FILES: 共享文件描述符
// CLONE_FS: 共享文件系统信息
// CLONE_THREAD: 使其成为同一线程组的成员
// SIGCHLD: 子进程/线程终止时发送SIGCHLD信号给父进程
int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | SIGCHLD;
printf("Main process (PID: %d) is about to clone a thread.\n", getpid());
pid_t tid = clone(thread_function, child_stack + STACK_SIZE, flags, NULL);
if (tid == -1) {
perror("clone failed");
free(child_stack);
return 1;
}
printf("Main process: Cloned thread with PID (LWPID): %d\n", tid);
// 等待子线程/任务终止(需要包含<sys/wait.h>)
// 注意:对于CLONE_THREAD创建的线程,其退出状态通常不会通过wait()返回给线程组内其他成员,
// 而是通过线程组领导者处理。这里为了演示,可以简单sleep等待。
sleep(2);
free(child_stack); // 释放分配的栈空间
printf("Main process exiting.\n");
return 0;
}
