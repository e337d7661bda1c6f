//! pthread_rwlock_* and pthread_rwlockattr_* exports, and glibc's `__pthread_rwlock_*`
//! aliases.
//!
//! POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_rwlock_rdlock.html>
//! and its sibling pages. rwlock waits are not cancellation points.

use crate::object::{obj, obj_mut, init};
use super::{nonnull_mut, ret};
use crate::errno::{Errno, Result};
use crate::sync::model::Clock;
use crate::sync::rwlock::{RwLock, RwLockAttr};
use crate::sys::futex::valid_timespec;
use libc::{c_int, clockid_t, pthread_rwlock_t, pthread_rwlockattr_t, timespec};

/// The lock behind a C pointer (EINVAL if null).
///
/// # Safety
/// `p` must be null or point to a `pthread_rwlock_t` that stays valid while used.
#[inline]
unsafe fn lock<'a>(p: *mut pthread_rwlock_t) -> Result<&'a RwLock> {
    // SAFETY: the pointer is null or a live object (the contract above); abi::object checks
    // that our type fits the C type.
    unsafe { obj(p) }
}

/// # Safety
/// `p` must be null or point to a `pthread_rwlockattr_t`.
#[inline]
unsafe fn attr<'a>(p: *const pthread_rwlockattr_t) -> Result<&'a mut RwLockAttr> {
    // SAFETY: the pointer is null or a live object (the contract above); abi::object checks
    // that our type fits the C type.
    unsafe { obj_mut(p.cast_mut()) }
}

/// A validated absolute deadline: EINVAL for a clock other than `CLOCK_REALTIME` and
/// `CLOCK_MONOTONIC`, a null `ts`, or `tv_nsec` outside [0, 1e9).
///
/// # Safety
/// `ts` must be null or readable for the returned lifetime.
pub(super) unsafe fn deadline<'a>(ts: *const timespec, clock: clockid_t) -> Result<(&'a timespec, Clock)> {
    let clock = Clock::from_clockid(clock)?;
    // SAFETY: `ts` is valid as this function's `# Safety` section requires.
    let ts = unsafe { ts.as_ref() }.ok_or(Errno::EINVAL)?;
    if !valid_timespec(ts) {
        return Err(Errno::EINVAL);
    }
    Ok((ts, clock))
}

/// The deadline of a timed rwlock lock, checked as glibc checks it: a null `ts` means no
/// deadline at all (the call waits as the untimed one; the clock is not looked at either),
/// otherwise as [`deadline`].
///
/// # Safety
/// `ts` must be null or readable for the returned lifetime.
unsafe fn optional_deadline<'a>(ts: *const timespec, clock: clockid_t) -> Result<Option<(&'a timespec, Clock)>> {
    if ts.is_null() {
        return Ok(None);
    }
    // SAFETY: `ts` is valid as this function's `# Safety` section requires.
    unsafe { deadline(ts, clock) }.map(Some)
}

/// Initializes `rwlock` with `attr` (null: reader preference, process-private).
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_rwlock_init.html>.
/// Errors: EINVAL (null `rwlock`). As glibc, the attributes are taken as they are: a
/// preference value other than the three kinds behaves as a writer preference.
///
/// # Safety
/// `rwlock` must be writable; `attr` null or initialized.
#[cfg(any(unix98, xopen2k))]
#[no_mangle]
pub unsafe extern "C" fn pthread_rwlock_init(rwlock: *mut pthread_rwlock_t, attr: *const pthread_rwlockattr_t) -> c_int {
    let r = (|| {
        let a = if attr.is_null() {
            RwLockAttr::DEFAULT
        } else {
            // SAFETY: `rwlock` and `attr` are valid as this function's `# Safety` section requires.
            *unsafe { self::attr(attr) }?
        };
        // SAFETY: `rwlock` is null or writable storage not in use (the contract).
        unsafe { init(rwlock, RwLock::new(&a)) }?;
        Ok(())
    })();
    crate::diag::initialized(rwlock as usize, crate::diag::ObjectKind::RwLock);
    ret(r)
}

/// Destroys an rwlock: nothing to release, so 0 whatever its state, as on glibc.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_rwlock_destroy.html>.
/// Errors: EINVAL (null).
///
/// # Safety
/// `rwlock` null or an initialized rwlock.
#[cfg(any(unix98, xopen2k))]
#[no_mangle]
pub unsafe extern "C" fn pthread_rwlock_destroy(rwlock: *mut pthread_rwlock_t) -> c_int {
    crate::diag::destroying(rwlock as usize, crate::diag::ObjectKind::RwLock);
    // SAFETY: `rwlock` is valid as this function's `# Safety` section requires.
    ret(unsafe { lock(rwlock) }.map(drop))
}

