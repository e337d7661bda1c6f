//! pthread_once (and glibc's `__pthread_once` alias).
//!
//! POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_once.html>.
//!
//! The exports are naked functions: the fast path (the routine has run) is glibc's, one load
//! and a compare; otherwise they jump, leaving no frame of their own, to the C function
//! `rpthread_once_slow` (`sync/once_unwind.c`), which claims the once through [`OPS`], calls
//! the routine, and lets a C++ exception thrown by it unwind to the caller after resetting
//! the once (see `sync::once`).

use crate::object::obj;
use crate::errno::Errno;
use crate::sync::once::Once;
use libc::{c_int, pthread_once_t};

/// The state machine as C sees it (`struct rpthread_once_ops` in once_unwind.c).
/// cbindgen:ignore
#[repr(C)]
pub struct OnceOps {
    begin: unsafe extern "C" fn(*mut pthread_once_t) -> c_int,
    finish: unsafe extern "C" fn(*mut pthread_once_t),
    unwound: unsafe extern "C" fn(*mut pthread_once_t),
}

/// The once control behind a non-null C pointer.
///
/// # Safety
/// `c` points to a live `pthread_once_t`.
unsafe fn control<'a>(c: *mut pthread_once_t) -> &'a Once {
    // SAFETY: non-null and live (the contract); layout checked in abi::object.
    unsafe { obj(c) }.unwrap_or_else(|_| unreachable!("pthread_once checked the control"))
}

/// # Safety
/// `c` is the caller's live once control (pthread_once checked it is not null).
unsafe extern "C" fn begin(c: *mut pthread_once_t) -> c_int {
    // SAFETY: the caller's live control, not null (the contract); layout: abi::object.
    match unsafe { control(c) }.begin() {
        Ok(true) => 1,
        Ok(false) => 0,
        Err(e) => e.0,
    }
}

/// # Safety
/// As [`begin`], after it returned 1.
unsafe extern "C" fn finish(c: *mut pthread_once_t) {
    // SAFETY: as in `begin`.
    unsafe { control(c) }.finish()
}

/// # Safety
/// As [`begin`], after it returned 1; called from a cleanup while the routine unwinds.
unsafe extern "C" fn unwound(c: *mut pthread_once_t) {
    // SAFETY: as in `begin`.
    unsafe { control(c) }.unwound()
}

/// Entry points of the slow path.
static OPS: OnceOps = OnceOps { begin, finish, unwound };

// (`cbindgen:ignore` is read from doc comments; rustc does not use a doc comment here.)
#[allow(unused_doc_comments)]
/// cbindgen:ignore
extern "C" {
    /// `sync/once_unwind.c`: claims the once, runs `init`, reports its end. Returns 0 or an
    /// errno value.
    fn rpthread_once_slow(control: *mut pthread_once_t, init: Option<unsafe extern "C" fn()>, ops: *const OnceOps) -> c_int;
}

/// The constants `naked_once_body` compares and returns: `PTHREAD_ONCE_INIT`'s "has run"
/// state in the control word (see `sync::once`), and EINVAL.
const _: () = assert!(crate::sync::once::DONE == 1);
const _: () = assert!(Errno::EINVAL.0 == 22);

/// Runs `init_routine` exactly once for `once_control` (initialized with
/// `PTHREAD_ONCE_INIT`); every caller returns after it completed. If the routine does not
/// return (a C++ exception, which propagates to the caller; pthread_exit; cancellation), the
/// control is reset and the next caller runs the routine, as with glibc.
///
/// Errors: EINVAL (null argument), EDEADLK (the routine calls pthread_once on its own
/// control; glibc would hang).
///
/// # Safety
/// `once_control` null or a live `pthread_once_t` not used for anything else;
/// `init_routine` callable.
#[unsafe(naked)]
#[no_mangle]
pub unsafe extern "C" fn pthread_once(once_control: *mut pthread_once_t, init_routine: Option<unsafe extern "C" fn()>) -> c_int {
    crate::naked_once_body!(OPS, rpthread_once_slow)
}

/// glibc's alias of [`pthread_once`].
///
/// # Safety
/// As [`pthread_once`].
#[unsafe(naked)]
#[no_mangle]
pub unsafe extern "C" fn __pthread_once(once_control: *mut pthread_once_t, init_routine: Option<unsafe extern "C" fn()>) -> c_int {
    crate::naked_jump!(pthread_once)
}
