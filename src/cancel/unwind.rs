//! Leaving a thread through pthread_exit or cancellation: a forced unwind of its stack, as
//! glibc does, so that C++ destructors and `__attribute__((cleanup))` handlers run, with the
//! list-registered cleanup handlers run in between at their frames; then the rest of the exit
//! (key destructors, `thread_local` destructors, memory).
//!
//! `_Unwind_ForcedUnwind` (libgcc_s, found with dlopen/dlsym as glibc does) walks the frames
//! and calls our stop function for each, before the frame's own cleanups run. For a frame
//! whose CFA is `c`, the stop function first runs every list handler registered below `c`
//! (innermost first); a glibc setjmp buffer is entered by longjmp, and its macro code calls
//! `__pthread_unwind_next`, which starts a new forced unwind from there. The unwind ends at
//! the first frame above our `start_thread` (its stack pointer is recorded at start) or at
//! the end of the stack (the main thread, adopted threads, or code without unwind tables):
//! the remaining list handlers run, then [`crate::thread::exit::finish`], on a clean stack.
//!
//! The exception object's cleanup hook is only called when C++ code swallows the unwind
//! (`catch (...)` without rethrow): as glibc, that is fatal.

use super::cleanup::{self, Pending};
use crate::thread::{self, Thread};
use core::ffi::{c_int, c_void};
use core::sync::atomic::{AtomicUsize, Ordering};

/// `struct _Unwind_Exception` (libgcc: 16-byte aligned, 32 bytes).
#[repr(C, align(16))]
pub struct Exception {
    class: u64,
    cleanup: Option<unsafe extern "C" fn(c_int, *mut Exception)>,
    private: [usize; 2],
}

impl Exception {
    /// A fresh exception object.
    pub const fn new() -> Exception {
        Exception { class: 0, cleanup: None, private: [0; 2] }
    }
}

impl Default for Exception {
    fn default() -> Self {
        Exception::new()
    }
}

type StopFn = unsafe extern "C" fn(c_int, c_int, u64, *mut Exception, *mut c_void, *mut c_void) -> c_int;
type ForcedUnwindFn = unsafe extern "C" fn(*mut Exception, StopFn, *mut c_void) -> c_int;
type GetCfaFn = unsafe extern "C" fn(*mut c_void) -> usize;

const UA_END_OF_STACK: c_int = 16;
const URC_NO_REASON: c_int = 0;

/// 0 = not looked up yet, 1 = unavailable, else the address of a leaked `Unwinder`.
static UNWINDER: AtomicUsize = AtomicUsize::new(0);

struct Unwinder {
    forced_unwind: ForcedUnwindFn,
    get_cfa: GetCfaFn,
}

/// Loads libgcc_s's unwinder now (pthread_cancel calls this so the cancelled thread never
/// has to dlopen inside a signal handler).
pub fn preload() {
    let _ = unwinder();
}

fn unwinder() -> Option<&'static Unwinder> {
    let v = UNWINDER.load(Ordering::Acquire);
    if v > 1 {
        // SAFETY: a leaked, never freed `Unwinder`.
        return Some(unsafe { &*(v as *const Unwinder) });
    }
    if v == 1 {
        return None;
    }
    // SAFETY: dlopen/dlsym with NUL-terminated names; the library stays loaded (never closed).
    let found = unsafe {
        let h = libc::dlopen(c"libgcc_s.so.1".as_ptr(), libc::RTLD_NOW);
        if h.is_null() {
            None
        } else {
            let f = libc::dlsym(h, c"_Unwind_ForcedUnwind".as_ptr());
            let g = libc::dlsym(h, c"_Unwind_GetCFA".as_ptr());
            (!f.is_null() && !g.is_null()).then(|| Unwinder {
                forced_unwind: core::mem::transmute::<*mut c_void, ForcedUnwindFn>(f),
                get_cfa: core::mem::transmute::<*mut c_void, GetCfaFn>(g),
            })
        }
    };
    let v = match found {
        Some(u) => Box::leak(Box::new(u)) as *const Unwinder as usize,
        None => 1,
    };
    // Racing loaders both leak an identical table; either value is fine.
    UNWINDER.store(v, Ordering::Release);
    unwinder()
}

