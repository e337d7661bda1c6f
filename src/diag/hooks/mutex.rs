//! pthread_mutex_* with diagnostics.

use super::*;

pub(super) fn mutex<'a>(p: *mut pthread_mutex_t) -> Result<&'a Mutex> {
    // SAFETY: as in abi: a null or live C object (the hook's contract); layout: object.rs.
    unsafe { crate::object::obj(p) }
}

pub(super) fn mutex_acq(p: *mut pthread_mutex_t) -> Acq {
    Acq { kind: Kind::Mutex, addr: p as usize, mode: hold::EXCLUSIVE, wait: wait::MUTEX }
}

/// A mutex held once, as `Record::cached` and `pop_innermost` compare it.
const MUTEX_HELD: u32 = thread::held_once(hold::EXCLUSIVE, Kind::Mutex);

/// pthread_mutex_lock with diagnostics. With `contention` alone, an uncontended acquisition
/// that is not the sampled one costs the try-lock and a per-thread decrement, and a plain
/// mutex found busy goes to [`mutex_contended`]; with `order`
/// alone, one of a plain mutex whose book-keeping is cached, the try-lock and one store (a
/// function of its own, so the export's path with diagnostics off stays the same three
/// instructions); everything else goes to [`mutex_lock_full`].
///
/// # Safety
/// As pthread_mutex_lock: `p` null or an initialized mutex.
#[inline(never)]
pub unsafe fn mutex_lock(p: *mut pthread_mutex_t) -> c_int {
    // SAFETY: as in `mutex`.
    // What is not the fast path proper is in functions of their own with scalar arguments.
    if let Ok(m) = unsafe { crate::object::obj::<Mutex, _>(p) } {
        match crate::diag::modes_relaxed() {
            mode::CONTENTION => {
                let r = match m.try_plain() {
                    Some(true) => Ok(()),
                    Some(false) => return mutex_contended(p, m),
                    None => m.trylock(),
                };
                match r {
                    Ok(()) if thread::tick() => return 0,
                    // Busy: the full path tries again and blocks, timed.
                    Err(Errno::EBUSY) => {}
                    // Taken (the sampled one), or taken with EOWNERDEAD, or an error: booked
                    // without locking again.
                    r => return mutex_taken(p, r),
                }
            }
            mode::ORDER => {
                if let Some(c) = order_cached(p as usize, MUTEX_HELD) {
                    match m.try_plain() {
                        Some(true) => return c.took(),
                        Some(false) => return mutex_order_wait(c, p, m),
                        None => {}
                    }
                }
            }
            _ => {}
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

/// `contention` alone, a plain mutex found busy: the rest of the lock, timed and booked (the
/// full path's second try-lock and generic set-up lengthened every contended acquisition).
#[inline(never)]
fn mutex_contended(p: *mut pthread_mutex_t, m: &Mutex) -> c_int {
    contended_wait(mutex_acq(p), || m.lock_plain_busy())
}

/// `order`'s fast path found the mutex busy: the rest of the lock, then booked.
#[inline(never)]
fn mutex_order_wait(c: Cached, p: *mut pthread_mutex_t, m: &Mutex) -> c_int {
    c.wait(mutex_acq(p), MUTEX_HELD, || m.lock_plain_busy())
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
    if crate::diag::modes_relaxed() == mode::ORDER {
        if let Some(c) = order_cached(p as usize, MUTEX_HELD) {
            if m.try_plain() == Some(true) {
                return c.took();
            }
        }
    }
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
        // As the export: a null deadline waits without one (glibc's futex wait then has no
        // timeout); a malformed one is left to Mutex::timedlock, which reports it only when
        // the call must block (a free mutex is taken whatever the deadline, as on glibc).
        // SAFETY: the caller passes null or a readable timespec.
        let user = unsafe { abstime.as_ref() }.map(|ts| (ts, clock));
        let mut block = |d: Deadline| match d {
            None => m.lock(),
            Some((ts, c)) => m.timedlock(ts, c),
        };
        let Some(rec) = thread::current() else { return block(user) };
        if modes() & mode::MISUSE != 0 {
            rec.guarded(|| misuse::before_mutex_lock(rec, p as usize, true));
        }
        acquire(rec, mutex_acq(p), user, true, Errno::EBUSY, || m.trylock(), &mut block)
    })();
    code(r)
}

/// pthread_mutex_unlock with diagnostics; with `contention` alone, the unlock of a lock whose
/// hold is not being timed is the plain unlock plus one thread-local compare; with `order`
/// alone, that of the innermost lock held, the plain unlock and one store.
///
/// # Safety
/// As pthread_mutex_unlock.
#[inline(never)]
pub unsafe fn mutex_unlock(p: *mut pthread_mutex_t) -> c_int {
    // SAFETY: as in `mutex`.
    if let Ok(m) = unsafe { crate::object::obj::<Mutex, _>(p) } {
        let fast = match crate::diag::modes_relaxed() {
            mode::CONTENTION => thread::timed() != p as usize,
            mode::ORDER => order_fast_release(p as usize, MUTEX_HELD, MUTEX_HELD),
            _ => false,
        };
        if fast {
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
