/* rpthread: the config.h glibc's tests and support library are built with when
   scripts/glibc_tests.py builds them standalone against the installed glibc.  */
#define _GNU_SOURCE 1
#define attribute_hidden
/* As glibc's configure writes it: the base of the tests' timeouts (the TIMEOUTFACTOR
   environment variable multiplies them at run time).  */
#define TIMEOUTFACTOR 1
