#!/usr/bin/env python3
"""Runs the example programs of the seed documents (c-tests/docs) on rpthread, both ways.

Each example is built twice with scripts/harness.py: linked against our header and library
(`-I include -lrpthread`), and as an ordinary glibc program run under LD_PRELOAD. Then:
  - its behaviour is checked (output lines, invariants of non-deterministic output, exit status);
  - examples that call pthreads must have had at least one pthread-family symbol bound to
    librpthread.so and none to glibc (ld.so's binding log), but for KNOWN_GAPS below;
  - the clone() examples call no pthread function: librpthread.so must have been loaded into the
    process (ld.so's LD_DEBUG=files log; their linked build keeps it NEEDED with
    --no-as-needed) and the output, with numbers and addresses masked, must equal that of a
    plain glibc run without our library. If the plain run itself fails the example's check
    (the 4096-byte stack of clone_thread is machine-dependent), ours cannot be judged: skipped.

The example sources are the document's code blocks byte-for-byte (see c-tests/docs/README.md);
two blocks that the document flattened onto one line are re-broken at the spaces where a
`#include` or `//` comment must end, nothing else changed. When the seed documents are found
(RPTHREAD_SEEDS, default /work/shared/seeds) the script verifies that provenance too.

Usage: docs.py            table for people (`make demo`); exit status 0
       docs.py --check    same checks, exit 1 on any failure (`make test`); last line
                          `docs: N passed, M failed[, K skipped]`
An xfail example (a missing feature, named by issue) that passes is an XPASS: a failure, so the
mark gets removed when the feature lands.
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

DOCS = os.path.join(H.ROOT, "c-tests", "docs")
SEEDS = os.environ.get("RPTHREAD_SEEDS", "/work/shared/seeds")
# pthread-family symbols that are allowed to bind to glibc for now, with the issue that exports
# them. A run whose only flaw is one of these is an XFAIL; when none of the runs binds one any
# more, the entry is stale and reported as a failure (so it gets removed).
KNOWN_GAPS = {
}
S0, S1, S3 = "000_4bb800078a269f33.txt", "001_84845429781efe42.txt", "003_22b69e09f3428006.txt"


def lines(out):
    return [ln for ln in out.splitlines() if ln.strip()]


def problems_exit0(r):
    if r["timed_out"]:
        return ["timed out"]
    if r["signal"]:
        return [f"killed by {H.signame(r['signal'])}"]
    if r["rc"] != 0:
        return [f"exit status {r['rc']}"]
    return []


# ---- behaviour checks: each takes the run results {args-tuple: result}, returns problems ----

def check_create_message(runs):
    r = runs[()]
    p = problems_exit0(r)
    ls = lines(r["out"])
    if "Hello from thread! Message: Hello from main!" not in ls:
        p.append("no 'Hello from thread! Message: Hello from main!' line")
    ids = [m.group(1) for ln in ls
           for m in [re.fullmatch(r"Main thread created child thread with ID: (\d+)", ln)] if m]
    if len(ids) != 1 or int(ids[0]) == 0:
        p.append("expected one 'Main thread created child thread with ID: <nonzero %lu>' line")
    if len(ls) != 2:
        p.append(f"expected 2 lines, got {len(ls)}")
    return p


def check_sum(runs):
    r = runs[("100",)]
    p = problems_exit0(r)
    ls = lines(r["out"])
    if not ls or ls[-1] != "Final Sum = 5050":
        p.append("last line is not 'Final Sum = 5050'")
    if not ls or ls[0] != "Main thread is creating a new thread.":
        p.append("first line is not 'Main thread is creating a new thread.'")
    if "Thread finished, sum calculated up to 100." not in ls:
        p.append("no 'Thread finished, sum calculated up to 100.' line")
    waiting = [m.group(1) for ln in ls for m in
               [re.fullmatch(r"Main thread waiting for child thread \(ID: (\d+)\) to finish\.", ln)] if m]
    done = [m.group(1) for ln in ls for m in
            [re.fullmatch(r"Child thread \(ID: (\d+)\) has terminated\.", ln)] if m]
    if len(waiting) != 1 or len(done) != 1 or waiting != done or int(done[0]) == 0:
        p.append(f"thread id lines missing or different: waiting={waiting} terminated={done}")
    if len(ls) != 5:
        p.append(f"expected 5 lines, got {len(ls)}")
    return p


def check_silent_exit0(runs):
    r = runs[()]
    p = problems_exit0(r)
    if r["out"].strip():
        p.append("unexpected output: " + r["out"][:200])
    return p


def check_signal(runs):
    r = runs[()]
    p = problems_exit0(r)
    if lines(r["out"]) != ["SIGUSR1 handled by thread_func's thread"]:
        p.append("driver did not report the signal handled")
    return p


def check_address_space(runs):
    r = runs[()]
    p = problems_exit0(r)
    out = r["out"]
    # The two threads write with unsynchronized std::cout insertions, so their texts may
    # interleave; the invariant holds either way: four addresses, two labels of each kind,
    # one address printed twice (the global), two distinct others (the two locals).
    if out.count("Global variable: ") != 2 or out.count("Local variable: ") != 2:
        p.append("expected two 'Global variable:' and two 'Local variable:' labels")
    # Each `<<` is one write, so two addresses may end up adjacent ("0x55..0x7f..").
    # Worse, the example shares std::cout's format flags between its two threads unlocked:
    # printing a pointer sets hex|showbase on the stream for a moment, so the other thread's
    # pointer may come out in decimal (seen: "0x5629f129b15494738139689300" is the global
    # twice, hex then decimal; and "946594869415240x7f38..": decimal, then a local). User-space
    # addresses have at most 12 hex digits, a number ends where "0x" begins; compare values,
    # whatever base they were printed in (4,000 runs of both builds checked clean).
    addrs = [int(h, 16) if h else int(d)
             for h, d in re.findall(r"0x([0-9a-f]{1,12})|(\d{6,}?)(?=0x|\D|$)", out)]
    counts = sorted(addrs.count(a) for a in set(addrs))
    if len(addrs) != 4 or counts != [1, 1, 2]:
        p.append(f"addresses {[hex(a) for a in addrs]}: want the global's twice and two different locals")
    glob = [m.group(1) for ln in out.splitlines()
            for m in [re.fullmatch(r"Global variable: (0x[0-9a-f]+)", ln)] if m]
    loc = [m.group(1) for ln in out.splitlines()
           for m in [re.fullmatch(r"Local variable: (0x[0-9a-f]+)", ln)] if m]
    if len(glob) == 2 and len(loc) == 2:       # not interleaved: check by label too
        if glob[0] != glob[1]:
            p.append(f"global's address differs between threads: {glob}")
        if loc[0] == loc[1]:
            p.append(f"both threads' local at the same address: {loc}")
    return p


def check_clone_thread(runs):
    r = runs[()]
    p = problems_exit0(r)
    out = r["out"]
    main_pid = re.findall(r"^Main process \(PID: (\d+)\) is about to clone a thread\.$", out, re.M)
    tid = re.findall(r"^Main process: Cloned thread with PID \(LWPID\): (\d+)$", out, re.M)
    child = re.findall(r"^Child PID \(LWPID\): (\d+), Parent PID: (\d+)$", out, re.M)
    if "Hello from the cloned thread!" not in lines(out):
        p.append("no 'Hello from the cloned thread!' line")
    if "Main process exiting." not in lines(out):
        p.append("no 'Main process exiting.' line")
    if len(main_pid) != 1 or len(tid) != 1 or len(child) != 1:
        p.append("missing main/clone/child pid lines")
    else:
        if child[0][0] != main_pid[0]:
            p.append(f"CLONE_THREAD child's getpid() {child[0][0]} != main's {main_pid[0]}")
        if tid[0] == main_pid[0] or int(tid[0]) <= 0:
            p.append(f"clone() returned {tid[0]}, want a new tid != pid {main_pid[0]}")
    if len(lines(out)) != 5:
        p.append(f"expected 5 lines, got {len(lines(out))}")
    return p


def check_clone_devnull(runs):
    r = runs[()]
    p = problems_exit0(r)
    want = ["Creating child thread", "child thread entering", "child thread exiting",
            "Parent:\t child closed our file descriptor"]
    if lines(r["out"]) != want:
        p.append(f"output {lines(r['out'])} != {want}")
    return p


def check_clone_vm(runs):
    p = []
    pat = r'^\[Parent\] Child exited with status (\d+)\. buf = (0x[0-9a-f]+) - "(.*)"$'
    for args, want in ((("vm",), "hello from child"), ((), "hello from parent")):
        r = runs[args]
        tag = "with CLONE_VM" if args else "without CLONE_VM"
        p += [f"{tag}: {x}" for x in problems_exit0(r)]
        m = re.findall(pat, r["out"], re.M)
        if len(m) != 1:
            p.append(f"{tag}: no '[Parent] Child exited ...' line")
            continue
        status, _, buf = m[0]
        if status != "0":
            p.append(f"{tag}: child status {status}")
        if buf != want:
            p.append(f"{tag}: parent's buf is \"{buf}\", want \"{want}\"")
    # With CLONE_VM the child printed into the parent's stdio buffer: its line shows what it saw.
    if not re.search(r'^\[Child\] Child sees buf = 0x[0-9a-f]+ -  "hello from parent"$',
                     runs[("vm",)]["out"], re.M):
        p.append("with CLONE_VM: no '[Child] Child sees buf = ... \"hello from parent\"' line")
    return p


# ---- the manifest ----
# name: example; src: file in c-tests/docs; seed: (document, first line, last line) of the code
# block; reflowed: the block was flattened onto one line by the document and re-broken at spaces;
# driver: our file in c-tests/docs/drivers linked with the fragment's object; kind: "pthread"
# (binding check) or "clone" (library loaded + output equals a plain glibc run); args: the
# argument lists to run with; flags: extra compiler flags (both ways); xfail: {mode: why}.
EXAMPLES = [
    dict(name="pthread_create_message", src="pthread_create_message.c", seed=(S1, 147, 147),
         reflowed=True, kind="pthread", check=check_create_message,
         what="thread prints the message; main prints a nonzero %lu id; join; exit 0"),
    dict(name="sum_runner", src="sum_runner.c", seed=(S1, 234, 279), kind="pthread",
         args=[("100",)], check=check_sum,
         what="args 100: 'Final Sum = 5050' last; same id in both id lines; 5 lines; exit 0"),
    dict(name="one_to_one", src="one_to_one.c", seed=(S1, 82, 89), kind="pthread",
         check=check_silent_exit0, what="create + join `task`; no output; exit 0"),
    dict(name="tls_key", src="tls_key.c", seed=(S1, 47, 47), reflowed=True, kind="pthread",
         check=check_silent_exit0,
         what="key create + setspecific(malloc) in a thread; no output; exit 0"),
    dict(name="cancel_worker", src="cancel_worker.c", seed=(S1, 354, 368), kind="pthread",
         check=check_silent_exit0, timeout=15,
         what="worker in a testcancel loop is cancelled after 1 s and joined; exit 0"),
    dict(name="signal_handler", src="signal_handler.c", seed=(S1, 382, 388), kind="pthread",
         driver="signal_handler_driver.c", check=check_signal, timeout=15,
         what="driver runs thread_func; pthread_kill SIGUSR1 once handler is installed; "
              "signal consumed, process alive"),
    dict(name="address_space", src="address_space.cc", seed=(S0, 28, 49), kind="pthread",
         check=check_address_space,
         what="g++: global's address equal in both threads, the two locals differ"),
    dict(name="clone_thread", src="clone_thread.c", seed=(S1, 476, 518), kind="clone",
         flags=["-D_GNU_SOURCE=", "-include", "signal.h"], check=check_clone_thread,
         what="CLONE_THREAD child on a 4096-byte stack: child's getpid()==main's, "
              "clone() returned a new tid"),
    dict(name="clone_devnull", src="clone_devnull.c", seed=(S3, 26, 101), kind="clone",
         check=check_clone_devnull,
         what="CLONE_FILES child closes /dev/null fd; waitpid; parent's write fails"),
    dict(name="clone_vm", src="clone_vm.c", seed=(S3, 107, 156), kind="clone",
         args=[("vm",), ()], check=check_clone_vm,
         what="'vm': parent sees 'hello from child'; no arg: still 'hello from parent'"),
]
# Why clone_thread gets `-D_GNU_SOURCE= -include signal.h`: the document's block uses SIGCHLD
# without including <signal.h>, which glibc 2.36's <sched.h>/<stdlib.h>/<unistd.h> do not pull
# in, so the block fails to compile on plain glibc too. The header is added on the command line
# so the source stays the document's; _GNU_SOURCE (defined empty, exactly as the block's own
# `#define _GNU_SOURCE`, so that redefinition is silent) must precede that first header or
# <sched.h> would not declare the CLONE_* flags.


def provenance(ex):
    """Problems with `ex`'s source relative to its seed block, or None when no seeds."""
    doc, first, last = ex["seed"]
    path = os.path.join(SEEDS, doc)
    if not os.path.exists(path):
        return None
    with open(path, "rb") as f:
        block = b"".join(f.readlines()[first - 1:last])
    with open(os.path.join(DOCS, ex["src"]), "rb") as f:
        src = f.read()
    if ex.get("reflowed"):
        # only spaces of the one-line block turned into newlines
        same = src.replace(b"\n", b" ") == block.replace(b"\n", b" ")
    else:
        same = src == block
    return [] if same else [f"{ex['src']} differs from {doc} lines {first}-{last}"]


