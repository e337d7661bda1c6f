//! The exports' diagnostic paths: `abi` calls these instead of its own body when
//! [`super::enabled`]. Each does what the export does (same validation, same domain calls,
//! same return convention) and keeps the books around it.
//!
//! The acquisition pattern ([`acquire`]): try without blocking first; only if the lock is busy
//! is the blocking call made, timed, and announced in the thread's record (what it waits for,
//! since when). With `deadlock` on, an untimed wait is cut into 250 ms timed waits, and after
//! each the thread looks for a wait-for cycle through itself ([`super::deadlock::check`]).
//! Semantics are the export's: a timed-out slice simply waits again.

use super::config::mode;
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
    let t = now() + ns;
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
    let (inst, class) = if track { rec.guarded(|| super::instance(a.addr, a.kind, false)) } else { (0, 0) };
    let relock = track && rec.find_held(a.addr).is_some();
    if m & mode::ORDER != 0 && blocking && class != 0 && !relock && a.mode == hold::EXCLUSIVE {
        rec.guarded(|| order::check(rec, a, class))?;
    }
    let mut r = try_op();
    let mut waited = None;
    if blocking && r == Err(busy) {
        let t0 = now();
        rec.begin_wait(a.wait, a.addr, inst, 0, t0);
        r = wait_blocked(rec, user, block);
        rec.end_wait();
        waited = Some(now() - t0);
    }
    let got = matches!(r, Ok(()) | Err(Errno::EOWNERDEAD));
    if got && track && inst != 0 {
        note_held(rec, a, inst, class, m);
    }
    if got && m & mode::CONTENTION != 0 {
        contention::acquired(rec, a, class, waited);
    }
    r
}

/// Books a lock the thread now holds.
fn note_held(rec: &Record, a: Acq, inst: u32, class: u32, m: u32) {
    match rec.find_held(a.addr) {
        // A recursive relock (recursive mutex, another read lock): one level deeper.
        Some(h) => {
            h.mode.fetch_add(1 << 16, Ordering::Relaxed);
        }
        None => {
            let t0 = if m & mode::HOLD != 0 { super::now_coarse() } else { 0 };
            rec.push(a.addr, inst, class, a.mode, a.kind, t0);
        }
    }
    if a.mode == hold::EXCLUSIVE {
        if let Some(i) = super::inst(inst) {
            i.holder.store(rec.tid.load(Ordering::Relaxed), Ordering::Relaxed);
        }
    }
}

/// What a release found out, for [`after_release`].
pub struct Released {
    addr: usize,
    /// (hold time, class) when the hold ended and was timed.
    held: Option<(u64, u32)>,
}

/// Books a release, before the lock word is released (so the holder field is cleared before
/// the next owner sets it).
fn release(rec: &Record, addr: usize) -> Released {
    let mut out = Released { addr, held: None };
    if modes() & mode::TRACK == 0 {
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
        if mode & 0xff == hold::EXCLUSIVE {
            if let Some(i) = super::inst(inst) {
                // Still held by us here (the word is released after this): nobody else can
                // write the holder now, so a load and a store do.
                if i.holder.load(Ordering::Relaxed) == rec.tid.load(Ordering::Relaxed) {
                    i.holder.store(0, Ordering::Relaxed);
                }
            }
        }
        if t0 != 0 {
            out.held = Some((super::now_coarse().saturating_sub(t0), class));
        }
    }
    out
}

/// After the lock word was released: hold-time sample and the long-hold warning.
fn after_release(rec: &'static Record, r: Released) {
    let m = modes();
    if m & mode::CONTENTION != 0 {
        contention::released(rec, r.addr);
    }
    if let Some((dt, class)) = r.held {
        if m & mode::CONTENTION != 0 {
            contention::long_hold_seen(class, dt);
        }
        if m & mode::HOLD != 0 && dt > super::config().hold_ns {
            rec.guarded(|| misuse::long_hold(r.addr, class, dt));
        }
    }
}

// ---- mutexes ---------------------------------------------------------------------------------

fn mutex<'a>(p: *mut pthread_mutex_t) -> Result<&'a Mutex> {
    // SAFETY: as in abi::mutex: a null or live pthread_mutex_t, which Mutex lays out.
    unsafe { p.cast::<Mutex>().as_ref() }.ok_or(Errno::EINVAL)
}

