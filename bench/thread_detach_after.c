/* Thread lifecycle: create+detach throughput, joinable threads detached with pthread_detach
 * right after pthread_create (the measurement loop is thread_create_detach.c's).
 */
#define DETACH_AFTER 1
#include "thread_create_detach.c"
