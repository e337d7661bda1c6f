/* C11 threads: thrd_create makes rpthread threads; results, detach, sleep, equal. */
#include <threads.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "check.h"


static _Thread_local int tl = 7;
static int worker(void *arg) { tl += (int)(long)arg; return tl * 2; }
static int quitter(void *arg) { (void)arg; thrd_exit(42); return 0; }
static int self_check(void *arg) { return thrd_equal(thrd_current(), *(thrd_t *)arg); }

int main(void) {
    thrd_t t[4];
    for (long i = 0; i < 4; i++) CHECK(thrd_create(&t[i], worker, (void *)i) == thrd_success);
    for (long i = 0; i < 4; i++) { int r = -1; CHECK(thrd_join(t[i], &r) == thrd_success); CHECK(r == (7 + i) * 2); }
    CHECK(tl == 7);
    thrd_t q; int r = 0;
    CHECK(thrd_create(&q, quitter, NULL) == thrd_success);
    CHECK(thrd_join(q, &r) == thrd_success && r == 42);
    thrd_t s; CHECK(thrd_create(&s, self_check, &s) == thrd_success);
    /* The child reads `s` after thrd_create stored it: thrd_create writes before returning,
       and the child may run first, so join and accept either ordering-independent result. */
    CHECK(thrd_join(s, &r) == thrd_success);
    CHECK(thrd_equal(thrd_current(), thrd_current()));
    thrd_t d; CHECK(thrd_create(&d, worker, NULL) == thrd_success); CHECK(thrd_detach(d) == thrd_success);
    struct timespec ts = {0, 1000000};
    CHECK(thrd_sleep(&ts, NULL) == 0);
    thrd_yield();
    if (tc_failures) return 1;
    puts("c11_thrd: ok");
    return 0;
}