def build_example(ex, mode):
    """Builds `ex` for `mode`; returns (binary or None, log)."""
    name = ex["name"]
    out = os.path.join(H.BUILD, "docs", mode, name)
    src = os.path.join(DOCS, ex["src"])
    flags = list(ex.get("flags", []))
    if mode == "link" and ex["kind"] == "clone":
        # The clone examples reference no symbol of ours: keep librpthread.so a NEEDED
        # library despite the toolchain's --as-needed, so "linked" means it is loaded.
        flags += ["-Wl,--no-as-needed", "-lrpthread"]
    objects = []
    if "driver" in ex:
        # the fragment is compiled unchanged to an object and linked with our driver
        obj = out + ".frag.o"
        os.makedirs(os.path.dirname(obj), exist_ok=True)
        cmd = [H.compiler(src), "-O2", "-g", "-Wall", "-Wno-unused-result", "-c", src, "-o", obj]
        cmd += ["-I", H.INCLUDE] if mode == "link" else ["-pthread"]
        p = subprocess.run(cmd + flags, capture_output=True, text=True)
        if p.returncode != 0:
            return None, "fragment build failed:\n" + p.stdout + p.stderr
        objects = [obj]
        src = os.path.join(DOCS, "drivers", ex["driver"])
    ok, log = H.build(src, mode, out, flags, objects)
    return (out if ok else None), log


