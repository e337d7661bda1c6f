#!/usr/bin/env python3
"""Runs rpthread's benchmarks under glibc and under LD_PRELOAD=librpthread.so, alternated.

Each benchmark is an ordinary glibc program, bench/<area>_<name>.c (or .cc), built with
`gcc -O2 -pthread` (g++ for .cc) into build/bench/. It prints one line per metric:

    RESULT <metric> <value> <unit> <better>        (better: higher | lower)

For R rounds, every program runs once under glibc, then once under our library (glibc, ours,
glibc, ours, ...). Every run is made with ld.so's binding log on (LD_DEBUG=bindings, written
to a file, so both sides pay the same small start-up cost): a preload run counts only if a
pthread-family symbol bound to librpthread.so, and a glibc run only if none did. A metric gets
a ratio only when every one of its preload runs was proven to run on rpthread.

Reported per metric: median under glibc, median under rpthread, ours/glibc, and "speedup",
normalised so that > 1 always means rpthread is better (glibc/ours for lower-is-better
metrics, ours/glibc for higher-is-better), with each side's min-max spread. The verdict says
"faster"/"slower" only when the two spreads do not overlap, "~same" otherwise ("n<3"
with fewer than 3 runs a side; "FAILED" if a run crashed or failed: medians then cover the
runs that completed).

Outputs: a table on stdout, build/bench/results.json, build/bench/results.md.

Every run's peak RSS (the kernel's ru_maxrss of the process) is reported as one more metric
of its benchmark, `peak_rss`. bench/floor_raw.c measures the hardware floors (a raw CAS+xchg
pair, a raw futex ping-pong, a raw clone); a second table gives each primitive's distance from
its floor, for glibc and for rpthread. The summary gives the geometric means of the speedups,
timings and footprint apart.

Directives in a comment line of a source (optional):
    // rpthread-bench: flags=-lm        extra compiler/linker flags
    // rpthread-bench: args=100         command-line arguments
    // rpthread-bench: timeout=60       seconds per run (default 60)
    // rpthread-bench: rlimit_as=200000 address-space limit in KiB (as `ulimit -v`)

Variants (the cost of rpthread's lock diagnostics, issue 12): `--base-lib SO` adds a side
"base" (another build of the library, e.g. the commit before the diagnostics: "today"), and
each `--diag MODES` a side "diag:MODES" (our library with RPTHREAD_DIAG=MODES, reports to
/dev/null). They run in the same alternation (glibc, ours, base, diag:..., ...), are verified
the same way, and get a second table: each variant's median against ours with diagnostics
off, as a cost ratio (> 1: the variant is slower). `make bench-diag` runs the lock
benchmarks that way.

Usage: bench/run.py [--rounds N] [--quick] [--filter SUBSTR]... [--pin CPU_LIST] [--lib SO]
                    [--base-lib SO] [--diag MODES]...
"""
import argparse
import datetime
import glob
import json
import math
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts"))
import harness as H  # noqa: E402

BENCH_DIR = os.path.join(H.ROOT, "bench")
OUT_DIR = os.path.join(H.BUILD, "bench")
RESULT_RE = re.compile(r"^RESULT\s+(\S+)\s+(\S+)\s+(\S+)\s+(higher|lower)\s*$")
SIDES = ("glibc", "ours")
# Static launcher reporting a benchmark's own peak RSS (bench/tools/peak_rss_exec.c).
PEAK_RSS_EXEC = os.path.join(OUT_DIR, "peak_rss_exec")


def directives(src):
    return H.directives(src, "rpthread-bench")


def parse_cpus(spec):
    """'0', '0-3', '0,2' -> set of ints (taskset -c syntax)."""
    cpus = set()
    for part in spec.split(","):
        part = part.strip()
        if "-" in part:
            lo, hi = part.split("-", 1)
            cpus.update(range(int(lo), int(hi) + 1))
        elif part:
            cpus.add(int(part))
    if not cpus:
        raise ValueError("empty CPU list")
    return cpus


