//! pthread_cond_*wait with diagnostics.

use super::*;

fn cond<'a>(p: *mut pthread_cond_t) -> Result<&'a Cond> {
    // SAFETY: as in abi: a null or live C object (the hook's contract); layout: object.rs.
    unsafe { crate::object::obj(p) }
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
        rec.guarded(|| crate::diag::instance(caddr, Kind::Cond, false))
    } else {
        (0, 0)
    };
    if md & mode::MISUSE != 0 {
        rec.guarded(|| misuse::before_cond_wait(rec, caddr, ci, maddr));
    }
    let cinst = crate::diag::inst(ci);
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
    let waited = now().saturating_sub(t0);
    if let Some(i) = cinst {
        i.waiters.fetch_sub(1, Ordering::Relaxed);
    }
    // Back from the wait, the mutex is held again (also on ETIMEDOUT and EOWNERDEAD).
    if !matches!(r, Err(Errno::EPERM) | Err(Errno::EINVAL)) {
        let (mi, mc) = match held {
            Some(h) => h,
            None if track => rec.guarded(|| crate::diag::instance(maddr, Kind::Mutex, false)),
            None => (0, 0),
        };
        if track && mi != 0 {
            // Re-taken inside the wait without the order check: not a cached acquisition.
            note_held(rec, mutex_acq(maddr as *mut _), mi, mc, md, false);
        }
        if md & mode::CONTENTION != 0 {
            contention::cond_waited(cclass, waited);
        }
    }
    // The hold that ended at the wait is reported like any other.
    after_release(rec, rel);
    r
}

/// pthread_cond_wait with diagnostics (scalar arguments, see `rwlock_rdlock`).
///
/// # Safety
/// As pthread_cond_wait.
#[inline(never)]
pub unsafe fn cond_wait_untimed(c: *mut pthread_cond_t, mx: *mut pthread_mutex_t) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { cond_wait(c, mx, false, None, core::ptr::null()) }
}

/// pthread_cond_timedwait (`clockid` -1: the condvar's clock) and pthread_cond_clockwait
/// with diagnostics.
///
/// # Safety
/// As pthread_cond_timedwait / clockwait.
#[inline(never)]
pub unsafe fn cond_timedwait(c: *mut pthread_cond_t, mx: *mut pthread_mutex_t, clockid: clockid_t, abstime: *const timespec) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { cond_wait(c, mx, true, (clockid != -1).then_some(clockid), abstime) }
}
