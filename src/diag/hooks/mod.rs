//! The exports' diagnostic paths: `abi` calls these instead of its own body when
//! [`super::enabled`]. Each does what the export does (same validation, same domain calls,
//! same return convention) and keeps the books around it.
//!
//! The acquisition pattern ([`acquire`]): try without blocking first; only if the lock is busy
//! is the blocking call made, timed, and announced in the thread's record (what it waits for,
//! since when). With `deadlock` on, an untimed wait is cut into 250 ms timed waits, and after
//! each the thread looks for a wait-for cycle through itself ([`super::deadlock::check`]).
//! Semantics are the export's: a timed-out slice simply waits again.

mod mutex;
mod cond;
mod rwlock;
mod spin;
mod sem;
mod join;

pub use mutex::*;
pub use cond::*;
pub use rwlock::*;
pub use spin::*;
pub use sem::*;
pub use join::*;

use crate::diag::config::mode;
use super::tables::Kind;
use super::thread::{self, hold, wait, Record};
use super::{contention, deadlock, misuse, modes, now, order, Acq};
use crate::errno::{code, Errno, Result};
use crate::sync::cond::Cond;
use crate::sync::model::Deadline;
use crate::sync::mutex::Mutex;
use crate::sync::rwlock::RwLock;
use crate::sync::sem::Semaphore;
use crate::sync::spin::SpinLock;
use crate::sys::futex::{valid_timespec, Clock};
use core::ffi::c_void;
use core::sync::atomic::Ordering;
use libc::{c_int, clockid_t, pthread_cond_t, pthread_mutex_t, pthread_rwlock_t, pthread_spinlock_t, sem_t, timespec};

/// Slice of a blocked wait between two deadlock checks.
pub const CHECK_NS: u64 = 250_000_000;

/// An absolute CLOCK_MONOTONIC time `ns` from now.
fn after(ns: u64) -> timespec {
    let t = crate::diag::clock::monotonic() + ns;
    timespec { tv_sec: (t / 1_000_000_000) as i64, tv_nsec: (t % 1_000_000_000) as i64 }
}

/// Blocks with `block` until it succeeds or fails: in one call with a deadline of the caller's
/// (or with neither `deadlock` nor `hold` on), else in slices with a deadlock check and a
/// look at how long the holder has held the lock after each.
fn wait_blocked(rec: &'static Record, user: Deadline, block: &mut dyn FnMut(Deadline) -> Result<()>) -> Result<()> {
    let m = modes();
    if m & (mode::DEADLOCK | mode::HOLD) == 0 || user.is_some() {
        return block(user);
    }
    loop {
        let ts = after(CHECK_NS);
        match block(Some((&ts, Clock::Monotonic))) {
            Err(Errno::ETIMEDOUT) => {
                if m & mode::DEADLOCK != 0 {
                    if let Some(e) = rec.guarded(|| deadlock::check(rec)) {
                        return Err(e);
                    }
                }
                if m & mode::HOLD != 0 {
                    rec.guarded(|| misuse::held_now(rec));
                }
            }
            r => return r,
        }
    }
}

/// The acquisition pattern (see the module comment). `busy`: the error of `try_op` that
/// means "would block". `blocking`: false for the try-only calls.
fn acquire(
    rec: &'static Record,
    a: Acq,
    user: Deadline,
    blocking: bool,
    busy: Errno,
    try_op: impl FnOnce() -> Result<()>,
    block: &mut dyn FnMut(Deadline) -> Result<()>,
) -> Result<()> {
    let m = modes();
    let track = m & mode::TRACK != 0 && a.kind != Kind::Sem;
    let (inst, class) = if track { rec.guarded(|| crate::diag::instance(a.addr, a.kind, false)) } else { (0, 0) };
    let relock = track && rec.find_held(a.addr).is_some();
    if m & mode::ORDER != 0 && blocking && class != 0 && !relock && a.mode == hold::EXCLUSIVE {
        rec.guarded(|| order::check(rec, a, class))?;
    }
    let mut r = try_op();
    let mut waited = None;
    if blocking && r == Err(busy) {
        // The precise clock only where the wait is measured (`contention`); reports of a
        // wait in progress need no better than the coarse one.
        let timed = m & mode::CONTENTION != 0;
        let t0 = if timed { now() } else { crate::diag::now_coarse() };
        rec.begin_wait(a.wait, a.addr, inst, 0, t0);
        r = wait_blocked(rec, user, block);
        rec.end_wait();
        if timed {
            waited = Some(now().saturating_sub(t0));
        }
    }
    let got = matches!(r, Ok(()) | Err(Errno::EOWNERDEAD));
    if got && track && inst != 0 {
        // What a blocking acquisition of this kind would check was checked (a read needs
        // nothing: no edge goes into a shared acquisition).
        let checked = m & mode::ORDER != 0 && blocking;
        note_held(rec, a, inst, class, m, checked);
    }
    if got && m & mode::CONTENTION != 0 {
        contention::acquired(rec, a, class, waited, false);
    }
    r
}

