#!/usr/bin/env python3
"""Real, widely used multithreaded programs, unchanged, on rpthread.

Each program runs the same workload twice: plain (glibc's pthreads) and under
LD_PRELOAD=target/release/librpthread.so. A program passes when both runs succeed, their
results are identical (checksums of the output, test-suite verdicts, what the server answered)
and rpthread's own counters (RPTHREAD_STATS=<file>, one line per process at exit) show that
threads were created by rpthread's pthread_create. Wall times are recorded both ways.

    python3 scripts/realworld.py            # everything (installs missing Debian packages as root)
    python3 scripts/realworld.py --fast     # the few-second subset that `make test` runs
    python3 scripts/realworld.py --only pigz,redis --reps 3 --no-install

Timings are one run each way by default (the minimum of --reps runs otherwise); on a shared
machine they are indicative only. Exit status: 1 if any program failed (skips do not count).
"""
import argparse
import base64
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIB = os.path.join(ROOT, "target", "release", "librpthread.so")
HERE = os.path.join(ROOT, "scripts", "realworld")
BUILD = os.path.join(ROOT, "build", "realworld")
PY = "/usr/bin/python3.11"  # Debian's interpreter: its test suite is Debian's package


class Fail(Exception):
    """A workload failed in one mode: the message says how."""


# ---------------------------------------------------------------------------------------------
# Running things


