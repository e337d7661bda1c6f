//! sem_* exports: unnamed and named semaphores. They return 0, or -1 with `errno` set.
//!
//! POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/sem_wait.html> and its
//! sibling pages. sem_wait, sem_timedwait and sem_clockwait are cancellation points (their
//! sleep is `sync::sem::block`).

use crate::object::{obj, init};
use crate::errno::{Errno, Result};
use crate::sync::model::Scope;
use crate::sync::sem::Semaphore;
use crate::sync::sem_named;
use core::ffi::CStr;
use libc::{c_char, c_int, c_uint, clockid_t, mode_t, sem_t, timespec};

/// The sem_* return convention: 0, or -1 with `errno` set.
fn sem_ret(r: Result<()>) -> c_int {
    match r {
        Ok(()) => 0,
        Err(e) => {
            crate::errno::set(e);
            -1
        }
    }
}

/// # Safety
/// `p` null or a live `sem_t`.
#[inline]
unsafe fn sem<'a>(p: *mut sem_t) -> Result<&'a Semaphore> {
    // SAFETY: the pointer is null or a live object (the contract above); abi::object checks
    // that our type fits the C type.
    unsafe { obj(p) }
}

/// Initializes an unnamed semaphore with count `value`; `pshared` non-zero makes it usable
/// from every process that maps its memory shared.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/sem_init.html>.
/// Errors: EINVAL (null, `value` above SEM_VALUE_MAX).
///
/// # Safety
/// `sem` null or writable.
#[no_mangle]
pub unsafe extern "C" fn sem_init(sem: *mut sem_t, pshared: c_int, value: c_uint) -> c_int {
    let scope = if pshared != 0 { Scope::Shared } else { Scope::Private };
    let r = Semaphore::new(value, scope).and_then(|s| {
        // SAFETY: `sem` is null or writable storage not in use (the contract).
        unsafe { init(sem, s) }?;
        Ok(())
    });
    crate::diag::initialized(sem as usize, crate::diag::ObjectKind::Sem);
    sem_ret(r)
}

/// Destroys an unnamed semaphore: nothing to release, so 0 whatever its state, as on glibc.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/sem_destroy.html>.
/// Errors: EINVAL (null).
///
/// # Safety
/// `sem` null or a live semaphore.
#[no_mangle]
pub unsafe extern "C" fn sem_destroy(sem: *mut sem_t) -> c_int {
    // SAFETY: `sem` is valid as this function's `# Safety` section requires.
    sem_ret(unsafe { self::sem(sem) }.map(drop))
}

/// Decrements the semaphore, sleeping while it is 0. A cancellation point: a pending
/// request is acted on first, even when a token is available (as glibc).
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/sem_wait.html>.
/// Errors: EINTR (a signal handler interrupted the wait), EINVAL (null).
///
/// # Safety
/// `sem` null or a live semaphore.
#[no_mangle]
pub unsafe extern "C" fn sem_wait(sem: *mut sem_t) -> c_int {
    // SAFETY: the export's own contract, forwarded.
    if crate::diag::hooked() { return unsafe { crate::diag::hooks::sem_wait_untimed(sem) }; }
    crate::cancel::testcancel();
    // SAFETY: `sem` is valid as this function's `# Safety` section requires.
    sem_ret(unsafe { self::sem(sem) }.and_then(|s| s.wait(None)))
}

/// Decrements the semaphore if it is positive.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/sem_trywait.html>.
/// Errors: EAGAIN (it is 0), EINVAL (null).
///
/// # Safety
/// `sem` null or a live semaphore.
#[no_mangle]
pub unsafe extern "C" fn sem_trywait(sem: *mut sem_t) -> c_int {
    // SAFETY: `sem` is valid as this function's `# Safety` section requires.
    sem_ret(unsafe { self::sem(sem) }.and_then(Semaphore::try_wait))
}

/// [`sem_wait`] with an absolute `CLOCK_REALTIME` deadline. A cancellation point (acted on
/// first, once the deadline was found valid, as glibc).
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/sem_timedwait.html>.
/// Errors: ETIMEDOUT, EINTR, EINVAL (null, `tv_nsec` outside [0, 1e9)).
///
/// # Safety
/// `sem` null or a live semaphore; `abstime` null or readable.
#[no_mangle]
pub unsafe extern "C" fn sem_timedwait(sem: *mut sem_t, abstime: *const timespec) -> c_int {
    // SAFETY: the export's own contract, forwarded.
    if crate::diag::hooked() { return unsafe { crate::diag::hooks::sem_clockwait(sem, libc::CLOCK_REALTIME, abstime, true) }; }
    // SAFETY: `abstime` is valid as this function's `# Safety` section requires.
    let deadline = unsafe { super::rwlock::deadline(abstime, libc::CLOCK_REALTIME) };
    if deadline.is_ok() {
        crate::cancel::testcancel();
    }
    // SAFETY: `sem` is valid as this function's `# Safety` section requires.
    sem_ret(deadline.and_then(|d| unsafe { self::sem(sem) }?.wait(Some(d))))
}

