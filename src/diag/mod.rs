//! Lock diagnostics (`RPTHREAD_DIAG=`): contention profile, lock-order inversions,
//! deadlocks, long holds, misuse, thread dumps. rpthread owns every lock, condition variable
//! and thread of the process it is loaded into, so it can watch them all without a recompile.
//!
//! # Shape
//! - Off by default. The exports of `abi` begin with `if diag::enabled() { return
//!   diag::hooks::…(…) }`: with diagnostics off that is one load of a static word and one
//!   predictable branch on the fast path. With them on, [`hooks`] performs the same operation
//!   through the same domain calls (`Mutex::trylock`, `Mutex::lock`, ...) and keeps the books
//!   around it: a try first, so the blocking call is only made — and timed — when the lock is
//!   busy. With `contention` alone, an uncontended acquisition that is not sampled costs the
//!   try and one thread-local decrement, and the matching unlock one thread-local compare.
//! - Memory: [`tables`], one anonymous mapping made at start-up, never freed, never grown: no
//!   malloc on any lock path or report path, so reports can be written while another thread
//!   holds the malloc lock or stdout's lock, and from signal handlers. Reports use raw
//!   write(2) from a preallocated buffer ([`report`]).
//! - Per thread: a record ([`thread`]) found through one word of initial-exec TLS, for every
//!   thread (ours, the main thread, glibc's): its held locks, what it waits for, its sampling
//!   counters.
//! - Names ([`names`], [`symbols`], [`stack`]): a static lock by its symbol and object file
//!   (from the file's `.symtab`, so `static` variables of an executable are named too); a
//!   heap lock by the stack where its class was made — its `pthread_*_init`, or its first lock
//!   for statically initialized ones (C++ `std::mutex`). Stacks come from libgcc's DWARF
//!   unwinder; they are symbolized only when a report is written.
//!
//! # Modes
//! - [`contention`]: per lock class, acquisitions, waits (every contended wait is timed: it is
//!   the slow path anyway), holds (one uncontended acquisition in `RPTHREAD_DIAG_SAMPLE` is
//!   timed), contending call sites; a table at exit, on the report signal, or on
//!   `rpthread_diag_report()`.
//! - [`order`]: lockdep's idea: a graph of "class A held while class B taken"; the first
//!   acquisition that closes a cycle is reported before it blocks (so also when the deadlock
//!   never happens in this run), or refused with EDEADLK (`RPTHREAD_DIAG_ON_CYCLE=edeadlk`).
//! - [`deadlock`]: no watchdog thread. A thread that has blocked for 250 ms in a mutex, rwlock,
//!   spinlock or join wait (its wait is cut into 250 ms timed waits) follows "waits for the
//!   holder of" from itself; coming back to itself is a deadlock, which it reports (with every
//!   thread's stack and held locks) while the others stay blocked. This keeps the program's
//!   thread list, signal handling and fork behaviour exactly as without diagnostics (a
//!   watchdog would be one more thread for setuid, /proc/self/task, fork and exit to deal with).
//! - `hold`: a lock held longer than `RPTHREAD_DIAG_HOLD_MS` is reported when released, with
//!   the holder's stack there; and, if a thread waits for it, while it lasts (the waiter looks
//!   after each 250 ms slice of its wait), with the holder's stack where it is stuck. Hold
//!   times use the coarse monotonic clock (a few ns; ms resolution is what thresholds need).
//! - [`misuse`]: what glibc lets pass or hangs on (unlock by a non-owner, destroy of a locked
//!   mutex or of a condvar with waiters, relock of a normal mutex by its owner, one condvar
//!   with two mutexes, exit with locks held, threads never joined, use after destroy).
//! - [`dump`]: on SIGQUIT (or `RPTHREAD_DIAG_SIGNAL`), when the program has no handler of its
//!   own: every thread's name, state, wait, held locks and stack. Other threads' stacks are
//!   taken by the threads themselves, in rpthread's SIGCANCEL handler, asked with a queued
//!   signal (`SI_QUEUE`, which pthread_cancel never sends) — except threads sleeping in a
//!   system call a signal would cut short (nanosleep, poll, epoll_wait...), left undisturbed.
//!
//! Reports are text or JSON lines (`RPTHREAD_DIAG_FORMAT`), to stderr or
//! `RPTHREAD_DIAG_OUT`; at exit also the order graph as Graphviz (`RPTHREAD_DIAG_DOT`) and the
//! contention as folded stacks (`RPTHREAD_DIAG_FOLDED`). Across fork the child forgets the
//! other threads (`fork_child`); across dlclose names survive (an object's path and load
//! bias are copied when first seen, symbols are read from its file).
//!
//! Limits: locks taken through C11 `mtx_*`, and process-shared objects used from another
//! process, are not seen; lock classes are never forgotten (an address reused for a lock made
//! elsewhere gets a new class only through its init call).

