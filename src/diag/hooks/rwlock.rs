//! pthread_rwlock_* with diagnostics.

use super::*;
use crate::sync::rwlock::ReadStart;

fn rwlock<'a>(p: *mut pthread_rwlock_t) -> Result<&'a RwLock> {
    // SAFETY: as in abi: a null or live C object (the hook's contract); layout: object.rs.
    unsafe { crate::object::obj(p) }
}

fn rw_acq(p: *mut pthread_rwlock_t, write: bool) -> Acq {
    Acq {
        kind: Kind::RwLock,
        addr: p as usize,
        mode: if write { hold::EXCLUSIVE } else { hold::SHARED },
        wait: if write { wait::WRLOCK } else { wait::RDLOCK },
    }
}

/// An rwlock held once for writing / reading, as `Record::cached` and `pop_innermost`
/// compare it.
const RW_WRITE: u32 = thread::held_once(hold::EXCLUSIVE, Kind::RwLock);
const RW_READ: u32 = thread::held_once(hold::SHARED, Kind::RwLock);

/// The rwlock lock calls with diagnostics: `write` or read; `try_only`; a deadline (clockid,
/// abstime) when `timed`. Untimed calls have fast paths: with `contention` alone, an
/// acquisition that does not wait and is not the sampled one is the lock's own first step
/// (the reader's registration, or the writer's try-lock) and a per-thread decrement; with
/// `order` alone, one whose book-keeping is cached is that step and one store (see
/// `hooks::order_cached`). Inlined into each entry point below, so each is specialized.
///
/// # Safety
/// As the pthread_rwlock_* lock calls.
#[inline(always)]
unsafe fn rwlock_lock(p: *mut pthread_rwlock_t, write: bool, try_only: bool, timed: Option<(clockid_t, *const timespec)>) -> c_int {
    if let (None, Ok(l)) = (timed, rwlock(p)) {
        // Made only on the paths that book something: the fast paths stay free of stack stores.
        let a = || rw_acq(p, write);
        match crate::diag::modes_relaxed() {
            // A blocking read: the registration (as pthread_rwlock_rdlock's own), and if it
            // lands in a write phase, the rest: timed if a writer holds the lock (else the
            // reader starts the read phase itself, as a try-lock would).
            mode::CONTENTION if !write && !try_only && !l.readers_wait_behind_writers() => match l.read_start() {
                ReadStart::Done(r) => return counted(r, a),
                ReadStart::InWritePhase(r) if !RwLock::write_locked(r) => {
                    return counted(l.read_in_write_phase(r, None), a);
                }
                ReadStart::InWritePhase(r) => return contended_wait(a(), || l.read_in_write_phase(r, None)),
                ReadStart::BehindWriter => {}
            },
            mode::CONTENTION => match if write { l.try_write() } else { l.try_read() } {
                // Busy: the timed rest (as the full path would time it, without its lookups).
                Err(Errno::EBUSY) if !try_only => {
                    return contended_wait(a(), || if write { l.write(None) } else { l.read(None) });
                }
                r => return counted(r, a),
            },
            mode::ORDER => {
                let held = if write { RW_WRITE } else { RW_READ };
                if let Some(c) = order_cached(p as usize, held) {
                    if write || try_only {
                        match if write { l.try_write() } else { l.try_read() } {
                            Ok(()) => return c.took(),
                            Err(Errno::EBUSY) if !try_only => return c.wait(a(), held, || l.write(None)),
                            _ => {}
                        }
                    } else {
                        match l.read_start() {
                            ReadStart::Done(Ok(())) => return c.took(),
                            ReadStart::InWritePhase(r) => return c.wait(a(), held, || l.read_in_write_phase(r, None)),
                            // A writer-preferring lock: the whole read, which may wait.
                            ReadStart::BehindWriter => return c.wait(a(), held, || l.read(None)),
                            // An error: the full path.
                            ReadStart::Done(Err(_)) => {}
                        }
                    }
                }
            }
            _ => {}
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
        // As the export: the object, then the deadline; a null deadline waits without one
        // whatever the clock, else as abi::rwlock::deadline (the clock, then the
        // nanoseconds).
        let l = rwlock(p)?;
        let user = match timed {
            Some((clockid, abstime)) if !abstime.is_null() => {
                let clock = Clock::from_clockid(clockid)?;
                // SAFETY: the caller passes null (excluded above) or a readable timespec.
                let ts = unsafe { &*abstime };
                if !valid_timespec(ts) {
                    return Err(Errno::EINVAL);
                }
                Some((ts, clock))
            }
            _ => None,
        };
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
    let fast = match crate::diag::modes_relaxed() {
        mode::CONTENTION => thread::timed() != p as usize,
        mode::ORDER => order_fast_release(p as usize, RW_WRITE, RW_READ),
        _ => false,
    };
    if fast {
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

// The exports' entry points: scalar arguments only, so that an export with diagnostics off
// pays one load and branch and no stack frame (it tail-calls these when they are on).

/// pthread_rwlock_rdlock with diagnostics.
///
/// # Safety
/// As pthread_rwlock_rdlock.
#[inline(never)]
pub unsafe fn rwlock_rdlock(p: *mut pthread_rwlock_t) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { rwlock_lock(p, false, false, None) }
}

/// pthread_rwlock_tryrdlock with diagnostics.
///
/// # Safety
/// As pthread_rwlock_tryrdlock.
#[inline(never)]
pub unsafe fn rwlock_tryrdlock(p: *mut pthread_rwlock_t) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { rwlock_lock(p, false, true, None) }
}

/// pthread_rwlock_wrlock with diagnostics.
///
/// # Safety
/// As pthread_rwlock_wrlock.
#[inline(never)]
pub unsafe fn rwlock_wrlock(p: *mut pthread_rwlock_t) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { rwlock_lock(p, true, false, None) }
}

/// pthread_rwlock_trywrlock with diagnostics.
///
/// # Safety
/// As pthread_rwlock_trywrlock.
#[inline(never)]
pub unsafe fn rwlock_trywrlock(p: *mut pthread_rwlock_t) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { rwlock_lock(p, true, true, None) }
}

/// The timed rwlock locks with diagnostics (`write`: wrlock).
///
/// # Safety
/// As pthread_rwlock_clockrdlock / clockwrlock.
#[inline(never)]
pub unsafe fn rwlock_clocklock(p: *mut pthread_rwlock_t, write: bool, clockid: clockid_t, abstime: *const timespec) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { rwlock_lock(p, write, false, Some((clockid, abstime))) }
}
