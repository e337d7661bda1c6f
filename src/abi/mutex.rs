//! pthread_mutex_* and pthread_mutexattr_* exports (and glibc's `__pthread_mutex_*` aliases).
//!
//! POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_mutex_lock.html>
//! and its sibling pages. A null object pointer is EINVAL.

use crate::object::{obj, obj_mut};
use super::{nonnull_mut, ret};
use crate::errno::Result;
use crate::sync::mutex::Mutex;
use crate::sync::mutexattr::{self, MutexAttr};
use crate::sys::futex::Clock;
use libc::{c_int, clockid_t, pthread_mutex_t, pthread_mutexattr_t, timespec};

/// The mutex behind a C pointer.
///
/// # Safety
/// `m` must be null or point to a live `pthread_mutex_t`.
#[inline(always)]
unsafe fn as_mutex<'a>(m: *mut pthread_mutex_t) -> Result<&'a Mutex> {
    // SAFETY: the pointer is null or a live object (the contract above); abi::object checks
    // that our type fits the C type.
    unsafe { obj(m) }
}

/// The attributes behind a C pointer.
///
/// # Safety
/// `a` must be null or point to a `pthread_mutexattr_t`.
#[inline]
unsafe fn as_attr<'a>(a: *mut pthread_mutexattr_t) -> Result<&'a mut MutexAttr> {
    // SAFETY: the pointer is null or a live object (the contract above); abi::object checks
    // that our type fits the C type.
    unsafe { obj_mut(a) }
}

/// Initializes a mutex with `attr` (null: the defaults: normal, private, not robust).
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_mutex_init.html>.
/// Errors: EINVAL (null mutex), ENOTSUP (robust priority-protect, unsupported as on glibc).
///
/// # Safety
/// `mutex` must point to writable `pthread_mutex_t` storage not in use; `attr` null or an
/// initialized attributes object.
#[no_mangle]
pub unsafe extern "C" fn pthread_mutex_init(mutex: *mut pthread_mutex_t, attr: *const pthread_mutexattr_t) -> c_int {
    // SAFETY: `mutex` and `attr` are valid as this function's `# Safety` section requires.
    let r = unsafe { as_mutex(mutex) }.and_then(|m| {
        // SAFETY: a non-null attr points to an initialized pthread_mutexattr_t.
        let a = unsafe { obj::<MutexAttr, _>(attr) }.ok().copied();
        m.init(a)
    });
    crate::diag::initialized(mutex as usize, crate::diag::ObjectKind::Mutex);
    ret(r)
}

/// Destroys a mutex. Errors: EBUSY while a non-robust mutex is held or a condition waiter
/// released it to wait (glibc's rule; a robust mutex is destroyed whatever its state, and a
/// destroyed one again), EINVAL (null).
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_mutex_destroy.html>.
///
/// # Safety
/// `mutex` must be null or point to a `pthread_mutex_t`.
#[no_mangle]
pub unsafe extern "C" fn pthread_mutex_destroy(mutex: *mut pthread_mutex_t) -> c_int {
    crate::diag::destroying(mutex as usize, crate::diag::ObjectKind::Mutex);
    // SAFETY: `mutex` is valid as this function's `# Safety` section requires.
    ret(unsafe { as_mutex(mutex) }.and_then(Mutex::destroy))
}

/// Locks a mutex, blocking until it is available.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_mutex_lock.html>.
/// Errors: EINVAL (invalid mutex; priority-protect ceiling below the caller's priority),
/// EDEADLK (errorcheck, already held), EAGAIN (recursion count overflow), EOWNERDEAD (robust:
/// the previous owner died; the caller now holds it), ENOTRECOVERABLE (robust, unrecoverable).
///
/// # Safety
/// `mutex` must be null or point to an initialized `pthread_mutex_t`.
#[no_mangle]
pub unsafe extern "C" fn pthread_mutex_lock(mutex: *mut pthread_mutex_t) -> c_int {
    // SAFETY: the export's own contract, forwarded.
    if crate::diag::hooked() { return unsafe { crate::diag::hooks::mutex_lock(mutex) }; }
    // SAFETY: `mutex` is valid as this function's `# Safety` section requires.
    match unsafe { as_mutex(mutex) } {
        Ok(m) => ret(m.lock()),
        Err(e) => e.0,
    }
}