/// Takes a read lock, waiting while a writer holds the lock (or, with
/// `PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP`, while one waits for readers to leave).
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_rwlock_rdlock.html>.
/// Errors: EDEADLK (the caller holds the write lock), EAGAIN (reader count at its maximum),
/// EINVAL (null).
///
/// # Safety
/// `rwlock` null or an initialized rwlock.
#[cfg(any(unix98, xopen2k))]
#[no_mangle]
pub unsafe extern "C" fn pthread_rwlock_rdlock(rwlock: *mut pthread_rwlock_t) -> c_int {
    // SAFETY: the export's own contract, forwarded.
    if crate::diag::hooked() { return unsafe { crate::diag::hooks::rwlock_rdlock(rwlock) }; }
    // SAFETY: `rwlock` is valid as this function's `# Safety` section requires.
    ret(unsafe { lock(rwlock) }.and_then(|l| l.read(None)))
}

/// Takes a read lock if that needs no wait.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_rwlock_tryrdlock.html>.
/// Errors: EBUSY (a writer holds it, also the caller; with the non-recursive writer
/// preference, a writer waits), EAGAIN (reader count at its maximum), EINVAL (null).
///
/// # Safety
/// `rwlock` null or an initialized rwlock.
#[cfg(any(unix98, xopen2k))]
#[no_mangle]
pub unsafe extern "C" fn pthread_rwlock_tryrdlock(rwlock: *mut pthread_rwlock_t) -> c_int {
    // SAFETY: the export's own contract, forwarded.
    if crate::diag::hooked() { return unsafe { crate::diag::hooks::rwlock_tryrdlock(rwlock) }; }
    // SAFETY: `rwlock` is valid as this function's `# Safety` section requires.
    ret(unsafe { lock(rwlock) }.and_then(RwLock::try_read))
}

/// [`pthread_rwlock_rdlock`] with an absolute `CLOCK_REALTIME` deadline.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_rwlock_timedrdlock.html>.
/// Errors: as rdlock, and ETIMEDOUT, EINVAL (invalid `abstime`; a null one waits forever,
/// as on glibc).
///
/// # Safety
/// `rwlock` null or an initialized rwlock; `abstime` null or readable.
#[cfg(xopen2k)]
#[no_mangle]
pub unsafe extern "C" fn pthread_rwlock_timedrdlock(rwlock: *mut pthread_rwlock_t, abstime: *const timespec) -> c_int {
    // SAFETY: `rwlock` and `abstime` are valid as this function's `# Safety` section requires.
    unsafe { pthread_rwlock_clockrdlock(rwlock, libc::CLOCK_REALTIME, abstime) }
}

/// [`pthread_rwlock_rdlock`] with an absolute deadline on `clockid` (`CLOCK_REALTIME` or
/// `CLOCK_MONOTONIC`).
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_rwlock_clockrdlock.html>.
/// Errors: as rdlock, and ETIMEDOUT, EINVAL (other clock, invalid `abstime`; a null one
/// waits forever whatever the clock, as on glibc).
///
/// # Safety
/// `rwlock` null or an initialized rwlock; `abstime` null or readable.
#[cfg(all(gnu, any(unix98, xopen2k)))]
#[no_mangle]
pub unsafe extern "C" fn pthread_rwlock_clockrdlock(
    rwlock: *mut pthread_rwlock_t,
    clockid: clockid_t,
    abstime: *const timespec,
) -> c_int {
    // SAFETY: the export's own contract, forwarded.
    if crate::diag::hooked() { return unsafe { crate::diag::hooks::rwlock_clocklock(rwlock, false, clockid, abstime) }; }
    // SAFETY: `rwlock` and `abstime` are valid as this function's `# Safety` section requires.
    ret(unsafe { lock(rwlock).and_then(|l| l.read(optional_deadline(abstime, clockid)?)) })
}

/// Takes the write lock, waiting while anyone holds the lock.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_rwlock_wrlock.html>.
/// Errors: EDEADLK (the caller holds it), EINVAL (null).
///
/// # Safety
/// `rwlock` null or an initialized rwlock.
#[cfg(any(unix98, xopen2k))]
#[no_mangle]
pub unsafe extern "C" fn pthread_rwlock_wrlock(rwlock: *mut pthread_rwlock_t) -> c_int {
    // SAFETY: the export's own contract, forwarded.
    if crate::diag::hooked() { return unsafe { crate::diag::hooks::rwlock_wrlock(rwlock) }; }
    // SAFETY: `rwlock` is valid as this function's `# Safety` section requires.
    ret(unsafe { lock(rwlock) }.and_then(|l| l.write(None)))
}

