#!/usr/bin/env python3
"""glibc's own thread tests (nptl/ and sysdeps/pthread/ of the installed glibc's source) run
on plain glibc and on rpthread (LD_PRELOAD), compared against c-tests/glibc/expectations.txt.

Flow:
 1. Version: the installed glibc (Debian's libc6 package) must be the version of the source
    the tests come from; the harness stops with both versions named if they differ.
 2. Source: Debian's glibc source package, fetched once with `apt-get source glibc=<version>`
    into ${XDG_CACHE_HOME:-~/.cache}/rpthread/glibc-tests/<version>/source (as root it adds a
    deb-src entry derived from the deb entries when the machine has none). `--source DIR`
    uses an unpacked tree instead.
 3. Build, into <version>/build-<key>, key = hash of this harness's files and the compiler:
    glibc's own Makefiles drive it. c-tests/glibc/Makeconfig and Rules stand in for glibc's
    (the Makefiles include them as ../Makeconfig and ../Rules), so glibc's test lists, module
    lists, link inputs and per-test CFLAGS-/LDFLAGS-/LDLIBS-/-ARGS/-ENV apply unchanged.
    First the support library (support/*.c of `libsupport-routines`, those that compile
    against the installed headers) into libsupport.a, then every test of `tests` except
    tests-static, tests-internal and xtests (static tests cannot be preloaded; the others
    need glibc's internals or a glibc build tree). A test that cannot be built is reported,
    with the first error of its build log, never dropped.
 4. Run: every test twice, plain glibc and LD_PRELOAD=target/release/librpthread.so, from a
    directory holding a copy of nptl/Makefile (tst-cancel4 and its variants read
    ./Makefile), with LD_LIBRARY_PATH at the built modules. glibc's test driver decides:
    exit 0 pass, 77 unsupported, anything else fail; TIMEOUTFACTOR scales its timeouts.
    A preload run passes only if ld.so bound pthread-family symbols to librpthread.so and
    none to glibc (scripts/harness.py reads LD_DEBUG=bindings).
 5. Judge: a test that passes on glibc must pass on rpthread unless the ratchet section of
    the expectations file lists it; a listed test that passes is an error too (remove the
    line), unless its reason starts with "flaky" (a bug that shows in some runs only). Tests that do not pass on glibc here are listed with the reason in the glibc
    section. An unexpected outcome is run once more, alone, before it counts.
    Prints the table (test | glibc | rpthread | reason) and the summary; logs of failed runs
    (of all runs with --keep-logs) are kept in build/glibc-tests/logs.

Usage: glibc_tests.py [substring filters...] [-j N] [--keep-logs] [--source DIR]
Exit status: 0 when every outcome is expected, 1 otherwise, 2 when it could not set up.
"""
import argparse
import concurrent.futures
import fcntl
import glob
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

HERE = os.path.join(H.ROOT, "c-tests", "glibc")
EXPECTATIONS = os.path.join(HERE, "expectations.txt")
OUT = os.path.join(H.BUILD, "glibc-tests")
LOGS = os.path.join(OUT, "logs")
# The files whose change makes a new build (with the compiler's version).
HARNESS_FILES = [os.path.abspath(__file__), os.path.join(HERE, "Makeconfig"),
                 os.path.join(HERE, "Rules"), os.path.join(HERE, "config.h")]
