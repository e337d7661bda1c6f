#!/usr/bin/env python3
"""Tests of rpthread's lock diagnostics (RPTHREAD_DIAG, issue 12) on the programs of
c-tests/diag, built as ordinary glibc programs and run under LD_PRELOAD (one also linked with
-lrpthread). Each test reads the JSON reports (RPTHREAD_DIAG_FORMAT=json, one object per
line, written to a file per process) and checks what they say against what the program did;
each also checks from ld.so's binding log that the program ran on librpthread.so.

    python3 scripts/diag.py            # all tests
    python3 scripts/diag.py dump order # only tests whose name contains one of these
    python3 scripts/diag.py --demo     # run each mode on its program, show the text reports

Exit status 1 if any test failed.
"""
import glob
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

SRC = os.path.join(H.ROOT, "c-tests", "diag")
OUT = os.path.join(H.BUILD, "diag")


class Fail(Exception):
    pass


def need(cond, why):
    if not cond:
        raise Fail(why)


def build(name, mode="preload", extra=()):
    src = glob.glob(os.path.join(SRC, name + ".c*"))[0]
    out = os.path.join(OUT, mode, name)
    ok, log = H.build(src, mode, out, list(extra))
    need(ok, f"build of {name} failed:\n{log}")
    return out


def build_lib():
    out = os.path.join(OUT, "libdiagfoo.so")
    p = subprocess.run(["gcc", "-O2", "-g", "-shared", "-fPIC", "-pthread",
                        os.path.join(SRC, "libdiagfoo.c"), "-o", out], capture_output=True, text=True)
    need(p.returncode == 0, "build of libdiagfoo.so failed:\n" + p.stdout + p.stderr)
    return ["-L", OUT, "-ldiagfoo", "-Wl,-rpath," + OUT]


def events_in(d):
    """Every JSON report written under directory `d` (files diag.<pid>)."""
    evs = []
    for f in sorted(glob.glob(os.path.join(d, "diag.*"))):
        with open(f, errors="replace") as fh:
            for line in fh:
                line = line.strip()
                if line:
                    try:
                        evs.append(json.loads(line))
                    except json.JSONDecodeError as e:
                        raise Fail(f"report is not JSON ({e}): {line[:300]}")
    return evs


def run(binary, modes, args=(), env=None, timeout=30, mode="preload", fmt="json", glibc=()):
    """Runs `binary` with RPTHREAD_DIAG=modes; returns (result, events). `glibc`: symbols the
    program looks up in glibc itself (dlsym), allowed to bind there."""
    with tempfile.TemporaryDirectory() as d:
        e = {"RPTHREAD_DIAG": modes, "RPTHREAD_DIAG_FORMAT": fmt}
        if fmt == "json":
            e["RPTHREAD_DIAG_OUT"] = os.path.join(d, "diag.%p")
        e.update(env or {})
        r = H.run(binary, mode, args, timeout=timeout, env_extra=e)
        need(not r["timed_out"], f"timed out after {timeout} s\n{r['out'][-1500:]}{r['err'][-1500:]}")
        need(H.ours_bound(r), "no pthread symbol bound to librpthread.so: not running on rpthread")
        leaked = [x for x in H.libc_bound(r) if x not in glibc]
        need(not leaked, "bound to glibc: " + ", ".join(leaked))
        evs = events_in(d) if fmt == "json" else []
    return r, evs


def exited_ok(r):
    need(r["rc"] == 0, f"exit status {r['rc']}\nstdout: {r['out'][-1500:]}\nstderr: {r['err'][-1500:]}")


def of(evs, kind):
    return [e for e in evs if e.get("event") == kind]


def stack_has(stack, fn):
    return any(f.startswith(fn + "+") or f.startswith(fn + " ") for f in (stack or []))


# ---- order ------------------------------------------------------------------------------------

