//! Thread-directed signal exports: pthread_kill, pthread_sigqueue, pthread_sigmask.
//! Their declarations come from glibc's <signal.h>, not from our pthread.h.

use super::ret;
use libc::{c_int, pthread_t, sigset_t, sigval};

/// Sends `sig` to `thread` (0 checks that it exists).
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_kill.html>.
/// Errors: ESRCH (unknown thread), EINVAL (invalid signal, or one of the two signals glibc
/// reserves internally). A thread that has ended but not been joined accepts and ignores it.
#[no_mangle]
pub extern "C" fn pthread_kill(thread: pthread_t, sig: c_int) -> c_int {
    super::ensure_init();
    ret(crate::signal::kill(thread as usize, sig))
}

/// Queues real-time signal `sig` with `value` to `thread` (GNU).
/// Errors: as pthread_kill, plus EAGAIN when the queue limit is reached.
#[no_mangle]
pub extern "C" fn pthread_sigqueue(thread: pthread_t, sig: c_int, value: sigval) -> c_int {
    super::ensure_init();
    ret(crate::signal::queue(thread as usize, sig, value))
}

/// Examines and changes the calling thread's signal mask. The signals glibc and rpthread use
/// internally (32, 33) are silently kept unblocked, as glibc does.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_sigmask.html>.
/// Errors: EINVAL (`how` invalid while `set` is given).
///
/// # Safety
/// `set` null or readable; `oldset` null or writable.
#[no_mangle]
pub unsafe extern "C" fn pthread_sigmask(how: c_int, set: *const sigset_t, oldset: *mut sigset_t) -> c_int {
    // SAFETY: the caller passes null or valid pointers.
    ret(crate::signal::sigmask(how, unsafe { set.as_ref() }, unsafe { oldset.as_mut() }))
}
