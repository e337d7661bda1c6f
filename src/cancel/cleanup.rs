//! Cleanup handlers registered by compiled code, on the calling thread's TCB lists (glibc's
//! `cleanup` and `cleanup_jmp_buf` fields), with glibc's semantics:
//!
//! - `struct _pthread_cleanup_buffer` (32 bytes): our header's pthread_cleanup_push/pop macros
//!   (C without exceptions) and glibc's exported `_pthread_cleanup_push/pop[_defer/_restore]`.
//!   The forced unwind runs the handler when it leaves the frame holding the buffer.
//! - `struct pthread_unwind_buf` (glibc's macros in C without exceptions, e.g. pigz, sysbench;
//!   also the outermost buffer of every thread, set by its start code): the macro
//!   `__sigsetjmp`s into the buffer and registers it; on cancellation the unwind longjmps into
//!   it, the macro's code runs the handler and calls `__pthread_unwind_next`, which continues
//!   the unwind from the buffer registered before it.
//!
//! (C++ and C with -fexceptions need no list: their handlers are destructors and
//! `__attribute__((cleanup))` functions, run by the forced unwind's personality routines.)

use crate::glibc::tcb;
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

/// glibc's `struct pthread_unwind_buf`: a jmp_buf (8 words + mask flag) then
/// `priv.data` = { prev, cleanup, canceltype }.
#[repr(C)]
pub struct UnwindBuf {
    /// Registers saved by `__sigsetjmp` (rbx, rbp*, r12-r15, rsp*, pc*; * = pointer-mangled).
    pub jmp_buf: [usize; 8],
    /// Whether the signal mask was saved (always 0 here).
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
const _: () = assert!(core::mem::offset_of!(UnwindBuf, cleanup) == 80);
const _: () = assert!(core::mem::offset_of!(UnwindBuf, canceltype) == 88);

/// Index of the saved stack pointer in a jmp_buf (mangled).
const JB_RSP: usize = 6;

/// PTHREAD_CANCEL_ASYNCHRONOUS as stored in the buffers' `canceltype`.
const ASYNCHRONOUS: i32 = 1;

fn list() -> *mut *mut CleanupBuffer {
    tcb::cleanup_list()
}

fn chain() -> *mut *mut UnwindBuf {
    tcb::unwind_buf_chain()
}

/// The calling thread's innermost registered setjmp buffer (where an unwind starts).
pub fn innermost_unwind_buf() -> *mut UnwindBuf {
    // SAFETY: the calling thread's own TCB field.
    unsafe { *chain() }
}

/// The calling thread's innermost list handler.
pub fn innermost_handler() -> *mut CleanupBuffer {
    // SAFETY: the calling thread's own TCB field.
    unsafe { *list() }
}

/// Records `b` as the calling thread's innermost list handler (after the unwind ran some).
pub fn set_innermost_handler(b: *mut CleanupBuffer) {
    // SAFETY: the calling thread's own TCB field.
    unsafe { *list() = b };
}

/// The stack pointer saved in `buf`'s jmp_buf.
///
/// # Safety
/// `buf` must have been filled by `__sigsetjmp` in the calling thread.
pub unsafe fn saved_sp(buf: *const UnwindBuf) -> usize {
    // SAFETY: per contract.
    tcb::demangle(unsafe { (*buf).jmp_buf[JB_RSP] })
}

/// `_pthread_cleanup_push`: pushes `buf` with `routine(arg)`.
///
/// # Safety
/// `buf` must stay valid until popped (it lives in the caller's frame).
pub unsafe fn push(buf: *mut CleanupBuffer, routine: Option<unsafe extern "C" fn(*mut c_void)>, arg: *mut c_void) {
    // SAFETY: per contract; the list head is the calling thread's.
    unsafe {
        (*buf).routine = routine;
        (*buf).arg = arg;
        (*buf).prev = *list();
        *list() = buf;
    }
}

/// `_pthread_cleanup_pop`: pops `buf`, running its handler if `execute`.
///
/// # Safety
/// `buf` must be the buffer pushed last by this thread.
pub unsafe fn pop(buf: *mut CleanupBuffer, execute: bool) {
    // SAFETY: per contract.
    let b = unsafe { &*buf };
    set_innermost_handler(b.prev);
    if execute {
        if let Some(f) = b.routine {
            // SAFETY: the user's handler with the user's argument.
            unsafe { f(b.arg) };
        }
    }
}

/// Switches the calling thread to the deferred type; returns the old type as stored in the
/// buffers (glibc's `__libc_cleanup_push_defer` and `__pthread_register_cancel_defer`).
fn defer() -> i32 {
    let was_async = super::set_type(false);
    if was_async { ASYNCHRONOUS } else { 0 }
}

/// Back to the asynchronous type if `saved` says so, acting on a pending request.
fn restore(saved: i32) {
    if saved != 0 {
        super::set_type(true);
    }
}

/// `_pthread_cleanup_push_defer`: as [`push`], saving the cancel type and switching to
/// deferred.
///
/// # Safety
/// As for [`push`].
pub unsafe fn push_defer(buf: *mut CleanupBuffer, routine: Option<unsafe extern "C" fn(*mut c_void)>, arg: *mut c_void) {
    // SAFETY: `buf` and `arg` are valid as this function's `# Safety` section requires.
    unsafe {
        push(buf, routine, arg);
        (*buf).canceltype = defer();
    }
}

/// `_pthread_cleanup_pop_restore`: removes `buf`, restores the saved cancel type (acting on
/// a pending request), then runs the handler if `execute` (glibc's order).
///
/// # Safety
/// As for [`pop`].
pub unsafe fn pop_restore(buf: *mut CleanupBuffer, execute: bool) {
    // SAFETY: per contract.
    let b = unsafe { &*buf };
    set_innermost_handler(b.prev);
    restore(b.canceltype);
    if execute {
        if let Some(f) = b.routine {
            // SAFETY: the user's handler with the user's argument.
            unsafe { f(b.arg) };
        }
    }
}

/// `__pthread_register_cancel`: registers a setjmp buffer.
///
/// # Safety
/// `buf` must stay valid until unregistered.
pub unsafe fn register(buf: *mut UnwindBuf) {
    // SAFETY: per contract; the heads are the calling thread's.
    unsafe {
        (*buf).prev = *chain();
        (*buf).cleanup = *list();
        *chain() = buf;
    }
}

/// `__pthread_unregister_cancel`.
///
/// # Safety
/// `buf` must be the buffer registered last by this thread.
pub unsafe fn unregister(buf: *mut UnwindBuf) {
    // SAFETY: per contract.
    unsafe { *chain() = (*buf).prev };
}

/// `__pthread_register_cancel_defer`: as [`register`], saving the type and going deferred.
///
/// # Safety
/// As for [`register`].
pub unsafe fn register_defer(buf: *mut UnwindBuf) {
    // SAFETY: `buf` is valid as this function's `# Safety` section requires.
    unsafe {
        (*buf).prev = *chain();
        (*buf).cleanup = *list();
        (*buf).canceltype = defer();
        *chain() = buf;
    }
}

/// `__pthread_unregister_cancel_restore`: as [`unregister`], restoring the saved type.
///
/// # Safety
/// As for [`unregister`].
pub unsafe fn unregister_restore(buf: *mut UnwindBuf) {
    // SAFETY: per contract.
    let saved = unsafe {
        *chain() = (*buf).prev;
        (*buf).canceltype
    };
    restore(saved);
}
