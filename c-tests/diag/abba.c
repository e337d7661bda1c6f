/* Lock orders, one thread after the other (nothing deadlocks in this run):
 *   abba        (default) one thread takes lock_a then lock_b, the next lock_b then lock_a:
 *               the orders can deadlock, `order` reports it; with
 *               RPTHREAD_DIAG_ON_CYCLE=edeadlk the second thread's lock call fails (EDEADLK)
 *   cycle3      three threads: a then b, b then c, c then a (a three-thread cycle)
 *   consistent  three threads all take a, then b, then c: nothing to report
 * Prints what the closing lock call returned. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_c = PTHREAD_MUTEX_INITIALIZER;

struct pair { pthread_mutex_t *first, *second; int rc; };

static void *nested(void *arg) {
    struct pair *p = arg;
    pthread_mutex_lock(p->first);
    p->rc = pthread_mutex_lock(p->second);
    if (p->rc == 0) pthread_mutex_unlock(p->second);
    pthread_mutex_unlock(p->first);
    return NULL;
}

static void *all_three(void *arg) {
    (void)arg;
    pthread_mutex_lock(&lock_a);
    pthread_mutex_lock(&lock_b);
    pthread_mutex_lock(&lock_c);
    pthread_mutex_unlock(&lock_c);
    pthread_mutex_unlock(&lock_b);
    pthread_mutex_unlock(&lock_a);
    return NULL;
}

static int run(struct pair *p) {
    pthread_t t;
    pthread_create(&t, NULL, nested, p);
    pthread_join(t, NULL);
    return p->rc;
}

int main(int argc, char **argv) {
    const char *how = argc > 1 ? argv[1] : "abba";
    int rc = 0;
    if (!strcmp(how, "cycle3")) {
        struct pair ab = {&lock_a, &lock_b, 0}, bc = {&lock_b, &lock_c, 0}, ca = {&lock_c, &lock_a, 0};
        run(&ab);
        run(&bc);
        rc = run(&ca);
    } else if (!strcmp(how, "consistent")) {
        for (int i = 0; i < 3; i++) {
            pthread_t t;
            pthread_create(&t, NULL, all_three, NULL);
            pthread_join(t, NULL);
        }
    } else {
        struct pair ab = {&lock_a, &lock_b, 0}, ba = {&lock_b, &lock_a, 0};
        run(&ab);
        rc = run(&ba);
    }
    printf("closing lock call returned %d (%s)\n", rc, rc ? strerror(rc) : "ok");
    return 0;
}
