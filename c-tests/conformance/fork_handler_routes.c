/* Fork handlers registered by every route (pthread_atfork, the __register_atfork entry that
 * glibc-built programs' static pthread_atfork calls, and glibc's own __register_atfork looked
 * up in libc, as a library loaded past rpthread may reach it) run exactly once per fork, in
 * POSIX order: prepare handlers in reverse order of registration, parent and child handlers
 * in order. */
// rpthread-test: flags=-ldl; glibc=__register_atfork
#include "thread_check.h"
#include <dlfcn.h>
#include <pthread.h>
#include <sys/wait.h>

extern int __register_atfork(void (*)(void), void (*)(void), void (*)(void), void *);
extern void *__dso_handle;

static char log_buf[64];
static TC_ATOMIC(int) log_len;
static void put(char c) { log_buf[log_len++] = c; }

static void p1(void) { put('P'); put('1'); }
static void p2(void) { put('P'); put('2'); }
static void p3(void) { put('P'); put('3'); }
static void a1(void) { put('A'); put('1'); }
static void a2(void) { put('A'); put('2'); }
static void a3(void) { put('A'); put('3'); }
static void c1(void) { put('C'); put('1'); }
static void c2(void) { put('C'); put('2'); }
static void c3(void) { put('C'); put('3'); }

static void *nothing(void *a) { return a; }

int main(void) {
    typedef int (*reg_fn)(void (*)(void), void (*)(void), void (*)(void), void *);
    void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    reg_fn glibc_reg = libc ? (reg_fn)dlsym(libc, "__register_atfork") : NULL;
    CHECK(glibc_reg != NULL, "glibc's __register_atfork");
    CHECK(pthread_atfork(p1, a1, c1) == 0, "pthread_atfork");
    CHECK(__register_atfork(p2, a2, c2, __dso_handle) == 0, "__register_atfork");
    CHECK(glibc_reg && glibc_reg(p3, a3, c3, __dso_handle) == 0, "glibc's __register_atfork");
    pthread_t t;
    CHECK(pthread_create(&t, NULL, nothing, NULL) == 0 && pthread_join(t, NULL) == 0, "a thread");
    for (int round = 0; round < 2; round++) {
        log_len = 0;
        pid_t pid = fork();
        if (pid == 0) {
            log_buf[log_len] = 0;
            _exit(strcmp(log_buf, "P3P2P1C1C2C3") == 0 ? 0 : 1);
        }
        log_buf[log_len] = 0;
        CHECK(strcmp(log_buf, "P3P2P1A1A2A3") == 0, "parent order: %s", log_buf);
        int st = -1;
        CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
              "child order (status %d)", st);
    }
    return tc_result("fork_handler_routes");
}