/// Locks a mutex if it is free. Errors: EBUSY (held, also by the caller for non-recursive
/// kinds), otherwise as pthread_mutex_lock.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_mutex_trylock.html>.
///
/// # Safety
/// `mutex` must be null or point to an initialized `pthread_mutex_t`.
#[no_mangle]
pub unsafe extern "C" fn pthread_mutex_trylock(mutex: *mut pthread_mutex_t) -> c_int {
    // SAFETY: the export's own contract, forwarded.
    if crate::diag::hooked() { return unsafe { crate::diag::hooks::mutex_trylock(mutex) }; }
    // SAFETY: `mutex` is valid as this function's `# Safety` section requires.
    match unsafe { as_mutex(mutex) } {
        Ok(m) => ret(m.trylock()),
        Err(e) => e.0,
    }
}

/// Locks a mutex, giving up at the absolute CLOCK_REALTIME time `abstime`.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_mutex_timedlock.html>.
/// Errors: ETIMEDOUT, EINVAL (a `tv_nsec` outside [0, 1e9), only when the call must block: a
/// free mutex is taken whatever the deadline, as on glibc), and those of pthread_mutex_lock.
/// A null `abstime` waits without a deadline, as glibc's does.
///
/// # Safety
/// `mutex` as for pthread_mutex_lock; `abstime` null or readable.
#[cfg(xopen2k)]
#[no_mangle]
pub unsafe extern "C" fn pthread_mutex_timedlock(mutex: *mut pthread_mutex_t, abstime: *const timespec) -> c_int {
    // SAFETY: `mutex` and `abstime` are valid as this function's `# Safety` section requires.
    unsafe { pthread_mutex_clocklock(mutex, libc::CLOCK_REALTIME, abstime) }
}

/// Locks a mutex, giving up at the absolute time `abstime` on `clockid` (CLOCK_REALTIME or
/// CLOCK_MONOTONIC; other clocks are EINVAL).
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_mutex_clocklock.html>.
/// Errors: as pthread_mutex_timedlock.
///
/// # Safety
/// `mutex` as for pthread_mutex_lock; `abstime` null or readable.
#[cfg(gnu)]
#[no_mangle]
pub unsafe extern "C" fn pthread_mutex_clocklock(
    mutex: *mut pthread_mutex_t,
    clockid: clockid_t,
    abstime: *const timespec,
) -> c_int {
    // SAFETY: the export's own contract, forwarded.
    if crate::diag::hooked() { return unsafe { crate::diag::hooks::mutex_clocklock(mutex, clockid, abstime) }; }
    let r = (|| {
        // SAFETY: `mutex` and `abstime` are valid as this function's `# Safety` section requires.
        let m = unsafe { as_mutex(mutex) }?;
        let clock = Clock::from_clockid(clockid)?;
        // SAFETY: a non-null abstime is readable.
        match unsafe { abstime.as_ref() } {
            Some(ts) => m.timedlock(ts, clock),
            // glibc hands a null deadline to its futex wait, which then has no timeout.
            None => m.lock(),
        }
    })();
    ret(r)
}

/// Unlocks a mutex.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_mutex_unlock.html>.
/// Errors: EPERM (errorcheck, recursive, robust, PI or priority-protect mutex not held by the
/// caller), EINVAL (invalid mutex).
///
/// # Safety
/// `mutex` must be null or point to an initialized `pthread_mutex_t`.
#[no_mangle]
pub unsafe extern "C" fn pthread_mutex_unlock(mutex: *mut pthread_mutex_t) -> c_int {
    // SAFETY: the export's own contract, forwarded.
    if crate::diag::unlock_hooked() { return unsafe { crate::diag::hooks::mutex_unlock(mutex) }; }
    // SAFETY: `mutex` is valid as this function's `# Safety` section requires.
    match unsafe { as_mutex(mutex) } {
        Ok(m) => ret(m.unlock()),
        Err(e) => e.0,
    }
}

/// Marks the state protected by a robust mutex (acquired with EOWNERDEAD) consistent.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_mutex_consistent.html>.
/// Errors: EINVAL (not robust, or not inconsistent).
///
/// # Safety
/// `mutex` must be null or point to an initialized `pthread_mutex_t`.
#[cfg(xopen2k8)]
#[no_mangle]
pub unsafe extern "C" fn pthread_mutex_consistent(mutex: *mut pthread_mutex_t) -> c_int {
    // SAFETY: `mutex` is valid as this function's `# Safety` section requires.
    ret(unsafe { as_mutex(mutex) }.and_then(Mutex::consistent))
}

