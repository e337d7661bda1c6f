/* A lock of the program (`app_lock`) and one of a library (`g_lock` in libdiagfoo.so),
 * taken in both orders by two threads one after the other: the inversion report names both
 * static locks by symbol and object file. Link with -ldiagfoo. */
#include <pthread.h>
#include <stdio.h>

long foo_count(void);
void foo_with(pthread_mutex_t *theirs);

static pthread_mutex_t app_lock = PTHREAD_MUTEX_INITIALIZER;

static void *app_then_lib(void *arg) {
    (void)arg;
    pthread_mutex_lock(&app_lock);
    foo_count();
    pthread_mutex_unlock(&app_lock);
    return NULL;
}

static void *lib_then_app(void *arg) {
    (void)arg;
    foo_with(&app_lock);
    return NULL;
}

int main(void) {
    pthread_t t;
    pthread_create(&t, NULL, app_then_lib, NULL);
    pthread_join(t, NULL);
    pthread_create(&t, NULL, lib_then_app, NULL);
    pthread_join(t, NULL);
    printf("done\n");
    return 0;
}