/// Takes the write lock if it is free.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_rwlock_trywrlock.html>.
/// Errors: EBUSY (held, also by the caller), EINVAL (null).
///
/// # Safety
/// `rwlock` null or an initialized rwlock.
#[cfg(any(unix98, xopen2k))]
#[no_mangle]
pub unsafe extern "C" fn pthread_rwlock_trywrlock(rwlock: *mut pthread_rwlock_t) -> c_int {
    // SAFETY: the export's own contract, forwarded.
    if crate::diag::hooked() { return unsafe { crate::diag::hooks::rwlock_trywrlock(rwlock) }; }
    // SAFETY: `rwlock` is valid as this function's `# Safety` section requires.
    ret(unsafe { lock(rwlock) }.and_then(RwLock::try_write))
}

/// [`pthread_rwlock_wrlock`] with an absolute `CLOCK_REALTIME` deadline.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_rwlock_timedwrlock.html>.
/// Errors: as wrlock, and ETIMEDOUT, EINVAL (invalid `abstime`; a null one waits forever,
/// as on glibc).
///
/// # Safety
/// `rwlock` null or an initialized rwlock; `abstime` null or readable.
#[cfg(xopen2k)]
#[no_mangle]
pub unsafe extern "C" fn pthread_rwlock_timedwrlock(rwlock: *mut pthread_rwlock_t, abstime: *const timespec) -> c_int {
    // SAFETY: `rwlock` and `abstime` are valid as this function's `# Safety` section requires.
    unsafe { pthread_rwlock_clockwrlock(rwlock, libc::CLOCK_REALTIME, abstime) }
}

/// [`pthread_rwlock_wrlock`] with an absolute deadline on `clockid` (`CLOCK_REALTIME` or
/// `CLOCK_MONOTONIC`).
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_rwlock_clockwrlock.html>.
/// Errors: as wrlock, and ETIMEDOUT, EINVAL (other clock, invalid `abstime`; a null one
/// waits forever whatever the clock, as on glibc).
///
/// # Safety
/// `rwlock` null or an initialized rwlock; `abstime` null or readable.
#[cfg(all(gnu, any(unix98, xopen2k)))]
#[no_mangle]
pub unsafe extern "C" fn pthread_rwlock_clockwrlock(
    rwlock: *mut pthread_rwlock_t,
    clockid: clockid_t,
    abstime: *const timespec,
) -> c_int {
    // SAFETY: the export's own contract, forwarded.
    if crate::diag::hooked() { return unsafe { crate::diag::hooks::rwlock_clocklock(rwlock, true, clockid, abstime) }; }
    // SAFETY: `rwlock` and `abstime` are valid as this function's `# Safety` section requires.
    ret(unsafe { lock(rwlock).and_then(|l| l.write(optional_deadline(abstime, clockid)?)) })
}

/// Releases the caller's read or write lock.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_rwlock_unlock.html>.
/// Errors: EPERM (neither write-locked by the caller nor read-locked by anyone; glibc would
/// corrupt the lock instead), EINVAL (null).
///
/// # Safety
/// `rwlock` null or an initialized rwlock.
#[cfg(any(unix98, xopen2k))]
#[no_mangle]
pub unsafe extern "C" fn pthread_rwlock_unlock(rwlock: *mut pthread_rwlock_t) -> c_int {
    // SAFETY: the export's own contract, forwarded.
    if crate::diag::unlock_hooked() { return unsafe { crate::diag::hooks::rwlock_unlock(rwlock) }; }
    // SAFETY: `rwlock` is valid as this function's `# Safety` section requires.
    ret(unsafe { lock(rwlock) }.and_then(RwLock::unlock))
}

/// Initializes rwlock attributes: reader preference, process-private.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_rwlockattr_init.html>.
/// Errors: EINVAL (null).
///
/// # Safety
/// `attr` null or writable.
#[cfg(any(unix98, xopen2k))]
#[no_mangle]
pub unsafe extern "C" fn pthread_rwlockattr_init(attr: *mut pthread_rwlockattr_t) -> c_int {
    // SAFETY: `attr` is valid as this function's `# Safety` section requires.
    ret(unsafe { self::attr(attr) }.map(|a| *a = RwLockAttr::DEFAULT))
}