fn mutex_acq(p: *mut pthread_mutex_t) -> Acq {
    Acq { kind: Kind::Mutex, addr: p as usize, mode: hold::EXCLUSIVE, wait: wait::MUTEX }
}

/// pthread_mutex_lock with diagnostics. With `contention` alone, an uncontended acquisition
/// that is not the sampled one costs the try-lock and a thread-local decrement (a function
/// of its own, so the export's path with diagnostics off stays the same three
/// instructions); everything else goes to [`mutex_lock_full`].
///
/// # Safety
/// As pthread_mutex_lock: `p` null or an initialized mutex.
#[inline(never)]
pub unsafe fn mutex_lock(p: *mut pthread_mutex_t) -> c_int {
    if super::contention_only() {
        // SAFETY: as in `mutex`.
        if let Some(m) = unsafe { p.cast::<Mutex>().as_ref() } {
            match m.trylock() {
                Ok(()) if thread::tick() => return 0,
                // Busy: the full path tries again and blocks, timed.
                Err(Errno::EBUSY) => {}
                // Taken (the sampled one), or taken with EOWNERDEAD, or an error: booked
                // without locking again.
                r => return mutex_taken(p, r),
            }
        }
    }
    // SAFETY: forwarded.
    unsafe { mutex_lock_full(p) }
}

/// The contention fast path took the lock (or failed without blocking): book it.
#[inline(never)]
fn mutex_taken(p: *mut pthread_mutex_t, r: Result<()>) -> c_int {
    taken(mutex_acq(p), r)
}

/// A contention fast path's acquisition that is the sampled one (or a result that is not a
/// plain success): booked as an uncontended acquisition; the result passes through.
#[inline(never)]
fn taken(a: Acq, r: Result<()>) -> c_int {
    if let (true, Some(rec)) = (matches!(r, Ok(()) | Err(Errno::EOWNERDEAD)), thread::current()) {
        contention::acquired(rec, a, 0, None);
    }
    code(r)
}

/// pthread_mutex_lock with diagnostics, every mode.
///
/// # Safety
/// As pthread_mutex_lock.
#[inline(never)]
pub unsafe fn mutex_lock_full(p: *mut pthread_mutex_t) -> c_int {
    let m = match mutex(p) {
        Ok(m) => m,
        Err(e) => return e.0,
    };
    let Some(rec) = thread::current() else { return code(m.lock()) };
    if modes() & mode::MISUSE != 0 {
        rec.guarded(|| misuse::before_mutex_lock(rec, p as usize, true));
    }
    let mut block = |d: Deadline| match d {
        None => m.lock(),
        Some((ts, c)) => m.timedlock(ts, c),
    };
    code(acquire(rec, mutex_acq(p), None, true, Errno::EBUSY, || m.trylock(), &mut block))
}

/// pthread_mutex_trylock with diagnostics.
///
/// # Safety
/// As pthread_mutex_trylock.
#[inline(never)]
pub unsafe fn mutex_trylock(p: *mut pthread_mutex_t) -> c_int {
    let m = match mutex(p) {
        Ok(m) => m,
        Err(e) => return e.0,
    };
    let Some(rec) = thread::current() else { return code(m.trylock()) };
    if modes() & mode::MISUSE != 0 {
        rec.guarded(|| misuse::before_mutex_lock(rec, p as usize, false));
    }
    code(acquire(rec, mutex_acq(p), None, false, Errno::EBUSY, || m.trylock(), &mut |_| Err(Errno::EBUSY)))
}