# Self-contained internal headers the tests include: copied from the source at build time.
# (path in the source, path under the build's include directory)
INTERNAL_HEADERS = [
    ("include/array_length.h", "array_length.h"),
    ("include/intprops.h", "intprops.h"),
    ("include/libc-pointer-arith.h", "libc-pointer-arith.h"),
    ("include/libc-diag.h", "libc-diag.h"),
    ("include/dso_handle.h", "dso_handle.h"),
    ("sysdeps/x86_64/stackinfo.h", "stackinfo.h"),
    ("sysdeps/x86/tst-stack-align.h", "tst-stack-align.h"),
    ("sysdeps/generic/tst-stack-align.h", "next/tst-stack-align.h"),  # its #include_next
]
# Files of a glibc build tree that tests name (-ENV, support_objdir_root), relative to its top,
# and the installed file that stands in for each.
INSTALLED_IN_BUILD_TREE = [
    ("malloc/libc_malloc_debug.so", "libc_malloc_debug.so.0"),  # tst-stack3, tst-atfork2
    ("nptl_db/libthread_db.so", "libthread_db.so.1"),  # tst-pthread-gdb-attach, and gdb
    ("nptl_db/libthread_db.so.1", "libthread_db.so.1"),  # itself there
]
# The test driver's default timeout (support/test-driver.h), scaled by TIMEOUTFACTOR.
DEFAULT_TIMEOUT = 20
TIMEOUT_FACTOR = 2
# Outcomes that fail the run (see judge), and how many of them get a second run.
BAD = ("fail", "fixed", "unlisted")
MAX_RERUNS = 8


class SetupError(Exception):
    """The harness cannot fetch, check or build the tests: the message says why."""


def sh(cmd, cwd=None, check=True):
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, errors="replace")
    if check and p.returncode != 0:
        raise SetupError(f"`{' '.join(cmd)}` failed (exit {p.returncode}):\n"
                         + (p.stdout + p.stderr)[-3000:])
    return p


# ---------------------------------------------------------------------------------------------
# 1-2. Version and source


def installed_version():
    """Debian's version of the installed libc6 (e.g. 2.36-9+deb12u14)."""
    if not shutil.which("dpkg-query"):
        raise SetupError("dpkg-query not found: the harness needs Debian's glibc packages")
    v = sh(["dpkg-query", "-W", "-f=${Version}", "libc6"]).stdout.strip()
    running = os.confstr("CS_GNU_LIBC_VERSION")  # "glibc 2.36": what this process runs on
    if not running.startswith("glibc ") or not v.startswith(running.split()[1]):
        raise SetupError(f"the running glibc ({running}) is not the libc6 package ({v})")
    return v


def source_version(tree):
    """The Debian version the unpacked source tree was made from (debian/changelog)."""
    with open(os.path.join(tree, "debian", "changelog")) as f:
        m = re.match(r"glibc \(([^)]+)\)", f.readline())
    if not m:
        raise SetupError(f"{tree}/debian/changelog does not name a glibc version")
    return m.group(1)


def cache_root():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "rpthread", "glibc-tests")


def has_deb_src(etc="/etc/apt"):
    files = glob.glob(f"{etc}/sources.list") + glob.glob(f"{etc}/sources.list.d/*")
    for path in files:
        try:
            text = open(path, errors="replace").read()
        except OSError:
            continue
        if path.endswith(".sources"):
            if re.search(r"^Types:.*\bdeb-src\b", text, re.M):
                return True
        elif re.search(r"^\s*deb-src\s", text, re.M):
            return True
    return False


def add_deb_src(etc="/etc/apt"):
    """Adds deb-src entries for the suites the machine's deb entries name (root only)."""
    stanzas = []
    for path in sorted(glob.glob(f"{etc}/sources.list.d/*.sources")):
        for stanza in re.split(r"\n\s*\n", open(path, errors="replace").read()):
            if re.search(r"^Types:.*\bdeb\b", stanza, re.M) and "debian" in stanza:
                stanzas.append(re.sub(r"^Types:.*$", "Types: deb-src", stanza.strip(), flags=re.M))
    lines = []
    for path in glob.glob(f"{etc}/sources.list") + glob.glob(f"{etc}/sources.list.d/*.list"):
        for line in open(path, errors="replace"):
            if re.match(r"\s*deb\s", line) and "debian" in line:
                lines.append(re.sub(r"^\s*deb\s", "deb-src ", line.rstrip()))
    if not stanzas and not lines:
        raise SetupError("no Debian deb entry in /etc/apt to derive a deb-src entry from")
    if stanzas:
        with open(f"{etc}/sources.list.d/rpthread-glibc-src.sources", "w") as f:
            f.write("# Added by rpthread's scripts/glibc_tests.py (apt-get source glibc)\n")
            f.write("\n\n".join(stanzas) + "\n")
    if lines:
        with open(f"{etc}/sources.list.d/rpthread-glibc-src.list", "w") as f:
            f.write("# Added by rpthread's scripts/glibc_tests.py (apt-get source glibc)\n")
            f.write("\n".join(lines) + "\n")
    print(f"glibc-tests: added a deb-src entry in {etc}/sources.list.d/rpthread-glibc-src.*")