def build(src, d):
    name = os.path.splitext(os.path.basename(src))[0]
    out = os.path.join(OUT_DIR, name)
    deps = [src, os.path.join(BENCH_DIR, "bench.h"), __file__]
    if os.path.exists(out) and all(os.path.getmtime(out) >= os.path.getmtime(p) for p in deps if os.path.exists(p)):
        return out, None
    cmd = [H.compiler(src), "-O2", "-g", "-Wall", "-pthread", "-I", BENCH_DIR, src, "-o", out]
    cmd += d.get("flags", "").split()
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        return None, p.stdout + p.stderr
    return out, None


def machine_info(pin):
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        glibc = os.confstr("CS_GNU_LIBC_VERSION")
    except (ValueError, OSError):
        glibc = "unknown"
    try:
        rev = subprocess.run(["git", "-C", H.ROOT, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", H.ROOT, "status", "--porcelain", "--", "src"],
                               capture_output=True, text=True).stdout.strip()
        if dirty:
            rev += "+dirty"
    except OSError:
        rev = "unknown"
    return {
        "cpu_model": model,
        "cpus_online": os.cpu_count(),
        "kernel": platform.release(),
        "glibc": glibc,
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "loadavg_at_start": os.getloadavg()[0],
        "pinned_to": pin or None,
        "rpthread_commit": rev,
    }


BIND_RE = re.compile(r"binding file (\S+) \[\d+\] to (\S+) \[\d+\]: normal symbol `([^'`]+)'")


# Extra sides: name -> (library, extra environment). Filled by main from --base-lib/--diag.
VARIANTS = {}


def run_program(binary, side, args, timeout, env_extra, lib, rlimit_as=None):
    """Runs `binary` (side: glibc or ours) with ld.so's binding log on.

    Returns dict(rc, signal, out, err, timed_out, bindings, maxrss_kib) where bindings is the
    set of (from object, to object, symbol) for pthread-family symbols (object base names) and
    maxrss_kib the process's peak RSS. `rlimit_as`: address-space limit (KiB) of the process.
    """
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    if side == "ours":
        env["LD_PRELOAD"] = lib
    env.update(env_extra)
    if side in VARIANTS:
        vlib, venv = VARIANTS[side]
        env["LD_PRELOAD"] = vlib
        env.update(venv)
        lib = vlib

    def limit():
        if rlimit_as:
            resource.setrlimit(resource.RLIMIT_AS, (rlimit_as * 1024, rlimit_as * 1024))

    with tempfile.TemporaryDirectory() as tmp:
        env["LD_DEBUG"] = "bindings"
        env["LD_DEBUG_OUTPUT"] = os.path.join(tmp, "ld")
        out_path, err_path = os.path.join(tmp, "stdout"), os.path.join(tmp, "stderr")
        rss_path = os.path.join(tmp, "maxrss")
        with open(out_path, "w") as fo, open(err_path, "w") as fe:
            p = subprocess.Popen([PEAK_RSS_EXEC, rss_path, binary, *args], stdout=fo, stderr=fe,
                                 env=env, stdin=subprocess.DEVNULL, preexec_fn=limit,
                                 start_new_session=True)
            fired = threading.Event()

            def kill():
                fired.set()
                os.killpg(p.pid, 9)

            timer = threading.Timer(timeout, kill)
            timer.start()
            p.wait()
            timer.cancel()
        with open(out_path, errors="replace") as f:
            out = f.read()
        with open(err_path, errors="replace") as f:
            err = f.read()
        maxrss = None
        if os.path.exists(rss_path):
            with open(rss_path) as f:
                m = re.match(r"maxrss (\d+)", f.read())
                maxrss = int(m.group(1)) if m else None
        rc, timed_out = p.returncode, fired.is_set()
        if timed_out:
            rc = None
        bindings = set()
        for name in os.listdir(tmp):
            if not name.startswith("ld"):
                continue
            with open(os.path.join(tmp, name), errors="replace") as f:
                for line in f:
                    m = BIND_RE.search(line)
                    if m and m.group(3).startswith(H.OUR_PREFIXES):
                        bindings.add((os.path.basename(m.group(1)), os.path.basename(m.group(2)),
                                      m.group(3)))
    sig = -rc if rc is not None and rc < 0 else 0
    return dict(rc=rc, signal=sig, out=out, err=err, timed_out=timed_out, bindings=bindings,
                maxrss_kib=maxrss)


def run_once(binary, side, args, timeout, env_extra, lib, rlimit_as=None):
    r = run_program(binary, side, args, timeout, env_extra, lib, rlimit_as)
    metrics = {}
    notes = []
    for line in r["out"].splitlines():
        m = RESULT_RE.match(line.strip())
        if m:
            try:
                metrics[m.group(1)] = (float(m.group(2)), m.group(3), m.group(4))
            except ValueError:
                pass
        elif line.startswith("NOTE"):
            notes.append(line[4:].strip())
    if r["maxrss_kib"] is not None:
        metrics["peak_rss"] = (float(r["maxrss_kib"]), "KiB", "lower")
    if r["timed_out"]:
        failure = "timed out"
    elif r["signal"]:
        failure = "killed by " + H.signame(r["signal"])
    elif r["rc"] != 0:
        failure = f"exit {r['rc']}"
    else:
        failure = None
    if failure and r["err"].strip():
        failure += ": " + r["err"].strip().splitlines()[-1][:200]
    if side in VARIANTS:
        lib = VARIANTS[side][0]
    lib = os.path.basename(lib)
    # Lookups made by librpthread itself (it finds glibc's own functions) do not count.
    foreign = [(frm, to, sym) for frm, to, sym in r["bindings"] if frm != lib]
    ours = any(to == lib for _, to, _ in foreign)
    if side != "glibc":
        verified = ours
        leaked = sorted({f"{sym} (from {frm})" for frm, to, sym in foreign if to.startswith("libc.so")})
    else:
        verified = not ours
        leaked = []
    return dict(metrics=metrics, failure=failure, verified=verified, leaked=leaked, notes=notes)


def fmt(v):
    if v is None:
        return "-"
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.1f}"
    if a >= 10:
        return f"{v:.2f}"
    return f"{v:.3f}"


