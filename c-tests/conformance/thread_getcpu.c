/* sched_getcpu() in our threads (glibc reads it from the thread's rseq area, which we must
 * register): a thread pinned to CPU k gets k, the same as the getcpu system call. */
#include "thread_check.h"
#include <pthread.h>
#include <sched.h>

static void *pinned(void *arg) {
    long cpu = (long)arg;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) {
        CHECK(0, "sched_setaffinity(%ld)", cpu);
        return NULL;
    }
    for (int i = 0; i < 100; i++) {
        unsigned c = 99999, node;
        CHECK(syscall(SYS_getcpu, &c, &node, NULL) == 0, "getcpu syscall");
        int g = sched_getcpu();
        CHECK(g == (int)cpu && c == cpu, "pinned to %ld: sched_getcpu %d, getcpu syscall %u", cpu, g, c);
        if (tc_failures) break;
        sched_yield();
    }
    return NULL;
}

int main(void) {
    cpu_set_t allowed;
    CHECK(sched_getaffinity(0, sizeof allowed, &allowed) == 0, "sched_getaffinity");
    int n = 0;
    for (long cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (!CPU_ISSET(cpu, &allowed)) continue;
        pthread_t t;
        CHECK(pthread_create(&t, NULL, pinned, (void *)cpu) == 0, "create");
        CHECK(pthread_join(t, NULL) == 0, "join");
        if (++n == 16) break;
    }
    /* unpinned: sched_getcpu is a CPU we may run on */
    int c = sched_getcpu();
    CHECK(c >= 0 && CPU_ISSET(c, &allowed), "main: sched_getcpu %d", c);
    printf("thread_getcpu: checked %d CPUs\n", n);
    return tc_result("thread_getcpu");
}
