//! Cancellation exports: pthread_cancel, pthread_testcancel, pthread_setcancelstate/type, and
//! the cleanup-handler ABIs compiled into programs (our header's macros, glibc's macros).

use super::ensure_init;
use crate::cancel::{self, cleanup};
use crate::errno::Errno;
use core::ffi::c_void;
use libc::{c_int, pthread_t};

/// Requests cancellation of `thread`. It acts at the thread's next cancellation point
/// (deferred type) or at once (asynchronous type), unless cancelability is disabled, in which
/// case the request waits until it is enabled again.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_cancel.html>.
/// Errors: ESRCH (no such thread). A thread that ended but was not joined yet: 0.
#[no_mangle]
pub extern "C" fn pthread_cancel(thread: pthread_t) -> c_int {
    ensure_init();
    // SAFETY: with_target keeps the thread's TCB live while the closure runs.
    match crate::thread::with_target(thread as usize, |t| unsafe { cancel::request(t.tcb()) }) {
        Ok(d) => {
            cancel::deliver(d);
            0
        }
        Err(e) => e.0,
    }
}

/// Acts on a pending cancellation request, if cancelability is enabled.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_testcancel.html>.
#[no_mangle]
pub extern "C" fn pthread_testcancel() {
    cancel::testcancel()
}

/// Sets the calling thread's cancelability state (PTHREAD_CANCEL_ENABLE or _DISABLE) and
/// stores the previous one in `*oldstate` if it is not null.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_setcancelstate.html>.
/// Errors: EINVAL (`state` is neither value).
///
/// # Safety
/// `oldstate` must be null or writable.
#[no_mangle]
pub unsafe extern "C" fn pthread_setcancelstate(state: c_int, oldstate: *mut c_int) -> c_int {
    // PTHREAD_CANCEL_ENABLE = 0, PTHREAD_CANCEL_DISABLE = 1 (glibc's values).
    let disable = match state {
        0 => false,
        1 => true,
        _ => return Errno::EINVAL.0,
    };
    let was = cancel::set_state(disable);
    // SAFETY: per contract.
    if let Some(o) = unsafe { oldstate.as_mut() } {
        *o = was as c_int;
    }
    0
}

/// Sets the calling thread's cancelability type (PTHREAD_CANCEL_DEFERRED or _ASYNCHRONOUS)
/// and stores the previous one in `*oldtype` if it is not null.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_setcanceltype.html>.
/// Errors: EINVAL (`kind` is neither value).
///
/// # Safety
/// `oldtype` must be null or writable.
#[no_mangle]
pub unsafe extern "C" fn pthread_setcanceltype(kind: c_int, oldtype: *mut c_int) -> c_int {
    // PTHREAD_CANCEL_DEFERRED = 0, PTHREAD_CANCEL_ASYNCHRONOUS = 1 (glibc's values).
    let asynchronous = match kind {
        0 => false,
        1 => true,
        _ => return Errno::EINVAL.0,
    };
    let was = cancel::set_type(asynchronous);
    // SAFETY: per contract.
    if let Some(o) = unsafe { oldtype.as_mut() } {
        *o = was as c_int;
    }
    0
}

/// Pushes a cleanup handler `routine(arg)` kept in the caller's `buffer` (our header's
/// pthread_cleanup_push in C; glibc's exported function of the same name).
///
/// # Safety
/// `buffer` must stay valid until the matching [`_pthread_cleanup_pop`].
#[no_mangle]
pub unsafe extern "C" fn _pthread_cleanup_push(buffer: *mut cleanup::CleanupBuffer, routine: Option<unsafe extern "C" fn(*mut c_void)>, arg: *mut c_void) {
    // SAFETY: `buffer` and `arg` are valid as this function's `# Safety` section requires.
    unsafe { cleanup::push(buffer, routine, arg) }
}

/// Pops the handler pushed with `buffer`, running it if `execute` is non-zero.
///
/// # Safety
/// `buffer` must be the most recently pushed buffer of the calling thread.
#[no_mangle]
pub unsafe extern "C" fn _pthread_cleanup_pop(buffer: *mut cleanup::CleanupBuffer, execute: c_int) {
    // SAFETY: `buffer` is valid as this function's `# Safety` section requires.
    unsafe { cleanup::pop(buffer, execute != 0) }
}

