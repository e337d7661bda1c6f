#!/usr/bin/env python3
"""Feature levels of include/pthread.h against glibc's <pthread.h> (run by `make
header-check`).

glibc declares each function only at the feature level that defines it: rwlocks with
_XOPEN_SOURCE 500 or _POSIX_C_SOURCE 200112, barriers and spinlocks with 200112, `*_np`
names with _GNU_SOURCE, ... A program built with `-std=c11` and no feature macro sees only
the oldest POSIX names, and may define the others itself. For each compiler mode below, every
function our header declares must be declared by glibc's header in that mode and the other
way round (for the functions we export), and the header must compile cleanly (-Wall
-Werror) against ours wherever it does against glibc's. Reserved names (`__pthread_*`: no
program may declare them) are left out of the comparison. Prints the differences and exits
1 if there are any.
"""
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CC = os.environ.get("CC", "cc")

MODES = [
    ("c", ["-std=c89"]),
    ("c", ["-std=c99"]),
    ("c", ["-std=c11"]),
    ("c", ["-std=c17"]),
    ("c", ["-std=c11", "-D_POSIX_C_SOURCE=199506L"]),
    ("c", ["-std=c11", "-D_POSIX_C_SOURCE=200112L"]),
    ("c", ["-std=c11", "-D_POSIX_C_SOURCE=200809L"]),
    ("c", ["-std=c11", "-D_XOPEN_SOURCE=500"]),
    ("c", ["-std=c11", "-D_XOPEN_SOURCE=600"]),
    ("c", ["-std=c11", "-D_XOPEN_SOURCE=700"]),
    ("c", ["-std=c11", "-D_DEFAULT_SOURCE"]),
    ("c", ["-std=gnu11"]),
    ("c", ["-std=gnu11", "-D_GNU_SOURCE"]),
    ("c++", ["-std=c++17"]),
    ("c++", ["-std=c++11", "-D_POSIX_C_SOURCE=200112L"]),
]

NAME = re.compile(r"\b((?:__)?pthread_\w+)\s*\(")


def declared(lang, flags, ours):
    """The pthread function names declared (or called) in the preprocessed header."""
    src = "#include <pthread.h>\n"
    cmd = [CC, "-E", "-P", "-x", lang] + flags + (["-I", os.path.join(ROOT, "include")] if ours else []) + ["-"]
    r = subprocess.run(cmd, input=src, capture_output=True, text=True)
    if r.returncode != 0:
        return None, r.stderr
    return set(NAME.findall(r.stdout)), ""


def compiles(lang, flags, ours):
    """Whether the header compiles cleanly (warnings are errors) in this mode."""
    cmd = [CC, "-fsyntax-only", "-Werror", "-Wall", "-x", lang] + flags + \
        (["-I", os.path.join(ROOT, "include")] if ours else []) + ["-"]
    r = subprocess.run(cmd, input="#include <pthread.h>\nint main(void) { return 0; }\n",
                       capture_output=True, text=True)
    return r.returncode == 0, r.stderr


def main():
    full, err = declared("c", ["-std=gnu11", "-D_GNU_SOURCE"], True)
    if full is None:
        print("our header does not preprocess:\n" + err)
        return 1
    exported = {n for n in full if not n.startswith("__")}
    bad = 0
    for lang, flags in MODES:
        mode = " ".join([lang] + flags)
        ok_g, err_g = compiles(lang, flags, False)
        ok_o, err_o = compiles(lang, flags, True)
        if ok_g and not ok_o:
            print(f"{mode}: glibc's header compiles, ours does not:\n{err_o[-2000:]}")
            bad += 1
            continue
        g, _ = declared(lang, flags, False)
        o, _ = declared(lang, flags, True)
        only_ours = sorted(n for n in (o or set()) - (g or set()) if n in exported)
        only_glibc = sorted(n for n in (g or set()) - (o or set()) if n in exported)
        if only_ours or only_glibc:
            bad += 1
            if only_ours:
                print(f"{mode}: declared by ours, not by glibc's: {' '.join(only_ours)}")
            if only_glibc:
                print(f"{mode}: declared by glibc's, not by ours: {' '.join(only_glibc)}")
    print(f"header: {len(MODES)} compiler modes, {len(exported)} functions: "
          f"{'same feature levels as glibc' if not bad else f'{bad} modes differ'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