/// glibc's older name of pthread_mutex_consistent.
///
/// # Safety
/// As pthread_mutex_consistent.
#[cfg(gnu)]
#[no_mangle]
pub unsafe extern "C" fn pthread_mutex_consistent_np(mutex: *mut pthread_mutex_t) -> c_int {
    // SAFETY: `mutex` is valid as this function's `# Safety` section requires.
    unsafe { pthread_mutex_consistent(mutex) }
}

/// Reads the priority ceiling of a PTHREAD_PRIO_PROTECT mutex.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_mutex_getprioceiling.html>.
/// Errors: EINVAL (null pointers, or not a priority-protect mutex, as on glibc).
///
/// # Safety
/// `mutex` null or initialized; `prioceiling` null or writable.
#[no_mangle]
pub unsafe extern "C" fn pthread_mutex_getprioceiling(mutex: *const pthread_mutex_t, prioceiling: *mut c_int) -> c_int {
    let r = (|| {
        // SAFETY: forwarded; the mutex is only read.
        let c = unsafe { as_mutex(mutex.cast_mut()) }?.prioceiling()?;
        // SAFETY: `prioceiling` is valid as this function's `# Safety` section requires.
        *unsafe { nonnull_mut(prioceiling) }? = c;
        Ok(())
    })();
    ret(r)
}

/// Sets the priority ceiling of a PTHREAD_PRIO_PROTECT mutex, locking it meanwhile unless the
/// caller holds it; stores the old ceiling in `old_ceiling` (if not null).
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_mutex_setprioceiling.html>.
/// Errors: EINVAL (not a priority-protect mutex, ceiling outside the SCHED_FIFO range),
/// EDEADLK (an errorcheck mutex the caller holds, as on glibc).
///
/// # Safety
/// `mutex` null or initialized; `old_ceiling` null or writable.
#[no_mangle]
pub unsafe extern "C" fn pthread_mutex_setprioceiling(
    mutex: *mut pthread_mutex_t,
    prioceiling: c_int,
    old_ceiling: *mut c_int,
) -> c_int {
    let r = (|| {
        // SAFETY: `mutex` and `old_ceiling` are valid as this function's `# Safety` section requires.
        let old = unsafe { as_mutex(mutex) }?.set_prioceiling(prioceiling)?;
        // SAFETY: a non-null out-pointer is writable.
        if let Some(o) = unsafe { old_ceiling.as_mut() } {
            *o = old;
        }
        Ok(())
    })();
    ret(r)
}

// ---- attributes ------------------------------------------------------------------------

/// Initializes a mutex attributes object with the defaults.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_mutexattr_init.html>.
/// Errors: EINVAL (null).
///
/// # Safety
/// `attr` null or writable.
#[no_mangle]
pub unsafe extern "C" fn pthread_mutexattr_init(attr: *mut pthread_mutexattr_t) -> c_int {
    // SAFETY: `attr` is valid as this function's `# Safety` section requires.
    ret(unsafe { as_attr(attr) }.map(|a| *a = MutexAttr::DEFAULT))
}

/// Destroys a mutex attributes object (nothing to free). Errors: EINVAL (null).
///
/// # Safety
/// `attr` null or a pthread_mutexattr_t.
#[no_mangle]
pub unsafe extern "C" fn pthread_mutexattr_destroy(attr: *mut pthread_mutexattr_t) -> c_int {
    // SAFETY: `attr` is valid as this function's `# Safety` section requires.
    ret(unsafe { as_attr(attr) }.map(drop))
}

/// Runs a getter, storing into a non-null `out`.
///
/// # Safety
/// `attr` null or initialized; `out` null or writable.
unsafe fn get<T>(attr: *const pthread_mutexattr_t, out: *mut T, f: impl FnOnce(MutexAttr) -> T) -> c_int {
    let r = (|| {
        // SAFETY: forwarded; only read.
        let a = *unsafe { as_attr(attr.cast_mut()) }?;
        // SAFETY: `out` is valid as this function's `# Safety` section requires.
        *unsafe { nonnull_mut(out) }? = f(a);
        Ok(())
    })();
    ret(r)
}

/// Runs a setter.
///
/// # Safety
/// `attr` null or initialized and writable.
unsafe fn set(attr: *mut pthread_mutexattr_t, f: impl FnOnce(&mut MutexAttr) -> Result<()>) -> c_int {
    // SAFETY: `attr` is valid as this function's `# Safety` section requires.
    ret(unsafe { as_attr(attr) }.and_then(f))
}

