//! pthread_spin_* exports.
//!
//! POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_spin_lock.html>
//! and its sibling pages.

use super::ret;
use crate::errno::{Errno, Result};
use crate::sync::caller::scope_of;
use crate::sync::spin::SpinLock;
use libc::{c_int, pthread_spinlock_t};

/// # Safety
/// `p` null or a live `pthread_spinlock_t`.
#[inline]
unsafe fn spin<'a>(p: *mut pthread_spinlock_t) -> Result<&'a SpinLock> {
    // SAFETY: SpinLock is a transparent i32.
    unsafe { p.cast::<SpinLock>().as_ref() }.ok_or(Errno::EINVAL)
}

/// Initializes a spinlock, unlocked. Both `pshared` values work the same way (the lock word
/// is plain memory).
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_spin_init.html>.
/// Errors: EINVAL (null, `pshared` neither PTHREAD_PROCESS_PRIVATE nor _SHARED).
///
/// # Safety
/// `lock` null or writable.
#[no_mangle]
pub unsafe extern "C" fn pthread_spin_init(lock: *mut pthread_spinlock_t, pshared: c_int) -> c_int {
    let r = scope_of(pshared).and_then(|_| {
        if lock.is_null() {
            return Err(Errno::EINVAL);
        }
        // SAFETY: writable, SpinLock's size.
        unsafe { lock.cast::<SpinLock>().write(SpinLock::new()) };
        Ok(())
    });
    ret(r)
}

/// Destroys an unlocked spinlock.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_spin_destroy.html>.
/// Errors: EBUSY (locked), EINVAL (null).
///
/// # Safety
/// `lock` null or a live spinlock.
#[no_mangle]
pub unsafe extern "C" fn pthread_spin_destroy(lock: *mut pthread_spinlock_t) -> c_int {
    // SAFETY: forwarded.
    ret(unsafe { spin(lock) }.and_then(SpinLock::check_destroy))
}

/// Acquires the spinlock, spinning while another thread holds it.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_spin_lock.html>.
/// Errors: EDEADLK (the caller holds it), EINVAL (null).
///
/// # Safety
/// `lock` null or a live spinlock.
#[no_mangle]
pub unsafe extern "C" fn pthread_spin_lock(lock: *mut pthread_spinlock_t) -> c_int {
    // SAFETY: forwarded.
    ret(unsafe { spin(lock) }.and_then(SpinLock::lock))
}

/// Acquires the spinlock if it is free.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_spin_trylock.html>.
/// Errors: EBUSY, EINVAL (null).
///
/// # Safety
/// `lock` null or a live spinlock.
#[no_mangle]
pub unsafe extern "C" fn pthread_spin_trylock(lock: *mut pthread_spinlock_t) -> c_int {
    // SAFETY: forwarded.
    ret(unsafe { spin(lock) }.and_then(SpinLock::try_lock))
}

/// Releases the spinlock.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_spin_unlock.html>.
/// Errors: EINVAL (null).
///
/// # Safety
/// `lock` null or a live spinlock.
#[no_mangle]
pub unsafe extern "C" fn pthread_spin_unlock(lock: *mut pthread_spinlock_t) -> c_int {
    // SAFETY: forwarded.
    ret(unsafe { spin(lock) }.map(SpinLock::unlock))
}