/// pthread_mutex_clocklock (and timedlock) with diagnostics.
///
/// # Safety
/// As pthread_mutex_clocklock.
#[inline(never)]
pub unsafe fn mutex_clocklock(p: *mut pthread_mutex_t, clockid: clockid_t, abstime: *const timespec) -> c_int {
    let r = (|| {
        let m = mutex(p)?;
        let clock = Clock::from_clockid(clockid)?;
        // SAFETY: the caller passes null or a readable timespec.
        let ts = unsafe { abstime.as_ref() }.ok_or(Errno::EINVAL)?;
        // The export checks the deadline before anything else (Mutex::timedlock).
        if !valid_timespec(ts) {
            return Err(Errno::EINVAL);
        }
        let Some(rec) = thread::current() else { return m.timedlock(ts, clock) };
        if modes() & mode::MISUSE != 0 {
            rec.guarded(|| misuse::before_mutex_lock(rec, p as usize, true));
        }
        let mut block = |d: Deadline| match d {
            None => m.lock(),
            Some((ts, c)) => m.timedlock(ts, c),
        };
        acquire(rec, mutex_acq(p), Some((ts, clock)), true, Errno::EBUSY, || m.trylock(), &mut block)
    })();
    code(r)
}

/// pthread_mutex_unlock with diagnostics; with `contention` alone, the unlock of a lock whose
/// hold is not being timed is the plain unlock plus one thread-local compare.
///
/// # Safety
/// As pthread_mutex_unlock.
#[inline(never)]
pub unsafe fn mutex_unlock(p: *mut pthread_mutex_t) -> c_int {
    if super::contention_only() && thread::timed() != p as usize {
        // SAFETY: as in `mutex`.
        if let Some(m) = unsafe { p.cast::<Mutex>().as_ref() } {
            return code(m.unlock());
        }
    }
    // SAFETY: forwarded.
    unsafe { mutex_unlock_full(p) }
}

/// pthread_mutex_unlock with diagnostics, every mode.
///
/// # Safety
/// As pthread_mutex_unlock.
#[inline(never)]
pub unsafe fn mutex_unlock_full(p: *mut pthread_mutex_t) -> c_int {
    let m = match mutex(p) {
        Ok(m) => m,
        Err(e) => return e.0,
    };
    let Some(rec) = thread::current() else { return code(m.unlock()) };
    if modes() & mode::MISUSE != 0 {
        rec.guarded(|| misuse::before_mutex_unlock(rec, p as usize));
    }
    let rel = release(rec, p as usize);
    let r = m.unlock();
    after_release(rec, rel);
    code(r)
}

// ---- condition variables ---------------------------------------------------------------------

fn cond<'a>(p: *mut pthread_cond_t) -> Result<&'a Cond> {
    // SAFETY: as in abi::cond: a null or live pthread_cond_t, which Cond lays out.
    unsafe { p.cast::<Cond>().as_ref() }.ok_or(Errno::EINVAL)
}

/// pthread_cond_wait / timedwait / clockwait with diagnostics. `abstime` null: untimed;
/// `clockid` None: the condvar's own clock (timedwait).
///
/// # Safety
/// As pthread_cond_timedwait: `c`, `mx` null or initialized; `abstime` null or readable.
#[inline(never)]
pub unsafe fn cond_wait(c: *mut pthread_cond_t, mx: *mut pthread_mutex_t, timed: bool, clockid: Option<clockid_t>, abstime: *const timespec) -> c_int {
    let r = (|| {
        // glibc's order: the deadline, then the clock, then the objects.
        let ts = if timed {
            // SAFETY: the caller passes null or a readable timespec.
            let ts = unsafe { abstime.as_ref() }.ok_or(Errno::EINVAL)?;
            if !valid_timespec(ts) {
                return Err(Errno::EINVAL);
            }
            Some(ts)
        } else {
            None
        };
        let clock = match clockid {
            Some(id) => Some(Clock::from_clockid(id)?),
            None => None,
        };
        let cv = cond(c)?;
        let m = mutex(mx)?;
        let deadline = ts.map(|ts| (ts, clock.unwrap_or_else(|| cv.clock())));
        let Some(rec) = thread::current() else { return cv.wait(m, deadline) };
        cond_wait_booked(rec, cv, c as usize, m, mx as usize, deadline)
    })();
    code(r)
}

