//! pthread_spin_* with diagnostics.

use super::*;

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
    if crate::diag::contention_only() {
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
    if crate::diag::contention_only() && thread::timed() != p as usize {
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
