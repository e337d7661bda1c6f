#!/usr/bin/env python3
"""Compares rpthread's exports with the public thread API of the installed glibc.

Every public pthread_*/sem_*/thrd_*/mtx_*/cnd_*/tss_*/call_once symbol and cleanup-ABI symbol
(__pthread_*, _pthread_*, __register_atfork) that libc.so.6 exports must be exported by
librpthread.so, or be listed with a reason in docs/COVERAGE.md: a missing symbol silently
falls back to glibc, whose code then reads glibc structures our threads do not have.
Exit status 1 on an unlisted gap. Prints `coverage: N passed, M failed`.
"""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIB = os.path.join(ROOT, "target", "release", "librpthread.so")
COVERAGE_MD = os.path.join(ROOT, "docs", "COVERAGE.md")
PATTERN = re.compile(r"^(pthread_|sem_|thrd_|mtx_|cnd_|tss_|call_once$|__pthread_|_pthread_|__register_atfork$)")


def libc_path():
    out = subprocess.run(["gcc", "-print-file-name=libc.so.6"], capture_output=True, text=True).stdout.strip()
    return out if os.path.isabs(out) else "/lib/x86_64-linux-gnu/libc.so.6"


def exported(path, public_only):
    out = subprocess.run(["nm", "-D", "--defined-only", path], capture_output=True, text=True, check=True).stdout
    names = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 3 or parts[1] not in "TtWiDdBbVv":
            continue
        name, _, version = parts[2].partition("@")
        if public_only and "GLIBC_PRIVATE" in version:
            continue
        if PATTERN.match(name):
            names.add(name)
    return names


def listed_gaps():
    gaps = {}
    if not os.path.exists(COVERAGE_MD):
        return gaps
    with open(COVERAGE_MD) as f:
        for line in f:
            m = re.match(r"^\|\s*`([^`]+)`\s*\|\s*(.+?)\s*\|\s*$", line)
            if m:
                gaps[m.group(1)] = m.group(2)
    return gaps


def main():
    glibc = exported(libc_path(), public_only=True)
    ours = exported(LIB, public_only=False)
    gaps = listed_gaps()
    missing = sorted(glibc - ours)
    unexplained = [s for s in missing if s not in gaps]
    stale = sorted(s for s in gaps if s in ours)
    print(f"glibc public thread symbols: {len(glibc)}; rpthread exports: {len(ours & glibc)} of them"
          f" (+{len(ours - glibc)} others); documented gaps: {len([s for s in missing if s in gaps])}")
    for s in missing:
        if s in gaps:
            print(f"  gap (documented): {s}: {gaps[s]}")
    for s in unexplained:
        print(f"  GAP (undocumented, falls back to glibc): {s}")
    for s in stale:
        print(f"  stale entry in docs/COVERAGE.md (now exported): {s}")
    bad = len(unexplained) + len(stale)
    print(f"coverage: {len(glibc) - len(unexplained)} passed, {bad} failed")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