def fetch_source(version, vdir):
    """The unpacked glibc source of `version`, fetched into the cache on first use."""
    dest = os.path.join(vdir, "source")
    stamp = os.path.join(dest, ".fetched")
    if os.path.exists(stamp):
        return open(stamp).read().strip()
    if not shutil.which("dpkg-source") or not shutil.which("apt-get"):
        raise SetupError("apt-get source needs apt and dpkg-dev: apt-get install dpkg-dev")
    root = os.geteuid() == 0
    if not has_deb_src():
        if not root:
            raise SetupError("no deb-src entry in /etc/apt: run once as root, or add one, "
                             "or pass --source DIR")
        add_deb_src()
        sh(["apt-get", "update", "-qq"])
    tmp = dest + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    print(f"glibc-tests: fetching glibc {version} source (apt-get source) into {dest}", flush=True)
    cmd = ["apt-get", "source", "-qq", "--only-source", f"glibc={version}"]
    p = sh(cmd, cwd=tmp, check=False)
    if p.returncode != 0 and root:  # package lists older than the deb-src entry: update once
        sh(["apt-get", "update", "-qq"])
        p = sh(cmd, cwd=tmp, check=False)
    trees = [d for d in glob.glob(os.path.join(tmp, "glibc-*")) if os.path.isdir(d)]
    if p.returncode != 0 or len(trees) != 1:
        raise SetupError(f"apt-get source glibc={version} failed (is that version still in "
                         f"the archive?):\n{(p.stdout + p.stderr)[-2000:]}")
    shutil.rmtree(dest, ignore_errors=True)
    os.rename(tmp, dest)
    tree = os.path.join(dest, os.path.basename(trees[0]))
    with open(stamp, "w") as f:
        f.write(tree + "\n")
    return tree


# ---------------------------------------------------------------------------------------------
# 3. Build


def build_key(version):
    h = hashlib.sha256(version.encode())
    for path in HARNESS_FILES:
        with open(path, "rb") as f:
            h.update(f.read())
    h.update(sh(["gcc", "--version"]).stdout.encode())
    return h.hexdigest()[:12]


def make(build, subdir, src, targets, jobs=1):
    """glibc's <subdir>/Makefile, run from <build>/<subdir> so that it includes our
    Makeconfig and Rules; outputs go to <build>/obj/<subdir> (glibc's objpfx)."""
    cmd = ["make", "-s", "-k", f"-j{jobs}", "-f", "Makefile", f"GLIBC_SRC={src}",
           f"OBJ={build}/obj", f"GT_INCLUDE={build}/include", *targets]
    return subprocess.run(cmd, cwd=os.path.join(build, subdir), capture_output=True, text=True,
                          errors="replace")


def make_print(build, subdir, src):
    """The variables the Rules' gt-print target shows: lists, and each test's -ARGS/-ENV."""
    p = make(build, subdir, src, ["gt-print"])
    lists, args, env = {}, {}, {}
    for line in p.stdout.splitlines():
        parts = line.split(" ", 3)
        if len(parts) < 3 or parts[0] != "##GT":
            continue
        value = parts[3] if len(parts) > 3 else ""
        if parts[1] == "var":
            lists[parts[2]] = value.split()
        elif parts[1] == "args" and value:
            args[parts[2]] = value
        elif parts[1] == "env" and value:
            env[parts[2]] = value
    if "tests" not in lists:
        raise SetupError(f"make gt-print in {subdir} printed no test list:\n{p.stderr[-2000:]}")
    return lists, args, env


def first_error(path, src):
    """The line of a failed step's log that says why (compiler/linker error)."""
    lines = open(path, errors="replace").read().splitlines()
    pick = next((ln for ln in lines if "error" in ln or "undefined reference" in ln),
                lines[-1] if lines else "(empty log)")
    return pick.replace(src + "/", "").strip()


