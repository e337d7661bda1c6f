/* Runs a program and reports its peak RSS: peak_rss_exec OUTFILE PROGRAM [ARGS...].
 *
 * A process's ru_maxrss also counts the memory of the process it was forked from, up to its
 * exec: a benchmark started straight from Python would report Python's RSS. bench/run.py
 * starts the benchmarks through this small static program instead: its child inherits only
 * this program's few hundred KiB. Writes "maxrss <KiB> status <wait status>" to OUTFILE and
 * ends as the program did (same exit code, or the same signal).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s OUTFILE PROGRAM [ARGS...]\n", argv[0]);
        return 2;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 2;
    }
    if (pid == 0) {
        execv(argv[2], argv + 2);
        perror("execv");
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0) {
        perror("wait4");
        return 2;
    }
    FILE *f = fopen(argv[1], "w");
    if (f) {
        fprintf(f, "maxrss %ld status %d\n", ru.ru_maxrss, status);
        fclose(f);
    }
    if (WIFSIGNALED(status)) {
        signal(WTERMSIG(status), SIG_DFL);
        raise(WTERMSIG(status));
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
}
