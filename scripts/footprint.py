#!/usr/bin/env python3
"""Footprint checks: rpthread must cost no memory that glibc's threads do not.

One program, c-tests/footprint/footprint.c, built as an ordinary glibc program, runs each of
its modes under plain glibc and under LD_PRELOAD=librpthread.so (ld.so's binding log must show
that rpthread served the pthread calls, and that glibc did in the plain run). Address space
and resident memory are not timings: they are the same on a loaded machine, so they are
asserted here.

What is compared: the process's VmSize, and its private (anonymous) resident memory, minus
what the images of the objects that only the rpthread run loads account for (librpthread.so
with its .bss, and libgcc_s.so.1 that it needs). What remains must be within 5% of glibc's:
a start-up that leaves a malloc arena (64 MiB) or a cached 8 MiB stack behind, a stack cache
that keeps more than glibc's 40 MiB, or malloc arenas that are not reused after their thread
ends all fail it. The images, and the file-backed resident pages (shared with every process
that maps the same files: the libraries' code), are printed, not asserted.

Checks:
  trivial         VmSize and private RSS of a program that does nothing
  capacity        threads under `ulimit -v` (100000, 200000, 400000 KiB): at least glibc's
  bigstack        a 1 TiB stack request fails as glibc's does (EAGAIN under the usual
                  overcommit policies) instead of succeeding and dying later
  churn           VmSize after 20,000 detached threads
  serial-malloc   VmSize after 500 create+join cycles of threads that malloc: one arena
                  serves them all, as glibc's free list does
  mixed           VmSize after 2,000 threads with stacks of 64 KiB to 8 MiB: the stack cache
                  stays bounded and gives memory back
Usage: footprint.py [mode...]
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

SRC = os.path.join(H.ROOT, "c-tests", "footprint", "footprint.c")
BIN = os.path.join(H.BUILD, "footprint", "footprint")
ONLY_OURS = ("librpthread.so", "libgcc_s.so.1")
TOLERANCE = 0.05
# Resident memory comes in pages, and where the (randomized) stack top falls in its page moves
# a trivial program's private RSS by a page either way: never less slack than two pages.
MIN_SLACK_KIB = 8
LIMITS_KIB = (100000, 200000, 400000)


def run(mode, side, limit_kib=None):
    """Runs one mode on one side; returns the parsed figures (raises on failure)."""
    env_mode = "preload" if side == "rpthread" else "glibc"
    if limit_kib:
        # harness.run has no pre-exec hook: apply the limit through a shell's ulimit.
        r = H.run("/bin/sh", env_mode, ["-c", f'ulimit -v {limit_kib} && exec "$0" "$@"', BIN, mode],
                  timeout=120)
    else:
        r = H.run(BIN, env_mode, [mode], timeout=120)
    if r["rc"] != 0:
        raise RuntimeError(f"{mode} [{side}] failed: rc={r['rc']}\n{r['out'][-2000:]}{r['err'][-2000:]}")
    ours = H.ours_bound(r)
    if side == "rpthread" and (not ours or H.libc_bound(r)):
        raise RuntimeError(f"{mode} [{side}]: not served by rpthread: {sorted(r['bound'])}")
    if side == "glibc" and ours:
        raise RuntimeError(f"{mode} [{side}]: rpthread was bound in the plain glibc run")
    fig = {"maps": []}
    for line in r["out"].splitlines():
        p = line.split()
        if p[0] == "map":
            fig["maps"].append((int(p[1], 16), int(p[2], 16), int(p[3]), int(p[4]), " ".join(p[5:])))
        elif len(p) == 2:
            fig[p[0]] = p[1]
    return fig


def image(fig):
    """(KiB of address space, KiB resident, KiB anonymous) of the objects only rpthread's run
    loads."""
    size = rss = anon = 0
    ends = set()
    for lo, hi, res, an, path in fig["maps"]:
        name = os.path.basename(path)
        bss = path == "-" and lo in ends  # an object's .bss follows its last file mapping
        if name in ONLY_OURS or bss:
            size += (hi - lo) // 1024
            rss += res
            anon += an
            if name == "librpthread.so":
                ends.add(hi)
    return size, rss, anon


def anonymous(fig):
    return sum(m[3] for m in fig["maps"])


def compare(mode, what, glibc, ours, img):
    """Checks ours - img <= glibc * (1 + TOLERANCE) (at least MIN_SLACK_KIB more than glibc);
    returns (ok, line)."""
    limit = max(glibc * (1 + TOLERANCE), glibc + MIN_SLACK_KIB)
    ok = ours - img <= limit
    line = (f"{'PASS' if ok else 'FAIL'}  {mode}: {what} glibc {glibc} KiB, rpthread {ours} KiB "
            f"(of which {img} KiB in the librpthread.so/libgcc_s images; the rest "
            f"{ours - img} KiB must be <= {limit:.0f})")
    return ok, line


def main():
    modes = sys.argv[1:] or ["trivial", "capacity", "bigstack", "churn", "serial-malloc", "mixed"]
    os.makedirs(os.path.dirname(BIN), exist_ok=True)
    p = subprocess.run(["gcc", "-O2", "-g", "-Wall", "-pthread", SRC, "-o", BIN], capture_output=True, text=True)
    if p.returncode != 0:
        print("build failed:\n" + p.stdout + p.stderr)
        return 1
    failed = 0
    results = []
    for mode in modes:
        try:
            if mode == "capacity":
                for lim in LIMITS_KIB:
                    g = int(run(mode, "glibc", lim)["threads"])
                    o = int(run(mode, "rpthread", lim)["threads"])
                    results.append((o >= g, f"{'PASS' if o >= g else 'FAIL'}  capacity under ulimit -v {lim}: "
                                            f"glibc {g} threads, rpthread {o}"))
                continue
            g, o = run(mode, "glibc"), run(mode, "rpthread")
            if mode == "bigstack":
                ok = g["create"] == o["create"] or g["create"] != "EAGAIN" and o["create"] == "EAGAIN"
                results.append((ok, f"{'PASS' if ok else 'FAIL'}  bigstack: 1 TiB stack: glibc {g['create']}, "
                                    f"rpthread {o['create']}"))
                continue
            size, rss, anon = image(o)
            results.append(compare(mode, "VmSize", int(g["vmsize"]), int(o["vmsize"]), size))
            if mode == "trivial":
                results.append(compare(mode, "private RSS", anonymous(g), anonymous(o), anon))
                g_file, o_file = int(g["rss"]) - anonymous(g), int(o["rss"]) - anonymous(o)
                results.append((True, f"note  trivial: file-backed RSS glibc {g_file} KiB, rpthread "
                                      f"{o_file} KiB, of which {rss - anon} KiB in the librpthread.so/"
                                      f"libgcc_s images (shared pages; not asserted)"))
        except RuntimeError as e:
            results.append((False, f"FAIL  {e}"))
    checks = [r for r in results if not r[1].startswith("note")]
    for ok, line in results:
        print(line, flush=True)
        failed += not ok
    print(f"footprint: {len(checks) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
