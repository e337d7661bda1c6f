/* A library with a static lock of its own: reports name it `g_lock in libdiagfoo.so`. */
#include <pthread.h>

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static long g_count;

/* Takes the library's lock while the caller may hold locks of its own. */
long foo_count(void) {
    pthread_mutex_lock(&g_lock);
    long n = ++g_count;
    pthread_mutex_unlock(&g_lock);
    return n;
}

/* Takes the caller's lock while holding the library's: the opposite order. */
void foo_with(pthread_mutex_t *theirs) {
    pthread_mutex_lock(&g_lock);
    pthread_mutex_lock(theirs);
    pthread_mutex_unlock(theirs);
    pthread_mutex_unlock(&g_lock);
}