def run_mode(ex, mode, plain_runs, gaps_seen):
    """Builds and runs `ex` one way; returns (problems, known gaps hit). Passed: both empty."""
    binary, log = build_example(ex, mode)
    if binary is None:
        return ["build failed: " + " | ".join(
            ln for ln in log.splitlines() if "error" in ln)[:600]], []
    runs = {a: H.run(binary, mode, a, timeout=ex.get("timeout", 30), ld_debug=ld_debug(ex))
            for a in ex.get("args", [()])}
    problems, gaps = ex["check"](runs), []
    for a, r in runs.items():
        if ex["kind"] == "pthread":
            if not H.ours_bound(r):
                problems.append("no pthread symbol bound to librpthread.so")
            leaked = H.libc_bound(r)
            gaps_seen.update(s for s in leaked if s in KNOWN_GAPS)
            gaps += [f"{s} bound to glibc: {KNOWN_GAPS[s]}" for s in leaked if s in KNOWN_GAPS]
            leaked = [s for s in leaked if s not in KNOWN_GAPS]
            if leaked:
                problems.append("bound to glibc: " + ", ".join(leaked))
        else:
            if "librpthread.so" not in r["loaded"]:
                problems.append(f"args {list(a)}: librpthread.so not loaded in the process")
            if normalize(r["out"]) != normalize(plain_runs[a]["out"]) or \
                    r["rc"] != plain_runs[a]["rc"]:
                problems.append(f"args {list(a)}: output/status differs from the plain glibc run:"
                                f" {r['out']!r} (rc {r['rc']}) vs {plain_runs[a]['out']!r}"
                                f" (rc {plain_runs[a]['rc']})")
    return problems, sorted(set(gaps))


