/* Footprint of a trivial program: its VmSize and VmRSS (from /proc/self/status) at the end of
 * main. It makes one pthread call (pthread_self), so that run.py can see which library
 * served it. Under rpthread the difference from glibc is what merely loading the library
 * costs: its own code and data, and anything its start-up leaves behind.
 */
#include "bench.h"
#include <pthread.h>

static long status_kib(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t n = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, key, n) == 0)
            v = atol(line + n);
    if (f)
        fclose(f);
    return v;
}

int main(void)
{
    volatile pthread_t self = pthread_self();
    (void)self;
    long vm = status_kib("VmSize:"), rss = status_kib("VmRSS:");
    bench_result("trivial_vmsize", vm, "KiB", "lower");
    bench_result("trivial_rss", rss, "KiB", "lower");
    return 0;
}