def summarize(bench, runs):
    """Rows for one benchmark: per metric medians, ratios and verdicts."""
    rows = []
    names = []
    for side in SIDES:
        for res in runs[side]:
            for m in res["metrics"]:
                if m not in names:
                    names.append(m)
    ours_ok = all(r["verified"] for r in runs["ours"]) and runs["ours"]
    for m in names:
        vals = {s: [r["metrics"][m][0] for r in runs[s] if not r["failure"] and m in r["metrics"]]
                for s in SIDES}
        unit, better = next(r["metrics"][m][1:] for s in SIDES for r in runs[s] if m in r["metrics"])
        row = dict(bench=bench, metric=m, unit=unit, better=better,
                   glibc=vals["glibc"], ours=vals["ours"])
        med = {s: statistics.median(vals[s]) if vals[s] else None for s in SIDES}
        row["glibc_median"], row["ours_median"] = med["glibc"], med["ours"]
        row["ratio"] = row["speedup"] = None
        problems = []
        if not ours_ok:
            problems.append("rpthread not proven bound")
        for s in SIDES:
            failed = [r["failure"] for r in runs[s] if r["failure"]]
            if failed:
                problems.append(f"{s} failed {len(failed)}/{len(runs[s])}: {failed[0]}")
        if ours_ok and med["glibc"] and med["ours"]:
            row["ratio"] = med["ours"] / med["glibc"]
            row["speedup"] = (med["glibc"] / med["ours"]) if better == "lower" else row["ratio"]
            gmin, gmax = min(vals["glibc"]), max(vals["glibc"])
            omin, omax = min(vals["ours"]), max(vals["ours"])
            if min(len(vals["glibc"]), len(vals["ours"])) < 3:
                row["verdict"] = "n<3"
            elif omax < gmin or omin > gmax:
                ours_lower = omax < gmin
                row["verdict"] = "faster" if ours_lower == (better == "lower") else "slower"
            else:
                row["verdict"] = "~same"
        else:
            row["verdict"] = "n/a"
        if any(r["failure"] for s in SIDES for r in runs[s]):
            row["verdict"] = "FAILED"
        row["problems"] = problems
        rows.append(row)
    if not names:
        problems = []
        for s in SIDES:
            failed = [r["failure"] for r in runs[s] if r["failure"]]
            if failed:
                problems.append(f"{s} failed {len(failed)}/{len(runs[s])}: {failed[0]}")
        rows.append(dict(bench=bench, metric="(no results)", unit="", better="", glibc=[], ours=[],
                         glibc_median=None, ours_median=None, ratio=None, speedup=None,
                         verdict="n/a", problems=problems or ["no RESULT lines"]))
    return rows