def ld_debug(ex):
    # The clone examples run glibc code on tiny stacks of their own (4096 bytes): ld.so's
    # binding log, printed during lazy binding on the caller's stack, would overflow them. Their
    # check only needs to know that librpthread.so was loaded: LD_DEBUG=files.
    return "files" if ex["kind"] == "clone" else "bindings"


def normalize(out):
    """Output with addresses and numbers masked, lines sorted (their order may vary)."""
    out = re.sub(r"0x[0-9a-f]+", "0xA", out)
    out = re.sub(r"\d+", "N", out)
    return sorted(lines(out))


def plain_baseline(ex):
    """Runs the glibc build without our library (clone examples' reference behaviour)."""
    binary, log = build_example(ex, "preload")
    if binary is None:
        return None, log
    runs = {a: H.run(binary, "plain", a, timeout=ex.get("timeout", 30), ld_debug=ld_debug(ex))
            for a in ex.get("args", [()])}
    probs = ex["check"](runs)
    return runs, ("; ".join(probs) if probs else "")


def main():
    check_mode = "--check" in sys.argv[1:]
    results = []            # (ex, {mode: (status, notes)})
    passed = failed = skipped = 0
    prov_checked = 0
    gaps_seen = set()
    for ex in EXAMPLES:
        if sys.stderr.isatty():
            print(f"  {ex['name']} ...", end="\r", flush=True, file=sys.stderr)
        row = {}
        plain_runs = None
        prov = provenance(ex)
        if prov is not None:
            prov_checked += 1
        if ex["kind"] == "clone":
            plain_runs, why = plain_baseline(ex)
            if plain_runs is None or why:
                # the example misbehaves on plain glibc here: ours cannot be judged
                for mode in H.MODES:
                    row[mode] = ("SKIP", ["the plain glibc run itself fails the check on this "
                                          "machine, not judged: " + why[:600]])
        for mode in H.MODES:
            if mode not in row:
                probs, gaps = run_mode(ex, mode, plain_runs, gaps_seen)
                probs = (prov or []) + probs
                gaps = ["behaviour OK, other bindings to librpthread; only known gap: " + g for g in gaps]
                row[mode] = ("FAIL", probs) if probs else ("GAP", gaps) if gaps else ("PASS", [])
            status, notes = row[mode]
            xf = ex.get("xfail", {}).get(mode)
            if xf:
                # the mark is stale once nothing but the library-wide known gaps remains
                row[mode] = ("XFAIL", [xf] + notes) if status == "FAIL" else \
                    ("XPASS", [f"passes: remove the xfail mark ({xf})"] + notes)
            elif status == "GAP":
                row[mode] = ("XFAIL", notes)
            status = row[mode][0]
            if status == "PASS":
                passed += 1
            elif status in ("XFAIL", "SKIP"):
                skipped += 1
            else:
                failed += 1
        results.append((ex, row))
    if sys.stderr.isatty():
        print(" " * 40, end="\r", file=sys.stderr)

    w = max(len(ex["name"]) for ex, _ in results)
    print(f"{'example':<{w}} | linked | preload | what was checked")
    print(f"{'-' * w}-+--------+---------+-{'-' * 60}")
    for ex, row in results:
        extra = (" + pthread symbols bound to librpthread, none to glibc" if ex["kind"] == "pthread"
                 else " + librpthread loaded, same output as plain glibc")
        print(f"{ex['name']:<{w}} | {row['link'][0]:<6} | {row['preload'][0]:<7} | "
              f"{ex['what']}{extra}")
    print("PASS: behaviour and bindings as required; XFAIL: fails for a named missing feature "
          "(not counted);\nXPASS/FAIL: counted as failures (an XPASS means: remove its mark); "
          "SKIP: fails on plain glibc too")
    notes = [(ex, m, row[m]) for ex, row in results for m in H.MODES if row[m][0] != "PASS"]
    if notes:
        print()
    for ex, mode, (status, probs) in notes:
        if status in ("XFAIL", "SKIP"):
            print(f"{status} {ex['name']} [{mode}]: " + "; ".join(p[:300] for p in probs))
        else:
            print(f"{status} {ex['name']} [{mode}]:")
            for p in probs:
                print(f"    {p[:1500]}")
    ran_pthread = any(st not in ("FAIL",) for ex, row in results if ex["kind"] == "pthread"
                      for st, _ in row.values())
    for sym in sorted(set(KNOWN_GAPS) - gaps_seen):
        if ran_pthread:
            print(f"XPASS known gap {sym} ({KNOWN_GAPS[sym]}): no run bound it to glibc any more; "
                  "remove it from KNOWN_GAPS in scripts/docs.py")
            failed += 1
    if prov_checked:
        print(f"\nsources verified against the seed documents: {prov_checked}/{len(EXAMPLES)}")
    else:
        print(f"\nseed documents not found at {SEEDS}: provenance not verified")
    print(f"docs: {passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
    if check_mode:
        sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