def why_unbuilt(build, src, test, support_failed):
    """Reason a test has no binary: the first failed step make would redo for it."""
    p = make(build, "nptl", src, ["-n", f"{build}/obj/nptl/{test}.out"])
    for target in re.findall(r"rm -f (\S+)\.failed;", p.stdout):
        failed = target + ".failed"
        if os.path.exists(failed):
            why = f"{os.path.basename(target)}: {first_error(failed, src)}"
            m = re.search(r"undefined reference to `(\w+)'", why)
            for routine, reason in support_failed.items():
                if m and m.group(1) in open(os.path.join(src, "support", routine + ".c"),
                                            errors="replace").read():
                    why += f" (libsupport.a lacks {routine}.c: {reason})"
                    break
            return why
    return "not built (no failed step found: see make's output)\n" + p.stdout[-500:]


def build_tests(src, build, jobs):
    """Builds libsupport.a and the tests; returns the build description (see result.json)."""
    obj = os.path.join(build, "obj")
    shutil.rmtree(build, ignore_errors=True)
    for d in ("include/next", "nptl", "support", "obj/nptl", "obj/support"):
        os.makedirs(os.path.join(build, d))
    for name in ("Makeconfig", "Rules"):
        shutil.copy(os.path.join(HERE, name), os.path.join(build, name))
    shutil.copy(os.path.join(HERE, "config.h"), os.path.join(build, "include", "config.h"))
    for rel, dest in INTERNAL_HEADERS:
        shutil.copy(os.path.join(src, rel), os.path.join(build, "include", dest))
    # The Makefiles run from a subdirectory whose ../ holds our Makeconfig and Rules, beside
    # links to the source files ($< is then the bare file name, as in glibc's own build).
    for subdir in ("nptl", "support"):
        for path in glob.glob(os.path.join(src, subdir, "*")):
            os.symlink(path, os.path.join(build, subdir, os.path.basename(path)))
    # Files of glibc's build tree that tests use, in the places they look: the installed ones.
    for rel, installed in INSTALLED_IN_BUILD_TREE:
        path = sh(["gcc", f"-print-file-name={installed}"]).stdout.strip()
        if not os.path.isabs(path):
            raise SetupError(f"{installed} is not installed (needed as {rel})")
        os.makedirs(os.path.dirname(os.path.join(obj, rel)), exist_ok=True)
        os.symlink(path, os.path.join(obj, rel))

    # The support library: what compiles against the installed headers.
    lists, _, _ = make_print(build, "support", src)
    routines = lists["libsupport-routines"]
    make(build, "support", src, [f"{obj}/support/{r}.o" for r in routines], jobs)
    objects = [f"{obj}/support/{r}.o" for r in routines if os.path.exists(f"{obj}/support/{r}.o")]
    support_failed = {r: first_error(f"{obj}/support/{r}.o.failed", src)
                      for r in routines if not os.path.exists(f"{obj}/support/{r}.o")}
    sh(["ar", "rcs", os.path.join(obj, "support", "libsupport.a"), *objects])

    lists, args, env = make_print(build, "nptl", src)
    skip = set(lists["tests-static"]) | set(lists["tests-internal"]) | set(lists["xtests"])
    tests = [t for t in dict.fromkeys(lists["tests"]) if t not in skip]
    make(build, "nptl", src, [f"{obj}/nptl/{t}.out" for t in tests], jobs)
    unbuilt = {t: why_unbuilt(build, src, t, support_failed) for t in tests
               if not all(os.path.exists(f"{obj}/nptl/{t}{ext}") for ext in ("", ".out"))}
    return dict(tests=tests, args=args, env=env, unbuilt=unbuilt, support_failed=support_failed,
                support_built=len(objects), support_total=len(routines),
                skipped={"tests-static": sorted(set(lists["tests-static"]) & set(lists["tests"])),
                         "tests-internal": sorted(set(lists["tests-internal"])),
                         "xtests": sorted(set(lists["xtests"]))},
                sources={t: source_of(src, t) for t in tests}, bin=f"{obj}/nptl", src=src)


