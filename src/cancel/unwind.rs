//! Leaving a thread through pthread_exit or cancellation: glibc's forced unwind
//! (`__pthread_unwind`, nptl/unwind.c), on the calling thread's TCB, so that C++ destructors
//! and `__attribute__((cleanup))` handlers run, list handlers run in between at their frames,
//! and the unwind ends by longjmp into a setjmp buffer of the `cleanup_jmp_buf` chain.
//!
//! `_Unwind_ForcedUnwind` (libgcc_s, found with dlopen/dlsym as glibc does) walks the frames
//! and calls [`stop`] for each before the frame's own cleanups run. With `buf` the buffer the
//! unwind was started for, `stop` jumps into `buf` once the next frame lies above the stack
//! pointer `buf` saved (or at the end of the unwind information), after running every list
//! handler registered since `buf` was registered; before that, it runs the list handlers of
//! the frames being left. A buffer registered by glibc's macros resumes the program's macro
//! code, which runs its handler and calls `__pthread_unwind_next`: the unwind goes on from the
//! buffer before it. The outermost buffer belongs to the thread's start code: ours
//! (`thread::create`) for our threads, glibc's `start_thread` or `__libc_start_call_main` for
//! the threads glibc runs, so each ends its thread its own way.
//!
//! The exception object lives in the TCB (`exc`); its cleanup hook is only called when C++
//! code swallows the unwind (`catch (...)` without rethrow): as in glibc, that is fatal.

use alloc::boxed::Box;
use super::cleanup::{self, UnwindBuf};
use crate::glibc::tcb;
use core::ffi::{c_int, c_void};
use core::sync::atomic::{AtomicUsize, Ordering};

/// `struct _Unwind_Exception` (libgcc: 16-byte aligned, 32 bytes).
#[repr(C, align(16))]
pub struct Exception {
    class: u64,
    cleanup: Option<unsafe extern "C" fn(c_int, *mut Exception)>,
    private: [usize; 2],
}

type StopFn = unsafe extern "C" fn(c_int, c_int, u64, *mut Exception, *mut c_void, *mut c_void) -> c_int;
type ForcedUnwindFn = unsafe extern "C" fn(*mut Exception, StopFn, *mut c_void) -> c_int;
type GetCfaFn = unsafe extern "C" fn(*mut c_void) -> usize;

const UA_END_OF_STACK: c_int = 16;
const URC_NO_REASON: c_int = 0;

#[cfg(not(test))]
#[link(name = "rpthread_rt_unwind", kind = "static")]
extern "C" {
    /// rt_unwind.c: looks up libgcc_s's `__gcc_personality_v0` and `_Unwind_Resume` for the
    /// forwarders of the same names (libgcc_s must be loaded).
    fn rpthread_unwind_resolve();
}

/// A unit-test binary links std and libgcc_s: the unwinder's entry points are the real ones,
/// and rt_unwind.c (with its forwarders) is not linked.
#[cfg(test)]
unsafe fn rpthread_unwind_resolve() {}

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
            // The forwarders the library's own unwind tables name (rt_unwind.c): resolved
            // now, so that unwinding a cancelled thread does not enter the dynamic loader.
            rpthread_unwind_resolve();
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

/// Unwinds the calling thread's stack down to `buf` (glibc's `__pthread_unwind`).
pub fn unwind(buf: *mut UnwindBuf) -> ! {
    let Some(u) = unwinder() else {
        crate::glibc::fatal("libgcc_s.so.1 must be installed for pthread_exit and pthread_cancel to work")
    };
    let exc = tcb::unwind_exception::<Exception>();
    // SAFETY: the thread's own exception object, not in use by another unwind (a previous
    // one was abandoned by longjmp, or this is the first); `buf` is a registered buffer of a
    // live frame or null (then the unwind runs to the end of the stack).
    unsafe {
        exc.write(Exception { class: 0, cleanup: Some(exception_swallowed), private: [0; 2] });
        (u.forced_unwind)(exc, stop, buf.cast());
    }
    // Returning means the unwinder failed (corrupt unwind tables).
    // SAFETY: abort never returns.
    unsafe { libc::abort() }
}

