/* Footprint: how many threads with default attributes (8 MiB stacks) a process can create
 * under an address-space limit (`ulimit -v 200000`, set by run.py from the directive below).
 * The threads wait on a futex gate until creation fails, then all are released and joined.
 */
// rpthread-bench: rlimit_as=200000
#include "bench.h"
#include <pthread.h>

#define MAX_THREADS 4096

static atomic_uint gate;

static void *wait_gate(void *arg)
{
    bench_gate_wait(&gate);
    return arg;
}

int main(void)
{
    static pthread_t t[MAX_THREADS];
    int n = 0;
    while (n < MAX_THREADS && pthread_create(&t[n], NULL, wait_gate, NULL) == 0)
        n++;
    bench_gate_open(&gate);
    for (int i = 0; i < n; i++)
        BENCH_CHECK(pthread_join(t[i], NULL));
    bench_result("threads_under_ulimit_v_200000", n, "threads", "higher");
    return 0;
}