def source_of(src, test):
    for d in ("nptl", "sysdeps/pthread"):
        for ext in (".c", ".cc"):
            if os.path.exists(os.path.join(src, d, test + ext)):
                return os.path.join(src, d, test + ext)
    return None


def prepared_build(src, version, vdir, jobs):
    """The cached build for this source and harness, built first if needed."""
    key = build_key(version)
    build = os.path.join(vdir, f"build-{key}")
    result = os.path.join(build, "result.json")
    if os.path.exists(result):
        with open(result) as f:
            desc = json.load(f)
        if desc["src"] == src:
            print(f"glibc-tests: using the cached build {build}", flush=True)
            return desc
    for old in glob.glob(os.path.join(vdir, "build-*")):
        shutil.rmtree(old, ignore_errors=True)
    print(f"glibc-tests: building glibc's tests and libsupport.a into {build}", flush=True)
    t0 = time.monotonic()
    desc = build_tests(src, build, jobs)
    print(f"glibc-tests: built {len(desc['tests']) - len(desc['unbuilt'])} of "
          f"{len(desc['tests'])} tests, libsupport.a from {desc['support_built']} of "
          f"{desc['support_total']} files ({time.monotonic() - t0:.0f} s)", flush=True)
    with open(result, "w") as f:
        json.dump(desc, f, indent=1)
    return desc


# ---------------------------------------------------------------------------------------------
# 4. Run


def declared_timeout(path):
    """The test driver's timeout a test declares (#define TIMEOUT), in seconds, else the
    default; a form this reader cannot evaluate gives a generous 300."""
    defines = {"DEFAULT_TIMEOUT": "20"}
    files = [path]
    text = open(path, errors="replace").read()
    for inc in re.findall(r'#\s*include\s+"([^"]+\.c)"', text):
        inc_path = os.path.join(os.path.dirname(path), inc)
        if os.path.exists(inc_path):
            files.append(inc_path)
    for f in files:
        for name, value in re.findall(r"^#\s*define\s+(\w+)\s+(.+?)\s*$",
                                      open(f, errors="replace").read(), re.M):
            defines.setdefault(name, value)
    if "TIMEOUT" not in defines:
        return DEFAULT_TIMEOUT
    expr = defines["TIMEOUT"]
    for _ in range(5):
        expr = re.sub(r"[A-Za-z_]\w*", lambda m: f"({defines.get(m.group(0), m.group(0))})", expr)
    expr = re.sub(r"(\d+)[uUlL]+", r"\1", expr)
    if re.fullmatch(r"[\d\s()+*/-]+", expr):
        value = eval(expr)  # noqa: S307 - digits and arithmetic only, checked above
        if 0 < value < 10000:
            return int(value)
    return 300


def verdict(r, mode):
    """PASS, UNSUPPORTED, TIMEOUT, or a failure: FAIL (exit N), SIGxxx, NOT-BOUND, LEAK."""
    text = r["out"] + "\n" + r["err"]
    if r["timed_out"] or "Timed out: killed the child process" in text:
        v, why = "TIMEOUT", "timed out"
    elif r["signal"]:
        v, why = H.signame(r["signal"]), f"killed by {H.signame(r['signal'])}"
    elif r["rc"] == 0:
        v, why = "PASS", ""
    elif r["rc"] == 77:
        v, why = "UNSUPPORTED", "unsupported"
    else:
        v, why = "FAIL", f"exit {r['rc']}"
    if mode == "preload" and v == "PASS":
        # A test that calls no pthread-family function at all (tst-raise1, tst-vfork1x, the
        # initializer tests) checks that libc behaves with rpthread loaded: it passes if
        # rpthread was loaded and nothing pthread-ish bound to glibc (below).
        if not H.ours_bound(r) and (r["bound"] or "librpthread.so" not in r["loaded"]):
            return "NOT-BOUND", "no pthread symbol bound to librpthread.so"
        leaked = H.libc_bound(r)
        if leaked:
            return "LEAK", "bound to glibc instead of rpthread: " + ", ".join(leaked)
    if v != "PASS":
        key = key_line(text)
        if key:
            why += ": " + key
    return v, why


