//! `misuse`: what glibc silently allows or hangs on, reported (the call then does what it
//! does without diagnostics: behaviour never changes). Also the `hold` warning, whose report
//! looks the same.
//!
//! Checks: unlock of a lock another thread holds (or nobody); destroy of a locked mutex, a
//! write-locked rwlock, a held spinlock or a condvar with waiters; relock of a normal mutex by
//! its owner (reported, then the thread blocks forever as POSIX requires); a condvar waited on
//! with two mutexes at once; a condvar wait with a mutex the caller does not hold; a thread
//! ending while it holds locks (robust mutexes excepted: that is what they are for); joinable
//! threads that ended and were never joined (at exit); use of a destroyed mutex, rwlock or
//! condvar, and of a mutex whose kind field is garbage (never initialized).
//!
//! The mutex checks read glibc's ABI fields of `pthread_mutex_t` (`__owner` @8, `__kind`
//! @16, which rpthread keeps as glibc does: see `sync::mutex`). Each (check, lock class,
//! place) is reported once; repeats are counted.

use super::names;
use super::report::{self, Out, Target};
use super::tables::{self, inst_flags, Kind, INSTANCES, JOINABLE};
use super::thread::{self, hold, Record};
use super::{config, stack};
use core::sync::atomic::{AtomicI32, AtomicU64, Ordering};

/// `__kind` bits (glibc's encoding, as in `sync::mutex`).
const KIND_TYPE: i32 = 3;
const KIND_ROBUST: i32 = 16;
const KIND_KNOWN: i32 = 3 | 16 | 32 | 64 | 128;
const TYPE_NORMAL: i32 = 0;
const TYPE_ADAPTIVE: i32 = 3;
/// Robust mutexes park these in `__owner` (inconsistent, not recoverable).
const OWNER_SPECIAL: i32 = i32::MAX - 1;

/// Reports made (a hash of check, class and stack); repeats are only counted.
static SEEN: [AtomicU64; 512] = [const { AtomicU64::new(0) }; 512];
static SUPPRESSED: AtomicU64 = AtomicU64::new(0);

fn field(addr: usize, off: usize) -> i32 {
    // SAFETY: `addr` is a live pthread_mutex_t (the caller is about to operate on it); the
    // field is an aligned int that other threads change atomically (rpthread's stores are
    // atomic), so an atomic load reads it without a data race.
    unsafe { (*((addr + off) as *const AtomicI32)).load(Ordering::Relaxed) }
}

/// The mutex's `__owner` (the holder's tid, 0 when unlocked).
pub fn mutex_owner(addr: usize) -> i32 {
    field(addr, 8)
}

/// glibc's `PTHREAD_MUTEX_NO_ELISION_NP`: in the kind of a mutex whose attribute had its
/// type set explicitly to PTHREAD_MUTEX_NORMAL or DEFAULT (jemalloc's, for one); it means a
/// normal mutex (as `sync::mutex` reads it), not a garbage kind.
const KIND_NO_ELISION: i32 = 512;

/// The mutex's `__kind` (-1 once destroyed), without [`KIND_NO_ELISION`].
pub fn mutex_kind(addr: usize) -> i32 {
    match field(addr, 16) {
        -1 => -1,
        k => k & !KIND_NO_ELISION,
    }
}

/// First time for this key? (Counts the repeats.)
fn first(key: u64) -> bool {
    let key = key | 1;
    let start = tables::mix(key) as usize % SEEN.len();
    for k in 0..SEEN.len() {
        let s = &SEEN[(start + k) % SEEN.len()];
        match s.compare_exchange(0, key, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return true,
            Err(v) if v == key => {
                SUPPRESSED.fetch_add(1, Ordering::Relaxed);
                return false;
            }
            Err(_) => {}
        }
    }
    true
}

fn what_id(what: &str) -> u64 {
    what.bytes().fold(0u64, |h, b| tables::mix(h ^ b as u64))
}

