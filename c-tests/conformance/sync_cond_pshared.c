/* Process-shared condition variable and mutex in MAP_SHARED memory: a parent and a forked
 * child hand a counter back and forth; a child blocked in a wait is woken by a broadcast
 * from the parent. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

struct shared {
    pthread_mutex_t m;
    pthread_cond_t c;
    int turn;   /* 0: parent, 1: child */
    int value;
};

#define ROUNDS 2000

int main(void) {
    struct shared *s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pthread_mutexattr_t ma;
    pthread_condattr_t ca;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
    pthread_condattr_init(&ca);
    pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(&s->m, &ma);
    pthread_cond_init(&s->c, &ca);
    alarm(30);
    pid_t pid = fork();
    int me = pid == 0;
    for (int i = 0; i < ROUNDS; i++) {
        pthread_mutex_lock(&s->m);
        while (s->turn != me) pthread_cond_wait(&s->c, &s->m);
        s->value++;
        s->turn = !me;
        pthread_cond_broadcast(&s->c);
        pthread_mutex_unlock(&s->m);
    }
    if (me) _exit(0);
    int st;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || s->value != 2 * ROUNDS) {
        printf("FAIL: value %d (want %d), child status %d\n", s->value, 2 * ROUNDS, st);
        return 1;
    }
    if (pthread_cond_destroy(&s->c) || pthread_mutex_destroy(&s->m)) { printf("FAIL destroy\n"); return 1; }
    printf("ok\n");
    return 0;
}
