/* The main thread calls pthread_exit while a thread of the program joins it: the join
 * returns 0 once main has ended (glibc: the kernel clears main's tid), the other threads go
 * on, and the process exits with status 0 when the last one returns. */
#include "thread_check.h"
#include <pthread.h>

static pthread_t main_id;

static void *joiner(void *arg) {
    (void)arg;
    void *v = (void *)1;
    int rc = pthread_join(main_id, &v);
    if (rc != 0) {
        fprintf(stderr, "pthread_join(main) = %d\n", rc);
        _exit(1);
    }
    printf("joined main: %p\n", v);
    fflush(stdout);
    return NULL; /* the last thread: the process exits with 0 */
}

int main(void) {
    main_id = pthread_self();
    pthread_t t;
    if (pthread_create(&t, NULL, joiner, NULL) != 0) return 2;
    usleep(20000);
    pthread_exit((void *)0x77);
}
