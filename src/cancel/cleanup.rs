//! Cleanup handlers registered by compiled code, in the two list-based ABIs:
//!
//! - `struct _pthread_cleanup_buffer` (32 bytes): our header's pthread_cleanup_push/pop macros
//!   (C without exceptions) and glibc's exported `_pthread_cleanup_push/pop[_defer/_restore]`.
//!   The handler runs from the forced unwind when it reaches the frame holding the buffer.
//! - `__pthread_unwind_buf_t` (glibc's macros in C without exceptions, e.g. pigz, sysbench):
//!   the macro `__sigsetjmp`s into the buffer and registers it; on cancellation the unwind
//!   longjmps into it, the macro's code runs the handler and calls `__pthread_unwind_next`,
//!   which continues the unwind from there.
//!
//! (C++ and C with -fexceptions need no list: their handlers are destructors and
//! `__attribute__((cleanup))` functions, run by the forced unwind's personality routines.)

use super::PerThread;
use crate::thread;
use core::ffi::c_void;

/// glibc's `struct _pthread_cleanup_buffer`.
#[repr(C)]
pub struct CleanupBuffer {
    /// Handler.
    pub routine: Option<unsafe extern "C" fn(*mut c_void)>,
    /// Its argument.
    pub arg: *mut c_void,
    /// Saved cancellation type (the `_defer` variants).
    pub canceltype: i32,
    /// Next outer buffer.
    pub prev: *mut CleanupBuffer,
}

/// glibc's `__pthread_unwind_buf_t` as its library sees it: a jmp_buf (8 words + mask flag)
/// then `priv.data` = { prev, cleanup, canceltype }.
#[repr(C)]
pub struct UnwindBuf {
    /// Registers saved by `__sigsetjmp` (rbx, rbp*, r12-r15, rsp*, pc*; * = pointer-mangled).
    pub jmp_buf: [usize; 8],
    /// Whether the signal mask was saved (always 0 from the macros).
    pub mask_was_saved: i32,
    /// Next outer buffer.
    pub prev: *mut UnwindBuf,
    /// The `_pthread_cleanup_buffer` list head when this buffer was registered.
    pub cleanup: *mut CleanupBuffer,
    /// Saved cancellation type (the `_defer` variant).
    pub canceltype: i32,
}

const _: () = assert!(core::mem::size_of::<CleanupBuffer>() == 32);
const _: () = assert!(core::mem::offset_of!(UnwindBuf, prev) == 72);
const _: () = assert!(core::mem::offset_of!(UnwindBuf, canceltype) == 88);

fn me() -> &'static PerThread {
    &thread::current().cancel
}

/// `_pthread_cleanup_push`: pushes `buf` with `routine(arg)`.
///
/// # Safety
/// `buf` must stay valid until popped (it lives in the caller's frame).
pub unsafe fn push(buf: *mut CleanupBuffer, routine: Option<unsafe extern "C" fn(*mut c_void)>, arg: *mut c_void) {
    let c = me();
    // SAFETY: per contract.
    unsafe {
        (*buf).routine = routine;
        (*buf).arg = arg;
        (*buf).prev = c.cleanup.get();
    }
    c.cleanup.set(buf);
}

/// `_pthread_cleanup_pop`: pops `buf`, running its handler if `execute`.
///
/// # Safety
/// `buf` must be the buffer pushed last by this thread.
pub unsafe fn pop(buf: *mut CleanupBuffer, execute: bool) {
    // SAFETY: per contract.
    let b = unsafe { &*buf };
    me().cleanup.set(b.prev);
    if execute {
        if let Some(f) = b.routine {
            // SAFETY: the user's handler with the user's argument.
            unsafe { f(b.arg) };
        }
    }
}

/// `_pthread_cleanup_push_defer`: as [`push`], saving the cancel type and switching to
/// deferred.
///
/// # Safety
/// As for [`push`].
pub unsafe fn push_defer(buf: *mut CleanupBuffer, routine: Option<unsafe extern "C" fn(*mut c_void)>, arg: *mut c_void) {
    let was_async = super::set_type(false);
    // SAFETY: forwarded.
    unsafe {
        push(buf, routine, arg);
        (*buf).canceltype = was_async as i32;
    }
}