/// As [`_pthread_cleanup_push`], also saving the cancel type and switching to deferred
/// (pthread_cleanup_push_defer_np).
///
/// # Safety
/// As for [`_pthread_cleanup_push`].
#[no_mangle]
pub unsafe extern "C" fn _pthread_cleanup_push_defer(buffer: *mut cleanup::CleanupBuffer, routine: Option<unsafe extern "C" fn(*mut c_void)>, arg: *mut c_void) {
    // SAFETY: `buffer` and `arg` are valid as this function's `# Safety` section requires.
    unsafe { cleanup::push_defer(buffer, routine, arg) }
}

/// As [`_pthread_cleanup_pop`], then restores the type saved by the push
/// (pthread_cleanup_pop_restore_np).
///
/// # Safety
/// As for [`_pthread_cleanup_pop`].
#[no_mangle]
pub unsafe extern "C" fn _pthread_cleanup_pop_restore(buffer: *mut cleanup::CleanupBuffer, execute: c_int) {
    // SAFETY: `buffer` is valid as this function's `# Safety` section requires.
    unsafe { cleanup::pop_restore(buffer, execute != 0) }
}

/// glibc's setjmp-based pthread_cleanup_push (C without exceptions): registers `buf`, whose
/// jmp_buf the macro filled with `__sigsetjmp`. On cancellation or pthread_exit the library
/// longjmps into it; the macro runs the handler and calls [`__pthread_unwind_next`].
///
/// # Safety
/// `buf` must stay valid until unregistered.
#[no_mangle]
pub unsafe extern "C" fn __pthread_register_cancel(buf: *mut cleanup::UnwindBuf) {
    // SAFETY: `buf` is valid as this function's `# Safety` section requires.
    unsafe { cleanup::register(buf) }
}

/// Unregisters the buffer of the matching pthread_cleanup_pop (glibc's macros).
///
/// # Safety
/// `buf` must be the most recently registered buffer of the calling thread.
#[no_mangle]
pub unsafe extern "C" fn __pthread_unregister_cancel(buf: *mut cleanup::UnwindBuf) {
    // SAFETY: `buf` is valid as this function's `# Safety` section requires.
    unsafe { cleanup::unregister(buf) }
}

/// As [`__pthread_register_cancel`], saving the cancel type and switching to deferred
/// (glibc's pthread_cleanup_push_defer_np).
///
/// # Safety
/// As for [`__pthread_register_cancel`].
#[cfg(gnu)]
#[no_mangle]
pub unsafe extern "C" fn __pthread_register_cancel_defer(buf: *mut cleanup::UnwindBuf) {
    // SAFETY: `buf` is valid as this function's `# Safety` section requires.
    unsafe { cleanup::register_defer(buf) }
}

/// As [`__pthread_unregister_cancel`], restoring the saved cancel type
/// (glibc's pthread_cleanup_pop_restore_np).
///
/// # Safety
/// As for [`__pthread_unregister_cancel`].
#[cfg(gnu)]
#[no_mangle]
pub unsafe extern "C" fn __pthread_unregister_cancel_restore(buf: *mut cleanup::UnwindBuf) {
    // SAFETY: `buf` is valid as this function's `# Safety` section requires.
    unsafe { cleanup::unregister_restore(buf) }
}

/// Continues the unwind of an exiting thread after the handler of `buf` ran (called by
/// glibc's macros after the library longjmped into `buf`). Never returns.
///
/// # Safety
/// Only from the code of a registered buffer the library jumped to.
#[no_mangle]
pub unsafe extern "C" fn __pthread_unwind_next(buf: *mut cleanup::UnwindBuf) -> ! {
    // SAFETY: `buf` is valid as this function's `# Safety` section requires.
    unsafe { cancel::unwind::unwind_next(buf) }
}

/// glibc's `struct __pthread_cleanup_frame` (C with -fexceptions).
#[repr(C)]
pub struct CleanupFrame {
    routine: Option<unsafe extern "C" fn(*mut c_void)>,
    arg: *mut c_void,
    do_it: c_int,
    cancel_type: c_int,
}

/// Runs the handler of a `__attribute__((cleanup))` frame of glibc's macros (C with
/// -fexceptions) if it is still armed; the out-of-line copy of glibc's inline function.
///
/// # Safety
/// `frame` must point to an initialized frame.
#[no_mangle]
pub unsafe extern "C" fn __pthread_cleanup_routine(frame: *mut CleanupFrame) {
    // SAFETY: per contract.
    let f = unsafe { &*frame };
    if f.do_it != 0 {
        if let Some(r) = f.routine {
            // SAFETY: the user's handler with the user's argument.
            unsafe { r(f.arg) };
        }
    }
}