def spread(vals):
    return f"{fmt(min(vals))}-{fmt(max(vals))}" if vals else "-"


def table(rows):
    head = ["benchmark", "metric", "unit", "glibc", "rpthread", "ours/glibc", "speedup",
            "verdict", "glibc min-max", "rpthread min-max", "n"]
    body = []
    for r in rows:
        body.append([r["bench"], r["metric"], r["unit"] + (" (↓)" if r["better"] == "lower" else " (↑)" if r["better"] else ""),
                     fmt(r["glibc_median"]), fmt(r["ours_median"]),
                     f"{r['ratio']:.3f}" if r["ratio"] else "-",
                     f"{r['speedup']:.2f}x" if r["speedup"] else "-",
                     r["verdict"], spread(r["glibc"]), spread(r["ours"]),
                     f"{len(r['glibc'])}/{len(r['ours'])}"])
    return head, body


# Each primitive and the hardware floor it is measured against (bench/floor_raw.c). Not the
# spinlock (one locked exchange and a plain store) nor the mutex before any thread exists
# (glibc and rpthread drop the lock prefix there): their floor is lower than the pair's.
FLOORS = {
    ("sync_mutex", "mutex_uncontended_normal"): "floor_xchg_cas_pair",
    ("sync_rwlock", "rdlock_unlock_uncontended"): "floor_xchg_cas_pair",
    ("sync_rwlock", "wrlock_unlock_uncontended"): "floor_xchg_cas_pair",
    ("sync_sem", "post_wait_uncontended"): "floor_xchg_cas_pair",
    ("sync_cond", "cond_pingpong"): "floor_futex_pingpong",
    ("sync_sem", "ping_pong_round_trip"): "floor_futex_pingpong",
    ("thread_create_join", "create_join_best_batch"): "floor_clone_exit_wait",
    ("thread_create_join", "create_join_64k_stack_best_batch"): "floor_clone_exit_wait",
}
FLOOR_BENCH = "floor_raw"


def floor_table(rows):
    """Rows of (metric, floor, glibc / floor, rpthread / floor) for the primitives in FLOORS."""
    floors = {}
    for r in rows:
        if r["bench"] == FLOOR_BENCH and (r["glibc"] or r["ours"]):
            floors[r["metric"]] = statistics.median(r["glibc"] + r["ours"])
    head = ["benchmark", "metric", "floor", "floor value", "glibc", "glibc/floor",
            "rpthread", "rpthread/floor"]
    body = []
    for r in rows:
        f = FLOORS.get((r["bench"], r["metric"]))
        if not f or f not in floors or not r["glibc_median"] or not r["ours_median"]:
            continue
        body.append([r["bench"], r["metric"], f, fmt(floors[f]), fmt(r["glibc_median"]),
                     f"{r['glibc_median'] / floors[f]:.2f}x", fmt(r["ours_median"]),
                     f"{r['ours_median'] / floors[f]:.2f}x"])
    return head, body


def is_footprint(r):
    return r["metric"] == "peak_rss" or r["bench"].startswith("footprint_")


