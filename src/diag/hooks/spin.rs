//! pthread_spin_* with diagnostics.

use super::*;

/// A spinlock held once, as `Record::cached` and `pop_innermost` compare it.
const SPIN_HELD: u32 = thread::held_once(hold::EXCLUSIVE, Kind::Spin);

fn spin<'a>(p: *mut pthread_spinlock_t) -> Result<&'a SpinLock> {
    // SAFETY: as in abi: a null or live C object (the hook's contract); layout: object.rs.
    unsafe { crate::object::obj(p) }
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
        if n.is_multiple_of(128) {
            crate::sys::sched_yield();
            if end.is_some_and(|e| now() >= e) {
                return Err(Errno::ETIMEDOUT);
            }
        } else {
            core::hint::spin_loop();
        }
    }
}

fn spin_acq(p: *mut pthread_spinlock_t) -> Acq {
    Acq { kind: Kind::Spin, addr: p as usize, mode: hold::EXCLUSIVE, wait: wait::SPIN }
}

/// pthread_spin_lock / trylock with diagnostics: the fast paths of `contention` alone and
/// `order` alone, as the mutex's, inlined into the two entry points (so specialized and
/// without the full path's stack frame); the rest in [`spin_lock_full`].
///
/// # Safety
/// As pthread_spin_lock.
#[inline(always)]
unsafe fn spin_lock(p: *mut pthread_spinlock_t, try_only: bool) -> c_int {
    if let Ok(s) = spin(p) {
        if let Some(r) = spin_fast(p, s, try_only) {
            return r;
        }
    }
    // SAFETY: forwarded.
    unsafe { spin_lock_full(p, try_only) }
}

/// pthread_spin_lock with diagnostics.
///
/// # Safety
/// As pthread_spin_lock.
#[inline(never)]
pub unsafe fn spin_lock_wait(p: *mut pthread_spinlock_t) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { spin_lock(p, false) }
}

/// pthread_spin_trylock with diagnostics.
///
/// # Safety
/// As pthread_spin_trylock.
#[inline(never)]
pub unsafe fn spin_trylock(p: *mut pthread_spinlock_t) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { spin_lock(p, true) }
}

#[inline(always)]
fn spin_fast(p: *mut pthread_spinlock_t, s: &SpinLock, try_only: bool) -> Option<c_int> {
    // What is not the fast path proper is in functions of their own with scalar arguments, so
    // that this one needs no stack frame.
    match crate::diag::modes_relaxed() {
        // A blocking lock uses the lock's own first step.
        mode::CONTENTION => {
            let r = if try_only {
                s.try_lock()
            } else if s.lock_start() {
                Ok(())
            } else {
                return Some(spin_contended(p, s));
            };
            Some(if r.is_ok() && thread::tick() { 0 } else { spin_taken(p, r) })
        }
        mode::ORDER => {
            let c = order_cached(p as usize, SPIN_HELD)?;
            if try_only {
                s.try_lock().is_ok().then(|| c.took())
            } else if s.lock_start() {
                Some(c.took())
            } else {
                Some(spin_order_wait(c, p, s))
            }
        }
        _ => None,
    }
}

/// `contention`'s fast path: the sampled acquisition (or a failed try), booked.
#[inline(never)]
fn spin_taken(p: *mut pthread_spinlock_t, r: Result<()>) -> c_int {
    taken(spin_acq(p), r)
}

/// `contention`'s fast path found the spinlock taken: the timed rest of the lock.
#[inline(never)]
fn spin_contended(p: *mut pthread_spinlock_t, s: &SpinLock) -> c_int {
    contended_wait(spin_acq(p), || {
        s.lock_contended();
        Ok(())
    })
}

/// `order`'s fast path found the spinlock taken: the rest of the lock, then booked.
#[inline(never)]
fn spin_order_wait(c: Cached, p: *mut pthread_spinlock_t, s: &SpinLock) -> c_int {
    c.wait(spin_acq(p), SPIN_HELD, || {
        s.lock_contended();
        Ok(())
    })
}

/// pthread_spin_lock / trylock with diagnostics, every mode.
///
/// # Safety
/// As pthread_spin_lock.
#[inline(never)]
unsafe fn spin_lock_full(p: *mut pthread_spinlock_t, try_only: bool) -> c_int {
    let s = match spin(p) {
        Ok(s) => s,
        Err(e) => return e.0,
    };
    let a = spin_acq(p);
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
    let fast = match crate::diag::modes_relaxed() {
        mode::CONTENTION => thread::timed() != p as usize,
        mode::ORDER => order_fast_release(p as usize, SPIN_HELD, SPIN_HELD),
        _ => false,
    };
    if fast {
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