/// `_pthread_cleanup_pop_restore`: as [`pop`], then restores the saved cancel type.
///
/// # Safety
/// As for [`pop`].
pub unsafe fn pop_restore(buf: *mut CleanupBuffer, execute: bool) {
    // SAFETY: per contract.
    let was_async = unsafe { (*buf).canceltype } != 0;
    // SAFETY: forwarded.
    unsafe { pop(buf, execute) };
    super::set_type(was_async);
}

/// `__pthread_register_cancel`: registers a setjmp buffer.
///
/// # Safety
/// `buf` must stay valid until unregistered.
pub unsafe fn register(buf: *mut UnwindBuf) {
    let c = me();
    // SAFETY: per contract.
    unsafe {
        (*buf).prev = c.unwind_bufs.get();
        (*buf).cleanup = c.cleanup.get();
    }
    c.unwind_bufs.set(buf);
}

/// `__pthread_unregister_cancel`.
///
/// # Safety
/// `buf` must be the buffer registered last by this thread.
pub unsafe fn unregister(buf: *mut UnwindBuf) {
    // SAFETY: per contract.
    me().unwind_bufs.set(unsafe { (*buf).prev });
}

/// `__pthread_register_cancel_defer`: as [`register`], saving the type and going deferred.
///
/// # Safety
/// As for [`register`].
pub unsafe fn register_defer(buf: *mut UnwindBuf) {
    let was_async = super::set_type(false);
    // SAFETY: forwarded.
    unsafe {
        register(buf);
        (*buf).canceltype = was_async as i32;
    }
}

/// `__pthread_unregister_cancel_restore`: as [`unregister`], restoring the saved type.
///
/// # Safety
/// As for [`unregister`].
pub unsafe fn unregister_restore(buf: *mut UnwindBuf) {
    // SAFETY: per contract.
    let was_async = unsafe { (*buf).canceltype } != 0;
    // SAFETY: forwarded.
    unsafe { unregister(buf) };
    super::set_type(was_async);
}

/// What the unwind must do next for the frames below `limit` (a CFA).
pub enum Pending {
    /// Nothing registered below `limit`.
    None,
    /// A `_pthread_cleanup_buffer` handler was run; look again.
    Ran,
    /// Longjmp into this setjmp buffer (already unregistered).
    Jump(*mut UnwindBuf),
}

/// Takes the innermost registered handler whose buffer lies below `limit` (both kinds live in
/// the frames of the code that registered them, so addresses order them innermost first).
/// Runs a `_pthread_cleanup_buffer` handler itself; returns a setjmp buffer to jump to.
pub fn next_below(c: &PerThread, limit: usize) -> Pending {
    let cb = c.cleanup.get();
    let ub = c.unwind_bufs.get();
    let cb_a = if cb.is_null() { usize::MAX } else { cb as usize };
    let ub_a = if ub.is_null() { usize::MAX } else { ub as usize };
    if cb_a <= ub_a && cb_a < limit {
        // SAFETY: a registered buffer in a frame not yet unwound.
        let b = unsafe { &*cb };
        c.cleanup.set(b.prev);
        if let Some(f) = b.routine {
            // SAFETY: the user's handler with the user's argument.
            unsafe { f(b.arg) };
        }
        return Pending::Ran;
    }
    if ub_a < cb_a && ub_a < limit {
        // SAFETY: as above.
        c.unwind_bufs.set(unsafe { (*ub).prev });
        return Pending::Jump(ub);
    }
    Pending::None
}

/// Resumes at the `__sigsetjmp` of `buf`, returning 1 there (the macro then runs the handler
/// and calls `__pthread_unwind_next`).
///
/// # Safety
/// `buf` must be a registered buffer of a frame that is still live (above the caller).
pub unsafe fn longjmp(buf: *mut UnwindBuf) -> ! {
    // The buffer has __mask_was_saved == 0 (the macros pass savemask 0), so glibc's
    // siglongjmp restores registers only; it is the `__libc_longjmp` glibc uses itself.
    // SAFETY: per contract; the buffer starts with a jmp_buf prefix glibc's longjmp reads.
    unsafe { siglongjmp(buf.cast(), 1) }
}

#[allow(unused_doc_comments)]
/// cbindgen:ignore
extern "C" {
    /// glibc's siglongjmp (a jmp_buf is an array of `struct __jmp_buf_tag`).
    fn siglongjmp(env: *mut c_void, val: i32) -> !;
}
