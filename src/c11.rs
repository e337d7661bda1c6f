//! C11 threads (`<threads.h>`) on top of the POSIX implementation: the mapping of results
//! and the adapter from C11's `int`-returning start routine.

use alloc::boxed::Box;
use crate::errno::{Errno, Result};
use core::ffi::c_void;

/// `thrd_success`.
pub const SUCCESS: i32 = 0;
/// `thrd_busy`.
pub const BUSY: i32 = 1;
/// `thrd_error`.
pub const ERROR: i32 = 2;
/// `thrd_nomem`.
pub const NOMEM: i32 = 3;
/// `thrd_timedout`.
pub const TIMEDOUT: i32 = 4;

/// Maps a POSIX result to a C11 `thrd_*` code, as glibc does.
pub fn code(r: Result<()>) -> i32 {
    match r {
        Ok(()) => SUCCESS,
        Err(Errno::ENOMEM) => NOMEM,
        Err(Errno::ETIMEDOUT) => TIMEDOUT,
        Err(Errno::EBUSY) => BUSY,
        Err(_) => ERROR,
    }
}

/// A C11 start routine.
pub type StartFn = unsafe extern "C" fn(*mut c_void) -> i32;

/// What a C11 thread starts with: its routine and argument, boxed by thrd_create.
pub struct Start {
    /// The routine.
    pub func: StartFn,
    /// Its argument.
    pub arg: *mut c_void,
}

/// The POSIX start routine of every C11 thread: unbox, run, return the `int` as the result
/// pointer (thrd_join converts it back).
///
/// # Safety
/// `p` must come from `Box::into_raw(Box<Start>)` and is consumed.
pub unsafe extern "C" fn trampoline(p: *mut c_void) -> *mut c_void {
    // SAFETY: per contract.
    let s = unsafe { Box::from_raw(p.cast::<Start>()) };
    // SAFETY: the user's routine with the user's argument.
    let r = unsafe { (s.func)(s.arg) };
    r as isize as *mut c_void
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_like_glibc() {
        assert_eq!(code(Ok(())), SUCCESS);
        assert_eq!(code(Err(Errno::ENOMEM)), NOMEM);
        assert_eq!(code(Err(Errno::ETIMEDOUT)), TIMEDOUT);
        assert_eq!(code(Err(Errno::EBUSY)), BUSY);
        assert_eq!(code(Err(Errno::EAGAIN)), ERROR);
    }
}
