"""Shared machinery of rpthread's C test harnesses: build a C/C++ program both ways (linked
against our header and library, or as an ordinary glibc build run under LD_PRELOAD), run it,
and prove from ld.so's own binding log that our library served the pthread calls.

Used by scripts/ctest.py (c-tests/conformance), scripts/docs.py (c-tests/docs) and
scripts/interop.py (c-tests/interop).
"""
import os
import re
import signal
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIBDIR = os.path.join(ROOT, "target", "release")
LIB = os.path.join(LIBDIR, "librpthread.so")
INCLUDE = os.path.join(ROOT, "include")
BUILD = os.path.join(ROOT, "build")
MODES = ("link", "preload")

# Symbols whose binding proves a program runs on us.
OUR_PREFIXES = ("pthread_", "sem_", "thrd_", "mtx_", "cnd_", "tss_", "call_once",
                "__pthread_", "_pthread_", "__register_atfork")


def directives(src, tag):
    """The `// <tag>: key=value; key=value` settings written in a source file's comments."""
    d = {}
    with open(src, errors="replace") as f:
        for line in f:
            if tag + ":" in line:
                for part in line.split(tag + ":", 1)[1].split(";"):
                    if "=" in part:
                        k, v = part.strip().split("=", 1)
                        d[k.strip()] = v.strip()
    return d


def compiler(src):
    return "g++" if src.endswith((".cc", ".cpp")) else "gcc"


def build(src, mode, out, extra_flags=(), objects=()):
    """Compiles `src` (plus `objects`) for `mode`; returns (ok, compiler output)."""
    os.makedirs(os.path.dirname(out), exist_ok=True)
    cmd = [compiler(src), "-O2", "-g", "-Wall", "-Wno-unused-result"]
    if mode == "link":
        cmd += ["-I", INCLUDE, src, *objects, "-o", out, "-L", LIBDIR, "-lrpthread",
                "-Wl,-rpath," + LIBDIR]
    else:
        cmd += [src, *objects, "-o", out, "-pthread"]
    cmd += list(extra_flags)
    p = subprocess.run(cmd, capture_output=True, text=True)
    return p.returncode == 0, p.stdout + p.stderr


def environment(mode, debug_dir, env_extra=None, ld_debug="bindings"):
    """The environment of a run in `mode` ("preload": LD_PRELOAD=our library; "link" and
    "plain": none), with ld.so's `ld_debug` log written under `debug_dir`."""
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    if mode == "preload":
        env["LD_PRELOAD"] = LIB
    if env_extra:
        env.update(env_extra)
    env["LD_DEBUG"] = ld_debug
    env["LD_DEBUG_OUTPUT"] = os.path.join(debug_dir, "ld")
    return env


def bindings(debug_dir):
    """(bound, loaded) from the ld.so log files in `debug_dir`: `bound` is the set of
    (symbol, object) bindings of pthread-family symbols the program and its libraries looked
    up; `loaded` the objects (basenames) that took part in a binding or that ld.so mapped."""
    bound, loaded = set(), set()
    for name in os.listdir(debug_dir):
        with open(os.path.join(debug_dir, name), errors="replace") as f:
            for line in f:
                m = re.search(r"binding file (\S+) \[\d+\] to (\S+) \[", line)
                if m:
                    loaded.update(os.path.basename(o) for o in m.groups())
                m = re.search(r"file=(\S+) \[\d+\];\s+generating link map", line)
                if m:
                    loaded.add(os.path.basename(m.group(1)))
                m = re.search(r"binding file (\S+) \[\d+\] to (\S+) \[\d+\]: normal symbol `([^'`]+)'", line)
                # Our own library's lookups of glibc's functions (dlsym RTLD_NEXT) are
                # not the program's bindings.
                if m and m.group(3).startswith(OUR_PREFIXES) \
                        and os.path.basename(m.group(1)) != "librpthread.so":
                    bound.add((m.group(3), os.path.basename(m.group(2))))
    return bound, loaded


def run(binary, mode, args=(), timeout=60, env_extra=None, stdin=None, ld_debug="bindings",
        cwd=None, own_group=False):
    """Runs a built program; returns dict(rc, signal, out, err, bound, loaded, timed_out).

    `bound` and `loaded` are those of `bindings`. `ld_debug` is the LD_DEBUG value: "files"
    logs only the loading, never from inside a lookup (lazy binding under "bindings" prints
    from the caller's stack: too deep for a program that calls into glibc on a tiny stack of
    its own). `own_group` runs the program in a process group of its own and kills the whole
    group on timeout: for programs that fork (a child still holding the output pipes would
    otherwise keep the harness waiting).
    """
    with tempfile.TemporaryDirectory() as tmp:
        env = environment(mode, tmp, env_extra, ld_debug)
        p = subprocess.Popen([binary, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, errors="replace", env=env, cwd=cwd,
                             stdin=stdin if stdin is not None else subprocess.DEVNULL,
                             start_new_session=own_group)
        try:
            out, err = p.communicate(timeout=timeout)
            rc, timed_out = p.returncode, False
        except subprocess.TimeoutExpired:
            if own_group:
                os.killpg(p.pid, signal.SIGKILL)
            else:
                p.kill()
            out, err = p.communicate()
            rc, timed_out = None, True
        bound, loaded = bindings(tmp)
    sig = -rc if rc is not None and rc < 0 else 0
    return dict(rc=rc, signal=sig, out=out, err=err, bound=bound, loaded=loaded,
                timed_out=timed_out)


def ours_bound(result):
    """True if at least one pthread-family symbol bound to librpthread and none to libc."""
    objs = {obj for _, obj in result["bound"]}
    return "librpthread.so" in objs


def libc_bound(result):
    """The pthread-family symbols that still bound to glibc (gaps in our exports)."""
    return sorted(sym for sym, obj in result["bound"] if obj.startswith("libc.so"))


def signame(n):
    try:
        return signal.Signals(n).name
    except ValueError:
        return str(n)
