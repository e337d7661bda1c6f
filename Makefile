# rpthread: `make demo` and `make test` do all set-up on a fresh machine (see README.md).
SHELL := /bin/bash
CARGO ?= cargo
LIB := target/release/librpthread.so

.PHONY: all build demo test lint unit loom header-check ctest footprint interop stress stress-rss bench bench-diag coverage realworld glibc-tests diag diag-demo diag-check clean

all: build

build:
	$(CARGO) build --release

# Builds everything and runs every document example both ways, with a summary table.
demo: build
	python3 scripts/docs.py

# Unit tests, model checking, header check, document examples, conformance, footprint and
# stress tests, process-shared objects used by a glibc process and an rpthread process at
# once, and the lock diagnostics.
test: build lint header-check unit loom
	python3 scripts/docs.py --check
	python3 scripts/ctest.py
	python3 scripts/interop.py
	python3 scripts/footprint.py
	python3 scripts/coverage.py
	python3 scripts/realworld.py --fast
	python3 scripts/diag.py

# Structure (no import cycle between top-level modules, no source file over 600 lines) and
# clippy with every unsafe block documented and every public item documented.
CLIPPY_LINTS := -D warnings -W clippy::undocumented_unsafe_blocks -W missing_docs
lint:
	python3 scripts/structure.py
	$(CARGO) clippy --release --lib --tests -- $(CLIPPY_LINTS)

unit:
	$(CARGO) test --release --lib

loom:
	RUSTFLAGS="--cfg loom" $(CARGO) test --release --lib --target-dir target/loom -- loom

# The header in git must be what build.rs generates from the exports.
header-check: build
	@git diff --exit-code -- include/pthread.h >/dev/null 2>&1 || \
	  { echo "include/pthread.h differs from the generated header: commit the regenerated file"; \
	    git --no-pager diff --stat -- include/pthread.h; exit 1; }
	@# GNU names (*_np, the deferred cleanup ABI) only with _GNU_SOURCE, as in glibc's header:
	@# without it each is undeclared (and nothing else is wrong), with it each is declared.
	@for f in pthread_setname_np pthread_getattr_np pthread_tryjoin_np __pthread_register_cancel_defer; do \
	  err=$$(printf '#include <pthread.h>\nvoid *p = (void *)&%s;\n' $$f | \
	    $(CC) -Iinclude -fsyntax-only -x c - 2>&1); \
	  [ "$$(echo "$$err" | grep -c 'error')" = 1 ] && echo "$$err" | grep -q "$$f.* undeclared" || \
	    { echo "include/pthread.h: $$f without _GNU_SOURCE:"; echo "$$err"; exit 1; }; \
	  printf '#define _GNU_SOURCE\n#include <pthread.h>\nvoid *p = (void *)&%s;\n' $$f | \
	    $(CC) -Iinclude -fsyntax-only -x c - || { echo "include/pthread.h lacks $$f with _GNU_SOURCE"; exit 1; }; \
	done; echo "header: GNU names guarded by __USE_GNU"
	@# Every feature level (-std=c89 ... _GNU_SOURCE, C++): the same declarations as glibc's.
	python3 scripts/header_levels.py

ctest: build
	python3 scripts/ctest.py

# Address space and memory against glibc's: trivial program, ulimit -v capacity, huge stacks,
# churn, the stack cache (issue 13).
footprint: build
	python3 scripts/footprint.py

# Each c-tests/interop program as two processes sharing memory, one on glibc and one on
# rpthread, both ways round.
interop: build
	python3 scripts/interop.py

# RSS over 1,000,000 create/join cycles of 200 concurrent threads, under LD_PRELOAD (issue 2).
stress-rss: build
	@mkdir -p build/stress
	gcc -O2 -g -pthread c-tests/stress/rss_flat.c -o build/stress/rss_flat
	LD_PRELOAD=$(CURDIR)/$(LIB) build/stress/rss_flat $(RSS_ARGS)

bench: build
	python3 bench/run.py $(BENCH_ARGS)

# The cost of the lock diagnostics (issue 12): the lock benchmarks under glibc, under rpthread
# with diagnostics off, with RPTHREAD_DIAG=contention and =order, and under the build before
# the diagnostics ("base", DIAG_BASE: the merge base with main), all alternated.
DIAG_BASE ?= $(shell git merge-base HEAD main 2>/dev/null || git rev-parse HEAD)
bench-diag: build
	@rm -rf build/base-src && mkdir -p build/base-src
	git archive $(DIAG_BASE) | tar -x -C build/base-src
	cd build/base-src && $(CARGO) build --release --target-dir $(CURDIR)/build/base-target
	python3 bench/run.py --filter sync_ --base-lib build/base-target/release/librpthread.so \
	  --diag contention --diag order $(BENCH_ARGS)

# Real multithreaded programs (pigz, xz, zstd, sort, rg, Rust, OpenMP, SQLite, CPython's
# threading tests, redis, memcached, the JVM, node) run plain and under LD_PRELOAD, results compared.
# Installs missing Debian packages when run as root; `--fast` is the few-second subset.
realworld: build
	python3 scripts/realworld.py

coverage: build
	python3 scripts/coverage.py

# Lock diagnostics (RPTHREAD_DIAG, issue 12): the tests of each mode (also run by `make test`),
# a demonstration of each mode on the small programs of c-tests/diag, and the conformance
# suite and the real programs with every diagnostic on (reports go to build/diag-check/).
diag: build
	python3 scripts/diag.py

diag-demo: build
	python3 scripts/diag.py --demo

diag-check: build
	@rm -rf build/diag-check && mkdir -p build/diag-check
	python3 scripts/ctest.py --env RPTHREAD_DIAG=all --env RPTHREAD_DIAG_OUT=$(CURDIR)/build/diag-check/ctest.%p
	RPTHREAD_DIAG=all RPTHREAD_DIAG_OUT=$(CURDIR)/build/diag-check/realworld.%p python3 scripts/realworld.py $(REALWORLD_ARGS)
	@echo "reports: $$(cat build/diag-check/* 2>/dev/null | grep -c '^rpthread-diag') in build/diag-check/"

# glibc 2.36's own thread tests (nptl/, sysdeps/pthread/), built from the installed glibc's
# source (fetched once with apt-get source, cached under ~/.cache/rpthread) and run plain and
# under LD_PRELOAD; c-tests/glibc/expectations.txt lists what may fail. GLIBC_TESTS_ARGS: e.g.
# `tst-cond -j 4 --keep-logs`.
glibc-tests: build
	python3 scripts/glibc_tests.py $(GLIBC_TESTS_ARGS)

clean:
	$(CARGO) clean
	rm -rf build
