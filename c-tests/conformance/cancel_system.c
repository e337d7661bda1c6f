/* system(): wait statuses as glibc's; a thread cancelled while system() waits ends with
   PTHREAD_CANCELED, its child shell is killed and reaped, and SIGINT's action is restored. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

static volatile int started;

static void *body(void *arg) {
  (void)arg;
  started = 1;
  system("exec sleep 100"); /* exec: the killed child is the sleep itself */
  puts("system returned");
  return NULL;
}

static void on_int(int s) { (void)s; }


int main(void) {
  REQUIRE(system(NULL) != 0);
  int st = system("exit 3");
  REQUIRE(WIFEXITED(st) && WEXITSTATUS(st) == 3);
  st = system("kill -TERM $$");
  REQUIRE(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_int;
  sigaction(SIGINT, &sa, NULL);
  pthread_t t;
  void *res;
  REQUIRE(pthread_create(&t, NULL, body, NULL) == 0);
  while (!started) usleep(1000);
  usleep(100000); /* the shell is running (either way the cancel must work) */
  REQUIRE(pthread_cancel(t) == 0 && pthread_join(t, &res) == 0);
  REQUIRE(res == PTHREAD_CANCELED);
  REQUIRE(waitpid(-1, NULL, WNOHANG) == -1); /* no child left */
  sigaction(SIGINT, NULL, &old);
  REQUIRE(old.sa_handler == on_int);
  return 0;
}