fn cond_wait_booked(rec: &'static Record, cv: &Cond, caddr: usize, m: &Mutex, maddr: usize, deadline: Deadline) -> Result<()> {
    let md = modes();
    let track = md & mode::TRACK != 0;
    let (ci, cclass) = if track || md & mode::CONTENTION != 0 {
        rec.guarded(|| super::instance(caddr, Kind::Cond, false))
    } else {
        (0, 0)
    };
    if md & mode::MISUSE != 0 {
        rec.guarded(|| misuse::before_cond_wait(rec, caddr, ci, maddr));
    }
    let cinst = super::inst(ci);
    if let Some(i) = cinst {
        i.waiters.fetch_add(1, Ordering::Relaxed);
        i.cond_mutex.store(maddr, Ordering::Relaxed);
    }
    // The mutex is released for the wait: off the held list, no holder.
    let held = rec.find_held(maddr).map(|h| (h.inst.load(Ordering::Relaxed), h.class.load(Ordering::Relaxed)));
    let rel = release(rec, maddr);
    let t0 = now();
    rec.begin_wait(wait::COND, caddr, ci, 0, t0);
    let r = cv.wait(m, deadline);
    rec.end_wait();
    let waited = now() - t0;
    if let Some(i) = cinst {
        i.waiters.fetch_sub(1, Ordering::Relaxed);
    }
    // Back from the wait, the mutex is held again (also on ETIMEDOUT and EOWNERDEAD).
    if !matches!(r, Err(Errno::EPERM) | Err(Errno::EINVAL)) {
        let (mi, mc) = match held {
            Some(h) => h,
            None if track => rec.guarded(|| super::instance(maddr, Kind::Mutex, false)),
            None => (0, 0),
        };
        if track && mi != 0 {
            note_held(rec, mutex_acq(maddr as *mut _), mi, mc, md);
        }
        if md & mode::CONTENTION != 0 {
            contention::cond_waited(cclass, waited);
        }
    }
    // The hold that ended at the wait is reported like any other.
    after_release(rec, rel);
    r
}

// ---- rwlocks -----------------------------------------------------------------------------------

fn rwlock<'a>(p: *mut pthread_rwlock_t) -> Result<&'a RwLock> {
    // SAFETY: as in abi::rwlock: a null or live pthread_rwlock_t, which RwLock lays out.
    unsafe { p.cast::<RwLock>().as_ref() }.ok_or(Errno::EINVAL)
}

fn rw_acq(p: *mut pthread_rwlock_t, write: bool) -> Acq {
    Acq {
        kind: Kind::RwLock,
        addr: p as usize,
        mode: if write { hold::EXCLUSIVE } else { hold::SHARED },
        wait: if write { wait::WRLOCK } else { wait::RDLOCK },
    }
}

/// The rwlock lock calls with diagnostics: `write` or read; `try_only`; a deadline (clockid,
/// abstime) when `timed`. With `contention` alone, an uncontended untimed acquisition that
/// is not the sampled one is the try-lock and a thread-local decrement, as for mutexes.
///
/// # Safety
/// As the pthread_rwlock_* lock calls.
#[inline(never)]
pub unsafe fn rwlock_lock(p: *mut pthread_rwlock_t, write: bool, try_only: bool, timed: Option<(clockid_t, *const timespec)>) -> c_int {
    if super::contention_only() && timed.is_none() {
        if let Ok(l) = rwlock(p) {
            match if write { l.try_write() } else { l.try_read() } {
                Ok(()) if thread::tick() => return 0,
                Err(Errno::EBUSY) if !try_only => {}
                r => return taken(rw_acq(p, write), r),
            }
        }
    }
    // SAFETY: forwarded.
    unsafe { rwlock_lock_full(p, write, try_only, timed) }
}

/// The rwlock lock calls with diagnostics, every mode.
///
/// # Safety
/// As the pthread_rwlock_* lock calls.
#[inline(never)]
unsafe fn rwlock_lock_full(p: *mut pthread_rwlock_t, write: bool, try_only: bool, timed: Option<(clockid_t, *const timespec)>) -> c_int {
    let r = (|| {
        let user = match timed {
            Some((clockid, abstime)) => {
                // As abi::rwlock::deadline: the clock, then the pointer, then the nanoseconds.
                let clock = Clock::from_clockid(clockid)?;
                // SAFETY: the caller passes null or a readable timespec.
                let ts = unsafe { abstime.as_ref() }.ok_or(Errno::EINVAL)?;
                if !valid_timespec(ts) {
                    return Err(Errno::EINVAL);
                }
                Some((ts, clock))
            }
            None => None,
        };
        let l = rwlock(p)?;
        let try_op = || if write { l.try_write() } else { l.try_read() };
        let mut block = |d: Deadline| if write { l.write(d) } else { l.read(d) };
        let Some(rec) = thread::current() else {
            return if try_only { try_op() } else { block(user) };
        };
        if modes() & mode::MISUSE != 0 {
            rec.guarded(|| misuse::before_use(p as usize, Kind::RwLock));
        }
        acquire(rec, rw_acq(p, write), user, !try_only, Errno::EBUSY, try_op, &mut block)
    })();
    code(r)
}