pub mod clock;
pub mod config;
pub mod contention;
pub mod deadlock;
pub mod dump;
#[cfg(not(loom))]
pub mod hooks;
pub mod misuse;
pub mod names;
pub mod order;
pub mod report;
pub mod stack;
pub mod symbols;
pub mod tables;
pub use tables::Kind as ObjectKind;
pub mod thread;

use config::{mode, Config};
use core::sync::atomic::{AtomicU32, Ordering};
use crate::rt::SetOnce;
use tables::{Kind, CLASSES, INSTANCES};

/// One acquisition, as the modes see it.
#[derive(Clone, Copy)]
pub struct Acq {
    /// What the object is.
    pub kind: Kind,
    /// Its address.
    pub addr: usize,
    /// `thread::hold::EXCLUSIVE` or `thread::hold::SHARED`.
    pub mode: u32,
    /// `thread::wait::*` while blocked.
    pub wait: u32,
}

/// The enabled [`config::mode`] bits; 0 = off. Published last by [`init`] (Release).
static MODES: AtomicU32 = AtomicU32::new(0);
static CONFIG: SetOnce<Config> = SetOnce::new();

/// Whether any diagnostic mode is on. Relaxed: the word changes once, at start-up, before
/// the program's threads exist; code it leads to re-reads it with Acquire ([`modes`]).
#[inline(always)]
pub fn enabled() -> bool {
    MODES.load(Ordering::Relaxed) != 0
}

/// The lock exports' gate ([`hooked`]): the modes once armed ([`arm`]), 0 before.
static HOOKED: AtomicU32 = AtomicU32::new(0);

/// Whether the lock, wait and join exports take their diagnostic path: the one check on their
/// fast paths. Relaxed: the hooks re-read the modes with Acquire ([`modes`]) before using
/// what [`init`] set up; a thread that still sees 0 just after arming takes the plain path
/// once more, as it did a moment before.
#[inline(always)]
pub fn hooked() -> bool {
    HOOKED.load(Ordering::Relaxed) != 0
}

/// Opens the gate. Every mode does at start-up except `contention` alone, which waits until
/// the process has a second thread (`glibc::solo::on_threads`): until then no lock can be
/// waited for, and the per-acquisition sampling would be all its cost — measured, 1.7x on a
/// single-threaded uncontended mutex pair (2.2 → 3.75 ns), where the budget is 5%.
/// Acquisitions made while the process has one thread are therefore not counted.
fn arm() {
    HOOKED.store(MODES.load(Ordering::Relaxed), Ordering::Release);
}

/// Nonzero while unlocks must go through the hooks: always with a mode that tracks held locks
/// ([`mode::TRACK`]); with `contention` alone only while some thread times the hold of a
/// sampled acquisition (one in `RPTHREAD_DIAG_SAMPLE`), counted here — so most unlocks are
/// the plain unlock, behind the same one-load check as with diagnostics off.
static UNLOCK_HOOKED: AtomicU32 = AtomicU32::new(0);

/// Whether the unlock exports take their diagnostic path (see `UNLOCK_HOOKED`). Relaxed: a
/// thread's own timed hold was counted by that thread before it can unlock that lock
/// (program order); other threads' counts only make them check their own timed lock.
#[inline(always)]
pub fn unlock_hooked() -> bool {
    UNLOCK_HOOKED.load(Ordering::Relaxed) != 0
}