def t_order_abba():
    """ABBA between two threads, one after the other: reported, nothing hangs."""
    b = build("abba")
    r, evs = run(b, "order")
    exited_ok(r)
    inv = of(evs, "lock_order_inversion")
    need(len(inv) == 1, f"{len(inv)} inversion reports, expected 1: {evs}")
    e = inv[0]
    need(e["acquiring"]["name"] == "lock_a in abba", f"acquiring {e['acquiring']}")
    need(e["holding"]["name"] == "lock_b in abba", f"holding {e['holding']}")
    need(len(e["established"]) == 1, f"established path {e['established']}")
    old = e["established"][0]
    need(old["holding"]["name"] == "lock_a in abba" and old["acquired"]["name"] == "lock_b in abba",
         f"the earlier order is not a then b: {old}")
    need(old["tid"] != e["thread"]["tid"], "both orders attributed to one thread")
    need(stack_has(e["stack"], "nested") and stack_has(old["stack"], "nested"),
         f"call sites missing: {e['stack']} / {old['stack']}")
    need("returned 0 " in r["out"], "the lock call did not succeed: " + r["out"])
    need(e["action"] == "report", e["action"])


def t_order_text():
    """The same in the text format, on stderr."""
    b = build("abba")
    r, _ = run(b, "order", fmt="text")
    exited_ok(r)
    err = r["err"]
    need("rpthread-diag: lock-order inversion" in err, "no text report:\n" + err)
    need("takes mutex lock_a in abba" in err and "while holding mutex lock_b in abba" in err, err)
    need("but the opposite order was seen before" in err, err)


def t_order_edeadlk():
    """RPTHREAD_DIAG_ON_CYCLE=edeadlk: the closing lock call fails with EDEADLK."""
    b = build("abba")
    r, evs = run(b, "order", env={"RPTHREAD_DIAG_ON_CYCLE": "edeadlk"})
    exited_ok(r)
    need("returned 35 " in r["out"], "the closing lock call did not return EDEADLK: " + r["out"])
    inv = of(evs, "lock_order_inversion")
    need(len(inv) == 1 and inv[0]["action"] == "edeadlk", f"reports: {inv}")


def t_order_abort():
    """RPTHREAD_DIAG_ON_CYCLE=abort: the report is written, then the process aborts at the
    closing lock call (before the program prints what it returned)."""
    b = build("abba")
    r, evs = run(b, "order", env={"RPTHREAD_DIAG_ON_CYCLE": "abort"})
    need(r["rc"] == -signal.SIGABRT, f"exit status {r['rc']}, expected SIGABRT\n{r['err'][-1500:]}")
    need("closing lock call returned" not in r["out"], "the program went on: " + r["out"])
    inv = of(evs, "lock_order_inversion")
    need(len(inv) == 1 and inv[0]["action"] == "abort", f"reports: {inv}")


def t_order_cycle3():
    """A cycle through three locks and three threads (also as a Graphviz graph)."""
    b = build("abba")
    with tempfile.TemporaryDirectory() as d:
        dot = os.path.join(d, "order.dot")
        r, evs = run(b, "order", ["cycle3"], env={"RPTHREAD_DIAG_DOT": dot})
        with open(dot) as f:
            g = f.read()
    exited_ok(r)
    need(g.startswith("digraph") and g.count("color=red") == 3 and g.count("->") == 3, "graph:\n" + g)
    for n in ("lock_a in abba", "lock_b in abba", "lock_c in abba"):
        need(f'label="{n}"' in g, f"no node {n}:\n{g}")
    inv = of(evs, "lock_order_inversion")
    need(len(inv) == 1, f"{len(inv)} inversion reports: {inv}")
    e = inv[0]
    need(e["acquiring"]["name"] == "lock_a in abba" and e["holding"]["name"] == "lock_c in abba", str(e))
    path = [(x["holding"]["name"], x["acquired"]["name"]) for x in e["established"]]
    need(path == [("lock_a in abba", "lock_b in abba"), ("lock_b in abba", "lock_c in abba")],
         f"established path {path}")
    need(len({x["tid"] for x in e["established"]} | {e["thread"]["tid"]}) == 3, "not three threads")


def t_order_consistent():
    """Three threads taking the same three locks in the same order: no report."""
    b = build("abba")
    r, evs = run(b, "order", ["consistent"])
    exited_ok(r)
    need(not of(evs, "lock_order_inversion"), f"unexpected report: {evs}")


def t_order_cached():
    """`order` alone checks an acquisition once per set of held locks (a per-thread cache):
    an order taken 1000 times, then reversed once, is reported once for each kind of lock."""
    b = build("cached")
    r, evs = run(b, "order", ["repeat"])
    exited_ok(r)
    inv = of(evs, "lock_order_inversion")
    pairs = sorted((e["holding"]["name"], e["acquiring"]["name"]) for e in inv)
    want = sorted((f"{x}b in cached", f"{x}a in cached") for x in ("m", "r", "s"))
    need(pairs == want, f"inversions {pairs}, expected {want}")