/// pthread_rwlock_unlock with diagnostics.
///
/// # Safety
/// As pthread_rwlock_unlock.
#[inline(never)]
pub unsafe fn rwlock_unlock(p: *mut pthread_rwlock_t) -> c_int {
    let l = match rwlock(p) {
        Ok(l) => l,
        Err(e) => return e.0,
    };
    if super::contention_only() && thread::timed() != p as usize {
        return code(l.unlock());
    }
    let Some(rec) = thread::current() else { return code(l.unlock()) };
    if modes() & mode::MISUSE != 0 {
        rec.guarded(|| misuse::before_unlock(rec, p as usize, Kind::RwLock));
    }
    let rel = release(rec, p as usize);
    let r = l.unlock();
    after_release(rec, rel);
    code(r)
}

// ---- spinlocks ---------------------------------------------------------------------------------

fn spin<'a>(p: *mut pthread_spinlock_t) -> Result<&'a SpinLock> {
    // SAFETY: as in abi::spin: a null or live pthread_spinlock_t (a transparent i32).
    unsafe { p.cast::<SpinLock>().as_ref() }.ok_or(Errno::EINVAL)
}

/// Spins for a busy spinlock with try-locks (glibc's encoding accepts them from any party),
/// yielding now and then, until `deadline` (CLOCK_MONOTONIC) if there is one.
fn spin_until(s: &SpinLock, deadline: Deadline) -> Result<()> {
    let end = deadline.map(|(ts, _)| ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64);
    let mut n = 0u32;
    loop {
        if s.try_lock().is_ok() {
            return Ok(());
        }
        n = n.wrapping_add(1);
        if n % 128 == 0 {
            crate::sys::sched_yield();
            if end.is_some_and(|e| now() >= e) {
                return Err(Errno::ETIMEDOUT);
            }
        } else {
            core::hint::spin_loop();
        }
    }
}

/// pthread_spin_lock / trylock with diagnostics.
///
/// # Safety
/// As pthread_spin_lock.
#[inline(never)]
pub unsafe fn spin_lock(p: *mut pthread_spinlock_t, try_only: bool) -> c_int {
    let s = match spin(p) {
        Ok(s) => s,
        Err(e) => return e.0,
    };
    let a = Acq { kind: Kind::Spin, addr: p as usize, mode: hold::EXCLUSIVE, wait: wait::SPIN };
    if super::contention_only() {
        match s.try_lock() {
            Ok(()) if thread::tick() => return 0,
            Err(Errno::EBUSY) if !try_only => {}
            r => return taken(a, r),
        }
    }
    let Some(rec) = thread::current() else {
        return if try_only { code(s.try_lock()) } else { s.lock(); 0 };
    };
    code(acquire(rec, a, None, !try_only, Errno::EBUSY, || s.try_lock(), &mut |d| spin_until(s, d)))
}

/// pthread_spin_unlock with diagnostics.
///
/// # Safety
/// As pthread_spin_unlock.
#[inline(never)]
pub unsafe fn spin_unlock(p: *mut pthread_spinlock_t) -> c_int {
    let s = match spin(p) {
        Ok(s) => s,
        Err(e) => return e.0,
    };
    if super::contention_only() && thread::timed() != p as usize {
        s.unlock();
        return 0;
    }
    let Some(rec) = thread::current() else {
        s.unlock();
        return 0;
    };
    if modes() & mode::MISUSE != 0 {
        rec.guarded(|| misuse::before_unlock(rec, p as usize, Kind::Spin));
    }
    let rel = release(rec, p as usize);
    s.unlock();
    after_release(rec, rel);
    0
}

