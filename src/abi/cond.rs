//! pthread_cond_* and pthread_condattr_* exports.
//!
//! POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_cond_wait.html>
//! and its sibling pages. A null object pointer is EINVAL.

use crate::object::obj;
use super::{nonnull_mut, ret};
use crate::errno::{Errno, Result};
use crate::sync::cond::Cond;
use crate::sync::condattr::{self, CondAttr};
use crate::sync::mutex::Mutex;
use crate::sys::futex::Clock;
use libc::{c_int, clockid_t, pthread_cond_t, pthread_condattr_t, pthread_mutex_t, timespec};

/// The condition variable behind a C pointer.
///
/// # Safety
/// `c` must be null or point to a live `pthread_cond_t`.
#[inline(always)]
unsafe fn as_cond<'a>(c: *mut pthread_cond_t) -> Result<&'a Cond> {
    // SAFETY: the pointer is null or a live object (the contract above); abi::object checks
    // that our type fits the C type.
    unsafe { obj(c) }
}

/// # Safety
/// `m` must be null or point to a live `pthread_mutex_t`.
#[inline(always)]
unsafe fn as_mutex<'a>(m: *mut pthread_mutex_t) -> Result<&'a Mutex> {
    // SAFETY: the pointer is null or a live object (the contract above); abi::object checks
    // that our type fits the C type.
    unsafe { obj(m) }
}

/// Initializes a condition variable with `attr` (null: CLOCK_REALTIME, process-private).
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_cond_init.html>.
/// Errors: EINVAL (null cond).
///
/// # Safety
/// `cond` must point to writable storage not in use; `attr` null or initialized.
#[no_mangle]
pub unsafe extern "C" fn pthread_cond_init(cond: *mut pthread_cond_t, attr: *const pthread_condattr_t) -> c_int {
    // SAFETY: `cond` is null or a condvar's storage not in use, and `attr` null or
    // initialized (the contract).
    let r = unsafe { as_cond(cond) }.map(|c| c.init(unsafe { obj::<CondAttr, _>(attr) }.ok().copied()));
    crate::diag::initialized(cond as usize, crate::diag::ObjectKind::Cond);
    ret(r)
}

/// Destroys a condition variable: 0, as glibc's (EINVAL only for null). Threads still in a
/// wait on it are waited for (woken ones leave; blocked ones are the caller's error, as on
/// glibc, and keep it waiting), so the memory may then be freed.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_cond_destroy.html>.
///
/// # Safety
/// `cond` null or initialized.
#[no_mangle]
pub unsafe extern "C" fn pthread_cond_destroy(cond: *mut pthread_cond_t) -> c_int {
    crate::diag::destroying(cond as usize, crate::diag::ObjectKind::Cond);
    // SAFETY: `cond` is valid as this function's `# Safety` section requires.
    ret(unsafe { as_cond(cond) }.and_then(Cond::destroy))
}

/// Waits on `cond`, atomically releasing `mutex`, which is held again on return. A
/// cancellation point. Spurious wake-ups are possible (POSIX).
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_cond_wait.html>.
/// Errors: EPERM (errorcheck, recursive or robust mutex not held by the caller), EINVAL
/// (null objects), EOWNERDEAD (robust mutex re-acquired from a dead owner).
///
/// # Safety
/// `cond` and `mutex` null or initialized.
#[no_mangle]
pub unsafe extern "C" fn pthread_cond_wait(cond: *mut pthread_cond_t, mutex: *mut pthread_mutex_t) -> c_int {
    // SAFETY: the export's own contract, forwarded.
    if crate::diag::hooked() { return unsafe { crate::diag::hooks::cond_wait_untimed(cond, mutex) }; }
    // SAFETY: `cond` and `mutex` are valid as this function's `# Safety` section requires.
    let r = unsafe { as_cond(cond) }.and_then(|c| c.wait(unsafe { as_mutex(mutex) }?, None));
    ret(r)
}

