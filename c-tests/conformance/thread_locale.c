/* Locale in our threads: ctype (isalpha/toupper, C.UTF-8 wide ctype) and the global locale
 * set by main after the thread started: setlocale(LC_NUMERIC, "de_DE.UTF-8") then "%'.2f"
 * in a thread prints "1.234.567,89". uselocale() in a thread stays private to it.
 * de_DE.UTF-8 comes from the system if installed (Debian: package `locales`, de_DE.UTF-8 in
 * /etc/locale.gen, locale-gen); otherwise the test compiles it with localedef into a temporary
 * LOCPATH; if neither works that part is skipped with a message. */
#include "thread_check.h"
#include <ctype.h>
#include <locale.h>
#include <pthread.h>
#include <wctype.h>

#define THREADS 4
static tc_barrier bar;
static int have_de;

static void *worker(void *arg) {
    long id = (long)arg;
    /* ctype in the C locale */
    for (int round = 0; round < 1000; round++) {
        CHECK(isalpha('a') && isalpha('Z') && !isalpha('1') && !isalpha(' '), "isalpha");
        CHECK(toupper('q') == 'Q' && tolower('Q') == 'q', "toupper/tolower");
        CHECK(isdigit('7') && isspace('\t') && ispunct('!'), "isdigit/isspace/ispunct");
        if (tc_failures) break;
    }
    char buf[64];
    snprintf(buf, sizeof buf, "%.2f", 1234567.891);
    CHECK(strcmp(buf, "1234567.89") == 0, "thread %ld: C numeric '%s'", id, buf);

    tc_barrier_wait(&bar); /* main switches LC_NUMERIC (and LC_CTYPE) now */
    tc_barrier_wait(&bar);

    if (have_de) {
        snprintf(buf, sizeof buf, "%'.2f", 1234567.891);
        CHECK(strcmp(buf, "1.234.567,89") == 0, "thread %ld: de_DE numeric '%s'", id, buf);
        CHECK(*localeconv()->decimal_point == ',', "thread %ld: decimal point '%s'", id,
              localeconv()->decimal_point);
        /* wide ctype from the UTF-8 LC_CTYPE */
        CHECK(iswalpha(L'\u00e4') && towupper(L'\u00e4') == L'\u00c4', "thread %ld: iswalpha(ä)", id);
        /* a private C locale in this thread only */
        locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
        locale_t old = uselocale(c);
        snprintf(buf, sizeof buf, "%'.2f", 1234567.891);
        CHECK(strcmp(buf, "1234567.89") == 0, "thread %ld: uselocale(C) '%s'", id, buf);
        tc_barrier_wait(&bar); /* main checks it is unaffected */
        uselocale(old);
        freelocale(c);
    } else {
        tc_barrier_wait(&bar);
    }
    return NULL;
}

static int set_de(void) {
    if (setlocale(LC_NUMERIC, "de_DE.UTF-8") && setlocale(LC_CTYPE, "de_DE.UTF-8")) return 1;
    char dir[] = "/tmp/rpthread-locale-XXXXXX";
    if (!mkdtemp(dir)) return 0;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "env -u LD_PRELOAD -u LD_DEBUG -u LD_DEBUG_OUTPUT localedef -i de_DE -f UTF-8 %s/de_DE.UTF-8 >/dev/null 2>&1", dir);
    int ok = system(cmd) == 0;
    if (ok) {
        setenv("LOCPATH", dir, 1);
        ok = setlocale(LC_NUMERIC, "de_DE.UTF-8") && setlocale(LC_CTYPE, "de_DE.UTF-8");
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    system(cmd);
    return ok;
}

int main(void) {
    pthread_t t[THREADS];
    tc_barrier_init(&bar, THREADS + 1);
    for (long i = 0; i < THREADS; i++) CHECK(pthread_create(&t[i], NULL, worker, (void *)i) == 0, "create");
    tc_barrier_wait(&bar);
    have_de = set_de();
    if (!have_de)
        printf("thread_locale: SKIP the de_DE.UTF-8 part: locale not installed and localedef failed "
               "(install `locales` and generate de_DE.UTF-8)\n");
    tc_barrier_wait(&bar);
    tc_barrier_wait(&bar);
    if (have_de) {
        char buf[64];
        snprintf(buf, sizeof buf, "%'.2f", 1234567.891);
        CHECK(strcmp(buf, "1.234.567,89") == 0, "main: de_DE numeric '%s' while a thread uses C", buf);
    }
    for (int i = 0; i < THREADS; i++) CHECK(pthread_join(t[i], NULL) == 0, "join");
    return tc_result("thread_locale");
}