/// Reads the mutex type (PTHREAD_MUTEX_NORMAL, _RECURSIVE, _ERRORCHECK, _ADAPTIVE_NP).
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_mutexattr_gettype.html>.
/// Errors: EINVAL (null pointers).
///
/// # Safety
/// `attr` null or initialized; `kind` null or writable.
#[cfg(any(unix98, xopen2k8))]
#[no_mangle]
pub unsafe extern "C" fn pthread_mutexattr_gettype(attr: *const pthread_mutexattr_t, kind: *mut c_int) -> c_int {
    // SAFETY: `attr` and `kind` are valid as this function's `# Safety` section requires.
    unsafe { get(attr, kind, |a| a.kind() as c_int) }
}

/// Sets the mutex type: PTHREAD_MUTEX_NORMAL (0), _RECURSIVE (1), _ERRORCHECK (2) or
/// PTHREAD_MUTEX_ADAPTIVE_NP (3); anything else is EINVAL.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_mutexattr_settype.html>.
///
/// # Safety
/// `attr` null or initialized.
#[cfg(any(unix98, xopen2k8))]
#[no_mangle]
pub unsafe extern "C" fn pthread_mutexattr_settype(attr: *mut pthread_mutexattr_t, kind: c_int) -> c_int {
    // SAFETY: `attr` is valid as this function's `# Safety` section requires.
    unsafe { set(attr, |a| a.set_kind(kind)) }
}

/// glibc's old name of pthread_mutexattr_gettype.
///
/// # Safety
/// As pthread_mutexattr_gettype.
#[cfg(gnu)]
#[no_mangle]
pub unsafe extern "C" fn pthread_mutexattr_getkind_np(attr: *const pthread_mutexattr_t, kind: *mut c_int) -> c_int {
    // SAFETY: `attr` and `kind` are valid as this function's `# Safety` section requires.
    unsafe { pthread_mutexattr_gettype(attr, kind) }
}

/// glibc's old name of pthread_mutexattr_settype.
///
/// # Safety
/// As pthread_mutexattr_settype.
#[cfg(gnu)]
#[no_mangle]
pub unsafe extern "C" fn pthread_mutexattr_setkind_np(attr: *mut pthread_mutexattr_t, kind: c_int) -> c_int {
    // SAFETY: `attr` is valid as this function's `# Safety` section requires.
    unsafe { pthread_mutexattr_settype(attr, kind) }
}

/// Reads the process-shared attribute.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_mutexattr_getpshared.html>.
/// Errors: EINVAL (null pointers).
///
/// # Safety
/// `attr` null or initialized; `pshared` null or writable.
#[no_mangle]
pub unsafe extern "C" fn pthread_mutexattr_getpshared(attr: *const pthread_mutexattr_t, pshared: *mut c_int) -> c_int {
    // SAFETY: `attr` and `pshared` are valid as this function's `# Safety` section requires.
    unsafe { get(attr, pshared, |a| a.shared() as c_int) }
}

/// Sets the process-shared attribute: PTHREAD_PROCESS_PRIVATE or _SHARED, else EINVAL.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_mutexattr_setpshared.html>.
///
/// # Safety
/// `attr` null or initialized.
#[no_mangle]
pub unsafe extern "C" fn pthread_mutexattr_setpshared(attr: *mut pthread_mutexattr_t, pshared: c_int) -> c_int {
    // SAFETY: `attr` is valid as this function's `# Safety` section requires.
    unsafe { set(attr, |a| a.set_shared(pshared)) }
}

/// Reads the robustness attribute (PTHREAD_MUTEX_STALLED or PTHREAD_MUTEX_ROBUST).
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_mutexattr_getrobust.html>.
/// Errors: EINVAL (null pointers).
///
/// # Safety
/// `attr` null or initialized; `robust` null or writable.
#[cfg(xopen2k)]
#[no_mangle]
pub unsafe extern "C" fn pthread_mutexattr_getrobust(attr: *const pthread_mutexattr_t, robust: *mut c_int) -> c_int {
    // SAFETY: `attr` and `robust` are valid as this function's `# Safety` section requires.
    unsafe { get(attr, robust, |a| a.robust() as c_int) }
}

/// Sets the robustness attribute: PTHREAD_MUTEX_STALLED (0) or PTHREAD_MUTEX_ROBUST (1), else
/// EINVAL.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_mutexattr_setrobust.html>.
///
/// # Safety
/// `attr` null or initialized.
#[cfg(xopen2k)]
#[no_mangle]
pub unsafe extern "C" fn pthread_mutexattr_setrobust(attr: *mut pthread_mutexattr_t, robust: c_int) -> c_int {
    // SAFETY: `attr` is valid as this function's `# Safety` section requires.
    unsafe { set(attr, |a| a.set_robust(robust)) }
}

