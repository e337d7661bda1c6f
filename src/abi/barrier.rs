//! pthread_barrier_* and pthread_barrierattr_* exports.
//!
//! POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_barrier_wait.html>
//! and its sibling pages.

use crate::object::{obj, obj_mut, init};
use super::{nonnull_mut, ret};
use crate::errno::Result;
use crate::sync::barrier::Barrier;
use crate::sync::caller::scope_of;
use crate::sync::model::Scope;
use libc::{c_int, c_uint, pthread_barrier_t, pthread_barrierattr_t};

/// # Safety
/// `p` null or a live `pthread_barrier_t`.
unsafe fn barrier<'a>(p: *mut pthread_barrier_t) -> Result<&'a Barrier> {
    // SAFETY: the pointer is null or a live object (the contract above); abi::object checks
    // that our type fits the C type.
    unsafe { obj(p) }
}

/// # Safety
/// `p` null or a live `pthread_barrierattr_t` (an int: the pshared value).
unsafe fn attr<'a>(p: *const pthread_barrierattr_t) -> Result<&'a mut c_int> {
    // SAFETY: the pointer is null or a live object (the contract above); abi::object checks
    // that our type fits the C type.
    unsafe { obj_mut(p.cast_mut()) }
}

/// Initializes `barrier` for `count` threads; any attribute value other than
/// PTHREAD_PROCESS_PRIVATE makes it process-shared, as on glibc.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_barrier_init.html>.
/// Errors: EINVAL (null `barrier`, `count` 0 or at least `UINT_MAX / 2`).
///
/// # Safety
/// `barrier` writable; `attr` null or initialized.
#[cfg(xopen2k)]
#[no_mangle]
pub unsafe extern "C" fn pthread_barrier_init(
    barrier: *mut pthread_barrier_t,
    attr: *const pthread_barrierattr_t,
    count: c_uint,
) -> c_int {
    let r = (|| {
        let pshared = if attr.is_null() {
            libc::PTHREAD_PROCESS_PRIVATE
        } else {
            // SAFETY: `attr` is valid as this function's `# Safety` section requires.
            *unsafe { self::attr(attr) }?
        };
        let scope = if pshared == libc::PTHREAD_PROCESS_PRIVATE { Scope::Private } else { Scope::Shared };
        let b = Barrier::new(count, scope)?;
        // SAFETY: `barrier` is null or writable storage not in use (the contract).
        unsafe { init(barrier, b) }?;
        Ok(())
    })();
    ret(r)
}

/// Destroys a barrier: waits until every thread that entered it has left (a round still
/// missing arrivals is waited for too), then returns 0, as glibc.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_barrier_destroy.html>.
/// Errors: EINVAL (null, count 0: never initialized).
///
/// # Safety
/// `barrier` null or a live barrier object.
#[cfg(xopen2k)]
#[no_mangle]
pub unsafe extern "C" fn pthread_barrier_destroy(barrier: *mut pthread_barrier_t) -> c_int {
    // SAFETY: `barrier` is valid as this function's `# Safety` section requires.
    ret(unsafe { self::barrier(barrier) }.and_then(Barrier::destroy))
}

/// Waits until `count` threads called it; returns `PTHREAD_BARRIER_SERIAL_THREAD` to exactly
/// one of them per round and 0 to the others. Not a cancellation point.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_barrier_wait.html>.
/// Errors: EINVAL (null, count 0: never initialized).
///
/// # Safety
/// `barrier` null or a live barrier object.
#[cfg(xopen2k)]
#[no_mangle]
pub unsafe extern "C" fn pthread_barrier_wait(barrier: *mut pthread_barrier_t) -> c_int {
    // SAFETY: `barrier` is valid as this function's `# Safety` section requires.
    match unsafe { self::barrier(barrier) }.and_then(Barrier::wait) {
        Ok(r) => r,
        Err(e) => e.0,
    }
}

/// Initializes barrier attributes (process-private).
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_barrierattr_init.html>.
/// Errors: EINVAL (null).
///
/// # Safety
/// `attr` null or writable.
#[cfg(xopen2k)]
#[no_mangle]
pub unsafe extern "C" fn pthread_barrierattr_init(attr: *mut pthread_barrierattr_t) -> c_int {
    // SAFETY: `attr` is valid as this function's `# Safety` section requires.
    ret(unsafe { self::attr(attr) }.map(|a| *a = libc::PTHREAD_PROCESS_PRIVATE))
}

/// Destroys barrier attributes (nothing to free).
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_barrierattr_destroy.html>.
/// Errors: EINVAL (null).
///
/// # Safety
/// `attr` null or initialized.
#[cfg(xopen2k)]
#[no_mangle]
pub unsafe extern "C" fn pthread_barrierattr_destroy(attr: *mut pthread_barrierattr_t) -> c_int {
    // SAFETY: `attr` is valid as this function's `# Safety` section requires.
    ret(unsafe { self::attr(attr) }.map(drop))
}

/// Stores the process-shared setting in `*pshared`.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_barrierattr_getpshared.html>.
/// Errors: EINVAL (null).
///
/// # Safety
/// `attr` null or initialized; `pshared` null or writable.
#[cfg(xopen2k)]
#[no_mangle]
pub unsafe extern "C" fn pthread_barrierattr_getpshared(attr: *const pthread_barrierattr_t, pshared: *mut c_int) -> c_int {
    // SAFETY: `attr` and `pshared` are valid as this function's `# Safety` section requires.
    let r = unsafe { self::attr(attr) }
        // SAFETY: the caller's out-pointer.
        .and_then(|a| unsafe { nonnull_mut(pshared) }.map(|out| *out = *a));
    ret(r)
}

/// Sets the process-shared setting (`PTHREAD_PROCESS_PRIVATE` or `PTHREAD_PROCESS_SHARED`).
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_barrierattr_setpshared.html>.
/// Errors: EINVAL (null, other value).
///
/// # Safety
/// `attr` null or initialized.
#[cfg(xopen2k)]
#[no_mangle]
pub unsafe extern "C" fn pthread_barrierattr_setpshared(attr: *mut pthread_barrierattr_t, pshared: c_int) -> c_int {
    let r = scope_of(pshared)
        // SAFETY: `attr` is valid as this function's `# Safety` section requires.
        .and_then(|_| unsafe { self::attr(attr) })
        .map(|a| *a = pshared);
    ret(r)
}
