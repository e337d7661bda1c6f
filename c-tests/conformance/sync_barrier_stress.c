// Barriers: many threads x many rounds, exactly one PTHREAD_BARRIER_SERIAL_THREAD per round,
// nobody leaves a round before all arrived; more threads than the count (two groups share
// one barrier); count 0 is EINVAL; destroy right after the wait; pshared across fork.
// (Destroy during an unfinished round is undefined; glibc's reset can strand the waiter.)
#include <pthread.h>
#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <unistd.h>

#define THREADS 6
#define ROUNDS 2000

static pthread_barrier_t bar;
static int arrived[ROUNDS], serial[ROUNDS];
static int fails;

static void *worker(void *arg) {
    (void)arg;
    for (int r = 0; r < ROUNDS; r++) {
        __atomic_add_fetch(&arrived[r], 1, __ATOMIC_SEQ_CST);
        int x = pthread_barrier_wait(&bar);
        if (x == PTHREAD_BARRIER_SERIAL_THREAD) __atomic_add_fetch(&serial[r], 1, __ATOMIC_SEQ_CST);
        else if (x != 0) __atomic_add_fetch(&fails, 1, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&arrived[r], __ATOMIC_SEQ_CST) != THREADS) __atomic_add_fetch(&fails, 1, __ATOMIC_SEQ_CST);
    }
    return NULL;
}

static pthread_barrier_t half, all4;
static int half_serials;
static void *half_worker(void *arg) {
    (void)arg;
    // Per iteration the 4 threads fill 2 rounds of `half` (the outer barrier keeps a fast
    // pair from running ahead, which would leave a thread alone at the end).
    for (int r = 0; r < 500; r++)
        if (pthread_barrier_wait(&all4), pthread_barrier_wait(&half) == PTHREAD_BARRIER_SERIAL_THREAD)
            __atomic_add_fetch(&half_serials, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static void *destroyer_peer(void *arg) {
    pthread_barrier_wait((pthread_barrier_t *)arg);
    return NULL;
}

int main(void) {
    pthread_t t[THREADS];
    if (pthread_barrier_init(&bar, NULL, 0) != EINVAL) { printf("count 0 not EINVAL\n"); fails++; }
    pthread_barrier_init(&bar, NULL, THREADS);
    for (int i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, worker, NULL);
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    for (int r = 0; r < ROUNDS; r++)
        if (serial[r] != 1) { printf("round %d: %d serial threads\n", r, serial[r]); fails++; break; }
    if (pthread_barrier_destroy(&bar) != 0) { printf("destroy failed\n"); fails++; }

    // 4 threads on a barrier of 2: 2 rounds at a time, 1000 rounds in all.
    pthread_barrier_init(&half, NULL, 2);
    pthread_barrier_init(&all4, NULL, 4);
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, half_worker, NULL);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    if (half_serials != 1000) { printf("shared barrier: %d serials, want 1000\n", half_serials); fails++; }
    pthread_barrier_destroy(&half);

    // The serial thread destroys (and frees) the barrier right away, as POSIX allows.
    for (int i = 0; i < 200; i++) {
        pthread_barrier_t *b = malloc(sizeof *b);
        pthread_barrier_init(b, NULL, 3);
        pthread_t p1, p2;
        pthread_create(&p1, NULL, destroyer_peer, b);
        pthread_create(&p2, NULL, destroyer_peer, b);
        pthread_barrier_wait(b);
        if (pthread_barrier_destroy(b) != 0) { printf("destroy after wait failed\n"); fails++; }
        free(b);
        pthread_join(p1, NULL);
        pthread_join(p2, NULL);
    }

    // Process-shared, across fork: two processes x 500 rounds.
    pthread_barrierattr_t a;
    int ps = -1;
    pthread_barrierattr_init(&a);
    pthread_barrierattr_getpshared(&a, &ps);
    if (ps != PTHREAD_PROCESS_PRIVATE) { printf("default pshared %d\n", ps); fails++; }
    if (pthread_barrierattr_setpshared(&a, 9) != EINVAL) { printf("bad pshared accepted\n"); fails++; }
    pthread_barrierattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    struct shm { pthread_barrier_t b; int serials; int counter; } *s =
        mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pthread_barrier_init(&s->b, &a, 2);
    pthread_barrierattr_destroy(&a);
    pid_t pid = fork();
    for (int r = 0; r < 500; r++) {
        if (pid == 0) __atomic_add_fetch(&s->counter, 1, __ATOMIC_SEQ_CST);
        if (pthread_barrier_wait(&s->b) == PTHREAD_BARRIER_SERIAL_THREAD)
            __atomic_add_fetch(&s->serials, 1, __ATOMIC_SEQ_CST);
        if (pid != 0 && __atomic_load_n(&s->counter, __ATOMIC_SEQ_CST) < r + 1) fails++;
        pthread_barrier_wait(&s->b);
    }
    if (pid == 0) _exit(0);
    int st;
    waitpid(pid, &st, 0);
    if (s->serials != 500) { printf("pshared: %d serials, want 500\n", s->serials); fails++; }

    printf(fails ? "FAIL\n" : "ok\n");
    return fails != 0;
}
