#!/usr/bin/env python3
"""Structure checks of src/ (issue 14), run by `make test`:

- no import cycle between the top-level modules of the crate: module A depends on B when
  code (not comments) in A names `crate::B`, or `super::B` from A's own top-level file;
- no source file longer than MAX_LINES lines.

Prints the dependency graph and exits 1 on a cycle or an oversized file.
"""
import glob
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "src")
MAX_LINES = 600


def top_modules():
    mods = set()
    for p in glob.glob(os.path.join(SRC, "*")):
        name = os.path.basename(p)
        if name in ("lib.rs",):
            continue
        if os.path.isdir(p) or name.endswith(".rs"):
            mods.add(name[:-3] if name.endswith(".rs") else name)
    return mods


def files_of(mod):
    d = os.path.join(SRC, mod)
    if os.path.isdir(d):
        return glob.glob(os.path.join(d, "**", "*.rs"), recursive=True)
    return [os.path.join(SRC, mod + ".rs")]


def code_lines(path):
    """The file's lines without comments (line comments; block comments are not used)."""
    for line in open(path, encoding="utf-8"):
        line = re.sub(r"//.*", "", line)
        # string literals may hold "crate::" too
        line = re.sub(r'"(\\.|[^"\\])*"', '""', line)
        yield line


def main():
    mods = top_modules()
    graph = {m: set() for m in mods}
    for m in mods:
        for f in files_of(m):
            for line in code_lines(f):
                deps = re.findall(r"\bcrate::([a-z_0-9]+)", line)
                for group in re.findall(r"\bcrate::\{([^}]*)\}", line):
                    deps += re.findall(r"\b([a-z_0-9]+)\b", group)
                for dep in deps:
                    if dep in mods and dep != m:
                        graph[m].add(dep)
    bad = False
    for m in sorted(graph):
        print(f"{m:8} -> {' '.join(sorted(graph[m])) or '-'}")
    # cycles: depth-first search
    state = {}
    stack = []

    def visit(m):
        nonlocal bad
        state[m] = 1
        stack.append(m)
        for d in sorted(graph[m]):
            if state.get(d) == 1:
                cyc = stack[stack.index(d):] + [d]
                print("CYCLE: " + " -> ".join(cyc))
                bad = True
            elif d not in state:
                visit(d)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    for f in sorted(glob.glob(os.path.join(SRC, "**", "*.rs"), recursive=True)):
        n = sum(1 for _ in open(f, encoding="utf-8"))
        if n > MAX_LINES:
            print(f"TOO LONG: {os.path.relpath(f, ROOT)} has {n} lines (at most {MAX_LINES})")
            bad = True
    print("structure: " + ("FAILED" if bad else "ok"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