def variant_rows(runs, names):
    """Each variant side's median against ours (diagnostics off), per metric: cost ratios."""
    out = []
    for bench in runs:
        metrics = []
        for r in runs[bench]["ours"]:
            for m, (_, unit, _) in r["metrics"].items():
                # Costs only: not peak RSS, not fairness (a spread, not a speed).
                if m not in metrics and m != "peak_rss" and not unit.startswith("%"):
                    metrics.append(m)
        for m in metrics:
            better = next(r["metrics"][m][2] for r in runs[bench]["ours"] if m in r["metrics"])
            unit = next(r["metrics"][m][1] for r in runs[bench]["ours"] if m in r["metrics"])

            def med(side):
                v = [r["metrics"][m][0] for r in runs[bench][side] if not r["failure"] and m in r["metrics"]]
                return (statistics.median(v), min(v), max(v), len(v)) if v else None

            base = med("ours")
            row = dict(bench=bench, metric=m, unit=unit, better=better, ours=base, variants={})
            for v in names:
                mv = med(v)
                ok = all(r["verified"] for r in runs[bench][v])
                if base and mv and ok and base[0] and mv[0]:
                    cost = mv[0] / base[0] if better == "lower" else base[0] / mv[0]
                    row["variants"][v] = dict(median=mv[0], min=mv[1], max=mv[2], n=mv[3], cost=cost)
            out.append(row)
    return out


def print_variants(vrows, names):
    head = ["benchmark", "metric", "unit", "ours (diag off)"] + [f"{v}" for v in names] + [f"{v} cost" for v in names]
    body = []
    for r in vrows:
        b = [r["bench"], r["metric"], r["unit"] + (" (↓)" if r["better"] == "lower" else " (↑)"),
             fmt(r["ours"][0]) if r["ours"] else "-"]
        b += [fmt(r["variants"][v]["median"]) if v in r["variants"] else "-" for v in names]
        b += [f"{r['variants'][v]['cost']:.3f}x" if v in r["variants"] else "-" for v in names]
        body.append(b)
    print("\nVariants against ours with diagnostics off (cost > 1: the variant is slower; medians):")
    print_table(head, body)
    for v in names:
        costs = [r["variants"][v]["cost"] for r in vrows if v in r["variants"]]
        if costs:
            gm = math.exp(sum(math.log(c) for c in costs) / len(costs))
            print(f"geometric mean cost of {v}: {gm:.3f}x over {len(costs)} figures (max {max(costs):.3f}x)")


def geomeans(rows):
    """(timings, footprint): each (geometric mean of the speedups, count, slower count)."""
    out = []
    for want in (False, True):
        sp = [r for r in rows if r["speedup"] and r["bench"] != FLOOR_BENCH
              and is_footprint(r) == want]
        gm = math.exp(sum(math.log(r["speedup"]) for r in sp) / len(sp)) if sp else None
        out.append((gm, len(sp), sum(r["verdict"] == "slower" for r in sp)))
    return out


def summary_lines(rows):
    lines = []
    for label, (gm, n, slower) in zip(("timings", "footprint"), geomeans(rows)):
        if gm:
            lines.append(f"geometric mean speedup, {label}: {gm:.3f} over {n} figures "
                         f"(as ours/glibc: {1 / gm:.3f}); {slower} with a 'slower' verdict")
    return lines


def print_table(head, body):
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body)]
    line = "  ".join(h.ljust(w) for h, w in zip(head, widths))
    print(line)
    print("-" * len(line))
    for b in body:
        print("  ".join(str(x).ljust(w) for x, w in zip(b, widths)))


