/* RSS over create/join cycles with a fixed number of concurrent threads (issue 2: "RSS stays
 * flat over 1,000,000 create/join cycles of 200 concurrent threads").
 * Usage: rss_flat [cycles=1000000] [concurrent=200]. Each thread mallocs, printf's into a
 * buffer and uses errno and TLS, like a small real task. Prints RSS at start, after 10% of the
 * cycles and at the end, and exits 1 if RSS grew by more than 20 MB after the 10% mark.
 * Built as an ordinary glibc program; `make stress-rss` runs it under LD_PRELOAD. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static __thread int tls_counter = 3;

static long rss_kib(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, res = 0;
    if (!f || fscanf(f, "%ld %ld", &size, &res) != 2) res = -1;
    if (f) fclose(f);
    return res * (sysconf(_SC_PAGESIZE) / 1024);
}

static void *work(void *arg) {
    long n = (long)arg;
    char *p = malloc(32 + n % 4096);
    int len = snprintf(p, 32, "task %ld", n);
    errno = (int)(n & 0xff);
    tls_counter += len;
    long v = (errno == (int)(n & 0xff)) ? tls_counter : -1;
    free(p);
    return (void *)v;
}

int main(int argc, char **argv) {
    long cycles = argc > 1 ? atol(argv[1]) : 1000000;
    int conc = argc > 2 ? atoi(argv[2]) : 200;
    pthread_t *t = calloc(conc, sizeof *t);
    long rss_start = rss_kib(), rss_10 = 0, rss_max = 0, bad = 0;
    printf("rss_flat: %ld cycles, %d concurrent threads\n", cycles, conc);
    printf("rss_flat: RSS at start          %8ld KiB\n", rss_start);
    long next = 0, done = 0;
    for (; next < conc && next < cycles; next++)
        if (pthread_create(&t[next], NULL, work, (void *)next)) { perror("pthread_create"); return 2; }
    while (done < cycles) {
        int slot = done % conc;
        void *v;
        if (pthread_join(t[slot], &v)) { fprintf(stderr, "join failed\n"); return 2; }
        if ((long)v < 0) bad++;
        done++;
        if (next < cycles) {
            if (pthread_create(&t[slot], NULL, work, (void *)next)) { perror("pthread_create"); return 2; }
            next++;
        }
        if (done % (cycles / 100 ? cycles / 100 : 1) == 0) {
            long r = rss_kib();
            if (r > rss_max) rss_max = r;
            if (done == cycles / 10) {
                rss_10 = r;
                printf("rss_flat: RSS after %7ld cycles %8ld KiB\n", done, r);
                fflush(stdout);
            }
        }
    }
    long rss_end = rss_kib();
    printf("rss_flat: RSS at end (%ld)   %8ld KiB (max %ld KiB)\n", done, rss_end, rss_max);
    printf("rss_flat: growth after 10%%:     %8ld KiB\n", rss_max - rss_10);
    if (bad) { fprintf(stderr, "rss_flat: %ld threads saw wrong errno/TLS\n", bad); return 1; }
    if (rss_max - rss_10 > 20 * 1024) { fprintf(stderr, "rss_flat: RSS not flat\n"); return 1; }
    return 0;
}