/// As pthread_cond_wait, giving up with ETIMEDOUT at the absolute time `abstime` on the
/// clock chosen with pthread_condattr_setclock (CLOCK_REALTIME by default).
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_cond_timedwait.html>.
/// Errors: ETIMEDOUT, EINVAL (null or invalid `abstime`), and those of pthread_cond_wait.
///
/// # Safety
/// `cond` and `mutex` null or initialized; `abstime` null or readable.
#[no_mangle]
pub unsafe extern "C" fn pthread_cond_timedwait(
    cond: *mut pthread_cond_t,
    mutex: *mut pthread_mutex_t,
    abstime: *const timespec,
) -> c_int {
    // SAFETY: the export's own contract, forwarded.
    if crate::diag::hooked() { return unsafe { crate::diag::hooks::cond_timedwait(cond, mutex, -1, abstime) }; }
    let r = (|| {
        // glibc's order: the deadline's nanoseconds first, then the objects.
        // SAFETY: `cond` and `abstime` are valid as this function's `# Safety` section requires.
        let ts = unsafe { valid_deadline(abstime) }?;
        // SAFETY: `cond` and `mutex` are valid as this function's `# Safety` section requires.
        let c = unsafe { as_cond(cond) }?;
        // SAFETY: `mutex` is valid as this function's `# Safety` section requires.
        c.wait(unsafe { as_mutex(mutex) }?, Some((ts, c.clock())))
    })();
    ret(r)
}

/// As pthread_cond_timedwait with the deadline on `clockid` (CLOCK_REALTIME or
/// CLOCK_MONOTONIC; other clocks are EINVAL).
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_cond_clockwait.html>.
///
/// # Safety
/// As pthread_cond_timedwait.
#[cfg(gnu)]
#[no_mangle]
pub unsafe extern "C" fn pthread_cond_clockwait(
    cond: *mut pthread_cond_t,
    mutex: *mut pthread_mutex_t,
    clockid: clockid_t,
    abstime: *const timespec,
) -> c_int {
    // SAFETY: the export's own contract, forwarded.
    if crate::diag::hooked() { return unsafe { crate::diag::hooks::cond_timedwait(cond, mutex, clockid, abstime) }; }
    let r = (|| {
        // glibc's order: the nanoseconds, then the clock.
        // SAFETY: `abstime` is valid as this function's `# Safety` section requires.
        let ts = unsafe { valid_deadline(abstime) }?;
        let clock = Clock::from_clockid(clockid)?;
        // SAFETY: `cond` and `mutex` are valid as this function's `# Safety` section requires.
        let c = unsafe { as_cond(cond) }?;
        // SAFETY: `mutex` is valid as this function's `# Safety` section requires.
        c.wait(unsafe { as_mutex(mutex) }?, Some((ts, clock)))
    })();
    ret(r)
}

/// The deadline of a timed wait: EINVAL if null or `tv_nsec` is outside [0, 1e9). Checked
/// before anything else, whether or not the wait would block, as glibc.
///
/// # Safety
/// `abstime` null or readable for the returned lifetime.
unsafe fn valid_deadline<'a>(abstime: *const timespec) -> Result<&'a timespec> {
    // SAFETY: `abstime` is valid as this function's `# Safety` section requires.
    let ts = unsafe { abstime.as_ref() }.ok_or(Errno::EINVAL)?;
    if !crate::sys::futex::valid_timespec(ts) {
        return Err(Errno::EINVAL);
    }
    Ok(ts)
}

/// Wakes at least one thread blocked on `cond`, if any.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_cond_signal.html>.
/// Errors: EINVAL (null).
///
/// # Safety
/// `cond` null or initialized.
#[no_mangle]
pub unsafe extern "C" fn pthread_cond_signal(cond: *mut pthread_cond_t) -> c_int {
    // SAFETY: `cond` is valid as this function's `# Safety` section requires.
    ret(unsafe { as_cond(cond) }.map(Cond::signal))
}

/// Wakes every thread blocked on `cond`.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_cond_broadcast.html>.
/// Errors: EINVAL (null).
///
/// # Safety
/// `cond` null or initialized.
#[no_mangle]
pub unsafe extern "C" fn pthread_cond_broadcast(cond: *mut pthread_cond_t) -> c_int {
    // SAFETY: `cond` is valid as this function's `# Safety` section requires.
    ret(unsafe { as_cond(cond) }.map(Cond::broadcast))
}

