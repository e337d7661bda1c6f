//! pthread_exit and the end of every thread: run what must run, then give the memory back.

use super::{live, registry, stack, state, Thread};
use crate::glibc::{stacklist::StackListGuard, symbols::syms, tcb};

use crate::sys;
use core::ffi::c_void;
use core::sync::atomic::{AtomicPtr, Ordering};

/// What every thread of ours runs first as it ends, when something above this module asked
/// (the lock diagnostics: a thread that exits holding locks, its record's return). A slot
/// set once at load rather than a call by name: the diagnostics depend on `thread`, so
/// `thread` must not name them (no import cycle, scripts/structure.py).
static EXIT_OBSERVER: AtomicPtr<()> = AtomicPtr::new(core::ptr::null_mut());

/// Sets the function [`finish`] runs first (at load, before any thread of ours exists).
pub fn set_exit_observer(f: fn()) {
    EXIT_OBSERVER.store(f as *mut (), Ordering::Release);
}

/// Runs the exit observer, if one was set.
#[inline]
fn run_exit_observer() {
    let f = EXIT_OBSERVER.load(Ordering::Acquire);
    if !f.is_null() {
        // SAFETY: only set_exit_observer stores into the slot, always a `fn()`.
        let f = unsafe { core::mem::transmute::<*mut (), fn()>(f) };
        f();
    }
}

/// Ends the calling thread with `result` (pthread_exit): glibc's way, an unwind of its stack
/// (cleanup handlers, C++ destructors) down to its outermost buffer, whose owner ends the
/// thread: [`finish`] for ours, glibc's own code for the threads glibc runs.
pub fn exit_current(result: *mut c_void) -> ! {
    // SAFETY: the calling thread's own result field.
    unsafe { *tcb::result(tcb::current()) = result };
    crate::cancel::do_cancel()
}

/// The end of every thread of ours once its start routine returned or its stack was unwound:
/// C++ `thread_local` destructors, key destructors (glibc's order in its start_thread), then
/// the thread count and the memory.
///
/// # Safety
/// `ptr` is the calling thread's own descriptor, as created (the start argument).
pub unsafe fn finish(ptr: *mut Thread) -> ! {
    // SAFETY: our own live descriptor (the contract).
    let th = unsafe { &*ptr };
    run_exit_observer();
    // A pthread_once routine left by longjmp will never finish: let another run it (one
    // left by an unwind was reset by pthread_once's own clean-up).
    crate::sync::once::abandon_running();
    // SAFETY: glibc's C++ thread_local destructors for the calling thread.
    unsafe { (syms().call_tls_dtors)() };
    crate::tsd::run_destructors();
    crate::sync::mutex::pp::prio::release();
    // The last malloc/free of the thread's own: its tcache and arena go to the next thread
    // now, as glibc's __libc_thread_freeres does here (rpthread's own clean-up below neither
    // allocates nor frees in a thread without them).
    // SAFETY: a thread of ours, past its last use of malloc.
    unsafe { crate::glibc::tls::hand_over_malloc_state() };
    // No more cancellation from here on (glibc sets EXITING at this point too).
    crate::glibc::tcb::my_cancel_word().fetch_or(crate::cancel::bits::EXITING, Ordering::AcqRel);
    if live().fetch_sub(1, Ordering::AcqRel) == 1 {
        // The last thread: the process ends as if main had returned 0 (atexit, stdio flush).
        // SAFETY: exit(3) from a thread is allowed.
        unsafe { libc::exit(0) };
    }
    // Leave glibc's setxid() protocol while signals are still open (glibc::tcb::begin_exit):
    // once they are blocked this thread could never answer SIGSETXID.
    // SAFETY: our own TCB; SIGSETXID is never blocked (pthread_sigmask keeps it open).
    unsafe { tcb::begin_exit(th.tcb) };
    sys::sigprocmask(libc::SIG_SETMASK, Some(&sys::full_sigset()));
    // SAFETY: we are the exiting thread; nothing below this frame is live.
    unsafe { stack::advise_unused(th) };
    let prev = th.state.fetch_or(state::EXITED, Ordering::AcqRel);
    if prev & state::DETACHED != 0 {
        // SAFETY: detached: nobody else references the descriptor; the cache will not hand
        // the memory out before the kernel clears our tid.
        unsafe { retire(ptr) };
    }
    sys::exit_thread(0)
}


/// Frees a thread that will run no more user code: off glibc's list, out of the registry,
/// memory back to the cache. Called by its joiner, by a late detacher, by the creator of a
/// thread that failed to start, or by a detached thread itself at its very end.
///
/// # Safety
/// The caller must be the one party entitled to free `t` (see `state`); unless `t` is the
/// calling thread, the thread must have ended (tid 0).
pub unsafe fn retire(t: *mut Thread) {
    // SAFETY: per contract the descriptor and its TCB are valid; the TCB is on the list
    // since create.
    unsafe {
        StackListGuard::lock().remove((*t).tcb);
        registry::remove((*t).handle());
        stack::release(t);
    }
}