def t_order_cached_reorder():
    """The cache tells apart the same lock taken with different locks held: after locks are
    released out of order (a, c held against b, c before), the new order is checked."""
    b = build("cached")
    r, evs = run(b, "order", ["reorder"])
    exited_ok(r)
    inv = of(evs, "lock_order_inversion")
    need(len(inv) == 1, f"{len(inv)} inversion reports, expected 1: {inv}")
    e = inv[0]
    need(e["acquiring"]["name"] == "ma in cached" and e["holding"]["name"] == "md in cached", str(e))
    path = [(x["holding"]["name"], x["acquired"]["name"]) for x in e["established"]]
    need(path == [("ma in cached", "md in cached")], f"established path {path}")


def t_order_cached_reinit():
    """A mutex initialized again is a new class at once, even where the cache knew the old."""
    b = build("cached")
    r, evs = run(b, "order", ["reinit"])
    exited_ok(r)
    inv = of(evs, "lock_order_inversion")
    need(len(inv) == 1, f"{len(inv)} inversion reports, expected 1: {inv}")
    heap = inv[0]["acquiring"]
    need(inv[0]["holding"]["name"] == "other in cached", str(inv[0]))
    # The second init runs in heap_then_other (init_second's call is a tail call), the first
    # in main.
    need(any("heap_then_other" in f for f in heap.get("made_at", [])), f"the heap mutex's class: {heap}")


def t_order_link_mode():
    """Linked with -lrpthread (our header) instead of preloaded: the same report."""
    b = build("abba", mode="link")
    r, evs = run(b, "order", mode="link")
    exited_ok(r)
    inv = of(evs, "lock_order_inversion")
    need(len(inv) == 1 and inv[0]["acquiring"]["name"] == "lock_a in abba", f"reports: {evs}")


def t_order_c11():
    """C11 mtx_* (glibc's pthread mutexes underneath) in opposite orders: reported."""
    b = build("c11")
    r, evs = run(b, "order")
    exited_ok(r)
    inv = of(evs, "lock_order_inversion")
    need(len(inv) == 1, f"{len(inv)} inversion reports: {evs}")
    need(inv[0]["acquiring"]["name"] == "c11_a in c11" and inv[0]["holding"]["name"] == "c11_b in c11",
         f"report {inv[0]}")
    need(stack_has(inv[0]["stack"], "b_then_a"), f"stack {inv[0]['stack']}")


def t_static_names():
    """Static locks named by symbol and object file, in the program and in a library."""
    lib = build_lib()
    b = build("static_lock", extra=lib)
    r, evs = run(b, "order")
    exited_ok(r)
    inv = of(evs, "lock_order_inversion")
    need(len(inv) == 1, f"reports: {evs}")
    names = {inv[0]["acquiring"]["name"], inv[0]["holding"]["name"]}
    need(names == {"app_lock in static_lock", "g_lock in libdiagfoo.so"}, f"names {names}")
    need(stack_has(inv[0]["stack"], "foo_with"), f"stack {inv[0]['stack']}")


def t_fork_dlclose():
    """Across dlclose (a lock of an unloaded library still named at exit) and fork (the
    child's own report, in its own file)."""
    build_lib()
    b = build("forkdl", extra=["-ldl"])
    lib = os.path.join(OUT, "libdiagfoo.so")
    r, evs = run(b, "order,contention", [lib], env={"RPTHREAD_DIAG_SAMPLE": "1"})
    exited_ok(r)
    child = int(r["out"].split("child ")[1].split()[0])
    inv = of(evs, "lock_order_inversion")
    need(len(inv) == 2, f"{len(inv)} inversion reports, expected the parent's and the child's: {inv}")
    parent_inv = [e for e in inv if e["pid"] != child]
    child_inv = [e for e in inv if e["pid"] == child]
    need(len(parent_inv) == 1 and len(child_inv) == 1, f"pids {[e['pid'] for e in inv]}, child {child}")
    need({parent_inv[0]["acquiring"]["name"], parent_inv[0]["holding"]["name"]}
         == {"app_lock in forkdl", "g_lock in libdiagfoo.so"}, f"parent: {parent_inv[0]}")
    need({child_inv[0]["acquiring"]["name"], child_inv[0]["holding"]["name"]}
         == {"app_lock in forkdl", "child_lock in forkdl"}, f"child: {child_inv[0]}")
    final = [e for e in of(evs, "contention") if e["final"] and e["pid"] != child]
    need(final, "no exit table in the parent")
    names = [x["lock"]["name"] for x in final[0]["locks"]]
    need("g_lock in libdiagfoo.so" in names, f"after dlclose the exit table says {names}")


