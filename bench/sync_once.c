/* pthread_once: the fast path (the routine has run), ns per call through the PLT, best of
 * batches. Prints `RESULT <metric> <value> <unit> <better>` lines. */
#include "sync_common.h"
#include <pthread.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int runs;

static void init(void)
{
    runs++;
}

int main(void)
{
    double ns;
    SB_NS_PER_OP(ns, pthread_once(&once, init));
    if (runs != 1) {
        fprintf(stderr, "routine ran %d times\n", runs);
        return 2;
    }
    sb_result("once_fast_path", ns, "ns", "lower");
    return 0;
}
