/* Per-thread libc state inside our threads: errno, strerror/strerror_r, setjmp/longjmp,
 * _Thread_local and __thread variables (initialized from the TLS image, distinct per thread),
 * and atexit registered from a thread (runs at process exit). */
#include "thread_check.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>

#define THREADS 8

static _Thread_local int tls_init = 1234;
static __thread char tls_array[64] = "initial";
static __thread long tls_zero;
static _Thread_local int *tls_addr_seen[THREADS];
static int *tls_addrs[THREADS];
static tc_barrier bar;

static jmp_buf jb;
static __thread jmp_buf tls_jb;

static void deep(int n, jmp_buf *env) {
    volatile char pad[256];
    pad[0] = (char)n;
    if (n == 0) longjmp(*env, 42 + pad[0]);
    deep(n - 1, env);
}

static void *worker(void *arg) {
    long id = (long)arg;
    /* TLS: fresh image values, then private writes */
    CHECK(tls_init == 1234, "thread %ld: tls_init %d", id, tls_init);
    CHECK(strcmp(tls_array, "initial") == 0, "thread %ld: tls_array '%s'", id, tls_array);
    CHECK(tls_zero == 0, "thread %ld: tls_zero %ld", id, tls_zero);
    CHECK(tls_addr_seen[0] == NULL, "thread %ld: tls pointer array not zero", id);
    tls_init = (int)id;
    snprintf(tls_array, sizeof tls_array, "thread %ld", id);
    tls_zero = id * 1000;
    tls_addrs[id] = &tls_init;

    /* errno: each thread sets its own and sees it unchanged after a barrier */
    errno = 0;
    int fd = open("/nonexistent/rpthread", O_RDONLY);
    CHECK(fd == -1 && errno == ENOENT, "thread %ld: open errno %d", id, errno);
    errno = 1000 + (int)id;
    tc_barrier_wait(&bar);
    CHECK(errno == 1000 + id, "thread %ld: errno %d after barrier", id, errno);

    /* strerror / strerror_r */
    CHECK(strcmp(strerror(ENOENT), "No such file or directory") == 0, "strerror(ENOENT) '%s'",
          strerror(ENOENT));
    char buf[128];
    char *s = strerror_r(EAGAIN, buf, sizeof buf); /* GNU variant */
    CHECK(strcmp(s, "Resource temporarily unavailable") == 0, "strerror_r(EAGAIN) '%s'", s);
    CHECK(strstr(strerror(123456), "123456") != NULL, "strerror(unknown) '%s'", strerror(123456));

    /* setjmp/longjmp, through a thread-local jmp_buf and across several frames */
    volatile int passes = 0;
    int v = setjmp(tls_jb);
    passes++;
    if (v == 0) deep(10, &tls_jb);
    CHECK(v == 42 && passes == 2, "thread %ld: longjmp value %d passes %d", id, v, passes);

    tc_barrier_wait(&bar);
    CHECK(tls_init == (int)id && tls_zero == id * 1000, "thread %ld: tls changed by others", id);
    char want[64];
    snprintf(want, sizeof want, "thread %ld", id);
    CHECK(strcmp(tls_array, want) == 0, "thread %ld: tls_array '%s'", id, tls_array);
    return NULL;
}

static void at_exit_handler(void) {
    /* main returns 3 ("handler did not run"); the handler ends the process with the result. */
    printf("thread_libc_state: atexit handler registered in a thread ran\n");
    int rc = tc_result("thread_libc_state");
    fflush(stdout);
    _exit(rc);
}

static void *register_atexit(void *arg) {
    (void)arg;
    return (void *)(long)atexit(at_exit_handler);
}

int main(void) {
    pthread_t t[THREADS];
    tc_barrier_init(&bar, THREADS);
    for (long i = 0; i < THREADS; i++) CHECK(pthread_create(&t[i], NULL, worker, (void *)i) == 0, "create");
    for (int i = 0; i < THREADS; i++) CHECK(pthread_join(t[i], NULL) == 0, "join");
    for (int i = 0; i < THREADS; i++)
        for (int j = 0; j < i; j++)
            CHECK(tls_addrs[i] != tls_addrs[j], "threads %d and %d share a TLS address", i, j);
    CHECK(tls_init == 1234 && strcmp(tls_array, "initial") == 0, "main's TLS changed");

    int v = setjmp(jb);
    if (v == 0) deep(3, &jb);
    CHECK(v == 42, "main longjmp %d", v);

    void *r;
    CHECK(pthread_create(&t[0], NULL, register_atexit, NULL) == 0, "create");
    CHECK(pthread_join(t[0], &r) == 0 && r == NULL, "atexit in thread returned %ld", (long)r);
    fprintf(stderr, "thread_libc_state: returning from main; the atexit handler must run\n");
    return 3;
}