def t_heap_names():
    """Heap locks named by where they were made (init, or first lock for std::mutex)."""
    b = build("heap")
    r, evs = run(b, "order,contention")
    exited_ok(r)
    inv = of(evs, "lock_order_inversion")
    need(len(inv) == 1, f"reports: {inv}")
    for side in ("acquiring", "holding"):
        lk = inv[0][side]
        need(not lk["static"] and lk["name"].startswith("heap mutex first locked at"), f"{side}: {lk}")
        need(any("transfer" in f for f in lk["made_at"]), f"{side} made at {lk['made_at']}")
    cont = of(evs, "contention")
    need(cont and cont[-1]["locks"], f"no contention table: {cont}")
    q = [x for x in cont[-1]["locks"] if "initialized at" in x["lock"]["name"]]
    need(q and any("make_queue" in f for f in q[0]["lock"]["made_at"][:1]), f"queue lock: {cont[-1]['locks']}")


# ---- contention ---------------------------------------------------------------------------------

def check_hot(r, evs, name):
    """The `hot` program's run: exited, waited measurably, one final table whose first lock is
    `name`, its reported wait within 10% of the program's own measurement. Returns the row."""
    exited_ok(r)
    measured = int(r["out"].split("measured_wait_ns")[1].split()[0])
    need(measured > 20_000_000, f"the program waited only {measured} ns: no contention to measure")
    cont = [e for e in of(evs, "contention") if e["final"]]
    need(len(cont) == 1, f"{len(cont)} final contention tables")
    top = cont[0]["locks"][0]
    need(top["lock"]["name"] == f"{name} in hot", f"first: {top['lock']}")
    err = abs(top["wait_ns"] - measured) / measured
    need(err <= 0.10, f"reported wait {top['wait_ns']} ns vs measured {measured} ns: {err:.1%} apart")
    print(f"      ({name}: reported {top['wait_ns'] / 1e6:.1f} ms, measured {measured / 1e6:.1f} ms, "
          f"{err:.1%} apart)")
    return top


def t_contention_hot():
    """The hot lock ranks first and its total wait agrees within 10% with the program's own
    measurement (clock_gettime around each pthread_mutex_lock)."""
    b = build("hot")
    with tempfile.TemporaryDirectory() as d:
        folded = os.path.join(d, "folded")
        r, evs = run(b, "contention", env={"RPTHREAD_DIAG_FOLDED": folded})
        top = check_hot(r, evs, "hot_lock")
        need(top["sites"] and stack_has(top["sites"][0]["stack"], "worker"), f"sites {top['sites']}")
        with open(folded) as f:
            lines = f.read().splitlines()
        need(any(l.startswith("worker+") and "hot_lock in hot" in l for l in lines),
             f"folded stacks: {lines[:5]}")


def t_contention_spin():
    """A hot spinlock: ranked first, its total wait within 10% of the program's own
    measurement (clock_gettime around each pthread_spin_lock)."""
    b = build("hot")
    r, evs = run(b, "contention", ["spin"])
    check_hot(r, evs, "hot_spin")


def t_contention_pending():
    """Short contended waits go to the waiting thread's tally (booked off the lock's critical
    section), none lost: a worker waits 6 times for a spinlock and, between, twice for a
    mutex (its tally changes lock four times); its last tally is still unbooked when it
    ends, or when the process exits with it alive; each run counts every wait."""
    b = build("pending")
    for how in ("exit", "alive"):
        r, evs = run(b, "contention", [how])
        exited_ok(r)
        cont = [e for e in of(evs, "contention") if e["final"]]
        need(len(cont) == 1, f"{how}: {len(cont)} final contention tables")
        for name, n in (("pend_spin in pending", 6), ("pend_mutex in pending", 2)):
            rows = [l for l in cont[0]["locks"] if l["lock"]["name"] == name]
            need(len(rows) == 1, f"{how}: no row for {name}: {[l['lock'] for l in cont[0]['locks']]}")
            need(rows[0]["contended"] == n, f"{how}: {name}: {rows[0]['contended']} contended acquisitions counted, not {n}")
            need(rows[0]["wait_ns"] >= n * 50_000, f"{how}: {name}: total wait {rows[0]['wait_ns']} ns")


