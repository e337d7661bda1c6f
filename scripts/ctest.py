#!/usr/bin/env python3
"""Runs the C/C++ conformance tests in c-tests/conformance, each built and run both ways.

A test is one self-checking program: it exits 0 when every check passed and prints what
failed otherwise. Directives in comment lines of the source tune the harness:

    // rpthread-test: expect=signal:SIGSEGV   the program must die of this signal
    // rpthread-test: flags=-lrt              extra compiler/linker flags
    // rpthread-test: timeout=120             seconds (default 60)
    // rpthread-test: xfail=<why>             known failure (an issue number); a pass is
                                              reported so the mark gets removed
    // rpthread-test: modes=preload           only these modes
    // rpthread-test: args=100                command-line arguments
    // rpthread-test: glibc=pthread_create    symbols the test looks up in glibc on purpose

Both ways must run on rpthread: the harness reads ld.so's binding log and fails a test in
which no pthread-family symbol bound to librpthread.so, or one bound to glibc.
Usage: ctest.py [--env NAME=VALUE]... [--modes link,preload] [substring filters...]
(`--env RPTHREAD_DIAG=all`: the whole suite with every diagnostic on; `make diag-check`.)
"""
import glob
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402


def directives(src):
    return H.directives(src, "rpthread-test")


def check(src, mode, d, env=None):
    name = os.path.splitext(os.path.basename(src))[0]
    out = os.path.join(H.BUILD, "ct", mode, name)
    ok, log = H.build(src, mode, out, d.get("flags", "").split())
    if not ok:
        return False, "build failed:\n" + log
    r = H.run(out, mode, d.get("args", "").split(), timeout=int(d.get("timeout", "60")), env_extra=env)
    if r["timed_out"]:
        return False, "timed out\n" + r["out"][-2000:] + r["err"][-2000:]
    expect = d.get("expect", "exit:0")
    if expect.startswith("signal:"):
        want = expect.split(":", 1)[1]
        if H.signame(r["signal"]) != want:
            return False, f"expected death by {want}, got rc={r['rc']}\n" + r["out"][-2000:] + r["err"][-2000:]
    elif r["rc"] != 0:
        how = f"signal {H.signame(r['signal'])}" if r["signal"] else f"exit {r['rc']}"
        return False, f"{how}\n" + r["out"][-3000:] + r["err"][-3000:]
    if not H.ours_bound(r):
        return False, "no pthread symbol bound to librpthread.so: the test did not run on rpthread"
    allowed = set(d.get("glibc", "").split(","))
    leaked = [s for s in H.libc_bound(r) if s not in allowed]
    if leaked:
        return False, "bound to glibc instead of rpthread: " + ", ".join(leaked)
    return True, ""


def main():
    args = sys.argv[1:]
    env, only_modes, filters = {}, None, []
    while args:
        a = args.pop(0)
        if a == "--env" and args:
            k, _, v = args.pop(0).partition("=")
            env[k] = v
        elif a == "--modes" and args:
            only_modes = set(args.pop(0).split(","))
        else:
            filters.append(a)
    srcs = sorted(glob.glob(os.path.join(H.ROOT, "c-tests", "conformance", "*.c"))
                  + glob.glob(os.path.join(H.ROOT, "c-tests", "conformance", "*.cc")))
    if filters:
        srcs = [s for s in srcs if any(f in os.path.basename(s) for f in filters)]
    passed = failed = xfailed = 0
    for src in srcs:
        d = directives(src)
        for mode in d.get("modes", "link,preload").split(","):
            if only_modes and mode not in only_modes:
                continue
            label = f"{os.path.basename(src)} [{mode}]"
            ok, why = check(src, mode, d, env or None)
            if "xfail" in d:
                if ok:
                    print(f"XPASS {label}: remove the xfail mark ({d['xfail']})")
                    failed += 1
                else:
                    print(f"XFAIL {label} ({d['xfail']})")
                    xfailed += 1
                continue
            if ok:
                print(f"PASS  {label}", flush=True)
                passed += 1
            else:
                print(f"FAIL  {label}: {why}", flush=True)
                failed += 1
    print(f"conformance: {passed} passed, {failed} failed" + (f", {xfailed} skipped" if xfailed else ""))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