class Mode:
    """One way of running: plain glibc, or rpthread preloaded with its counters in a file."""

    def __init__(self, name, tmp):
        self.name = name
        self.stats = os.path.join(tmp, f"stats-{name}")
        self.env = dict(os.environ)
        for k in ("LD_PRELOAD", "RPTHREAD_STATS", "LD_DEBUG", "LD_DEBUG_OUTPUT"):
            self.env.pop(k, None)
        self.env["RUST_BACKTRACE"] = "0"
        if name == "rpthread":
            self.env["LD_PRELOAD"] = LIB
            self.env["RPTHREAD_STATS"] = self.stats

    def reset(self):
        if os.path.exists(self.stats):
            os.unlink(self.stats)

    def threads(self):
        """Threads rpthread created, summed over every process of the workload, or None."""
        if not os.path.exists(self.stats):
            return None
        total = 0
        with open(self.stats) as f:
            for line in f:
                m = re.search(r"threads created (\d+)", line)
                if m:
                    total += int(m.group(1))
        return total

    def run(self, cmd, timeout=120, check=True, **kw):
        """Runs `cmd` (a list, or a string for the shell); returns stdout (bytes)."""
        try:
            if "input" not in kw:
                kw["stdin"] = subprocess.DEVNULL
            p = subprocess.run(cmd, env=self.env, capture_output=True, timeout=timeout,
                               shell=isinstance(cmd, str), **kw)
        except subprocess.TimeoutExpired:
            raise Fail(f"{self.name}: timed out after {timeout}s (hang?): {short(cmd)}")
        if check and p.returncode != 0:
            raise Fail(f"{self.name}: {short(cmd)} exited with {describe_rc(p.returncode)}: "
                       + tail(p.stderr or p.stdout))
        return p.stdout

    def start(self, cmd, log):
        """Starts a server in the background; returns its Popen."""
        return subprocess.Popen(cmd, env=self.env, stdin=subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def short(cmd):
    s = cmd if isinstance(cmd, str) else " ".join(cmd)
    return s if len(s) < 90 else s[:87] + "..."


def tail(b, n=400):
    s = b.decode(errors="replace").strip() if isinstance(b, bytes) else str(b)
    return s[-n:].replace("\n", " | ")


def describe_rc(rc):
    if rc < 0:
        try:
            return signal.Signals(-rc).name
        except ValueError:
            return f"signal {-rc}"
    return f"status {rc}"


def md5(b):
    return hashlib.md5(b).hexdigest()


def wait_port(port, proc, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise Fail(f"server exited with {describe_rc(proc.returncode)} before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise Fail(f"server did not listen on port {port} within {timeout}s (hang at start-up?)")


def stop(proc, sig=signal.SIGTERM, timeout=20):
    """Stops a server we started (by its pid) and waits for its exit status."""
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise Fail(f"server did not exit within {timeout}s of {sig.name} (hang at exit?)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------------
# Inputs


def text_data(path, mib):
    """Deterministic base64 text, `mib` MiB: incompressible enough to keep threads busy."""
    if os.path.exists(path) and os.path.getsize(path) > mib << 19:
        return path
    raw = hashlib.shake_256(b"rpthread realworld").digest((mib << 20) * 3 // 4)
    with open(path, "wb") as f:
        f.write(base64.encodebytes(raw))
    return path


# ---------------------------------------------------------------------------------------------
# Workloads: each returns the result that must be identical in both modes.


def prep_data(ctx):
    ctx["data"] = text_data(os.path.join(BUILD, "data16.txt"), 16)


def prep_sort(ctx):
    ctx["data32"] = text_data(os.path.join(BUILD, "data32.txt"), 32)
    with open(ctx["data32"], "rb") as f:
        ctx["sorted"] = md5(b"".join(sorted(f.readlines())))


def round_trip(m, ctx, compress, decompress, tag):
    """Compresses the test data, decompresses it again, checks the bytes came back."""
    data = ctx["data"]
    z = m.run([*compress, "-c", data])
    back = m.run(decompress, input=z)
    if md5(back) != md5(open(data, "rb").read()):
        raise Fail(f"{m.name}: decompressed output differs from the input")
    return f"{tag} {md5(z)}"


def w_pigz(m, ctx):
    return round_trip(m, ctx, ["pigz", "-p", "4"], ["pigz", "-p", "4", "-dc"], "gz")


def w_xz(m, ctx):
    return round_trip(m, ctx, ["xz", "-T4", "-1", "--block-size=1MiB"], ["xz", "-T4", "-dc"], "xz")


def w_zstd(m, ctx):
    return round_trip(m, ctx, ["zstd", "-q", "-T4", "-5"], ["zstd", "-q", "-dc"], "zst")


def w_sort(m, ctx):
    # 32 MiB (~440K lines): GNU sort splits work into threads only for >= 128K lines each.
    out = m.run(["env", "LC_ALL=C", "sort", "--parallel=4", "-S", "400M", ctx["data32"]])
    if md5(out) != ctx["sorted"]:
        raise Fail(f"{m.name}: sort output is not the sorted input")
    return f"sorted {md5(out)}"


def prep_rg(ctx):
    # Warm the page cache, so that neither timed run pays for the first read.
    subprocess.run(["rg", "-c", "thread", "/usr/lib/python3.11"], capture_output=True)


def w_rg(m, ctx):
    out = m.run(["rg", "-j4", "--no-config", "-n", "-c", r"def \w*(thread|lock)\w*\(",
                 "/usr/lib/python3.11"], check=False)
    lines = sorted(out.decode().splitlines())  # file:count, in the order threads finished
    if not lines:
        raise Fail(f"{m.name}: rg found nothing")
    matches = sum(int(line.rsplit(":", 1)[1]) for line in lines)
    return f"{len(lines)} files, {matches} matches, {md5(''.join(lines).encode())[:8]}"


def w_sqlite(m, ctx):
    db = os.path.join(ctx["tmp"], f"sqlite-{m.name}.db")
    if os.path.exists(db):
        os.unlink(db)
    with open(os.path.join(HERE, "sqlite.sql"), "rb") as f:
        out = m.run(["sqlite3", db], input=f.read()).decode()
    if not out.rstrip().endswith("ok"):
        raise Fail(f"{m.name}: {tail(out)}")
    return out


def w_omp(m, ctx):
    exe = ctx["omp"]
    out = m.run([exe]).decode()
    if out.count(" ok\n") != 3:
        raise Fail(f"{m.name}: {tail(out)}")
    return out


def w_rust(m, ctx):
    out = m.run([ctx["rust"]]).decode()
    if not out.endswith("ok\n"):
        raise Fail(f"{m.name}: {tail(out)}")
    return out


def w_java(m, ctx):
    out = m.run(["java", "-Xss1m", "-cp", BUILD, "Pool"]).decode()
    if not out.endswith("ok\n"):
        raise Fail(f"{m.name}: {tail(out)}")
    return out


def w_node(m, ctx):
    out = m.run(["node", os.path.join(HERE, "workers.js")]).decode()
    if not out.endswith("ok\n"):
        raise Fail(f"{m.name}: {tail(out)}")
    return out


PY_TESTS = ["test_thread", "test_threading", "test_threading_local", "test_queue",
            "test_threadsignals", "test_threadedtempfile", "test_thread_local_destructors"]


def w_python(m, ctx):
    tests = [t for t in PY_TESTS
             if os.path.exists(f"/usr/lib/python3.11/test/{t}.py")
             or os.path.isdir(f"/usr/lib/python3.11/test/{t}")]
    out = m.run([PY, "-m", "test", "-q", *tests], timeout=600, check=False).decode(errors="replace")
    verdict = re.findall(r"Tests result: (\w+)", out)
    if verdict[-1:] != ["SUCCESS"]:
        raise Fail(f"{m.name}: test suite: {tail(out, 600)}")
    return f"{len(tests)} test modules: SUCCESS"


def w_redis(m, ctx):
    """Debian's redis-server (linked with jemalloc, which registers fork handlers and starts
    threads with glibc's own pthread_create): threaded I/O under redis-benchmark, then a
    BGSAVE (fork), FLUSHALL ASYNC (the lazy-free thread) and a clean shutdown."""
    port = free_port()
    rdb_dir = os.path.join(ctx["tmp"], f"redis-{m.name}")
    shutil.rmtree(rdb_dir, ignore_errors=True)  # an old dump.rdb would be loaded at start
    os.makedirs(rdb_dir)
    with open(os.path.join(ctx["tmp"], f"redis-{m.name}.log"), "w") as log:
        srv = m.start(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                       "--appendonly", "no", "--io-threads", "2", "--io-threads-do-reads", "yes",
                       "--dir", rdb_dir, "--daemonize", "no"], log)
        try:
            wait_port(port, srv)
            m.run(["redis-benchmark", "-p", str(port), "-n", "20000", "-c", "8", "-P", "4",
                   "--threads", "2", "-t", "set,get,incr,lpush", "--csv"])
            cli = ["redis-cli", "-p", str(port)]
            counter = m.run(cli + ["get", "counter:__rand_int__"]).decode().strip()
            llen = m.run(cli + ["llen", "mylist"]).decode().strip()
            m.run(cli + ["bgsave"])
            end = time.time() + 30
            while True:
                info = m.run(cli + ["info", "persistence"]).decode()
                if "rdb_bgsave_in_progress:0" in info:
                    break
                if time.time() > end:
                    raise Fail(f"{m.name}: BGSAVE did not finish within 30s (fork hang?)")
                time.sleep(0.1)
            if "rdb_last_bgsave_status:ok" not in info:
                raise Fail(f"{m.name}: BGSAVE failed: {tail(info)}")
            saved = os.path.getsize(os.path.join(rdb_dir, "dump.rdb"))
            m.run(cli + ["flushall", "async"])
            dbsize = m.run(cli + ["dbsize"]).decode().strip()
            m.run(cli + ["shutdown", "nosave"], check=False)
            rc = stop(srv, signal.SIGTERM)
        finally:
            if srv.poll() is None:
                srv.kill()
                srv.wait()
    if rc != 0:
        raise Fail(f"{m.name}: redis-server exited with {describe_rc(rc)}")
    if counter != "20000" or llen != "20000":
        raise Fail(f"{m.name}: INCR counter {counter}, LLEN {llen} (want 20000 each)")
    if dbsize != "0" or saved < 1000:
        raise Fail(f"{m.name}: after BGSAVE ({saved} bytes) and FLUSHALL ASYNC, DBSIZE {dbsize}")
    return f"INCR counter {counter}, LLEN {llen}, BGSAVE ok, FLUSHALL ASYNC ok"


def w_memcached(m, ctx):
    port = free_port()
    with open(os.path.join(ctx["tmp"], f"memcached-{m.name}.log"), "w") as log:
        user = ["-u", "root"] if os.geteuid() == 0 else []
        srv = m.start(["memcached", *user, "-l", "127.0.0.1", "-p", str(port), "-U", "0",
                       "-t", "4", "-m", "64"], log)
        try:
            wait_port(port, srv)
            out = m.run([sys.executable, os.path.join(HERE, "mc_client.py"), str(port)]).decode()
            rc = stop(srv, signal.SIGTERM)
        finally:
            if srv.poll() is None:
                srv.kill()
                srv.wait()
    if rc != 0:
        raise Fail(f"{m.name}: memcached exited with {describe_rc(rc)} on SIGTERM")
    return out


# ---------------------------------------------------------------------------------------------
# Preparation (compiling the small programs) and the program table


def prep_omp(ctx):
    exe = os.path.join(BUILD, "omp")
    p = subprocess.run(["gcc", "-O2", "-fopenmp", os.path.join(HERE, "omp.c"), "-o", exe, "-lm"],
                       capture_output=True, text=True)
    if p.returncode != 0:
        return "gcc -fopenmp failed: " + tail(p.stderr)
    ctx["omp"] = exe


def prep_rust(ctx):
    exe = os.path.join(BUILD, "threads_rs")
    src = os.path.join(HERE, "threads.rs")
    if not os.path.exists(exe) or os.path.getmtime(exe) < os.path.getmtime(src):
        p = subprocess.run(["rustc", "-O", "--edition", "2021", src, "-o", exe],
                           capture_output=True, text=True)
        if p.returncode != 0:
            return "rustc failed: " + tail(p.stderr)
    ctx["rust"] = exe


def prep_java(ctx):
    cls = os.path.join(BUILD, "Pool.class")
    src = os.path.join(HERE, "Pool.java")
    if not os.path.exists(cls) or os.path.getmtime(cls) < os.path.getmtime(src):
        p = subprocess.run(["javac", "-d", BUILD, src], capture_output=True, text=True)
        if p.returncode != 0:
            return "javac failed: " + tail(p.stderr)


# name, kind, fast, commands needed, Debian packages providing them, prepare, workload
PROGRAMS = [
    ("pigz", "compression (pigz -p4)", True, ["pigz"], ["pigz"], prep_data, w_pigz),
    ("xz", "compression (xz -T4)", False, ["xz"], ["xz-utils"], prep_data, w_xz),
    ("zstd", "compression (zstd -T4)", False, ["zstd"], ["zstd"], prep_data, w_zstd),
    ("sort", "GNU sort --parallel=4", True, ["sort"], ["coreutils"], prep_sort, w_sort),
    ("ripgrep", "Rust program (rg -j4)", False, ["rg"], ["ripgrep"], prep_rg, w_rg),
    ("rust-std", "Rust std::thread", True, ["rustc"], [], prep_rust, w_rust),
    ("openmp", "OpenMP (libgomp)", True, ["gcc"], ["gcc"], prep_omp, w_omp),
    ("sqlite", "SQLite sorter threads", False, ["sqlite3"], ["sqlite3"], None, w_sqlite),
    ("python", "CPython threading tests", False, [PY], ["python3.11", "libpython3.11-testsuite"],
     None, w_python),
    ("redis", "server + BGSAVE + FLUSHALL ASYNC", True, ["redis-server", "redis-benchmark", "redis-cli"],
     ["redis-server", "redis-tools"], None, w_redis),
    ("memcached", "server (-t 4) + client", False, ["memcached"], ["memcached"], None,
     w_memcached),
    ("java", "JVM (OpenJDK 17)", False, ["java", "javac"], ["openjdk-17-jdk-headless"],
     prep_java, w_java),
    ("node", "node worker_threads", False, ["node"], ["nodejs"], None, w_node),
]


def have(cmd):
    return os.path.exists(cmd) if cmd.startswith("/") else shutil.which(cmd) is not None


def missing(prog):
    need = prog[3]
    if prog[0] == "python":
        if not os.path.exists("/usr/lib/python3.11/test/test_threading.py"):
            return True
    return not all(have(c) for c in need)


def install(progs):
    pkgs = sorted({p for prog in progs if missing(prog) for p in prog[4]})
    if not pkgs:
        return
    if os.geteuid() != 0:
        print(f"not root: not installing {' '.join(pkgs)}")
        return
    print(f"installing: {' '.join(pkgs)}", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=300)
    except subprocess.TimeoutExpired:
        print("  apt-get update timed out (no network?)")
    for pkg in pkgs:  # one by one: a package this release lacks skips only its program
        try:
            p = subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", pkg],
                               env=env, capture_output=True, text=True, timeout=600)
        except subprocess.TimeoutExpired:
            print(f"  apt-get install {pkg} timed out")
            continue
        if p.returncode != 0:
            print(f"  could not install {pkg}: {tail(p.stderr, 200)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--fast", action="store_true", help="only the few-second subset")
    ap.add_argument("--only", help="comma-separated program names")
    ap.add_argument("--reps", type=int, default=1, help="runs per mode (times: the minimum)")
    ap.add_argument("--no-install", action="store_true", help="skip programs not installed")
    args = ap.parse_args()

    progs = [p for p in PROGRAMS if not args.fast or p[2]]
    if args.only:
        names = args.only.split(",")
        progs = [p for p in PROGRAMS if p[0] in names]
    if not os.path.exists(LIB):
        sys.exit(f"{LIB} missing: run `cargo build --release` (or `make realworld`)")
    os.makedirs(BUILD, exist_ok=True)
    if not args.no_install:
        install(progs)

    rows, failures = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for name, kind, fast, need, pkgs, prep, work in progs:
            if missing((name, kind, fast, need, pkgs)):
                rows.append((name, kind, "skip", "not installed", "", "", ""))
                print(f"SKIP  {name}: not installed ({' '.join(pkgs) or ' '.join(need)})",
                      flush=True)
                continue
            ctx = {"tmp": tmp}
            why = prep(ctx) if prep else None
            if why:
                rows.append((name, kind, "FAIL", "-", "", "", ""))
                failures.append((name, why))
                print(f"FAIL  {name}: {why}", flush=True)
                continue
            modes = [Mode("glibc", tmp), Mode("rpthread", tmp)]
            results, times, threads = {}, {m.name: [] for m in modes}, None
            try:
                for _ in range(args.reps):
                    for m in modes:  # alternate, so both see the same machine load
                        m.reset()
                        t0 = time.monotonic()
                        results[m.name] = work(m, ctx)
                        times[m.name].append(time.monotonic() - t0)
                        if m.name == "rpthread":
                            threads = m.threads()
                            if not threads:
                                raise Fail("rpthread: no thread was created by rpthread's "
                                           f"pthread_create (stats: {threads})")
                    if results["glibc"] != results["rpthread"]:
                        raise Fail(f"results differ: glibc {tail(results['glibc'], 200)!r} vs "
                                   f"rpthread {tail(results['rpthread'], 200)!r}")
                tg, tr = min(times["glibc"]), min(times["rpthread"])
                rows.append((name, kind, "pass", str(threads), f"{tg:.2f}s", f"{tr:.2f}s",
                             f"{tr / tg:.2f}"))
                summary = results["rpthread"].strip().splitlines()
                print(f"PASS  {name}: {summary[0][:100]}" + (" ..." if len(summary) > 1 else ""),
                      flush=True)
            except Fail as e:
                rows.append((name, kind, "FAIL", str(threads) if threads else "-", "", "", ""))
                failures.append((name, str(e)))
                print(f"FAIL  {name}: {e}", flush=True)

    head = ("program", "kind", "result", "threads (rpthread)", "glibc", "rpthread", "ratio")
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    print()
    for r in [head, tuple("-" * w for w in widths)] + rows:
        print(" | ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())
    npass = sum(r[2] == "pass" for r in rows)
    nskip = sum(r[2] == "skip" for r in rows)
    print(f"\nrealworld: {npass} passed, {len(failures)} failed, {nskip} skipped "
          "(times: wall clock, one machine, indicative only)")
    for name, why in failures:
        print(f"  {name}: {why}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