def t_contention_glibc_thread():
    """With one thread made by glibc's own pthread_create, contention counting starts at the
    first wait for a lock (rpthread made no thread to start it): the lock shared with main is
    reported waited for; one used only while main was alone is not counted."""
    b = build("glibc_thread", extra=["-ldl"])
    r, evs = run(b, "contention", glibc=("pthread_create", "pthread_join"))
    exited_ok(r)
    need("done" in r["out"], r["out"] + r["err"][-1500:])
    cont = [e for e in of(evs, "contention") if e["final"]]
    need(len(cont) == 1, f"{len(cont)} final contention tables")
    by = {x["lock"]["name"]: x for x in cont[0]["locks"]}
    sh = by.get("shared_lock in glibc_thread")
    need(sh and sh["contended"] > 0 and sh["wait_ns"] > 0, f"shared_lock: {sh} in {list(by)}")
    need("solo_lock in glibc_thread" not in by, f"solo_lock counted: {by.get('solo_lock in glibc_thread')}")


# ---- hold -----------------------------------------------------------------------------------------

def t_hold():
    """A 500 ms hold is reported, 5 ms ones and a condvar wait are not."""
    b = build("hold")
    r, evs = run(b, "hold", env={"RPTHREAD_DIAG_HOLD_MS": "100"})
    exited_ok(r)
    holds = of(evs, "hold")
    need(len(holds) == 1, f"{len(holds)} hold reports, expected 1: {holds}")
    h = holds[0]
    need(h["lock"]["name"] == "slow_lock in hold", f"lock {h['lock']}")
    need(450_000_000 <= h["held_ns"] <= 2_000_000_000, f"held_ns {h['held_ns']}")
    need(stack_has(h["stack"], "main") or stack_has(h["stack"], "hold_for"), f"stack {h['stack']}")


def t_hold_waited():
    """A lock held (for 600 ms) while another thread waits for it: reported while it lasts,
    with the holder's stack where it is stuck, and again at its release."""
    b = build("hold")
    r, evs = run(b, "hold", ["waited"], env={"RPTHREAD_DIAG_HOLD_MS": "200"})
    exited_ok(r)
    holds = of(evs, "hold")
    now = [h for h in holds if "still held" in h["message"]]
    need(len(now) == 1, f"{len(now)} in-progress reports: {holds}")
    h = now[0]
    need(h["lock"]["name"] == "stuck_lock in hold", f"lock {h['lock']}")
    need(stack_has(h["holder"]["stack"], "read_slowly"), f"holder's stack {h['holder']}")
    need(stack_has(h["stack"], "main"), f"waiter's stack {h['stack']}")
    need(len(holds) == 2, f"{len(holds)} hold reports, expected the in-progress one and the release")


# ---- misuse ---------------------------------------------------------------------------------------

MISUSE = {
    "unlock_other": ("unlock_not_owner", "m1 in misuse"),
    "unlock_free": ("unlock_unlocked", "m2 in misuse"),
    "destroy_held": ("destroy_locked", "m2 in misuse"),
    "destroy_cond": ("destroy_waited_on", "cv in misuse"),
    "relock": ("relock", "m2 in misuse"),
    "two_mutexes": ("cond_two_mutexes", "cv in misuse"),
    "exit_holding": ("exit_holding", None),
    "never_joined": ("never_joined", None),
    "after_destroy": ("use_after_destroy", "m2 in misuse"),
    "uninitialized": ("uninitialized", None),
    "cond_unheld": ("cond_wait_unheld", "m2 in misuse"),
}


def t_misuse():
    """Each misuse reported once, with the lock; correct use reports nothing."""
    b = build("misuse")
    for case, (what, lock) in MISUSE.items():
        r, evs = run(b, "misuse", [case])
        exited_ok(r)
        mis = [e for e in of(evs, "misuse") if e["what"] == what]
        need(len(mis) == 1, f"{case}: {len(mis)} '{what}' reports: {evs}")
        if lock:
            need(mis[0]["lock"]["name"] == lock, f"{case}: lock {mis[0]['lock']}")
    r, evs = run(b, "misuse", ["clean"])
    exited_ok(r)
    need(not of(evs, "misuse"), f"clean use reported: {evs}")


