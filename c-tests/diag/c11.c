/* C11 <threads.h> mutexes in opposite orders, one thread after the other (nothing
 * deadlocks in this run): mtx_* are glibc's pthread mutexes, so `order` sees them. */
#include <stdio.h>
#include <threads.h>

static mtx_t c11_a, c11_b;

static int a_then_b(void *arg) {
    (void)arg;
    mtx_lock(&c11_a);
    mtx_lock(&c11_b);
    mtx_unlock(&c11_b);
    mtx_unlock(&c11_a);
    return 0;
}

static int b_then_a(void *arg) {
    (void)arg;
    mtx_lock(&c11_b);
    mtx_lock(&c11_a);
    mtx_unlock(&c11_a);
    mtx_unlock(&c11_b);
    return 0;
}

int main(void) {
    thrd_t t;
    mtx_init(&c11_a, mtx_plain);
    mtx_init(&c11_b, mtx_plain);
    thrd_create(&t, a_then_b, NULL);
    thrd_join(t, NULL);
    thrd_create(&t, b_then_a, NULL);
    thrd_join(t, NULL);
    puts("done");
    return 0;
}
