//! pthread_spin_* exports.
//!
//! POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_spin_lock.html>
//! and its sibling pages.

use super::ret;
use crate::errno::{Errno, Result};
use crate::sync::spin::SpinLock;
use libc::{c_int, pthread_spinlock_t};

/// # Safety
/// `p` null or a live `pthread_spinlock_t`.
#[inline]
unsafe fn spin<'a>(p: *mut pthread_spinlock_t) -> Result<&'a SpinLock> {
    // SAFETY: SpinLock is a transparent i32.
    unsafe { p.cast::<SpinLock>().as_ref() }.ok_or(Errno::EINVAL)
}

/// Initializes a spinlock, unlocked. Any `pshared` value is accepted and both kinds work
/// the same way (the lock word is plain memory), as on glibc.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_spin_init.html>.
/// Errors: EINVAL (null).
///
/// # Safety
/// `lock` null or writable.
#[no_mangle]
pub unsafe extern "C" fn pthread_spin_init(lock: *mut pthread_spinlock_t, pshared: c_int) -> c_int {
    let _ = pshared;
    if lock.is_null() {
        return Errno::EINVAL.0;
    }
    // SAFETY: writable, SpinLock's size.
    unsafe { lock.cast::<SpinLock>().write(SpinLock::new()) };
    crate::diag::initialized(lock as usize, crate::diag::ObjectKind::Spin);
    0
}

/// Destroys a spinlock: nothing to release, so 0 whatever its state, as on glibc.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_spin_destroy.html>.
/// Errors: EINVAL (null).
///
/// # Safety
/// `lock` null or a live spinlock.
#[no_mangle]
pub unsafe extern "C" fn pthread_spin_destroy(lock: *mut pthread_spinlock_t) -> c_int {
    crate::diag::destroying(lock as usize, crate::diag::ObjectKind::Spin);
    // SAFETY: forwarded.
    ret(unsafe { spin(lock) }.map(drop))
}

/// Acquires the spinlock, spinning while it is held (also by the caller itself: a relock
/// spins forever, as on glibc).
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_spin_lock.html>.
/// Errors: EINVAL (null).
///
/// # Safety
/// `lock` null or a live spinlock.
#[no_mangle]
pub unsafe extern "C" fn pthread_spin_lock(lock: *mut pthread_spinlock_t) -> c_int {
    // SAFETY: the export's own contract, forwarded.
    if crate::diag::enabled() { return unsafe { crate::diag::hooks::spin_lock(lock, false) }; }
    // SAFETY: forwarded.
    ret(unsafe { spin(lock) }.map(SpinLock::lock))
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
    // SAFETY: the export's own contract, forwarded.
    if crate::diag::enabled() { return unsafe { crate::diag::hooks::spin_lock(lock, true) }; }
    // SAFETY: forwarded.
    ret(unsafe { spin(lock) }.and_then(SpinLock::try_lock))
}

/// Releases the spinlock (whichever thread calls it).
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_spin_unlock.html>.
/// Errors: EINVAL (null).
///
/// # Safety
/// `lock` null or a live spinlock.
#[no_mangle]
pub unsafe extern "C" fn pthread_spin_unlock(lock: *mut pthread_spinlock_t) -> c_int {
    // SAFETY: the export's own contract, forwarded.
    if crate::diag::unlock_hooked() { return unsafe { crate::diag::hooks::spin_unlock(lock) }; }
    // SAFETY: forwarded.
    ret(unsafe { spin(lock) }.map(SpinLock::unlock))
}