# ---- dump -----------------------------------------------------------------------------------------

def check_dump(evs, r):
    exited_ok(r)
    need("done" in r["out"], "the program did not finish: " + r["out"])
    dumps = of(evs, "thread_dump")
    need(len(dumps) == 1, f"{len(dumps)} dumps")
    ths = {t["thread"]: t for t in dumps[0]["threads"]}
    need(set(ths) >= {"stdio-holder", "allocator", "mutex-holder", "mutex-waiter", "sleeper"}, f"threads {list(ths)}")
    need(len(dumps[0]["threads"]) == 6, f"{len(dumps[0]['threads'])} threads, expected 6")
    need(ths["sleeper"].get("syscall") in ("clock_nanosleep", "nanosleep"), f"sleeper: {ths['sleeper']}")
    w, h = ths["mutex-waiter"], ths["mutex-holder"]
    need(w.get("waiting", {}).get("lock", {}).get("name") == "contended in dump", f"waiter: {w}")
    need(w["waiting"].get("held_by") == h["tid"], f"waiter's holder {w['waiting']} vs {h['tid']}")
    need(any(x["name"] == "contended in dump" for x in h["holds"]), f"holder holds {h['holds']}")
    for name, fn in (("stdio-holder", "hold_stdio"), ("allocator", "hold_malloc"),
                     ("mutex-waiter", "want_mutex"), ("mutex-holder", "hold_mutex")):
        need(stack_has(ths[name]["stack"], fn), f"{name}'s stack {ths[name]['stack']}")


def t_dump_signal():
    """SIGQUIT while one thread holds stdout's and stderr's locks, another sits in malloc with
    the allocator locked (its malloc aborts if called meanwhile), another in nanosleep (which
    must not be cut short)."""
    b = build("dump")
    r, evs = run(b, "dump")
    check_dump(evs, r)


def t_dump_api():
    """rpthread_diag_dump(), same situation."""
    b = build("dump")
    r, evs = run(b, "dump", ["api"])
    check_dump(evs, r)


def t_dump_api_order():
    """rpthread_diag_dump() with `order` alone, whose fast paths keep no lock holders: the
    waiter's mutex still names its holder (the mutex's own owner field)."""
    b = build("dump")
    r, evs = run(b, "order", ["api"])
    check_dump(evs, r)


# ---- deadlock ---------------------------------------------------------------------------------------