// ---- attributes ------------------------------------------------------------------------

/// # Safety
/// `a` null or a pthread_condattr_t.
unsafe fn as_attr<'a>(a: *mut pthread_condattr_t) -> Result<&'a mut CondAttr> {
    // SAFETY: the pointer is null or a live object (the contract above); abi::object checks
    // that our type fits the C type.
    unsafe { crate::object::obj_mut(a) }
}

/// Initializes a condition attributes object: CLOCK_REALTIME, process-private.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_condattr_init.html>.
/// Errors: EINVAL (null).
///
/// # Safety
/// `attr` null or writable.
#[no_mangle]
pub unsafe extern "C" fn pthread_condattr_init(attr: *mut pthread_condattr_t) -> c_int {
    // SAFETY: `attr` is valid as this function's `# Safety` section requires.
    ret(unsafe { as_attr(attr) }.map(|a| *a = CondAttr::DEFAULT))
}

/// Destroys a condition attributes object. Errors: EINVAL (null).
///
/// # Safety
/// `attr` null or a pthread_condattr_t.
#[no_mangle]
pub unsafe extern "C" fn pthread_condattr_destroy(attr: *mut pthread_condattr_t) -> c_int {
    // SAFETY: `attr` is valid as this function's `# Safety` section requires.
    ret(unsafe { as_attr(attr) }.map(drop))
}

/// Reads the clock of timed waits.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_condattr_getclock.html>.
/// Errors: EINVAL (null pointers).
///
/// # Safety
/// `attr` null or initialized; `clock_id` null or writable.
#[cfg(xopen2k)]
#[no_mangle]
pub unsafe extern "C" fn pthread_condattr_getclock(attr: *const pthread_condattr_t, clock_id: *mut clockid_t) -> c_int {
    let r = (|| {
        // SAFETY: `attr` and `clock_id` are valid as this function's `# Safety` section requires.
        let a = *unsafe { as_attr(attr.cast_mut()) }?;
        // SAFETY: `clock_id` is valid as this function's `# Safety` section requires.
        *unsafe { nonnull_mut(clock_id) }? = condattr::clockid(a.clock());
        Ok(())
    })();
    ret(r)
}

/// Sets the clock of timed waits: CLOCK_REALTIME or CLOCK_MONOTONIC, else EINVAL.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_condattr_setclock.html>.
///
/// # Safety
/// `attr` null or initialized.
#[cfg(xopen2k)]
#[no_mangle]
pub unsafe extern "C" fn pthread_condattr_setclock(attr: *mut pthread_condattr_t, clock_id: clockid_t) -> c_int {
    // SAFETY: `attr` is valid as this function's `# Safety` section requires.
    ret(unsafe { as_attr(attr) }.and_then(|a| a.set_clock(clock_id)))
}

/// Reads the process-shared attribute.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_condattr_getpshared.html>.
/// Errors: EINVAL (null pointers).
///
/// # Safety
/// `attr` null or initialized; `pshared` null or writable.
#[no_mangle]
pub unsafe extern "C" fn pthread_condattr_getpshared(attr: *const pthread_condattr_t, pshared: *mut c_int) -> c_int {
    let r = (|| {
        // SAFETY: `attr` and `pshared` are valid as this function's `# Safety` section requires.
        let a = *unsafe { as_attr(attr.cast_mut()) }?;
        // SAFETY: `pshared` is valid as this function's `# Safety` section requires.
        *unsafe { nonnull_mut(pshared) }? = a.shared() as c_int;
        Ok(())
    })();
    ret(r)
}

/// Sets the process-shared attribute: PTHREAD_PROCESS_PRIVATE or _SHARED, else EINVAL.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_condattr_setpshared.html>.
///
/// # Safety
/// `attr` null or initialized.
#[no_mangle]
pub unsafe extern "C" fn pthread_condattr_setpshared(attr: *mut pthread_condattr_t, pshared: c_int) -> c_int {
    // SAFETY: `attr` is valid as this function's `# Safety` section requires.
    ret(unsafe { as_attr(attr) }.and_then(|a| a.set_shared(pshared)))
}
