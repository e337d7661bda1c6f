#!/usr/bin/env python3
"""Runs the interop tests in c-tests/interop: process-shared objects used at the same time by
a process on plain glibc and a process preloaded with rpthread.

Each test is one ordinary glibc program (gcc -pthread), run as two processes that map the same
file (a fresh one in /dev/shm): `prog A FILE NAME` initializes the objects, `prog B FILE NAME`
joins it (NAME prefixes named semaphores). Every test runs in both assignments: A on rpthread
with B on glibc, then A on glibc with B on rpthread. Both processes must exit 0, and ld.so's
binding log of each must show it ran on the library it was meant to: the preloaded process
bound its pthread-family symbols to librpthread.so and none to libc, the plain process bound
them to libc and never loaded librpthread.so.

Directive in a comment line of a source (optional):
    // rpthread-interop: timeout=30      seconds for the pair (default 30)

Usage: interop.py [--lib SO] [substring filters...]   (--lib: another build of the library,
e.g. an older one, to see what these tests catch)
"""
import glob
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

SRC_DIR = os.path.join(H.ROOT, "c-tests", "interop")
OUT_DIR = os.path.join(H.BUILD, "interop")
ROLES = ("A", "B")
# The two assignments: the library mode of role A and of role B.
ASSIGNMENTS = (("preload", "plain"), ("plain", "preload"))


def build(src):
    name = os.path.splitext(os.path.basename(src))[0]
    out = os.path.join(OUT_DIR, name)
    ok, log = H.build(src, "preload", out, ["-I", SRC_DIR])
    return (out if ok else None), log


def bound_as_meant(mode, bound, loaded):
    """Why a process did not run on the library of `mode`, or None."""
    objs = {obj for _, obj in bound}
    if mode == "preload":
        if "librpthread.so" not in objs:
            return "no pthread symbol bound to librpthread.so"
        leaked = sorted(sym for sym, obj in bound if obj.startswith("libc.so"))
        if leaked:
            return "bound to glibc instead of rpthread: " + ", ".join(leaked)
        return None
    if "librpthread.so" in loaded:
        return "librpthread.so was loaded into the plain glibc process"
    if not any(obj.startswith("libc.so") for obj in objs):
        return "no pthread symbol bound to libc"
    return None


def run_pair(binary, modes, timeout, tag):
    """Runs roles A and B at once in `modes`; returns (ok, report)."""
    with tempfile.TemporaryDirectory() as tmp, \
            tempfile.NamedTemporaryFile(dir="/dev/shm", prefix="rpthread-interop-") as shm:
        name = f"rpthread-interop-{os.getpid()}-{tag}"
        procs = []
        for role, mode in zip(ROLES, modes):
            debug_dir = os.path.join(tmp, role)
            os.mkdir(debug_dir)
            env = H.environment(mode, debug_dir)
            p = subprocess.Popen([binary, role, shm.name, name], env=env, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 errors="replace")
            procs.append((role, mode, p, debug_dir))
        deadline = time.monotonic() + timeout
        results, problems = [], []
        for role, mode, p, debug_dir in procs:
            try:
                out, err = p.communicate(timeout=max(0.1, deadline - time.monotonic()))
                timed_out = False
            except subprocess.TimeoutExpired:
                for _, _, q, _ in procs:
                    q.kill()
                out, err = p.communicate()
                timed_out = True
            bound, loaded = H.bindings(debug_dir)
            results.append((role, mode, p.returncode, timed_out, out, err))
            lib = "rpthread" if mode == "preload" else "glibc"
            if timed_out:
                problems.append(f"{role} ({lib}) timed out")
            elif p.returncode != 0:
                how = f"signal {H.signame(-p.returncode)}" if p.returncode < 0 else f"exit {p.returncode}"
                problems.append(f"{role} ({lib}) {how}")
            why = bound_as_meant(mode, bound, loaded)
            if why and not timed_out:
                problems.append(f"{role} ({lib}): {why}")
        for suffix in ROLES:
            try:
                os.unlink(f"/dev/shm/sem.{name}-{suffix}")
            except FileNotFoundError:
                pass
    if not problems:
        return True, ""
    detail = "".join(f"\n  [{role} {mode} rc={rc}]\n{out[-1500:]}{err[-1500:]}"
                     for role, mode, rc, _, out, err in results)
    return False, "; ".join(problems) + detail


def main():
    filters = sys.argv[1:]
    if filters[:1] == ["--lib"] and len(filters) > 1:
        H.LIB = os.path.abspath(filters[1])
        filters = filters[2:]
    srcs = sorted(glob.glob(os.path.join(SRC_DIR, "*.c")))
    if filters:
        srcs = [s for s in srcs if any(f in os.path.basename(s) for f in filters)]
    os.makedirs(OUT_DIR, exist_ok=True)
    passed = failed = 0
    table = []
    for src in srcs:
        name = os.path.splitext(os.path.basename(src))[0]
        d = H.directives(src, "rpthread-interop")
        binary, log = build(src)
        row = [name]
        for modes in ASSIGNMENTS:
            label = f"{name} [A {'rpthread' if modes[0] == 'preload' else 'glibc'}, " \
                    f"B {'rpthread' if modes[1] == 'preload' else 'glibc'}]"
            if binary is None:
                ok, why = False, "build failed:\n" + log
            else:
                t0 = time.monotonic()
                ok, why = run_pair(binary, modes, float(d.get("timeout", "30")), modes[0][0] + modes[1][0])
                why = why or f"{time.monotonic() - t0:.1f} s"
            print(f"{'PASS' if ok else 'FAIL'}  {label}{'' if ok else ': ' + why}"
                  + (f" ({why})" if ok else ""), flush=True)
            row.append("pass" if ok else "FAIL")
            passed += ok
            failed += not ok
        table.append(row)
    print()
    print(f"{'object':<20} {'A rpthread, B glibc':<21} {'A glibc, B rpthread':<21}")
    for name, x, y in table:
        print(f"{name.replace('interop_', ''):<20} {x:<21} {y:<21}")
    print(f"\ninterop: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
