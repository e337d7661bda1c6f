/* main calls pthread_exit while other threads run: the others keep running (and print); when
 * the last one exits, the process ends with status 0 and runs the atexit handlers, which
 * check that every thread finished its work. */
#include "thread_check.h"
#include <pthread.h>

#define THREADS 4
#define STEPS 200
static TC_ATOMIC(int) main_gone;
static TC_ATOMIC(int) done_steps;
static pthread_t main_thread;

static void *worker(void *arg) {
    long id = (long)arg;
    while (!main_gone) tc_futex_wait(&main_gone, 0);
    for (int i = 0; i < STEPS; i++) {
        printf("worker %ld step %d after main exited\n", id, i);
        void *p = malloc(64);
        free(p);
        done_steps++;
        if (i % 50 == 0) usleep(1000);
    }
    return NULL;
}

static void at_exit_check(void) {
    int rc = 0;
    if (done_steps != THREADS * STEPS) {
        fprintf(stderr, "thread_main_exit: process ended after %d of %d steps\n", (int)done_steps,
                THREADS * STEPS);
        rc = 1;
    }
    printf("thread_main_exit: atexit handler ran after the last thread, %d steps\n", (int)done_steps);
    fflush(stdout);
    if (rc) _exit(rc);
    /* returning lets exit(0) finish: the harness checks status 0 */
}

static void *notify(void *arg) {
    (void)arg;
    /* wait until the main thread has really left: the thread group leader stays in /proc
     * as a zombie ('Z') until the whole process ends */
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", getpid());
    int zombie = 0;
    for (int i = 0; i < 10000 && !zombie; i++) {
        FILE *f = fopen(path, "r");
        char buf[512] = "";
        if (f) {
            if (!fgets(buf, sizeof buf, f)) buf[0] = 0;
            fclose(f);
        }
        char *paren = strrchr(buf, ')');
        zombie = paren && (paren[2] == 'Z' || paren[2] == 'X');
        if (!zombie) usleep(1000);
    }
    if (!zombie) {
        fprintf(stderr, "thread_main_exit: main thread still alive\n");
        _exit(4);
    }
    main_gone = 1;
    tc_futex_wake(&main_gone, INT_MAX);
    return NULL;
}

int main(void) {
    atexit(at_exit_check);
    main_thread = pthread_self();
    pthread_t t;
    for (long i = 0; i < THREADS; i++)
        if (pthread_create(&t, NULL, worker, (void *)i) != 0) return 2;
    if (pthread_create(&t, NULL, notify, NULL) != 0) return 2;
    pthread_detach(t);
    pthread_exit(NULL);
}
