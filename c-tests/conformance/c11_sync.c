/* C11 mtx_*, cnd_*, tss_*, call_once on rpthread: counts, timeouts, recursion, destructors. */
#include <threads.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "check.h"


static mtx_t m;
static cnd_t c;
static long counter;
static int ready, dtor_calls, once_runs;
static tss_t key;
static once_flag flag = ONCE_FLAG_INIT;

static void init_once(void) { once_runs++; }
static void dtor(void *p) { mtx_lock(&m); dtor_calls++; mtx_unlock(&m); free(p); }

static int adder(void *arg) {
    (void)arg;
    call_once(&flag, init_once);
    int *v = malloc(sizeof *v);
    *v = 1;
    if (tss_set(key, v) != thrd_success || tss_get(key) != v) return 1;
    for (int i = 0; i < 20000; i++) { mtx_lock(&m); counter++; mtx_unlock(&m); }
    mtx_lock(&m);
    while (!ready) cnd_wait(&c, &m);
    mtx_unlock(&m);
    return 0;
}

int main(void) {
    CHECK(mtx_init(&m, mtx_plain) == thrd_success);
    CHECK(cnd_init(&c) == thrd_success);
    CHECK(tss_create(&key, dtor) == thrd_success);
    thrd_t t[4];
    for (int i = 0; i < 4; i++) CHECK(thrd_create(&t[i], adder, NULL) == thrd_success);
    struct timespec ts = {0, 20000000};
    thrd_sleep(&ts, NULL);
    mtx_lock(&m); ready = 1; cnd_broadcast(&c); mtx_unlock(&m);
    for (int i = 0; i < 4; i++) { int r = -1; CHECK(thrd_join(t[i], &r) == thrd_success && r == 0); }
    CHECK(counter == 80000);
    CHECK(dtor_calls == 4);
    CHECK(once_runs == 1);

    /* trylock on a held plain mutex, timed lock expiry, timed wait expiry */
    mtx_lock(&m);
    struct timespec now, dl;
    timespec_get(&now, TIME_UTC);
    dl = now; dl.tv_nsec += 20000000; if (dl.tv_nsec >= 1000000000) { dl.tv_sec++; dl.tv_nsec -= 1000000000; }
    CHECK(cnd_timedwait(&c, &m, &dl) == thrd_timedout);
    mtx_unlock(&m);
    mtx_t tm; CHECK(mtx_init(&tm, mtx_timed) == thrd_success);
    CHECK(mtx_lock(&tm) == thrd_success);
    CHECK(mtx_trylock(&tm) == thrd_busy);
    mtx_unlock(&tm);
    mtx_destroy(&tm);
    mtx_t rm; CHECK(mtx_init(&rm, mtx_plain | mtx_recursive) == thrd_success);
    CHECK(mtx_lock(&rm) == thrd_success && mtx_lock(&rm) == thrd_success && mtx_trylock(&rm) == thrd_success);
    mtx_unlock(&rm); mtx_unlock(&rm); mtx_unlock(&rm);
    mtx_destroy(&rm);
    tss_delete(key);
    cnd_destroy(&c);
    mtx_destroy(&m);
    if (tc_failures) return 1;
    puts("c11_sync: ok");
    return 0;
}