/// Writes one report: `what` (a stable identifier), a message, the lock, extra details, the
/// calling thread and its stack.
fn emit(what: &str, message: &str, lock: Option<(usize, u32)>, extra: &dyn Fn(&mut Out), st: u32) {
    let Some(mut o) = report::begin(Target::Main) else { return };
    let tid = crate::sys::gettid();
    if o.json {
        o.s("{").key("event", true).js(if what == "long_hold" { b"hold" } else { b"misuse" });
        o.key("what", false).js(what.as_bytes()).key("message", false).js(message.as_bytes());
        o.key("pid", false).i(crate::sys::getpid() as i64);
        if let Some((addr, class)) = lock {
            o.key("lock", false);
            names::lock(&mut o, addr, class);
        }
        extra(&mut o);
        o.key("thread", false).s("{");
        names::thread(&mut o, tid);
        o.s("}");
        if st != 0 {
            o.key("stack", false);
            names::stack_id_lines(&mut o, st, "");
        }
        o.s("}\n");
        return;
    }
    o.s("rpthread-diag: ").s(if what == "long_hold" { "hold: " } else { "misuse: " }).s(message);
    if let Some((addr, class)) = lock {
        o.s(": ");
        names::lock(&mut o, addr, class);
    }
    extra(&mut o);
    o.s("\n  in ");
    names::thread(&mut o, tid);
    o.s("\n");
    if st != 0 {
        names::stack_id_lines(&mut o, st, "      at ");
    }
}

/// Reports unless this check, class and place were reported before.
fn once(what: &str, message: &str, addr: usize, kind: Kind, extra: &dyn Fn(&mut Out)) {
    let class = class_of(addr, kind);
    let st = stack::here();
    if first(what_id(what) ^ tables::mix((class as u64) << 32 ^ st as u64)) {
        emit(what, message, Some((addr, class)), extra, st);
    }
}

fn class_of(addr: usize, kind: Kind) -> u32 {
    super::instance(addr, kind, false).1
}

fn holder_extra(holder: i32) -> impl Fn(&mut Out) {
    move |o: &mut Out| {
        if o.json {
            o.key("holder", false).i(holder as i64);
        } else {
            o.s("\n  held by ");
            names::thread(o, holder);
        }
    }
}

fn nothing(_: &mut Out) {}

/// Before a mutex lock: destroyed or garbage kind; a normal mutex relocked by its owner.
pub fn before_mutex_lock(rec: &Record, addr: usize, blocking: bool) {
    let kind = mutex_kind(addr);
    if kind == -1 {
        once("use_after_destroy", "lock of a destroyed mutex (EINVAL)", addr, Kind::Mutex, &nothing);
    } else if kind & !KIND_KNOWN != 0 {
        once("uninitialized", "lock of a mutex that was never initialized (its kind field is garbage; EINVAL)", addr, Kind::Mutex, &nothing);
    } else if blocking
        && matches!(kind & KIND_TYPE, TYPE_NORMAL | TYPE_ADAPTIVE)
        && mutex_owner(addr) == rec.tid.load(Ordering::Relaxed)
    {
        once(
            "relock",
            "relock of a normal mutex by the thread that holds it: it now blocks forever, as POSIX requires",
            addr,
            Kind::Mutex,
            &nothing,
        );
    }
}

/// Before a mutex unlock: not locked, or locked by another thread.
pub fn before_mutex_unlock(rec: &Record, addr: usize) {
    let kind = mutex_kind(addr);
    if kind == -1 {
        once("use_after_destroy", "unlock of a destroyed mutex (EINVAL)", addr, Kind::Mutex, &nothing);
        return;
    }
    if kind & !KIND_KNOWN != 0 {
        return;
    }
    let owner = mutex_owner(addr);
    let me = rec.tid.load(Ordering::Relaxed);
    let checked = kind & KIND_TYPE != TYPE_NORMAL && kind & KIND_TYPE != TYPE_ADAPTIVE || kind & !KIND_TYPE != 0;
    if owner == 0 {
        let m = if checked {
            "unlock of a mutex that is not locked (EPERM)"
        } else {
            "unlock of a mutex that is not locked (glibc lets it pass and corrupts the mutex's user count)"
        };
        once("unlock_unlocked", m, addr, Kind::Mutex, &nothing);
    } else if owner != me && owner < OWNER_SPECIAL {
        let m = if checked {
            "unlock of a mutex held by another thread (EPERM)"
        } else {
            "unlock of a mutex held by another thread (glibc lets it pass: the holder loses it)"
        };
        once("unlock_not_owner", m, addr, Kind::Mutex, &holder_extra(owner));
    }
}

fn inst_of(addr: usize) -> Option<&'static tables::Inst> {
    let t = tables::get();
    tables::find(INSTANCES, addr, |i| &t.instances[i].key).map(|i| &t.instances[i])
}

