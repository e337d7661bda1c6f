//! pthread_once (and glibc's `__pthread_once` alias).
//!
//! POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_once.html>.

use super::ret;
use crate::errno::Errno;
use crate::sync::once::Once;
use libc::{c_int, pthread_once_t};

/// Runs `init_routine` exactly once for `once_control` (initialized with
/// `PTHREAD_ONCE_INIT`); every caller returns after it completed. If the thread running it
/// ends inside it (pthread_exit, cancellation), the control is reset and another caller
/// runs the routine.
///
/// Errors: EINVAL (null argument), EDEADLK (the routine calls pthread_once on its own
/// control; glibc would hang).
///
/// # Safety
/// `once_control` null or a live `pthread_once_t` not used for anything else;
/// `init_routine` callable.
#[no_mangle]
pub unsafe extern "C" fn pthread_once(once_control: *mut pthread_once_t, init_routine: Option<unsafe extern "C" fn()>) -> c_int {
    // SAFETY: Once is a transparent u32 with pthread_once_t's size; the caller's pointer.
    let (Some(once), Some(init)) = (unsafe { once_control.cast::<Once>().as_ref() }, init_routine) else {
        return Errno::EINVAL.0;
    };
    // SAFETY: the caller supplies a callable routine.
    ret(once.call(|| unsafe { init() }))
}

/// glibc's alias of [`pthread_once`].
///
/// # Safety
/// As [`pthread_once`].
#[no_mangle]
pub unsafe extern "C" fn __pthread_once(once_control: *mut pthread_once_t, init_routine: Option<unsafe extern "C" fn()>) -> c_int {
    // SAFETY: forwarded.
    unsafe { pthread_once(once_control, init_routine) }
}