def markdown(info, args, head, body, rows):
    out = []
    out.append(f"Benchmarks: glibc vs rpthread (LD_PRELOAD), {info['date_utc']}")
    out.append("")
    out.append(f"- Machine: {info['cpu_model']}, {info['cpus_online']} CPUs online"
               + (f", runs pinned to CPU {info['pinned_to']}" if info["pinned_to"] else "")
               + f"; kernel {info['kernel']}; {info['glibc']}; load average at start "
               f"{info['loadavg_at_start']:.2f}")
    out.append(f"- rpthread {info['rpthread_commit']}; {args.rounds} rounds alternated "
               f"(glibc, rpthread, ...), BENCH_SECONDS={args.seconds}; medians, min-max over rounds")
    out.append("- speedup > 1 means rpthread is better (glibc/ours for lower-is-better metrics, "
               "ours/glibc for higher-is-better); verdict is faster/slower only when the min-max "
               "ranges do not overlap (n<3: too few runs for a verdict)")
    out.append("")
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "|".join("---" if i < 3 or i == 7 else "--:" for i in range(len(head))) + "|")
    for b in body:
        out.append("| " + " | ".join(str(x).replace("|", "\\|") for x in b) + " |")
    fhead, fbody = floor_table(rows)
    if fbody:
        out.append("")
        out.append("Distance from the hardware floor (bench/floor_raw.c; floor = median of all its runs):")
        out.append("")
        out.append("| " + " | ".join(fhead) + " |")
        out.append("|" + "|".join("---" if i < 3 else "--:" for i in range(len(fhead))) + "|")
        for b in fbody:
            out.append("| " + " | ".join(str(x) for x in b) + " |")
    out.append("")
    out.extend("- " + line for line in summary_lines(rows))
    probs = [(r["bench"], r["metric"], p) for r in rows for p in r["problems"]]
    if probs:
        out.append("")
        out.append("Problems:")
        for bench, metric, p in probs:
            out.append(f"- {bench} {metric}: {p}")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=None, help="alternated rounds (default 5; --quick: 2)")
    ap.add_argument("--quick", action="store_true", help="2 rounds with shorter timed loops")
    ap.add_argument("--filter", action="append", default=[], help="only benchmarks whose name contains this (repeatable)")
    ap.add_argument("--pin", metavar="CPU_LIST", help="run the benchmarks on these CPUs only (taskset -c syntax)")
    ap.add_argument("--seconds", type=float, default=None,
                    help="BENCH_SECONDS for the programs' timed loops (default 0.5; --quick: 0.2)")
    ap.add_argument("--lib", default=H.LIB,
                    help="the librpthread.so to preload (default target/release/librpthread.so)")
    ap.add_argument("--base-lib", help="another build of the library, run as side 'base'")
    ap.add_argument("--diag", action="append", default=[],
                    help="a side running our library with RPTHREAD_DIAG=MODES (repeatable)")
    args = ap.parse_args()
    args.lib = os.path.abspath(args.lib)
    if args.rounds is None:
        args.rounds = 2 if args.quick else 5
    if args.seconds is None:
        args.seconds = 0.2 if args.quick else 0.5
    if args.rounds < 1:
        ap.error("--rounds must be at least 1")

    if not os.path.exists(args.lib):
        print(f"{args.lib} is missing: run `cargo build --release` (or `make bench`)", file=sys.stderr)
        return 2
    os.makedirs(OUT_DIR, exist_ok=True)
    srcs = sorted(glob.glob(os.path.join(BENCH_DIR, "*.c")) + glob.glob(os.path.join(BENCH_DIR, "*.cc")))
    if args.filter:
        srcs = [s for s in srcs if any(f in os.path.basename(s) for f in args.filter)]
    if not srcs:
        print("no benchmarks match", file=sys.stderr)
        return 2

    helper = os.path.join(BENCH_DIR, "tools", "peak_rss_exec.c")
    p = subprocess.run(["gcc", "-O2", "-static", helper, "-o", PEAK_RSS_EXEC], capture_output=True, text=True)
    if p.returncode != 0:
        print(f"cannot build {helper} statically:\n{p.stdout}{p.stderr}", file=sys.stderr)
        return 2
    benches = []
    build_failed = []
    for src in srcs:
        d = directives(src)
        binary, log = build(src, d)
        name = os.path.splitext(os.path.basename(src))[0]
        if binary is None:
            print(f"BUILD FAILED {name}:\n{log}", file=sys.stderr)
            build_failed.append(name)
            continue
        benches.append((name, binary, d))

    # Pin after building, so the compiler is not confined; children inherit the affinity.
    if args.pin:
        try:
            os.sched_setaffinity(0, parse_cpus(args.pin))
        except (ValueError, OSError) as e:
            ap.error(f"--pin {args.pin}: {e}")

    info = machine_info(args.pin)
    if args.lib != os.path.abspath(H.LIB):
        info["rpthread_commit"] = "library " + args.lib
    env_extra = {"BENCH_SECONDS": str(args.seconds)}
    if args.base_lib:
        VARIANTS["base"] = (os.path.abspath(args.base_lib), {})
    for modes in args.diag:
        VARIANTS["diag:" + modes] = (args.lib, {"RPTHREAD_DIAG": modes, "RPTHREAD_DIAG_OUT": "/dev/null"})
    sides = SIDES + tuple(VARIANTS)
    runs = {name: {s: [] for s in sides} for name, _, _ in benches}
    print(f"{len(benches)} benchmarks, {args.rounds} rounds, BENCH_SECONDS={args.seconds}"
          + (f", pinned to CPU {args.pin}" if args.pin else "")
          + f"; load average {info['loadavg_at_start']:.2f}", flush=True)
    for rnd in range(args.rounds):
        for name, binary, d in benches:
            for side in sides:
                rlimit_as = int(d["rlimit_as"]) if "rlimit_as" in d else None
                r = run_once(binary, side, d.get("args", "").split(), int(d.get("timeout", "60")),
                             env_extra, args.lib, rlimit_as)
                runs[name][side].append(r)
                status = "ok" if not r["failure"] else r["failure"]
                if not r["verified"]:
                    status += "; NOT VERIFIED (" + ("rpthread not bound" if side != "glibc" else "rpthread bound in a glibc run") + ")"
                print(f"  round {rnd + 1}/{args.rounds} {name:<28} {side:<5} {status}", flush=True)

    rows = []
    for name, _, _ in benches:
        rows.extend(summarize(name, runs[name]))
    vrows = variant_rows(runs, list(VARIANTS)) if VARIANTS else []
    leaked = sorted({sym for name in runs for r in runs[name]["ours"] for sym in r["leaked"]})
    notes = sorted({f"{name} [{side}]: {n}" for name in runs for side in SIDES
                    for r in runs[name][side] for n in r["notes"]})

    head, body = table(rows)
    print()
    print_table(head, body)
    fhead, fbody = floor_table(rows)
    if fbody:
        print("\nDistance from the hardware floor (bench/floor_raw.c; floor = median of all its runs):")
        print_table(fhead, fbody)
    print()
    for line in summary_lines(rows):
        print(line)
    if vrows:
        print_variants(vrows, list(VARIANTS))
    for r in rows:
        for p in r["problems"]:
            print(f"PROBLEM {r['bench']} {r['metric']}: {p}")
    if leaked:
        print("note: under LD_PRELOAD these pthread-family symbols still bound to glibc "
              "(their cost is glibc's): " + ", ".join(leaked))
    for n in notes:
        print("note: " + n)
    for b in build_failed:
        print(f"PROBLEM {b}: build failed")

    result = dict(machine=info, rounds=args.rounds, bench_seconds=args.seconds,
                  library=args.lib, rows=rows, leaked_to_glibc=leaked, notes=notes,
                  build_failed=build_failed, variants=vrows,
                  variant_sides={k: dict(lib=v[0], env=v[1]) for k, v in VARIANTS.items()})
    with open(os.path.join(OUT_DIR, "results.json"), "w") as f:
        json.dump(result, f, indent=1)
    md = markdown(info, args, head, body, rows)
    if leaked:
        md += "\nUnder LD_PRELOAD these symbols still bound to glibc: " + ", ".join(leaked) + "\n"
    with open(os.path.join(OUT_DIR, "results.md"), "w") as f:
        f.write(md)
    print(f"\nwrote {os.path.relpath(os.path.join(OUT_DIR, 'results.json'), H.ROOT)} and "
          f"{os.path.relpath(os.path.join(OUT_DIR, 'results.md'), H.ROOT)}")
    bad = build_failed or any(r["problems"] for r in rows)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