/// Before an rwlock or spinlock unlock: held by another thread, or (spinlock) not locked.
pub fn before_unlock(rec: &Record, addr: usize, kind: Kind) {
    if rec.find_held(addr).is_some() {
        return;
    }
    let holder = inst_of(addr).map_or(0, |i| i.holder.load(Ordering::Relaxed));
    let me = rec.tid.load(Ordering::Relaxed);
    match kind {
        Kind::Spin if holder != 0 && holder != me => {
            once("unlock_not_owner", "unlock of a spinlock held by another thread", addr, kind, &holder_extra(holder));
        }
        // SAFETY: a live pthread_spinlock_t (an int; 1 = unlocked in glibc's encoding),
        // read atomically.
        Kind::Spin if unsafe { (*(addr as *const AtomicI32)).load(Ordering::Relaxed) } == 1 => {
            once("unlock_unlocked", "unlock of a spinlock that is not locked", addr, kind, &nothing);
        }
        Kind::RwLock if holder != 0 && holder != me => {
            once("unlock_not_owner", "unlock of an rwlock write-locked by another thread", addr, kind, &holder_extra(holder));
        }
        _ => {}
    }
}

/// Before an rwlock operation: used after destroy.
pub fn before_use(addr: usize, kind: Kind) {
    if inst_of(addr).is_some_and(|i| i.flags.load(Ordering::Relaxed) & inst_flags::DESTROYED != 0) {
        once("use_after_destroy", "use of a destroyed lock", addr, kind, &nothing);
    }
}

/// Before a condition wait: destroyed condvar, mutex not held, a second mutex.
pub fn before_cond_wait(rec: &Record, caddr: usize, ci: u32, maddr: usize) {
    let Some(i) = super::inst(ci) else { return };
    if i.flags.load(Ordering::Relaxed) & inst_flags::DESTROYED != 0 {
        once("use_after_destroy", "wait on a destroyed condition variable", caddr, Kind::Cond, &nothing);
    }
    let owner = mutex_owner(maddr);
    if owner != rec.tid.load(Ordering::Relaxed) && mutex_kind(maddr) & !KIND_KNOWN == 0 {
        once(
            "cond_wait_unheld",
            "condition wait with a mutex the thread does not hold",
            maddr,
            Kind::Mutex,
            &nothing,
        );
    }
    let other = i.cond_mutex.load(Ordering::Relaxed);
    if i.waiters.load(Ordering::Relaxed) > 0 && other != 0 && other != maddr {
        let om = super::instance(other, Kind::Mutex, false).1;
        let extra = move |o: &mut Out| {
            if o.json {
                o.key("other_mutex", false);
                names::lock(o, other, om);
            } else {
                o.s("\n  while other threads wait on it with ");
                names::lock(o, other, om);
            }
        };
        once("cond_two_mutexes", "one condition variable used with two mutexes", caddr, Kind::Cond, &extra);
    }
}

/// Before pthread_*_destroy.
pub fn destroying(addr: usize, kind: Kind) {
    let Some(rec) = thread::current() else { return };
    rec.guarded(|| {
        match kind {
            Kind::Mutex => {
                let k = mutex_kind(addr);
                let owner = mutex_owner(addr);
                if k == -1 {
                    once("use_after_destroy", "destroy of a mutex destroyed before (EINVAL)", addr, kind, &nothing);
                    return;
                }
                if owner != 0 && owner < OWNER_SPECIAL && k & !KIND_KNOWN == 0 {
                    once("destroy_locked", "destroy of a locked mutex (EBUSY)", addr, kind, &holder_extra(owner));
                    return;
                }
            }
            Kind::Cond => {
                let waiters = inst_of(addr).map_or(0, |i| i.waiters.load(Ordering::Relaxed));
                if waiters > 0 {
                    let extra = move |o: &mut Out| {
                        if o.json {
                            o.key("waiters", false).u(waiters as u64);
                        } else {
                            o.s("\n  ").u(waiters as u64).s(" thread(s) wait on it; the destroy waits for them to leave");
                        }
                    };
                    once("destroy_waited_on", "destroy of a condition variable that threads wait on", addr, kind, &extra);
                }
            }
            Kind::RwLock | Kind::Spin => {
                let holder = inst_of(addr).map_or(0, |i| i.holder.load(Ordering::Relaxed));
                if holder != 0 {
                    once("destroy_locked", "destroy of a held lock", addr, kind, &holder_extra(holder));
                }
            }
            Kind::Sem => {}
        }
        if let Some(i) = inst_of(addr) {
            i.flags.fetch_or(inst_flags::DESTROYED, Ordering::Relaxed);
        }
    });
}