def key_line(text):
    """The line of a test's output that best says what went wrong."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()
             and not re.fullmatch(r"error: \d+ test failures?|Termination time: .*|"
                                  r"Last write to standard output: .*", ln.strip())]
    for pat in (r"\berror\b|comparison failure", r"Timed out|Didn't expect signal|expected signal",
                r"fail", r"UNSUPPORTED|unsupported"):
        for ln in lines:
            if re.search(pat, ln, re.I) and not ln.startswith("info:"):
                return ln[:200]
    return lines[-1][:200] if lines else ""


class Runner:
    """Runs one test one way, in its own directory, and keeps the log of a failed run."""

    def __init__(self, desc, factors, keep_logs):
        self.desc = desc
        self.factors = factors
        self.keep_logs = keep_logs
        self.makefile = os.path.join(desc["src"], "nptl", "Makefile")

    def run(self, test, mode, attempt=1):
        """One run of a test; returns (verdict, reason, seconds)."""
        obj = self.desc["bin"]
        cwd = os.path.join(OUT, "run", test)
        os.makedirs(cwd, exist_ok=True)
        shutil.copy(self.makefile, os.path.join(cwd, "Makefile"))
        factor = self.factors.get(test, TIMEOUT_FACTOR)
        env = {"TIMEOUTFACTOR": str(factor), "LD_LIBRARY_PATH": obj}
        for assignment in shlex.split(self.desc["env"].get(test, "")):
            k, _, v = assignment.partition("=")
            env[k] = v
        if mode == "preload" and "LD_PRELOAD" in env:
            env["LD_PRELOAD"] = H.LIB + " " + env["LD_PRELOAD"]
        args = shlex.split(self.desc["args"].get(test, ""))
        timeout = declared_timeout(self.desc["sources"][test]) * factor + 60
        t0 = time.monotonic()
        r = H.run(os.path.join(obj, test), mode, args, timeout=timeout, env_extra=env,
                  ld_debug="bindings" if mode == "preload" else "", cwd=cwd, own_group=True)
        secs = time.monotonic() - t0
        v, why = verdict(r, mode)
        why = why.replace(obj + "/", "").replace(self.desc["src"] + "/", "")
        if v != "PASS" or self.keep_logs:
            if mode == "preload" and "LD_PRELOAD" not in env:
                env["LD_PRELOAD"] = H.LIB
            self.write_log(test, mode, attempt, [os.path.join(obj, test), *args], cwd, env,
                           timeout, f"{v} ({why or 'passed'}), rc={r['rc']}, {secs:.1f} s", r)
        return v, why, secs

    @staticmethod
    def write_log(test, mode, attempt, cmd, cwd, env, timeout, result, r):
        """build/glibc-tests/logs/<test>.<glibc|rpthread>[.<attempt>].log"""
        name = "glibc" if mode == "plain" else "rpthread"
        suffix = f".{attempt}" if attempt > 1 else ""
        path = os.path.join(LOGS, f"{test}.{name}{suffix}.log")
        bindings = ", ".join(sorted(f"{sym}->{obj}" for sym, obj in r["bound"]))
        with open(path, "w") as f:
            f.write(f"test: {test} ({name}, run {attempt})\ncwd: {cwd}\ncommand: {' '.join(cmd)}\n"
                    f"env: {' '.join(f'{k}={v}' for k, v in env.items())}\n"
                    f"timeout: {timeout} s\nresult: {result}\nbindings: {bindings}\n"
                    f"--- stdout\n{r['out']}\n--- stderr\n{r['err']}\n")


# ---------------------------------------------------------------------------------------------
# 5. Judge and report


def read_expectations():
    """{section: {test: reason}} from the expectations file; [slow] values are 'factor reason'."""
    sections, current = {"glibc": {}, "rpthread": {}, "slow": {}}, None
    with open(EXPECTATIONS) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            m = re.fullmatch(r"\[(\w+)\]", line)
            if m:
                if m.group(1) not in sections:
                    raise SetupError(f"{EXPECTATIONS}:{n}: unknown section [{m.group(1)}]")
                current = sections[m.group(1)]
                continue
            if current is None:
                raise SetupError(f"{EXPECTATIONS}:{n}: a test line before any [section]")
            test, _, reason = line.partition(" ")
            current[test] = reason.strip()
    return sections


def judge(test, glibc, rpthread, exp):
    """(status, reason): pass, fail, known (ratchet), glibc (not judged), fixed, unlisted."""
    gv, gwhy = glibc
    rv, rwhy = rpthread
    if gv != "PASS":
        if test in exp["glibc"]:
            return "glibc", exp["glibc"][test]
        return "unlisted", f"{gwhy} on plain glibc, and not in the [glibc] section"
    if test in exp["rpthread"]:
        reason = exp["rpthread"][test]
        if rv != "PASS":
            return "known", reason
        if reason.startswith("flaky"):  # a bug that shows in some runs only
            return "known", reason + " (passed this time)"
        return "fixed", "passes now: remove its line from the [rpthread] section"
    if rv != "PASS":
        return "fail", rwhy
    return "pass", ""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("filters", nargs="*", help="run only tests whose name contains one of these")
    ap.add_argument("-j", type=int, default=len(os.sched_getaffinity(0)), help="parallel jobs")
    ap.add_argument("--keep-logs", action="store_true", help="keep the logs of passing runs too")
    ap.add_argument("--source", help="an unpacked glibc source tree instead of apt-get source")
    opts = ap.parse_args()
    try:
        exp = read_expectations()
        version = installed_version()
        vdir = os.path.join(cache_root(), version)
        os.makedirs(vdir, exist_ok=True)
        lock = open(os.path.join(vdir, ".lock"), "w")
        fcntl.flock(lock, fcntl.LOCK_EX)
        src = os.path.abspath(opts.source) if opts.source else fetch_source(version, vdir)
        have = source_version(src)
        if have != version:
            raise SetupError(f"glibc version mismatch: installed libc6 is {version}, the test "
                             f"source ({src}) is {have}. The tests must come from the installed "
                             "glibc's source.")
        desc = prepared_build(src, version, vdir, opts.j)
    except SetupError as e:
        print(f"glibc-tests: {e}", file=sys.stderr)
        sys.exit(2)
    if not os.path.exists(H.LIB):
        print(f"glibc-tests: {H.LIB} not built (make build)", file=sys.stderr)
        sys.exit(2)

    tests = desc["tests"]
    if opts.filters:
        tests = [t for t in tests if any(f in t for f in opts.filters)]
    for name in exp["glibc"].keys() | exp["rpthread"].keys() | exp["slow"].keys():
        if name not in desc["tests"]:
            print(f"glibc-tests: {EXPECTATIONS} names {name}, which is not a test here",
                  file=sys.stderr)
            sys.exit(2)
    factors = {t: int(v.split()[0]) for t, v in exp["slow"].items()}
    shutil.rmtree(LOGS, ignore_errors=True)
    os.makedirs(LOGS)
    runner = Runner(desc, factors, opts.keep_logs)

    # Longest first (durations of the last run), so that the slow tests do not end the run alone.
    timings_path = os.path.join(vdir, "timings.json")
    timings = json.load(open(timings_path)) if os.path.exists(timings_path) else {}
    runnable = sorted((t for t in tests if t not in desc["unbuilt"]),
                      key=lambda t: -timings.get(t, 0))
    print(f"glibc-tests: running {len(runnable)} tests, plain and under LD_PRELOAD "
          f"(-j {opts.j}, TIMEOUTFACTOR={TIMEOUT_FACTOR})", flush=True)
    results = {t: (("NOT-BUILT", desc["unbuilt"][t]), ("NOT-BUILT", "")) for t in tests
               if t in desc["unbuilt"]}
    secs = {}
    t0 = time.monotonic()

    def both(test, attempt=1):
        return test, runner.run(test, "plain", attempt), runner.run(test, "preload", attempt)

    done = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, opts.j)) as pool:
        for future in concurrent.futures.as_completed([pool.submit(both, t) for t in runnable]):
            test, g, r = future.result()
            results[test] = (g[:2], r[:2])
            secs[test] = g[2] + r[2]
            done += 1
            status, _ = judge(test, g[:2], r[:2], exp)
            if status in BAD:
                print(f"  {test}: glibc {g[0]}, rpthread {r[0]}: {status}", flush=True)
            elif done % 50 == 0:
                print(f"  ... {done}/{len(runnable)} ({time.monotonic() - t0:.0f} s)", flush=True)

    # A few unexpected outcomes are run again (a loaded machine can delay a test past its
    # timeout); the second run decides and a change of outcome is shown as flaky. Many at
    # once mean something broke: no second run then.
    notes = {}
    unexpected = [t for t in runnable if judge(t, *results[t], exp)[0] in BAD]
    if 0 < len(unexpected) <= MAX_RERUNS:
        print(f"glibc-tests: running {len(unexpected)} unexpected outcomes again", flush=True)
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, opts.j)) as pool:
            for test, g, r in pool.map(lambda t: both(t, 2), unexpected):
                first = results[test]
                results[test] = (g[:2], r[:2])
                if judge(test, g[:2], r[:2], exp)[0] != judge(test, *first, exp)[0]:
                    notes[test] = (f"flaky: first run glibc {first[0][0]}, rpthread "
                                   f"{first[1][0]}, second run glibc {g[0]}, rpthread {r[0]}")
    timings.update(secs)
    with open(timings_path, "w") as f:
        json.dump(timings, f)
    report(tests, desc, results, exp, notes, time.monotonic() - t0)


def report(tests, desc, results, exp, notes, wall):
    counts = {}
    rows = []
    for test in sorted(tests):
        (gv, gwhy), (rv, rwhy) = results[test]
        status, why = judge(test, (gv, gwhy), (rv, rwhy), exp)
        if status == "known":
            why = f"[ratchet] {why}"
        if test in exp["glibc"] and gv == "PASS":
            notes.setdefault(test, "passes on plain glibc here: its [glibc] line can go")
        if test in notes:
            why = (why + "; " if why else "") + notes[test]
        counts[status] = counts.get(status, 0) + 1
        rows.append((test, gv, rv if gv != "NOT-BUILT" else "-", why, status))
    width = max(len(t) for t in tests) if tests else 4
    print(f"\n{'test':<{width}}  {'glibc':<11}  {'rpthread':<11}  reason")
    for test, gv, rv, why, status in rows:
        mark = "!" if status in BAD else " "
        print(f"{test:<{width}}  {gv:<11}  {rv:<11} {mark}{why}")
    glibc_pass = sum(1 for t in tests if results[t][0][0] == "PASS")
    both_pass = sum(1 for t in tests if results[t][0][0] == "PASS" and results[t][1][0] == "PASS")
    unbuilt = sum(1 for t in tests if t in desc["unbuilt"])
    print(f"\nglibc-tests: {len(tests)} tests ({unbuilt} of them cannot be built here); "
          f"plain glibc passes {glibc_pass}, rpthread passes {both_pass} of those "
          f"({wall:.0f} s)")
    skipped = ", ".join(f"{k} ({len(v)})" for k, v in desc["skipped"].items())
    print(f"glibc-tests: not run: {skipped} (static tests cannot be preloaded; the others need "
          "a glibc build tree)")
    bad = counts.get("fail", 0) + counts.get("fixed", 0) + counts.get("unlisted", 0)
    known, not_judged = counts.get("known", 0), counts.get("glibc", 0)
    print(f"glibc-tests: {known} known rpthread failures (ratchet list, [rpthread] in "
          f"{os.path.relpath(EXPECTATIONS, H.ROOT)}), {not_judged} tests that do not pass on "
          f"plain glibc here ([glibc]); unexpected: {counts.get('fail', 0)} rpthread failures, "
          f"{counts.get('fixed', 0)} fixed (remove their lines), {counts.get('unlisted', 0)} "
          f"unlisted glibc failures")
    print(f"glibc-tests: logs in {os.path.relpath(LOGS, H.ROOT)}")
    print(f"{counts.get('pass', 0)} passed, {bad} failed, {known + not_judged} skipped")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