/// Books a lock the thread now holds.
fn note_held(rec: &Record, a: Acq, inst: u32, class: u32, m: u32, checked: bool) {
    match rec.find_held(a.addr) {
        // A recursive relock (recursive mutex, another read lock): one level deeper.
        Some(h) => {
            h.mode.fetch_add(1 << 16, Ordering::Relaxed);
        }
        None => {
            let t0 = if m & mode::HOLD != 0 { crate::diag::now_coarse() } else { 0 };
            rec.push(a.addr, inst, class, a.mode, a.kind, t0, checked);
        }
    }
    if a.mode == hold::EXCLUSIVE && m & mode::HOLDER != 0 {
        if let Some(i) = crate::diag::inst(inst) {
            i.holder.store(rec.tid.load(Ordering::Relaxed), Ordering::Relaxed);
        }
    }
}

/// What a release found out, for [`after_release`].
pub struct Released {
    addr: usize,
    /// (hold time, class) when the hold ended and was timed.
    held: Option<(u64, u32)>,
    /// `contention`: the end of a hold being sampled (the clock read before the word is
    /// released, so that the release's futex wake is not counted), else 0.
    sample_end: u64,
}

/// Books a release, before the lock word is released (so the holder field is cleared before
/// the next owner sets it).
fn release(rec: &Record, addr: usize) -> Released {
    let m = modes();
    let mut out = Released { addr, held: None, sample_end: 0 };
    if thread::timed() == addr && m & mode::CONTENTION != 0 {
        out.sample_end = now();
    }
    if m & mode::TRACK == 0 {
        return out;
    }
    if let Some(h) = rec.find_held(addr) {
        let mode = h.mode.load(Ordering::Relaxed);
        if mode >> 16 > 1 {
            h.mode.fetch_sub(1 << 16, Ordering::Relaxed);
            return out;
        }
    }
    if let Some((mode, t0, class, inst)) = rec.pop(addr) {
        if mode & 0xff == hold::EXCLUSIVE && m & mode::HOLDER != 0 {
            if let Some(i) = crate::diag::inst(inst) {
                // Still held by us here (the word is released after this): nobody else can
                // write the holder now, so a load and a store do.
                if i.holder.load(Ordering::Relaxed) == rec.tid.load(Ordering::Relaxed) {
                    i.holder.store(0, Ordering::Relaxed);
                }
            }
        }
        if t0 != 0 {
            out.held = Some((crate::diag::now_coarse().saturating_sub(t0), class));
        }
    }
    out
}

/// After the lock word was released: hold-time sample and the long-hold warning.
fn after_release(rec: &'static Record, r: Released) {
    let m = modes();
    if m & mode::CONTENTION != 0 {
        contention::released(rec, r.addr, r.sample_end);
    }
    if let Some((dt, class)) = r.held {
        if m & mode::CONTENTION != 0 {
            contention::long_hold_seen(class, dt);
        }
        if m & mode::HOLD != 0 && dt > crate::diag::config().hold_ns {
            rec.guarded(|| misuse::long_hold(r.addr, class, dt));
        }
    }
}