/// After pthread_*_init: a new class made here, and the object is usable again.
pub fn initialized(addr: usize, kind: Kind) {
    if addr == 0 {
        return;
    }
    let Some(rec) = thread::current() else { return };
    rec.guarded(|| {
        let (i, _) = super::instance(addr, kind, true);
        if let Some(i) = super::inst(i) {
            i.flags.store(kind as u32, Ordering::Relaxed);
            i.holder.store(0, Ordering::Relaxed);
            i.waiters.store(0, Ordering::Relaxed);
        }
    });
}

/// `hold`: a lock was held `dt` (over the threshold) and has just been released.
pub fn long_hold(addr: usize, class: u32, dt: u64) {
    let st = stack::here();
    if !first(what_id("long_hold") ^ tables::mix((class as u64) << 32 ^ st as u64)) {
        return;
    }
    let limit = config().hold_ns;
    let extra = move |o: &mut Out| {
        if o.json {
            o.key("held_ns", false).u(dt).key("limit_ns", false).u(limit);
        } else {
            o.s("\n  held for ").dur(dt).s(" (RPTHREAD_DIAG_HOLD_MS=").u(limit / 1_000_000).s("), released");
        }
    };
    emit("long_hold", "lock held too long", Some((addr, class)), &extra, st);
}

/// Whether a lock on the thread's held list is really still held by it (another thread may
/// have unlocked it — reported then), leaving out robust mutexes, which are made to be left
/// locked by a dying owner.
fn still_held(rec: &Record, h: &super::thread::Held) -> bool {
    let addr = h.addr.load(Ordering::Relaxed);
    let mode = h.mode.load(Ordering::Relaxed);
    let me = rec.tid.load(Ordering::Relaxed);
    match Kind::from_u32((mode >> 8) & 0xff) {
        Some(Kind::Mutex) => mutex_kind(addr) & KIND_ROBUST == 0 && mutex_owner(addr) == me,
        _ if mode & 0xff == hold::EXCLUSIVE => {
            super::inst(h.inst.load(Ordering::Relaxed)).is_some_and(|i| i.holder.load(Ordering::Relaxed) == me)
        }
        _ => true,
    }
}

/// `hold`, seen by a waiter (after each 250 ms slice of its wait): the lock it waits for has
/// been held longer than the threshold and still is. Reported once per hold, with the
/// holder's stack as it is now (where it is stuck) and the waiter's.
pub fn held_now(waiter: &Record) {
    let kind = waiter.wait_kind.load(Ordering::Acquire);
    let Some(i) = super::inst(waiter.wait_inst.load(Ordering::Relaxed)) else { return };
    let holder = i.holder.load(Ordering::Relaxed);
    let addr = waiter.wait_obj.load(Ordering::Relaxed);
    if kind == thread::wait::NONE || holder == 0 {
        return;
    }
    let Some(h) = thread::find(holder).and_then(|r| r.find_held(addr)) else { return };
    let t0 = h.t0.load(Ordering::Relaxed);
    let dt = super::now_coarse().saturating_sub(t0);
    if t0 == 0 || dt <= config().hold_ns || !first(what_id("held_now") ^ tables::mix((holder as u64) << 32 ^ t0)) {
        return;
    }
    let class = i.class.load(Ordering::Relaxed);
    let frames = super::dump::stack_of(holder);
    let answered = matches!(frames, super::dump::Answer::Stack(_));
    let limit = config().hold_ns;
    let extra = move |o: &mut Out| {
        if o.json {
            o.key("held_ns", false).u(dt).key("limit_ns", false).u(limit).key("holder", false).s("{");
            names::thread(o, holder);
            super::dump::answer(o, &frames, "");
            o.s("}");
        } else {
            o.s("\n  held for ").dur(dt).s(" so far (RPTHREAD_DIAG_HOLD_MS=").u(limit / 1_000_000).s(") by ");
            names::thread(o, holder);
            o.s(if answered { ", which is at:\n" } else { ":\n" });
            super::dump::answer(o, &frames, "      at ");
            o.s("  a thread waits for it");
        }
    };
    emit("long_hold", "lock held too long, still held", Some((addr, class)), &extra, stack::here());
}

