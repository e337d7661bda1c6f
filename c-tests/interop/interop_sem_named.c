/* Named semaphores between a glibc process and an rpthread process: each role creates one
 * with sem_open(O_CREAT|O_EXCL) and the other opens it by name; the file in /dev/shm has
 * glibc's name and size, the initial value set by the creator is seen by the opener, the
 * two hand tokens back and forth, and a timed wait times out. */
#include "interop.h"
#include <semaphore.h>
#include <sys/stat.h>

#define ROUNDS 2000

int main(int argc, char **argv)
{
    interop_start(argc, argv, 0);
    char mine[128], theirs[128], path[192];
    snprintf(mine, sizeof mine, "/%s-%c", sem_prefix, role);
    snprintf(theirs, sizeof theirs, "/%s-%c", sem_prefix, role == 'A' ? 'B' : 'A');
    snprintf(path, sizeof path, "/dev/shm/sem.%s", mine + 1);
    sem_unlink(mine);
    sem_t *own = sem_open(mine, O_CREAT | O_EXCL, 0600, 2);
    CHECK(own != SEM_FAILED, "sem_open(%s, O_CREAT|O_EXCL): %s", mine, strerror(errno));
    if (own == SEM_FAILED) return 1;
    struct stat st;
    CHECK(stat(path, &st) == 0 && st.st_size == 32, "%s: size %ld", path, (long)st.st_size);
    interop_ready();
    meet(1);
    sem_t *other = sem_open(theirs, 0);
    CHECK(other != SEM_FAILED, "sem_open(%s): %s", theirs, strerror(errno));
    if (other == SEM_FAILED) return 1;
    CHECK(sem_open(theirs, O_CREAT | O_EXCL, 0600, 0) == SEM_FAILED && errno == EEXIST, "O_EXCL on an existing one");
    int v = -1;
    CHECK(sem_getvalue(other, &v) == 0 && v == 2, "value %d set by the creator", v);
    meet(2);
    /* Take the two initial tokens of the peer's semaphore. */
    CHECK(sem_wait(other) == 0 && sem_trywait(other) == 0, "initial tokens");
    meet(3);
    /* Ping-pong: A posts on its own and waits on B's; B the other way round. */
    for (int i = 0; i < ROUNDS; i++) {
        if (role == 'A') {
            CHECK(sem_post(own) == 0, "post");
            CHECK(sem_wait(other) == 0, "wait");
        } else {
            CHECK(sem_wait(other) == 0, "wait");
            CHECK(sem_post(own) == 0, "post");
        }
    }
    meet(4);
    struct timespec t = in_ms(CLOCK_REALTIME, 30);
    CHECK(sem_timedwait(other, &t) == -1 && errno == ETIMEDOUT, "timedwait on 0");
    CHECK(sem_getvalue(own, &v) == 0 && v == 0, "value %d at the end", v);
    meet(5);
    CHECK(sem_close(other) == 0, "close");
    CHECK(sem_close(own) == 0, "close");
    CHECK(sem_unlink(theirs) == 0, "the opener unlinks: %s", strerror(errno));
    return interop_end("interop_sem_named");
}