/// A timed hold begins (+1) or ends (-1) in `contention` sampling.
pub fn count_timed_hold(begin: bool) {
    if begin {
        UNLOCK_HOOKED.fetch_add(1, Ordering::Relaxed);
    } else {
        UNLOCK_HOOKED.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The enabled modes, for the hooks' choice of a fast path. Relaxed, as [`enabled`].
#[inline(always)]
pub fn modes_relaxed() -> u32 {
    MODES.load(Ordering::Relaxed)
}

/// Bumped whenever an object that has a class is initialized again (and gets a new class):
/// it invalidates every cached acquisition ([`thread::Record::cached`]) at once, so that a
/// cache never names the class of an object that used to live at the same address.
static REINIT: AtomicU32 = AtomicU32::new(0);

/// See [`REINIT`].
#[inline(always)]
pub fn reinit_epoch() -> u32 {
    REINIT.load(Ordering::Relaxed)
}

/// See [`REINIT`].
fn bump_reinit_epoch() {
    REINIT.fetch_add(1, Ordering::Relaxed);
}

/// The enabled modes (Acquire: pairs with [`init`]'s publication).
#[inline]
pub fn modes() -> u32 {
    MODES.load(Ordering::Acquire)
}

/// The configuration; only called once a mode is on.
pub fn config() -> &'static Config {
    CONFIG.get().expect("diagnostics are configured before they are enabled")
}

/// One uncontended acquisition in this many is timed.
pub fn sample_period() -> u32 {
    CONFIG.get().map_or(config::DEFAULT_SAMPLE, |c| c.sample)
}

/// Nanoseconds on CLOCK_MONOTONIC's scale, from the time-stamp counter where it is the
/// kernel's clocksource ([`clock`]).
#[inline]
pub fn now() -> u64 {
    clock::now()
}

/// Nanoseconds on CLOCK_MONOTONIC_COARSE: the clock tick's resolution (1-4 ms), at a
/// fraction of the precise clock's cost. Hold times are compared with thresholds in
/// milliseconds, and taken at every acquisition in `hold` mode.
#[inline]
pub fn now_coarse() -> u64 {
    clock::coarse()
}

/// Reads the environment and, if a mode is asked for, sets everything up. Called once by the
/// library's set-up (start-up: allocation and dlopen are fine here).
pub fn init() {
    let Some(cfg) = config::read() else { return };
    if !tables::map() {
        report::warn_raw(b"rpthread-diag: ", b"no memory for the diagnostic tables; diagnostics off");
        return;
    }
    symbols::init();
    stack::init();
    clock::init();
    let modes = cfg.modes;
    // SAFETY: `init` runs once, from the library's constructor.
    let _ = unsafe { CONFIG.set(cfg) };
    // Other threads' stacks are taken in rpthread's SIGCANCEL handler (deadlock reports,
    // dumps, long holds, rpthread_diag_dump()): without it the request would kill the process.
    crate::cancel::window::set_queued_filter(on_sigcancel);
    crate::cancel::window::install_handler();
    crate::thread::exit::set_exit_observer(thread_exit);
    let explicit = config().signal_explicit;
    if modes & mode::DUMP != 0 || (modes & mode::CONTENTION != 0 && explicit) {
        dump::install();
    }
    // SAFETY: atexit with a static function.
    unsafe { libc::atexit(exit_report) };
    if modes & mode::TRACK != 0 {
        UNLOCK_HOOKED.store(1, Ordering::Relaxed);
    }
    // Release: everything above is visible to whoever sees the modes (Acquire in `modes`).
    MODES.store(modes, Ordering::Release);
    if modes == mode::CONTENTION && crate::glibc::solo::alone() {
        crate::glibc::solo::on_threads(arm);
    } else {
        arm();
    }
}

extern "C" fn exit_report() {
    let m = modes();
    if m & mode::MISUSE != 0 {
        misuse::at_exit();
    }
    if m & mode::CONTENTION != 0 {
        contention::report(false);
        contention::write_folded();
    }
    if m & mode::ORDER != 0 {
        order::write_dot();
    }
    lost_report();
}

/// `rpthread_diag_report()`: the reports that make sense at any time.
pub fn report_now() {
    if modes() & mode::CONTENTION != 0 {
        contention::report(true);
    }
}

/// Before pthread_*_destroy: misuse checks (destroy of a held lock, of a condvar with
/// waiters); the object is marked destroyed.
#[inline]
pub fn destroying(addr: usize, kind: Kind) {
    if enabled() && modes() & mode::MISUSE != 0 && addr != 0 {
        misuse::destroying(addr, kind);
    }
}

/// After pthread_*_init (and sem_init): the object starts a class of its own, named by this
/// call's stack.
#[inline]
pub fn initialized(addr: usize, kind: Kind) {
    if enabled() {
        misuse::initialized(addr, kind);
    }
}

/// Says what did not fit in the tables, if anything.
fn lost_report() {
    let t = tables::get();
    let lost: [u64; 6] = core::array::from_fn(|i| t.lost[i].load(Ordering::Relaxed));
    if lost.iter().all(|&n| n == 0) {
        return;
    }
    let Some(mut o) = report::begin(report::Target::Main) else { return };
    let what = ["lock objects", "lock classes", "stacks", "order edges", "threads", "locks held beyond 32 per thread"];
    if o.json {
        o.s("{").key("event", true).js(b"not_tracked").key("pid", false).i(crate::sys::getpid() as i64);
        for (i, w) in ["instances", "classes", "stacks", "edges", "threads", "held"].iter().enumerate() {
            o.key(w, false).u(lost[i]);
        }
        o.s("}\n");
    } else {
        o.s("rpthread-diag: not tracked (tables full):");
        for (i, w) in what.iter().enumerate() {
            if lost[i] != 0 {
                o.s(" ").u(lost[i]).s(" ").s(w).s(";");
            }
        }
        o.s("\n");
    }
}

/// The end of one of our threads (`thread::exit::finish`, through its exit observer): the exit-with-locks check, then
/// the record goes back.
#[inline]
pub fn thread_exit() {
    if enabled() {
        if modes() & mode::CONTENTION != 0 {
            if let Some(rec) = thread::current_claimed() {
                contention::flush(rec);
            }
        }
        if modes() & mode::MISUSE != 0 {
            misuse::thread_exit();
        }
        if thread::timed() != 0 {
            // A hold still being timed (its lock is leaked): stop counting it.
            thread::set_timed(0);
            count_timed_hold(false);
        }
        thread::release_current();
    }
}

/// In the child of fork(): only the forking thread exists.
#[inline]
pub fn fork_child() {
    if enabled() {
        // Only this thread's timed hold, if any, is still going.
        let hooked = (modes() & mode::TRACK != 0) as u32 + (thread::timed() != 0) as u32;
        UNLOCK_HOOKED.store(hooked, Ordering::Relaxed);
        thread::forget_others();
        order::after_fork();
        dump::after_fork();
        report::after_fork();
    }
}

/// rpthread's SIGCANCEL handler asks this first (its queued-signal filter): a queued signal may be a diagnostic request
/// (take your stack), which this consumes (true).
#[inline]
pub fn on_sigcancel(info: &libc::siginfo_t, uc: *mut libc::c_void) -> bool {
    info.si_code == libc::SI_QUEUE && enabled() && dump::on_request(info, uc)
}

/// After pthread_create: a joinable thread is remembered for the never-joined check.
#[inline]
pub fn after_create(handle: libc::pthread_t) {
    if enabled() {
        misuse::created(handle);
    }
}

/// After pthread_detach: the thread no longer needs a join.
#[inline]
pub fn after_detach(rc: i32, handle: libc::pthread_t) {
    if enabled() && rc == 0 {
        misuse::forget_joinable(handle as usize);
    }
}

/// The instance of the lock at `addr` (index + 1) and its class, both made on first sight;
/// `init`: made by its init call, which starts a new class for the address. (0, 0) when a
/// table is full.
pub fn instance(addr: usize, kind: Kind, init: bool) -> (u32, u32) {
    let t = tables::get();
    let Some((i, _)) = tables::find_or_claim(INSTANCES, addr, |i| &t.instances[i].key) else {
        tables::note_lost(tables::lost::INSTANCES);
        return (0, 0);
    };
    let inst = &t.instances[i];
    let mut c = inst.class.load(Ordering::Acquire);
    if c == 0 || init {
        let new = make_class(addr, kind, init);
        if init {
            if c != 0 && c != new {
                bump_reinit_epoch();
            }
            inst.class.store(new, Ordering::Release);
            c = new;
        } else {
            c = match inst.class.compare_exchange(0, new, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => new,
                Err(now) => now,
            };
        }
        inst.flags.store(kind as u32, Ordering::Relaxed);
    }
    (i as u32 + 1, c)
}

/// The instance entry of index + 1 `i`.
pub fn inst(i: u32) -> Option<&'static tables::Inst> {
    tables::get().instances.get((i as usize).checked_sub(1)?)
}

