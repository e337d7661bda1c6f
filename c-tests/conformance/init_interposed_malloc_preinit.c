// rpthread-test: timeout=20
/* Variant of init_interposed_malloc.c: the interposed malloc initializes from the
 * executable's .preinit_array, before any library constructor (in redis-server,
 * libgpg-error's constructor made jemalloc's first allocation). Its pthread_atfork is then the
 * first call into the threads library, whose whole set-up runs inside malloc's initialization
 * while any other thread calling malloc spins: the set-up must not wait for a thread that
 * allocates. */
#include "init_interposed_malloc.c"

static void early(void) { free(malloc(1)); }
__attribute__((section(".preinit_array"), used)) static void (*early_p)(void) = early;