/// glibc's older name of pthread_mutexattr_getrobust.
///
/// # Safety
/// As pthread_mutexattr_getrobust.
#[cfg(gnu)]
#[no_mangle]
pub unsafe extern "C" fn pthread_mutexattr_getrobust_np(attr: *const pthread_mutexattr_t, robust: *mut c_int) -> c_int {
    // SAFETY: `attr` and `robust` are valid as this function's `# Safety` section requires.
    unsafe { pthread_mutexattr_getrobust(attr, robust) }
}

/// glibc's older name of pthread_mutexattr_setrobust.
///
/// # Safety
/// As pthread_mutexattr_setrobust.
#[cfg(gnu)]
#[no_mangle]
pub unsafe extern "C" fn pthread_mutexattr_setrobust_np(attr: *mut pthread_mutexattr_t, robust: c_int) -> c_int {
    // SAFETY: `attr` is valid as this function's `# Safety` section requires.
    unsafe { pthread_mutexattr_setrobust(attr, robust) }
}

/// Reads the protocol (PTHREAD_PRIO_NONE, _INHERIT or _PROTECT).
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_mutexattr_getprotocol.html>.
/// Errors: EINVAL (null pointers).
///
/// # Safety
/// `attr` null or initialized; `protocol` null or writable.
#[no_mangle]
pub unsafe extern "C" fn pthread_mutexattr_getprotocol(attr: *const pthread_mutexattr_t, protocol: *mut c_int) -> c_int {
    // SAFETY: `attr` and `protocol` are valid as this function's `# Safety` section requires.
    unsafe { get(attr, protocol, |a| a.protocol() as c_int) }
}

/// Sets the protocol: PTHREAD_PRIO_NONE (0), _INHERIT (1) or _PROTECT (2), else EINVAL.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_mutexattr_setprotocol.html>.
///
/// # Safety
/// `attr` null or initialized.
#[no_mangle]
pub unsafe extern "C" fn pthread_mutexattr_setprotocol(attr: *mut pthread_mutexattr_t, protocol: c_int) -> c_int {
    // SAFETY: `attr` is valid as this function's `# Safety` section requires.
    unsafe { set(attr, |a| a.set_protocol(protocol)) }
}

/// Reads the priority ceiling (the lowest SCHED_FIFO priority when never set, as on glibc).
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_mutexattr_getprioceiling.html>.
/// Errors: EINVAL (null pointers).
///
/// # Safety
/// `attr` null or initialized; `prioceiling` null or writable.
#[no_mangle]
pub unsafe extern "C" fn pthread_mutexattr_getprioceiling(
    attr: *const pthread_mutexattr_t,
    prioceiling: *mut c_int,
) -> c_int {
    // SAFETY: `attr` and `prioceiling` are valid as this function's `# Safety` section requires.
    unsafe { get(attr, prioceiling, |a| a.prioceiling().max(mutexattr::fifo_range().0)) }
}

/// Sets the priority ceiling: a SCHED_FIFO priority, else EINVAL.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_mutexattr_setprioceiling.html>.
///
/// # Safety
/// `attr` null or initialized.
#[no_mangle]
pub unsafe extern "C" fn pthread_mutexattr_setprioceiling(attr: *mut pthread_mutexattr_t, prioceiling: c_int) -> c_int {
    // SAFETY: `attr` is valid as this function's `# Safety` section requires.
    unsafe { set(attr, |a| a.set_prioceiling(prioceiling)) }
}

super::glibc_aliases! {
    __pthread_mutex_init = pthread_mutex_init(mutex: *mut pthread_mutex_t, attr: *const pthread_mutexattr_t) -> c_int;
    __pthread_mutex_destroy = pthread_mutex_destroy(mutex: *mut pthread_mutex_t) -> c_int;
    __pthread_mutex_lock = pthread_mutex_lock(mutex: *mut pthread_mutex_t) -> c_int;
    __pthread_mutex_trylock = pthread_mutex_trylock(mutex: *mut pthread_mutex_t) -> c_int;
    __pthread_mutex_unlock = pthread_mutex_unlock(mutex: *mut pthread_mutex_t) -> c_int;
    __pthread_mutexattr_init = pthread_mutexattr_init(attr: *mut pthread_mutexattr_t) -> c_int;
    __pthread_mutexattr_destroy = pthread_mutexattr_destroy(attr: *mut pthread_mutexattr_t) -> c_int;
    __pthread_mutexattr_settype = pthread_mutexattr_settype(attr: *mut pthread_mutexattr_t, kind: c_int) -> c_int;
}