/// Frames of the stack that names (and keys) the class of heap locks. Each frame is an unwind
/// step, and programs make many locks (node makes hundreds per isolate): six frames keep
/// classes apart (the init call, its wrapper, the wrapper's users) at a third of the cost of
/// the sixteen a stored stack can hold.
const CLASS_FRAMES: usize = 6;

/// The class of a lock: a static object is its own class; heap objects made at the same
/// place (same stack) share one.
fn make_class(addr: usize, kind: Kind, from_init: bool) -> u32 {
    let t = tables::get();
    let is_static = symbols::is_static(addr);
    let (key, name_stack) = if is_static {
        (tables::class_key(Some(addr), 0), 0)
    } else {
        let f = stack::capture_n(false, CLASS_FRAMES);
        let id = stack::intern(&f);
        let h = stack::hash(&f.pcs[..f.n.min(tables::FRAMES)]);
        (tables::class_key(None, tables::mix(h ^ kind as u64)), id)
    };
    let Some((i, new)) = tables::find_or_claim(CLASSES, key, |i| &t.classes[i].key) else {
        tables::note_lost(tables::lost::CLASSES);
        return 0;
    };
    let c = &t.classes[i];
    if new {
        c.kind.store(kind as u32, Ordering::Relaxed);
        c.name_stack.store(name_stack, Ordering::Relaxed);
        c.addr.store(addr, Ordering::Relaxed);
        c.from_init.store(from_init as u32, Ordering::Relaxed);
        if is_static {
            c.module.store(symbols::module_of(addr), Ordering::Relaxed);
        }
        // Release: the fields above are visible to whoever sees ready.
        c.ready.store(1, Ordering::Release);
    }
    i as u32 + 1
}