/// [`sem_wait`] with an absolute deadline on `clockid` (`CLOCK_REALTIME` or
/// `CLOCK_MONOTONIC`). A cancellation point when it blocks (glibc checks for a pending
/// request only there).
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/sem_clockwait.html>.
/// Errors: ETIMEDOUT, EINTR, EINVAL (null, other clock, `tv_nsec` outside [0, 1e9)).
///
/// # Safety
/// `sem` null or a live semaphore; `abstime` null or readable.
#[no_mangle]
pub unsafe extern "C" fn sem_clockwait(sem: *mut sem_t, clockid: clockid_t, abstime: *const timespec) -> c_int {
    // SAFETY: the export's own contract, forwarded.
    if crate::diag::hooked() { return unsafe { crate::diag::hooks::sem_clockwait(sem, clockid, abstime, false) }; }
    // SAFETY: `sem` and `abstime` are valid as this function's `# Safety` section requires.
    sem_ret(unsafe { self::sem(sem).and_then(|s| s.wait(Some(super::rwlock::deadline(abstime, clockid)?))) })
}

/// Increments the semaphore and wakes one sleeper. Async-signal-safe.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/sem_post.html>.
/// Errors: EOVERFLOW (at SEM_VALUE_MAX), EINVAL (null).
///
/// # Safety
/// `sem` null or a live semaphore.
#[no_mangle]
pub unsafe extern "C" fn sem_post(sem: *mut sem_t) -> c_int {
    // SAFETY: `sem` is valid as this function's `# Safety` section requires.
    sem_ret(unsafe { self::sem(sem) }.and_then(Semaphore::post))
}

/// Stores the semaphore's count in `*sval`.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/sem_getvalue.html>.
/// Errors: EINVAL (null).
///
/// # Safety
/// `sem` null or a live semaphore; `sval` null or writable.
#[no_mangle]
pub unsafe extern "C" fn sem_getvalue(sem: *mut sem_t, sval: *mut c_int) -> c_int {
    // SAFETY: `sem` and `sval` are valid as this function's `# Safety` section requires.
    let r = unsafe { self::sem(sem) }
        .and_then(|s| unsafe { super::nonnull_mut(sval) }.map(|out| *out = s.value() as c_int));
    sem_ret(r)
}

/// Opens the named semaphore `name` (`/dev/shm/sem.<name>`, glibc's file: the two libraries
/// open each other's), creating it with `O_CREAT` (permissions `mode`, count `value`);
/// opening one twice by the same name in a process returns the same address. Returns
/// `SEM_FAILED` (null) on error.
///
/// C declares `sem_open(const char *, int, ...)`: the x86_64 calling convention passes the
/// variadic `mode_t` and `unsigned int` in the same registers as fixed arguments, and they
/// are read only with `O_CREAT`, when the caller must pass them.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/sem_open.html>.
/// Errors: EINVAL (bad name, `value` above SEM_VALUE_MAX when it creates), EEXIST, ENOENT,
/// EAGAIN (no free temporary name), ENAMETOOLONG, EACCES, EMFILE and the other errors of
/// open(2).
///
/// # Safety
/// `name` null or a C string; with `O_CREAT`, `mode` and `value` must be passed.
#[no_mangle]
pub unsafe extern "C" fn sem_open(name: *const c_char, oflag: c_int, mode: mode_t, value: c_uint) -> *mut sem_t {
    let r = if name.is_null() {
        Err(Errno::EINVAL)
    } else {
        // SAFETY: a C string from the caller.
        let name = unsafe { CStr::from_ptr(name) };
        let (mode, value) = if oflag & libc::O_CREAT != 0 { (mode, value) } else { (0, 0) };
        // Not a cancellation point (its open, write and close are ours, which are): glibc
        // disables cancellation for the duration.
        let was_disabled = crate::cancel::set_state(true);
        let r = sem_named::open(name, oflag, mode, value);
        if !was_disabled {
            crate::cancel::set_state(false);
        }
        r
    };
    match r {
        Ok(p) => p.cast(),
        Err(e) => {
            sem_ret(Err(e));
            core::ptr::null_mut()
        }
    }
}

/// Closes a named semaphore from [`sem_open`]; the last close in the process unmaps it.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/sem_close.html>.
/// Errors: EINVAL (not an open named semaphore).
///
/// # Safety
/// `sem` any pointer; after the last close it must not be used.
#[no_mangle]
pub unsafe extern "C" fn sem_close(sem: *mut sem_t) -> c_int {
    sem_ret(sem_named::close(sem.cast()))
}

/// Removes the name of a named semaphore; processes that opened it keep using it.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/sem_unlink.html>.
/// Errors: ENOENT (also for a bad name, as glibc), EACCES, ENAMETOOLONG.
///
/// # Safety
/// `name` null or a C string.
#[no_mangle]
pub unsafe extern "C" fn sem_unlink(name: *const c_char) -> c_int {
    if name.is_null() {
        return sem_ret(Err(Errno::EINVAL));
    }
    // SAFETY: a C string from the caller.
    sem_ret(sem_named::unlink(unsafe { CStr::from_ptr(name) }))
}
