/* A thread that overflows its stack (unbounded recursion) hits the guard page and the
 * process dies of SIGSEGV, instead of silently overwriting memory below the stack. */
// rpthread-test: expect=signal:SIGSEGV
#include "thread_check.h"
#include <pthread.h>

static int recurse(int n) {
    volatile char pad[1024];
    pad[0] = (char)n;
    pad[1023] = (char)n;
    return recurse(n + 1) + pad[0] + pad[1023];
}

static void *overflow(void *arg) {
    (void)arg;
    return (void *)(long)recurse(0);
}

int main(void) {
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 256 * 1024);
    pthread_t t;
    if (pthread_create(&t, &a, overflow, NULL) != 0) return 2;
    pthread_join(t, NULL);
    fprintf(stderr, "thread_stack_overflow: the overflowing thread returned\n");
    return 1;
}