/// Ends the calling thread `th` with `result`: runs its cleanup handlers (unwinding its
/// stack), then the rest of the exit path. pthread_exit and cancellation both end here.
pub fn exit_unwinding(th: &'static Thread, result: *mut c_void) -> ! {
    // An exiting thread is no longer cancelled (as glibc: its cleanup handlers may call
    // cancellation points).
    th.cancel.word.fetch_or(super::DISABLED, core::sync::atomic::Ordering::AcqRel);
    // A pthread_once routine this thread is running will never finish: let another run it.
    crate::sync::once::abandon_running();
    // SAFETY: only the thread itself writes its result, before it exits.
    unsafe { (*(th as *const Thread as *mut Thread)).result = result };
    continue_unwind(th)
}

/// Continues (or starts) the unwind of the calling thread: from pthread_exit, from a
/// cancellation, and from `__pthread_unwind_next` after a setjmp handler ran.
pub fn continue_unwind(th: &'static Thread) -> ! {
    if let Some(u) = unwinder() {
        let exc = th.cancel.exc.get();
        // SAFETY: the thread's own exception object, not in use by another unwind (a
        // previous one was abandoned by longjmp, or this is the first).
        unsafe {
            exc.write(Exception {
                class: u64::from_be_bytes(*b"RPTHcanc"),
                cleanup: Some(exception_swallowed),
                private: [0; 2],
            });
            (u.forced_unwind)(exc, stop, core::ptr::null_mut());
        }
        // Returning means the unwinder failed (corrupt unwind tables): finish without it.
    }
    finish_remaining(th)
}

/// Runs every remaining list handler (setjmp ones by longjmp), then the rest of the exit.
fn finish_remaining(th: &'static Thread) -> ! {
    loop {
        match cleanup::next_below(&th.cancel, usize::MAX) {
            Pending::Ran => continue,
            // SAFETY: a registered buffer of a live frame above us.
            Pending::Jump(b) => unsafe { cleanup::longjmp(b) },
            Pending::None => break,
        }
    }
    let sp = th.cancel.start_sp.get();
    if sp != 0 {
        // Everything below `start_thread`'s frame is dead: finish on a fresh stack there
        // rather than deep under the unwinder's frames.
        // SAFETY: `sp` is inside start_thread's frame of the running thread; nothing below
        // it will be used again; `finish_entry` never returns.
        unsafe {
            core::arch::asm!(
                "mov rsp, {sp}",
                "call {f}",
                "ud2",
                sp = in(reg) sp & !15,
                f = sym finish_entry,
                in("rdi") th as *const Thread,
                options(noreturn)
            )
        }
    }
    crate::thread::exit::finish(th)
}

extern "C" fn finish_entry(th: *const Thread) -> ! {
    // SAFETY: the descriptor of the calling thread, passed by `finish_remaining`.
    crate::thread::exit::finish(unsafe { &*th })
}

/// The stop function of the forced unwind.
unsafe extern "C" fn stop(
    _version: c_int,
    actions: c_int,
    _class: u64,
    _exc: *mut Exception,
    ctx: *mut c_void,
    _param: *mut c_void,
) -> c_int {
    let th = thread::current();
    let end_of_stack = actions & UA_END_OF_STACK != 0;
    let cfa = if end_of_stack {
        usize::MAX
    } else {
        let u = unwinder().expect("the unwinder is running");
        // SAFETY: `ctx` is the unwinder's context for the current frame.
        unsafe { (u.get_cfa)(ctx) }
    };
    let start = th.cancel.start_sp.get();
    // Above start_thread's frame on the thread's own stack (a frame on a signal stack
    // elsewhere is not the end).
    let past_start = start != 0 && cfa > start && (th.stack_hi == 0 || cfa <= th.stack_hi);
    if end_of_stack || past_start {
        finish_remaining(th);
    }
    loop {
        match cleanup::next_below(&th.cancel, cfa) {
            Pending::Ran => continue,
            // SAFETY: a registered buffer in the frame being unwound, which is still live.
            Pending::Jump(b) => unsafe { cleanup::longjmp(b) },
            Pending::None => return URC_NO_REASON,
        }
    }
}

/// The exception cleanup hook: C++ caught the forced unwind and did not rethrow it.
unsafe extern "C" fn exception_swallowed(_reason: c_int, _exc: *mut Exception) {
    let msg = b"FATAL: exception not rethrown\n";
    // SAFETY: write(2) of a static buffer; abort never returns.
    unsafe {
        crate::sys::raw(libc::SYS_write, &[2, msg.as_ptr() as usize, msg.len()]);
        libc::abort();
    }
}