def watch_deadlock(args, expect_len):
    """Runs c-tests/diag/deadlock with `args`; returns (seconds from "ready" to the report,
    the report). Then checks SIGTERM still ends the process."""
    b = build("deadlock")
    with tempfile.TemporaryDirectory() as d, tempfile.TemporaryDirectory() as ld:
        env = H.environment("preload", ld, {"RPTHREAD_DIAG": "deadlock", "RPTHREAD_DIAG_FORMAT": "json",
                                            "RPTHREAD_DIAG_OUT": os.path.join(d, "diag.%p")})
        p = subprocess.Popen([b, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
        try:
            line = p.stdout.readline()
            need(line.strip() == "ready", f"program said {line!r}")
            t0 = time.monotonic()
            found = None
            while time.monotonic() - t0 < 5 and not found:
                time.sleep(0.05)
                found = of(events_in(d), "deadlock")
            elapsed = time.monotonic() - t0
            need(found, "no deadlock report within 5 s")
            need(p.poll() is None, "the process ended by itself")
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                raise Fail("SIGTERM did not end the deadlocked process")
            need(p.returncode == -signal.SIGTERM, f"ended with {p.returncode}")
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        bound, _ = H.bindings(ld)
        need(H.ours_bound({"bound": bound}), "not running on rpthread")
    need(len(found) == 1, f"{len(found)} deadlock reports")
    e = found[0]
    need(len(e["cycle"]) == expect_len, f"cycle of {len(e['cycle'])}, expected {expect_len}: {e['cycle']}")
    return elapsed, e


def t_deadlock_two():
    """A real ABBA deadlock: reported within about a second, with every thread's stack and
    held locks, and the process still dies of SIGTERM."""
    elapsed, e = watch_deadlock(["2"], 2)
    need(elapsed < 1.5, f"reported after {elapsed:.2f} s")
    tids = {c["tid"] for c in e["cycle"]}
    need({c["held_by"] for c in e["cycle"]} == tids, f"cycle {e['cycle']}")
    ths = {t["tid"]: t for t in e["threads"]}
    for tid in tids:
        need(stack_has(ths[tid]["stack"], "worker"), f"stack of {tid}: {ths[tid]['stack']}")
        need(len(ths[tid]["holds"]) == 1, f"holds of {tid}: {ths[tid]['holds']}")
    print(f"      (reported {elapsed:.2f} s after the threads blocked)")


def t_deadlock_three():
    """Three threads in a cycle."""
    elapsed, _ = watch_deadlock(["3"], 3)
    need(elapsed < 1.5, f"reported after {elapsed:.2f} s")


def t_deadlock_join():
    """main holds a mutex and joins a thread that waits for it."""
    _, e = watch_deadlock(["join"], 2)
    need(sorted(c["waits"] for c in e["cycle"]) == ["joins", "waits for"], f"cycle {e['cycle']}")


def t_deadlock_rwlock_spin():
    """Write-locked rwlocks, and spinlocks, in a cycle."""
    for how, kind, verb in (("rwlock", "rwlock", "waits to write"), ("spin", "spinlock", "spins on")):
        _, e = watch_deadlock([how], 2)
        need(all(c["waits"] == verb and c["lock"]["kind"] == kind for c in e["cycle"]), f"{how}: {e['cycle']}")


def t_off_by_default():
    """Without RPTHREAD_DIAG nothing is reported (the misuse program misuses)."""
    b = build("misuse")
    r = H.run(b, "preload", ["unlock_free"], timeout=30)
    exited_ok(r)
    need(H.ours_bound(r), "not running on rpthread")
    need("rpthread-diag" not in r["err"], "reports without RPTHREAD_DIAG: " + r["err"])


TESTS = [(n[2:], f) for n, f in list(globals().items()) if n.startswith("t_") and callable(f)]

DEMOS = [
    ("contention", "hot", [], {}),
    ("order", "abba", [], {}),
    ("order", "static_lock", [], {}),
    ("hold", "hold", [], {"RPTHREAD_DIAG_HOLD_MS": "100"}),
    ("misuse", "misuse", ["unlock_other"], {}),
    ("misuse", "misuse", ["two_mutexes"], {}),
    ("dump", "dump", [], {}),
]


def demo():
    """Runs each mode on its program and shows the text report (make diag-demo)."""
    lib = build_lib()
    for modes, prog, args, env in DEMOS:
        b = build(prog, extra=lib if prog == "static_lock" else ())
        print(f"\n$ RPTHREAD_DIAG={modes} " + "".join(f"{k}={v} " for k, v in env.items())
              + f"LD_PRELOAD=librpthread.so {os.path.relpath(b, H.ROOT)} {' '.join(args)}", flush=True)
        e = dict(env, RPTHREAD_DIAG=modes)
        p = subprocess.run([b, *args], env=dict(os.environ, LD_PRELOAD=H.LIB, **e), capture_output=True,
                           text=True, timeout=60)
        sys.stdout.write(p.stdout + p.stderr)
    b = build("deadlock")
    print("\n$ RPTHREAD_DIAG=deadlock LD_PRELOAD=librpthread.so build/diag/preload/deadlock 2   "
          "# killed after the report", flush=True)
    p = subprocess.Popen([b, "2"], env=dict(os.environ, LD_PRELOAD=H.LIB, RPTHREAD_DIAG="deadlock"),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    p.kill()
    out, err = p.communicate()
    sys.stdout.write(out + err)


def main():
    args = sys.argv[1:]
    if "--demo" in args:
        demo()
        return 0
    failed = 0
    for name, f in TESTS:
        if args and not any(a in name for a in args):
            continue
        try:
            f()
            print(f"PASS  {name}: {f.__doc__.splitlines()[0]}", flush=True)
        except Fail as e:
            failed += 1
            print(f"FAIL  {name}: {e}", flush=True)
    n = sum(1 for name, _ in TESTS if not args or any(a in name for a in args))
    print(f"diag: {n - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
