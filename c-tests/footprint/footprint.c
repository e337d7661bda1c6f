/* Footprint checks, run by scripts/footprint.py under plain glibc and under rpthread: each
 * mode does one thing, then prints its figures and the process's memory map.
 *
 *   trivial          nothing (one pthread_self call)
 *   capacity         threads with default attributes until pthread_create fails (run under
 *                    an address-space limit); prints "threads N"
 *   bigstack         one thread with a 1 TiB stack; prints "create <errno name or ok>"
 *   churn            20,000 detached threads that end at once (no malloc)
 *   serial-malloc    500 create+join cycles of threads that malloc and free
 *   mixed            2,000 joinable threads, 16 alive at a time, stacks of 64 KiB to 8 MiB
 *
 * Output: "vmsize KiB", "rss KiB", then "map <lo> <hi> <rss KiB> <anonymous KiB> <path>" per
 * mapping (anonymous: private memory, file pages written to included).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static atomic_uint gate, done;

static void futex_wait(atomic_uint *w, unsigned v)
{
    syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0);
}

static void futex_wake(atomic_uint *w)
{
    syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, 0x7fffffff, NULL, NULL, 0);
}

static void *wait_gate(void *arg)
{
    while (atomic_load(&gate) == 0)
        futex_wait(&gate, 0);
    return arg;
}

static void *count_done(void *arg)
{
    atomic_fetch_add(&done, 1);
    futex_wake(&done);
    return arg;
}

static void *use_malloc(void *arg)
{
    char *p = malloc(64 + (long)arg % 2048);
    memset(p, 1, 64);
    __asm__ volatile("" : : "r"(p) : "memory");
    free(p);
    return arg;
}

static void wait_done(unsigned n)
{
    unsigned v;
    while ((v = atomic_load(&done)) < n)
        futex_wait(&done, v);
}

static void check(int rc, const char *what)
{
    if (rc != 0) {
        fprintf(stderr, "%s: %s\n", what, strerror(rc));
        exit(1);
    }
}

static void report(void)
{
    char line[512];
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f)) {
        if (!strncmp(line, "VmSize:", 7))
            printf("vmsize %ld\n", atol(line + 7));
        if (!strncmp(line, "VmRSS:", 6))
            printf("rss %ld\n", atol(line + 6));
    }
    if (f)
        fclose(f);
    f = fopen("/proc/self/smaps", "r");
    unsigned long lo = 0, hi = 0;
    long rss = 0;
    char path[300] = "";
    while (f && fgets(line, sizeof line, f)) {
        unsigned long a, b;
        char rest[300] = "";
        if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %299[^\n]", &a, &b, rest) >= 2 && strchr(line, '-') < strchr(line, ' ')) {
            lo = a;
            hi = b;
            snprintf(path, sizeof path, "%s", rest);
        } else if (!strncmp(line, "Rss:", 4)) {
            rss = atol(line + 4);
        } else if (!strncmp(line, "Anonymous:", 10)) {
            printf("map %lx %lx %ld %ld %s\n", lo, hi, rss, atol(line + 10), path[0] ? path : "-");
        }
    }
    if (f)
        fclose(f);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "trivial";
    if (!strcmp(mode, "trivial")) {
        volatile pthread_t self = pthread_self();
        (void)self;
    } else if (!strcmp(mode, "capacity")) {
        static pthread_t t[4096];
        int n = 0;
        while (n < 4096 && pthread_create(&t[n], NULL, wait_gate, NULL) == 0)
            n++;
        atomic_store(&gate, 1);
        futex_wake(&gate);
        for (int i = 0; i < n; i++)
            check(pthread_join(t[i], NULL), "pthread_join");
        printf("threads %d\n", n);
    } else if (!strcmp(mode, "bigstack")) {
        pthread_attr_t a;
        pthread_t t;
        check(pthread_attr_init(&a), "pthread_attr_init");
        check(pthread_attr_setstacksize(&a, (size_t)1 << 40), "pthread_attr_setstacksize");
        int rc = pthread_create(&t, &a, count_done, NULL);
        if (rc == 0)
            check(pthread_join(t, NULL), "pthread_join");
        printf("create %s\n", rc == 0 ? "ok" : rc == EAGAIN ? "EAGAIN" : strerror(rc));
    } else if (!strcmp(mode, "churn")) {
        pthread_attr_t a;
        check(pthread_attr_init(&a), "pthread_attr_init");
        check(pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED), "setdetachstate");
        for (int i = 0; i < 20000; i++) {
            pthread_t t;
            while (pthread_create(&t, &a, count_done, NULL) != 0)
                usleep(1000);
        }
        wait_done(20000);
        usleep(50000);
    } else if (!strcmp(mode, "serial-malloc")) {
        for (long i = 0; i < 500; i++) {
            pthread_t t;
            check(pthread_create(&t, NULL, use_malloc, (void *)i), "pthread_create");
            check(pthread_join(t, NULL), "pthread_join");
        }
    } else if (!strcmp(mode, "mixed")) {
        static const size_t sizes[] = {64 << 10, 256 << 10, 1 << 20, 8 << 20};
        pthread_attr_t a[4];
        pthread_t live[16];
        for (int k = 0; k < 4; k++) {
            check(pthread_attr_init(&a[k]), "pthread_attr_init");
            check(pthread_attr_setstacksize(&a[k], sizes[k]), "pthread_attr_setstacksize");
        }
        for (int i = 0; i < 2000; i++) {
            if (i >= 16)
                check(pthread_join(live[i % 16], NULL), "pthread_join");
            check(pthread_create(&live[i % 16], &a[i % 4], count_done, NULL), "pthread_create");
        }
        for (int i = 0; i < 16; i++)
            check(pthread_join(live[i], NULL), "pthread_join");
    } else {
        fprintf(stderr, "unknown mode %s\n", mode);
        return 2;
    }
    report();
    return 0;
}
