/* A library with static (initial-exec) TLS dlopen'ed while one of our threads runs: glibc
 * must initialize that TLS in every existing thread (it walks the thread lists we register
 * on), so the thread created before the dlopen reads the initial values, not zeros. The
 * library is compiled at run time with the system compiler. */
#include "thread_check.h"
#include <dlfcn.h>
#include <pthread.h>

static const char *lib_src =
    "static __thread int ie_value __attribute__((tls_model(\"initial-exec\"))) = 4242;\n"
    "static __thread char ie_text[32] __attribute__((tls_model(\"initial-exec\"))) = \"static tls\";\n"
    "static __thread int gd_value = 77;\n"
    "int get_ie(void) { return ie_value; }\n"
    "const char *get_text(void) { return ie_text; }\n"
    "int get_gd(void) { return gd_value; }\n"
    "void set_ie(int v) { ie_value = v; }\n";

static tc_barrier bar;
static int (*get_ie)(void), (*get_gd)(void);
static const char *(*get_text)(void);
static void (*set_ie)(int);

static void *early(void *arg) {
    long id = (long)arg;
    tc_barrier_wait(&bar); /* started before the dlopen */
    tc_barrier_wait(&bar); /* dlopen done */
    CHECK(get_ie() == 4242, "thread %ld: static TLS of the dlopen'ed library reads %d", id, get_ie());
    CHECK(strcmp(get_text(), "static tls") == 0, "thread %ld: text '%s'", id, get_text());
    CHECK(get_gd() == 77, "thread %ld: dynamic TLS %d", id, get_gd());
    set_ie(id);
    tc_barrier_wait(&bar);
    CHECK(get_ie() == id, "thread %ld: static TLS not private (%d)", id, get_ie());
    return NULL;
}

static void *late(void *arg) {
    (void)arg;
    CHECK(get_ie() == 4242 && get_gd() == 77, "late thread: %d %d", get_ie(), get_gd());
    return NULL;
}

int main(void) {
    char dir[] = "/tmp/rpthread-dlopen-XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char src[128], so[128], cmd[512];
    snprintf(src, sizeof src, "%s/statictls.c", dir);
    snprintf(so, sizeof so, "%s/libstatictls.so", dir);
    FILE *f = fopen(src, "w");
    fputs(lib_src, f);
    fclose(f);
    /* The compiler is not the program under test: keep it out of the harness's binding log
     * and off rpthread. */
    snprintf(cmd, sizeof cmd, "env -u LD_PRELOAD -u LD_DEBUG -u LD_DEBUG_OUTPUT cc -shared -fPIC -O2 -o %s %s",
             so, src);
    if (system(cmd) != 0) {
        printf("thread_dlopen_tls: SKIP (cannot run the C compiler: %s)\n", cmd);
        return 0;
    }

    enum { N = 3 };
    pthread_t t[N];
    tc_barrier_init(&bar, N + 1);
    for (long i = 0; i < N; i++) CHECK(pthread_create(&t[i], NULL, early, (void *)(i + 1)) == 0, "create");
    tc_barrier_wait(&bar);
    void *h = dlopen(so, RTLD_NOW);
    CHECK(h != NULL, "dlopen: %s", dlerror());
    if (!h) return 1;
    get_ie = (int (*)(void))dlsym(h, "get_ie");
    get_gd = (int (*)(void))dlsym(h, "get_gd");
    set_ie = (void (*)(int))dlsym(h, "set_ie");
    get_text = (const char *(*)(void))dlsym(h, "get_text");
    CHECK(get_ie && get_gd && set_ie && get_text, "dlsym");
    CHECK(get_ie() == 4242, "main: %d", get_ie());
    tc_barrier_wait(&bar);
    tc_barrier_wait(&bar);
    for (int i = 0; i < N; i++) CHECK(pthread_join(t[i], NULL) == 0, "join");
    CHECK(get_ie() == 4242, "main's copy changed: %d", get_ie());
    /* threads created after the dlopen, also on recycled stacks */
    for (int i = 0; i < 4; i++) {
        CHECK(pthread_create(&t[0], NULL, late, NULL) == 0, "create");
        CHECK(pthread_join(t[0], NULL) == 0, "join");
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    system(cmd);
    return tc_result("thread_dlopen_tls");
}
