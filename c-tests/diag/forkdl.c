/* Diagnostics across dlclose and fork.
 * 1. libdiagfoo.so is dlopen'ed, its lock taken in both orders with the program's
 *    `app_lock` (an inversion, reported while the library is loaded), then dlclose'd: the
 *    exit report still names `g_lock in libdiagfoo.so`.
 * 2. fork(): the child (one thread) takes `app_lock` and `child_lock` in both orders — its
 *    own inversion, reported in its own file (RPTHREAD_DIAG_OUT=...%p) — and exits. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t app_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t child_lock = PTHREAD_MUTEX_INITIALIZER;
static long (*foo_count)(void);
static void (*foo_with)(pthread_mutex_t *);

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

int main(int argc, char **argv) {
    const char *lib = argc > 1 ? argv[1] : "libdiagfoo.so";
    void *h = dlopen(lib, RTLD_NOW);
    if (!h) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 1;
    }
    foo_count = (long (*)(void))dlsym(h, "foo_count");
    foo_with = (void (*)(pthread_mutex_t *))dlsym(h, "foo_with");
    pthread_t t;
    pthread_create(&t, NULL, app_then_lib, NULL);
    pthread_join(t, NULL);
    pthread_create(&t, NULL, lib_then_app, NULL);
    pthread_join(t, NULL);
    dlclose(h);

    pid_t pid = fork();
    if (pid == 0) {
        pthread_mutex_lock(&app_lock);
        pthread_mutex_lock(&child_lock);
        pthread_mutex_unlock(&child_lock);
        pthread_mutex_unlock(&app_lock);
        pthread_mutex_lock(&child_lock);
        pthread_mutex_lock(&app_lock);
        pthread_mutex_unlock(&app_lock);
        pthread_mutex_unlock(&child_lock);
        exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("child %d exited %d\n", (int)pid, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}