/// Destroys rwlock attributes (nothing to free).
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_rwlockattr_destroy.html>.
/// Errors: EINVAL (null).
///
/// # Safety
/// `attr` null or initialized.
#[cfg(any(unix98, xopen2k))]
#[no_mangle]
pub unsafe extern "C" fn pthread_rwlockattr_destroy(attr: *mut pthread_rwlockattr_t) -> c_int {
    // SAFETY: `attr` is valid as this function's `# Safety` section requires.
    ret(unsafe { self::attr(attr) }.map(drop))
}

/// Stores the process-shared setting in `*pshared`.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_rwlockattr_getpshared.html>.
/// Errors: EINVAL (null).
///
/// # Safety
/// `attr` null or initialized; `pshared` null or writable.
#[cfg(any(unix98, xopen2k))]
#[no_mangle]
pub unsafe extern "C" fn pthread_rwlockattr_getpshared(attr: *const pthread_rwlockattr_t, pshared: *mut c_int) -> c_int {
    // SAFETY: `attr` and `pshared` are valid as this function's `# Safety` section requires.
    ret(unsafe { self::attr(attr) }.and_then(|a| unsafe { nonnull_mut(pshared) }.map(|out| *out = a.pshared)))
}

/// Sets the process-shared setting (`PTHREAD_PROCESS_PRIVATE` or `PTHREAD_PROCESS_SHARED`).
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_rwlockattr_setpshared.html>.
/// Errors: EINVAL (null, other value).
///
/// # Safety
/// `attr` null or initialized.
#[cfg(any(unix98, xopen2k))]
#[no_mangle]
pub unsafe extern "C" fn pthread_rwlockattr_setpshared(attr: *mut pthread_rwlockattr_t, pshared: c_int) -> c_int {
    let r = crate::sync::caller::scope_of(pshared)
        // SAFETY: `attr` is valid as this function's `# Safety` section requires.
        .and_then(|_| unsafe { self::attr(attr) })
        .map(|a| a.pshared = pshared);
    ret(r)
}

/// Stores the preference (`PTHREAD_RWLOCK_PREFER_*_NP`) in `*pref` (a GNU extension).
///
/// Errors: EINVAL (null).
///
/// # Safety
/// `attr` null or initialized; `pref` null or writable.
#[cfg(any(unix98, xopen2k))]
#[no_mangle]
pub unsafe extern "C" fn pthread_rwlockattr_getkind_np(attr: *const pthread_rwlockattr_t, pref: *mut c_int) -> c_int {
    // SAFETY: `attr` and `pref` are valid as this function's `# Safety` section requires.
    ret(unsafe { self::attr(attr) }.and_then(|a| unsafe { nonnull_mut(pref) }.map(|out| *out = a.kind)))
}

/// Sets the preference: `PTHREAD_RWLOCK_PREFER_READER_NP` (default), `_PREFER_WRITER_NP`
/// (as glibc: readers behave as with the default, writers hand the lock to each other) or
/// `_PREFER_WRITER_NONRECURSIVE_NP` (new readers also wait for a waiting writer). A GNU
/// extension.
///
/// Errors: EINVAL (null, other value).
///
/// # Safety
/// `attr` null or initialized.
#[cfg(any(unix98, xopen2k))]
#[no_mangle]
pub unsafe extern "C" fn pthread_rwlockattr_setkind_np(attr: *mut pthread_rwlockattr_t, pref: c_int) -> c_int {
    let r = RwLockAttr::check_kind(pref)
        // SAFETY: `attr` is valid as this function's `# Safety` section requires.
        .and_then(|_| unsafe { self::attr(attr) })
        .map(|a| a.kind = pref);
    ret(r)
}

super::glibc_aliases! {
    __pthread_rwlock_init = pthread_rwlock_init(rwlock: *mut pthread_rwlock_t, attr: *const pthread_rwlockattr_t) -> c_int;
    __pthread_rwlock_destroy = pthread_rwlock_destroy(rwlock: *mut pthread_rwlock_t) -> c_int;
    __pthread_rwlock_rdlock = pthread_rwlock_rdlock(rwlock: *mut pthread_rwlock_t) -> c_int;
    __pthread_rwlock_tryrdlock = pthread_rwlock_tryrdlock(rwlock: *mut pthread_rwlock_t) -> c_int;
    __pthread_rwlock_wrlock = pthread_rwlock_wrlock(rwlock: *mut pthread_rwlock_t) -> c_int;
    __pthread_rwlock_trywrlock = pthread_rwlock_trywrlock(rwlock: *mut pthread_rwlock_t) -> c_int;
    __pthread_rwlock_unlock = pthread_rwlock_unlock(rwlock: *mut pthread_rwlock_t) -> c_int;
}