/// One of our threads is ending: does it still hold locks?
pub fn thread_exit() {
    let Some(rec) = thread::existing() else { return };
    let n = rec.held().iter().filter(|h| still_held(rec, h)).count() as u64;
    if n == 0 {
        return;
    }
    thread::set_busy(true);
    // Where it ends is our exit path; what it ran is its start routine.
    let start = crate::thread::current().and_then(|t| t.start).map_or(0, |f| f as usize);
    let st = 0;
    let extra = |o: &mut Out| {
        if o.json {
            o.key("held", false).s("[");
        } else {
            o.s(" ").u(n).s(" lock(s):");
        }
        let mut firstone = true;
        for h in rec.held() {
            let addr = h.addr.load(Ordering::Relaxed);
            let mode = h.mode.load(Ordering::Relaxed);
            if !still_held(rec, h) {
                continue;
            }
            if o.json {
                if !firstone {
                    o.s(",");
                }
                names::lock(o, addr, h.class.load(Ordering::Relaxed));
            } else {
                o.s("\n    ");
                names::lock(o, addr, h.class.load(Ordering::Relaxed));
                if mode & 0xff == hold::SHARED {
                    o.s(" (read)");
                }
            }
            firstone = false;
        }
        if o.json {
            o.s("]");
            if start != 0 {
                o.key("start_routine", false).s("\"");
                o.json = false;
                names::code(o, start);
                o.json = true;
                o.s("\"");
            }
        } else if start != 0 {
            o.s("\n  its start routine: ");
            names::code(o, start);
        }
    };
    emit("exit_holding", "thread ends holding", None, &extra, st);
    thread::set_busy(false);
}

/// After pthread_create succeeded: a joinable thread is remembered.
pub fn created(handle: libc::pthread_t) {
    let h = handle as usize;
    let Ok((detached, start)) = crate::thread::registry::with_thread(h, |t| {
        (t.state.load(Ordering::Acquire) & crate::thread::state::DETACHED != 0, t.start.map_or(0, |f| f as usize))
    }) else {
        return;
    };
    if detached {
        return;
    }
    let t = tables::get();
    if let Some((i, _)) = tables::find_or_claim(JOINABLE, h, |i| &t.joinable[i].handle) {
        t.joinable[i].start.store(start, Ordering::Relaxed);
        t.joinable[i].pending.store(1, Ordering::Release);
    }
}

/// A thread was joined or detached.
pub fn forget_joinable(h: usize) {
    let t = tables::get();
    if let Some(i) = tables::find(JOINABLE, h, |i| &t.joinable[i].handle) {
        t.joinable[i].pending.store(0, Ordering::Release);
    }
}

/// At exit: joinable threads that ended and were never joined; how many misuse reports were
/// repeats.
pub fn at_exit() {
    let t = tables::get();
    let mut running = 0u64;
    for j in t.joinable.iter() {
        let h = j.handle.load(Ordering::Acquire);
        if h == 0 || j.pending.load(Ordering::Acquire) == 0 {
            continue;
        }
        let st = crate::thread::registry::with_thread(h, |th| th.state.load(Ordering::Acquire));
        let Ok(st) = st else { continue };
        use crate::thread::state::{DETACHED, EXITED, JOIN_CLAIMED};
        if st & (DETACHED | JOIN_CLAIMED) != 0 {
            continue;
        }
        if st & EXITED == 0 {
            running += 1;
            continue;
        }
        let start = j.start.load(Ordering::Relaxed);
        let Some(mut o) = report::begin(Target::Main) else { return };
        if o.json {
            o.s("{").key("event", true).js(b"misuse").key("what", false).js(b"never_joined");
            o.key("message", false).js(b"thread ended and was never joined or detached");
            o.key("pid", false).i(crate::sys::getpid() as i64).key("handle", false).u(h as u64);
            o.key("start_routine", false);
            let json = o.json;
            // A JSON string of the routine's name: written as text between quotes (names
            // of functions and objects need no escaping).
            o.s("\"");
            o.json = false;
            names::code(&mut o, start);
            o.json = json;
            o.s("\"}\n");
        } else {
            o.s("rpthread-diag: misuse: thread ").hex(h).s(" (start routine ");
            names::code(&mut o, start);
            o.s(") ended and was never joined or detached: its stack and descriptor leak\n");
        }
    }
    let sup = SUPPRESSED.load(Ordering::Relaxed);
    if running != 0 || sup != 0 {
        let Some(mut o) = report::begin(Target::Main) else { return };
        if o.json {
            o.s("{").key("event", true).js(b"misuse_summary").key("pid", false).i(crate::sys::getpid() as i64);
            o.key("joinable_running_at_exit", false).u(running).key("repeats_not_reported", false).u(sup).s("}\n");
        } else {
            o.s("rpthread-diag: misuse summary (pid ").i(crate::sys::getpid() as i64).s("): ");
            o.u(running).s(" joinable thread(s) still running at exit, ");
            o.u(sup).s(" repeated report(s) left out\n");
        }
    }
}
