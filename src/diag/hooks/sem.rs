//! sem_*wait with diagnostics.

use super::*;

/// The sem_* return convention: 0, or -1 with errno set.
fn sem_ret(r: Result<()>) -> c_int {
    match r {
        Ok(()) => 0,
        Err(e) => {
            crate::errno::set(e);
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
    let s = match unsafe { crate::object::obj::<Semaphore, _>(p) }.ok() {
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
        contention::acquired(rec, a, 0, Some(now().saturating_sub(t0)), false);
    }
    sem_ret(r)
}

/// sem_wait with diagnostics (scalar arguments, see `rwlock_rdlock`).
///
/// # Safety
/// As sem_wait.
#[inline(never)]
pub unsafe fn sem_wait_untimed(p: *mut sem_t) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { sem_wait(p, None, true) }
}

/// sem_timedwait (`cancel_first`) and sem_clockwait with diagnostics.
///
/// # Safety
/// As sem_timedwait / sem_clockwait.
#[inline(never)]
pub unsafe fn sem_clockwait(p: *mut sem_t, clockid: clockid_t, abstime: *const timespec, cancel_first: bool) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { sem_wait(p, Some((clockid, abstime)), cancel_first) }
}
