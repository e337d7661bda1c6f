/* glibc's single-threaded mode lasts until the first thread, as on glibc: before it
 * `__libc_single_threaded` reads 1 (libstdc++ then counts shared_ptr references without
 * atomics; stdio and malloc skip their locks), and libgcc_s is not loaded (glibc loads it
 * when a thread first unwinds: pthread_exit, cancellation). From the first pthread_create on,
 * the flag reads 0 in every thread, and a thread's pthread_exit unwinds (its cleanup handler
 * runs), which loads libgcc_s.
 *
 * Fails if rpthread switches glibc to multi-threaded mode at load, or makes libgcc_s a
 * load-time dependency. */
#include "thread_check.h"
#include <pthread.h>
#include <sys/single_threaded.h>

static int mapped(const char *name) {
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    int found = 0;
    if (f == NULL) return -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (strstr(line, name) != NULL) found = 1;
    fclose(f);
    return found;
}

static int flag_in_thread = -1;
static int cleanup_ran;

static void *reader(void *arg) {
    (void)arg;
    flag_in_thread = __libc_single_threaded;
    return NULL;
}

static void on_cleanup(void *arg) { *(int *)arg = 1; }

static void *exiter(void *arg) {
    pthread_cleanup_push(on_cleanup, &cleanup_ran);
    pthread_exit(arg);
    pthread_cleanup_pop(0);
    return NULL;
}

int main(void) {
    /* The diagnostics load libgcc_s at start-up for their stacks (`make diag-check`). */
    int diag = getenv("RPTHREAD_DIAG") != NULL;
    CHECK(__libc_single_threaded == 1, "before any thread: __libc_single_threaded %d", __libc_single_threaded);
    if (!diag) CHECK(mapped("libgcc_s") == 0, "libgcc_s mapped before anything unwinds");
    pthread_t t;
    CHECK(pthread_create(&t, NULL, reader, NULL) == 0, "create");
    CHECK(__libc_single_threaded == 0, "after create: __libc_single_threaded %d", __libc_single_threaded);
    CHECK(pthread_join(t, NULL) == 0, "join");
    CHECK(flag_in_thread == 0, "in the thread: __libc_single_threaded %d", flag_in_thread);
    /* Once set, the flag stays (glibc never goes back to single-threaded mode). */
    CHECK(__libc_single_threaded == 0, "after join: __libc_single_threaded %d", __libc_single_threaded);
    if (!diag) CHECK(mapped("libgcc_s") == 0, "libgcc_s mapped by a thread that returned");

    void *r = NULL;
    CHECK(pthread_create(&t, NULL, exiter, (void *)0x5a) == 0, "create exiter");
    CHECK(pthread_join(t, &r) == 0 && r == (void *)0x5a, "pthread_exit value %p", r);
    CHECK(cleanup_ran == 1, "cleanup handler of pthread_exit did not run");
    CHECK(mapped("libgcc_s") == 1, "libgcc_s not loaded by pthread_exit's unwinding");
    return tc_result("thread_single_threaded");
}
