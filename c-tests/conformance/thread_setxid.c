/* setresgid() in one of our threads, then setresuid() in main, while our threads run: glibc
 * must apply the new ids to every thread (its SIGSETXID broadcast walks the thread lists we register on). Checked in
 * /proc/self/task/<tid>/status for every task, and with getresuid/getresgid in each thread.
 * Needs root (skipped otherwise). */
#include "thread_check.h"
#include <dirent.h>
#include <pthread.h>
#include <sys/types.h>

#define THREADS 6
static tc_barrier bar;

static void *worker(void *arg) {
    long id = (long)arg;
    tc_barrier_wait(&bar); /* running */
    /* phase 1: thread 0 (one of ours) changes the gids of the whole process, main included */
    if (id == 0) CHECK(setresgid(4321, 4321, 4321) == 0, "setresgid in a thread");
    tc_barrier_wait(&bar);
    gid_t g1, g2, g3;
    CHECK(getresgid(&g1, &g2, &g3) == 0 && g1 == 4321 && g2 == 4321 && g3 == 4321,
          "thread %ld: gids %d %d %d after setresgid in thread 0", id, g1, g2, g3);
    tc_barrier_wait(&bar);
    tc_barrier_wait(&bar); /* main changed the ids */
    uid_t r, e, s;
    gid_t gr, ge, gs;
    CHECK(getresuid(&r, &e, &s) == 0 && getresgid(&gr, &ge, &gs) == 0, "getres*");
    CHECK(r == 1234 && e == 1234 && s == 1234, "thread %ld: uids %d %d %d", id, r, e, s);
    CHECK(gr == 4321 && ge == 4321 && gs == 4321, "thread %ld: gids %d %d %d", id, gr, ge, gs);
    tc_barrier_wait(&bar); /* checked */
    tc_barrier_wait(&bar); /* main has read /proc */
    return NULL;
}

/* Every task's Uid and Gid lines; returns the number of tasks checked. */
static int check_tasks(void) {
    DIR *d = opendir("/proc/self/task");
    struct dirent *de;
    int n = 0;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        char path[128], line[256];
        snprintf(path, sizeof path, "/proc/self/task/%s/status", de->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        int got_uid = 0, got_gid = 0;
        while (fgets(line, sizeof line, f)) {
            unsigned a, b, c, e;
            if (sscanf(line, "Uid: %u %u %u %u", &a, &b, &c, &e) == 4) {
                got_uid = 1;
                CHECK(a == 1234 && b == 1234 && c == 1234 && e == 1234, "task %s: Uid %u %u %u %u",
                      de->d_name, a, b, c, e);
            }
            if (sscanf(line, "Gid: %u %u %u %u", &a, &b, &c, &e) == 4) {
                got_gid = 1;
                CHECK(a == 4321 && b == 4321 && c == 4321 && e == 4321, "task %s: Gid %u %u %u %u",
                      de->d_name, a, b, c, e);
            }
        }
        fclose(f);
        CHECK(got_uid && got_gid, "task %s: no Uid/Gid lines", de->d_name);
        n++;
    }
    closedir(d);
    return n;
}

int main(void) {
    if (geteuid() != 0) {
        printf("thread_setxid: SKIP (needs root)\n");
        return 0;
    }
    pthread_t t[THREADS];
    tc_barrier_init(&bar, THREADS + 1);
    for (long i = 0; i < THREADS; i++) CHECK(pthread_create(&t[i], NULL, worker, (void *)i) == 0, "create");
    tc_barrier_wait(&bar);
    tc_barrier_wait(&bar); /* thread 0 changed the gids */
    gid_t g1, g2, g3;
    CHECK(getresgid(&g1, &g2, &g3) == 0 && g1 == 4321 && g2 == 4321 && g3 == 4321,
          "main: gids %d %d %d after setresgid in thread 0", g1, g2, g3);
    tc_barrier_wait(&bar);
    /* phase 2: main changes the uids */
    CHECK(setresuid(1234, 1234, 1234) == 0, "setresuid");
    tc_barrier_wait(&bar);
    tc_barrier_wait(&bar);
    int n = check_tasks();
    CHECK(n == THREADS + 1, "%d tasks, expected %d", n, THREADS + 1);
    tc_barrier_wait(&bar);
    for (int i = 0; i < THREADS; i++) CHECK(pthread_join(t[i], NULL) == 0, "join");
    return tc_result("thread_setxid");
}
