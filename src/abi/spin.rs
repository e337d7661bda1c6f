//! pthread_spin_* exports.
//!
//! POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_spin_lock.html>
//! and its sibling pages.

use crate::object::{obj, init};
use super::ret;
use crate::errno::Result;
use crate::sync::spin::SpinLock;
use libc::{c_int, pthread_spinlock_t};

/// # Safety
/// `p` null or a live `pthread_spinlock_t`.
#[inline]
unsafe fn spin<'a>(p: *mut pthread_spinlock_t) -> Result<&'a SpinLock> {
    // SAFETY: the pointer is null or a live object (the contract above); abi::object checks
    // that our type fits the C type.
    unsafe { obj(p) }
}

/// Initializes a spinlock, unlocked. Any `pshared` value is accepted and both kinds work
/// the same way (the lock word is plain memory), as on glibc.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_spin_init.html>.
/// Errors: EINVAL (null).
///
/// # Safety
/// `lock` null or writable.
#[cfg(xopen2k)]
#[no_mangle]
pub unsafe extern "C" fn pthread_spin_init(lock: *mut pthread_spinlock_t, pshared: c_int) -> c_int {
    let _ = pshared;
    // SAFETY: `lock` is null or writable storage not in use (the contract).
    if let Err(e) = unsafe { init(lock, SpinLock::new()) } {
        return e.0;
    }
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
#[cfg(xopen2k)]
#[no_mangle]
pub unsafe extern "C" fn pthread_spin_destroy(lock: *mut pthread_spinlock_t) -> c_int {
    crate::diag::destroying(lock as usize, crate::diag::ObjectKind::Spin);
    // SAFETY: `lock` is valid as this function's `# Safety` section requires.
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
#[cfg(xopen2k)]
#[no_mangle]
pub unsafe extern "C" fn pthread_spin_lock(lock: *mut pthread_spinlock_t) -> c_int {
    // SAFETY: the export's own contract, forwarded.
    if crate::diag::hooked() { return unsafe { crate::diag::hooks::spin_lock_wait(lock) }; }
    // SAFETY: `lock` is valid as this function's `# Safety` section requires.
    ret(unsafe { spin(lock) }.map(SpinLock::lock))
}

/// Acquires the spinlock if it is free.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_spin_trylock.html>.
/// Errors: EBUSY, EINVAL (null).
///
/// # Safety
/// `lock` null or a live spinlock.
#[cfg(xopen2k)]
#[no_mangle]
pub unsafe extern "C" fn pthread_spin_trylock(lock: *mut pthread_spinlock_t) -> c_int {
    // SAFETY: the export's own contract, forwarded.
    if crate::diag::hooked() { return unsafe { crate::diag::hooks::spin_trylock(lock) }; }
    // SAFETY: `lock` is valid as this function's `# Safety` section requires.
    ret(unsafe { spin(lock) }.and_then(SpinLock::try_lock))
}

/// Releases the spinlock (whichever thread calls it).
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_spin_unlock.html>.
/// Errors: EINVAL (null).
///
/// # Safety
/// `lock` null or a live spinlock.
#[cfg(xopen2k)]
#[no_mangle]
pub unsafe extern "C" fn pthread_spin_unlock(lock: *mut pthread_spinlock_t) -> c_int {
    // SAFETY: the export's own contract, forwarded.
    if crate::diag::unlock_hooked() { return unsafe { crate::diag::hooks::spin_unlock(lock) }; }
    // SAFETY: `lock` is valid as this function's `# Safety` section requires.
    ret(unsafe { spin(lock) }.map(SpinLock::unlock))
}