/// `order` alone: whether an acquisition's book-keeping is cached in the thread's record
/// ([`Record::cached`]: same lock, taken and order-checked under the same held locks
/// before). If so, and the caller's try-lock succeeds, [`Cached::took`] books it with one
/// store; otherwise the caller takes the full path, which tries again. Measured: the
/// uncontended mutex pair, single-threaded, 14.1 ns on the full path against 2.2 ns with
/// diagnostics off.
#[inline(always)]
fn order_cached(addr: usize, held: u32) -> Option<Cached> {
    let rec = thread::current_claimed()?;
    Some(Cached { rec, n: rec.cached(addr, held)? })
}

/// See [`order_cached`].
struct Cached {
    rec: &'static Record,
    n: usize,
}

impl Cached {
    /// The lock was taken: it is held at the cached depth.
    #[inline(always)]
    fn took(self) -> c_int {
        self.rec.nheld.store(self.n as u32 + 1, Ordering::Relaxed);
        0
    }

    /// The acquisition must wait (the try-lock found the lock busy): `wait` finishes it,
    /// announced in the record meanwhile (for dumps), and books it as [`Cached::took`] does
    /// — unless a signal handler used this depth meanwhile, then as a plain push. `held`:
    /// as given to [`order_cached`].
    #[cold]
    fn wait(self, a: Acq, held: u32, wait: impl FnOnce() -> Result<()>) -> c_int {
        let rec = self.rec;
        let inst = rec.held[self.n].inst.load(Ordering::Relaxed);
        rec.begin_wait(a.wait, a.addr, inst, 0, crate::diag::now_coarse());
        let r = wait();
        rec.end_wait();
        if matches!(r, Ok(()) | Err(Errno::EOWNERDEAD)) {
            if rec.cached(a.addr, held) == Some(self.n) {
                rec.nheld.store(self.n as u32 + 1, Ordering::Relaxed);
            } else {
                let (inst, class) = rec.guarded(|| crate::diag::instance(a.addr, a.kind, false));
                if inst != 0 {
                    rec.push(a.addr, inst, class, a.mode, a.kind, 0, false);
                }
            }
        }
        code(r)
    }
}

/// `contention` alone: an acquisition that did not wait, or failed without waiting: counted
/// (one per-thread decrement), and booked if it is the sampled one (`a` is only made then:
/// the fast path stays free of stack stores).
#[inline(always)]
fn counted(r: Result<()>, a: impl FnOnce() -> Acq) -> c_int {
    if r.is_ok() && thread::tick() {
        0
    } else {
        taken(a(), r)
    }
}

/// `contention` alone: the wait a fast path ran into (a reader registered in a write phase,
/// a spinlock or plain mutex found taken): timed, and added to the thread's tally of waits
/// ([`contention::acquired`] with `defer`).
#[cold]
fn contended_wait(a: Acq, wait: impl FnOnce() -> Result<()>) -> c_int {
    let Some(rec) = thread::current() else { return code(wait()) };
    let t0 = now();
    rec.begin_wait(a.wait, a.addr, 0, 0, t0);
    let r = wait();
    rec.end_wait();
    if matches!(r, Ok(()) | Err(Errno::EOWNERDEAD)) {
        contention::acquired(rec, a, 0, Some(now().saturating_sub(t0)), true);
    }
    code(r)
}

/// `order` alone: the release of the innermost held lock, held once as `held` or `alt`, is
/// one store (before the caller releases the word). False: the caller takes the full path.
#[inline(always)]
fn order_fast_release(addr: usize, held: u32, alt: u32) -> bool {
    thread::current_claimed().is_some_and(|rec| rec.pop_innermost(addr, held, alt))
}

/// A contention fast path's acquisition that is the sampled one (or a result that is not a
/// plain success): booked as an uncontended acquisition; the result passes through.
#[inline(never)]
fn taken(a: Acq, r: Result<()>) -> c_int {
    if let (true, Some(rec)) = (matches!(r, Ok(()) | Err(Errno::EOWNERDEAD)), thread::current()) {
        contention::acquired(rec, a, 0, None, false);
    }
    code(r)
}