// ---- semaphores ----------------------------------------------------------------------------------

/// The sem_* return convention: 0, or -1 with errno set.
fn sem_ret(r: Result<()>) -> c_int {
    match r {
        Ok(()) => 0,
        Err(e) => {
            // SAFETY: the calling thread's errno slot.
            unsafe { *libc::__errno_location() = e.0 };
            -1
        }
    }
}

/// sem_wait / sem_timedwait / sem_clockwait with diagnostics (contention only): `timed` is
/// (clockid, abstime), `cancel_first`: the export acts on a pending cancellation first.
///
/// # Safety
/// As sem_clockwait.
#[inline(never)]
pub unsafe fn sem_wait(p: *mut sem_t, timed: Option<(clockid_t, *const timespec)>, cancel_first: bool) -> c_int {
    let user = match timed {
        Some((clockid, abstime)) => {
            let d = (|| {
                let clock = Clock::from_clockid(clockid)?;
                // SAFETY: the caller passes null or a readable timespec.
                let ts = unsafe { abstime.as_ref() }.ok_or(Errno::EINVAL)?;
                if !valid_timespec(ts) {
                    return Err(Errno::EINVAL);
                }
                Ok((ts, clock))
            })();
            match d {
                Ok(d) => Some(d),
                Err(e) => return sem_ret(Err(e)),
            }
        }
        None => None,
    };
    if cancel_first {
        crate::cancel::testcancel();
    }
    // SAFETY: as in abi::sem: a null or live sem_t, which Semaphore lays out.
    let s = match unsafe { p.cast::<Semaphore>().as_ref() } {
        Some(s) => s,
        None => return sem_ret(Err(Errno::EINVAL)),
    };
    let a = Acq { kind: Kind::Sem, addr: p as usize, mode: 0, wait: wait::SEM };
    // Not waiting at all if a token is there: only a wait that blocks is announced and timed.
    // A semaphore has no owner: it takes no part in deadlock checks, so it is never sliced.
    let contention = modes() & mode::CONTENTION != 0;
    match s.try_wait() {
        Ok(()) if !contention || thread::tick() => return 0,
        Ok(()) => {
            taken(a, Ok(()));
            return 0;
        }
        Err(_) => {}
    }
    let Some(rec) = thread::current() else { return sem_ret(s.wait(user)) };
    let t0 = now();
    rec.begin_wait(a.wait, a.addr, 0, 0, t0);
    let r = s.wait(user);
    rec.end_wait();
    if r.is_ok() && contention {
        contention::acquired(rec, a, 0, Some(now() - t0));
    }
    sem_ret(r)
}

// ---- threads -------------------------------------------------------------------------------------

/// pthread_join and its timed and try variants with diagnostics: the wait is announced (a
/// join can be part of a deadlock), and a successful join forgets the thread for the
/// never-joined check.
///
/// # Safety
/// `retval` null or writable.
#[inline(never)]
pub unsafe fn join(handle: libc::pthread_t, retval: *mut *mut c_void, how: crate::thread::join::Wait) -> c_int {
    use crate::thread::join::{self as j, Wait};
    let r = match (thread::current(), how) {
        (Some(rec), Wait::Forever) => {
            let tid = crate::thread::with_target(handle as usize, |t| t.tid()).unwrap_or(0);
            rec.begin_wait(wait::JOIN, handle as usize, 0, tid, now());
            let mut out = core::ptr::null_mut();
            let mut block = |d: Deadline| {
                let how = match d {
                    None => Wait::Forever,
                    Some((ts, c)) => Wait::Until(ts, c),
                };
                j::join(handle as usize, how).map(|v| out = v)
            };
            let r = wait_blocked(rec, None, &mut block).map(|()| out);
            rec.end_wait();
            r
        }
        _ => j::join(handle as usize, how),
    };
    match r {
        Ok(v) => {
            misuse::forget_joinable(handle as usize);
            if !retval.is_null() {
                // SAFETY: the caller passes a writable pointer.
                unsafe { *retval = v };
            }
            0
        }
        Err(e) => e.0,
    }
}
