/* The conformance tests' one set of checks. Each failure is printed with its place and
 * counted (from any thread); check_result() turns the count into the exit status.
 *
 *   CHECK(cond)                   cond must hold
 *   CHECK(cond, "fmt", args...)   the same, with a message
 *   CHECK_EQ(expr, want)          expr (an integer: a return value, an error number) must be
 *                                 want; both are printed, with their error names
 *   ts_in_ms(clock, ms)           now + ms on that clock, as a deadline
 *   REQUIRE(cond)                 cond must hold, or the calling function returns 1 at once
 *                                 (where going on after a failure would hang or crash) */
#ifndef RPTHREAD_CHECK_H
#define RPTHREAD_CHECK_H
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#ifdef __cplusplus
#include <atomic>
static std::atomic<int> tc_failures;
#else
#include <stdatomic.h>
static _Atomic int tc_failures;
#endif

/* CHECK without a message passes an empty format string on purpose. */
#pragma GCC diagnostic ignored "-Wformat-zero-length"

__attribute__((format(printf, 4, 5), unused))
static void check_failed(const char *file, int line, const char *what, const char *fmt, ...) {
    int err = errno;
    fprintf(stderr, "FAIL %s:%d: %s", file, line, what);
    if (fmt[0]) {
        va_list ap;
        va_start(ap, fmt);
        fputs(": ", stderr);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
    }
    if (err)
        fprintf(stderr, " (errno %d %s)", err, strerror(err));
    fputc('\n', stderr);
    tc_failures++;
}

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (!(cond))                                                       \
            check_failed(__FILE__, __LINE__, #cond, "" __VA_ARGS__);       \
    } while (0)

#define CHECK_EQ(expr, want)                                                          \
    do {                                                                              \
        long got_ = (long)(expr), want_ = (long)(want);                               \
        if (got_ != want_) {                                                          \
            fprintf(stderr, "FAIL %s:%d: %s = %ld (%s), want %ld (%s)\n", __FILE__,   \
                    __LINE__, #expr, got_, strerror((int)got_), want_,                \
                    strerror((int)want_));                                            \
            tc_failures++;                                                            \
        }                                                                             \
    } while (0)

#define REQUIRE(cond)                                                      \
    do {                                                                   \
        if (!(cond)) {                                                     \
            check_failed(__FILE__, __LINE__, #cond, "");                   \
            return 1;                                                      \
        }                                                                  \
    } while (0)

/* Now + ms (>= 0) on clock `c`: a deadline for the timed calls. */
static inline struct timespec ts_in_ms(clockid_t c, long ms) {
    struct timespec t;
    clock_gettime(c, &t);
    t.tv_nsec += ms * 1000000L;
    t.tv_sec += t.tv_nsec / 1000000000L;
    t.tv_nsec %= 1000000000L;
    return t;
}

/* The exit status: 0 if nothing failed; prints the count otherwise and "<name>: ok" on
 * success when a name is given. */
__attribute__((unused))
static int check_result(const char *name) {
    int n = tc_failures;
    if (n) {
        fprintf(stderr, "%s: %d check(s) failed\n", name ? name : "test", n);
        return 1;
    }
    if (name)
        printf("%s: ok\n", name);
    return 0;
}
#endif