/// `__pthread_unwind_next`: continues after the handler of `buf` ran, from the buffer
/// registered before it.
///
/// # Safety
/// `buf` must be a buffer the unwind jumped into.
pub unsafe fn unwind_next(buf: *mut UnwindBuf) -> ! {
    // SAFETY: per contract.
    unwind(unsafe { (*buf).prev })
}

/// The stop function (glibc's `unwind_stop`).
unsafe extern "C" fn stop(
    _version: c_int,
    actions: c_int,
    _class: u64,
    _exc: *mut Exception,
    ctx: *mut c_void,
    param: *mut c_void,
) -> c_int {
    let buf = param.cast::<UnwindBuf>();
    let adj = tcb::stack_adjust();
    let u = unwinder().expect("the unwinder is running");
    // SAFETY: `ctx` is the unwinder's context for the current frame.
    let cfa = unsafe { (u.get_cfa)(ctx) };
    // Jump once the frame about to be left lies above the buffer's frame (addresses taken
    // relative to the stack top, so a stack above the main one compares right).
    // SAFETY: a registered buffer filled by __sigsetjmp in this thread.
    let jump = actions & UA_END_OF_STACK != 0
        || buf.is_null()
        || cfa.wrapping_sub(adj) >= unsafe { cleanup::saved_sp(buf) }.wrapping_sub(adj);
    let mut cur = cleanup::innermost_handler();
    if !cur.is_null() {
        // SAFETY: a registered buffer, or null.
        let stop_at = if buf.is_null() { core::ptr::null_mut() } else { unsafe { (*buf).cleanup } };
        let left = |b: *mut cleanup::CleanupBuffer| cfa.wrapping_sub(adj) >= (b as usize).wrapping_sub(adj);
        if cur != stop_at && (jump || left(cur)) {
            while cur != stop_at && !cur.is_null() && (jump || left(cur)) {
                // SAFETY: a registered buffer in a frame not yet left.
                let b = unsafe { &*cur };
                cur = b.prev;
                if let Some(f) = b.routine {
                    // SAFETY: the user's handler with the user's argument.
                    unsafe { f(b.arg) };
                }
            }
            cleanup::set_innermost_handler(cur);
        }
    }
    if jump {
        if buf.is_null() {
            // No buffer at all (a thread whose start code registered none): nothing to return
            // to; glibc would crash here.
            crate::glibc::fatal("pthread_exit or cancellation in a thread without an unwind buffer");
        }
        // SAFETY: a registered buffer of a frame still live (above every frame unwound).
        unsafe { longjmp(buf) }
    }
    URC_NO_REASON
}

/// Resumes at the `__sigsetjmp` of `buf`, returning 1 there.
///
/// # Safety
/// `buf` must be a registered buffer of a frame that is still live (above the caller).
unsafe fn longjmp(buf: *mut UnwindBuf) -> ! {
    // The buffer has __mask_was_saved == 0, so glibc's siglongjmp restores registers only
    // (after running list handlers registered below the target, none by now).
    // SAFETY: per contract; the buffer starts with a jmp_buf prefix glibc's longjmp reads.
    unsafe { siglongjmp(buf.cast(), 1) }
}

#[allow(unused_doc_comments)]
/// cbindgen:ignore
extern "C" {
    /// glibc's siglongjmp (a jmp_buf is an array of `struct __jmp_buf_tag`).
    fn siglongjmp(env: *mut c_void, val: i32) -> !;
}

/// The exception cleanup hook: C++ caught the forced unwind and did not rethrow it.
unsafe extern "C" fn exception_swallowed(_reason: c_int, _exc: *mut Exception) {
    let msg = b"FATAL: exception not rethrown\n";
    crate::sys::write_stderr(msg);
    // SAFETY: abort has no preconditions and never returns.
    unsafe { libc::abort() }
}
