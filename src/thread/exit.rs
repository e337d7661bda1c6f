//! pthread_exit and the end of every thread: run what must run, then give the memory back.

use super::{registry, stack, state, Thread, LIVE};
use crate::glibc::{stacklist::StackListGuard, symbols::syms, tcb};

use crate::sys;
use core::ffi::c_void;
use core::sync::atomic::Ordering;

/// Ends the calling thread with `result` (pthread_exit): runs its cleanup handlers and C++
/// destructors by unwinding its stack, then [`finish`].
pub fn exit_current(result: *mut c_void) -> ! {
    crate::cancel::unwind::exit_unwinding(super::current(), result)
}

/// Ends the calling thread after its start routine returned `result` (no frames to unwind).
pub fn exit_returned(th: &'static Thread, result: *mut c_void) -> ! {
    // SAFETY: only the thread itself writes its result, before EXITED is published.
    unsafe { (*(th as *const Thread as *mut Thread)).result = result };
    finish(th)
}

/// The end of every thread once its cleanup handlers ran: C++ `thread_local` destructors,
/// key destructors (glibc's order in its start_thread), then the thread count and the memory.
pub fn finish(th: &Thread) -> ! {
    // Cancellation stays disabled from here on (pthread_exit from a cleanup or a destructor
    // must not be interrupted by a late request).
    th.cancel.word.fetch_or(crate::cancel::DISABLED, Ordering::AcqRel);
    if th.adopted && sys::gettid() != sys::getpid() {
        // A thread glibc created (SIGEV_THREAD timers, C11 threads, threads from before we
        // were loaded): our cleanup handlers ran; glibc's pthread_exit takes it back to
        // glibc's start_thread, which runs thread_local destructors and frees what glibc
        // owns. It is not in our LIVE count.
        // SAFETY: glibc's pthread_exit on one of glibc's threads.
        unsafe { (syms().real_pthread_exit)(th.result) }
    }
    // SAFETY: glibc's C++ thread_local destructors for the calling thread.
    unsafe { (syms().call_tls_dtors)() };
    crate::tsd::run_destructors(th);
    if !th.adopted {
        // The last malloc/free of the thread's own: its tcache and arena go to the next
        // thread now, as glibc's __libc_thread_freeres does here (rpthread's own clean-up
        // below neither allocates nor frees in a thread without them).
        // SAFETY: a thread of ours, past its last use of malloc.
        unsafe { crate::glibc::tls::hand_over_malloc_state() };
    }

    if LIVE.fetch_sub(1, Ordering::AcqRel) == 1 {
        // The last thread: the process ends as if main had returned 0 (atexit, stdio flush).
        // SAFETY: exit(3) from a thread is allowed.
        unsafe { libc::exit(0) };
    }
    // Leave glibc's setxid() protocol while signals are still open (glibc::tcb::begin_exit):
    // once they are blocked this thread could never answer SIGSETXID.
    // SAFETY: our own TCB; SIGSETXID is never blocked (pthread_sigmask keeps it open).
    unsafe { tcb::begin_exit(th.tcb) };
    if th.adopted {
        // The main thread leaves quietly: its memory is not ours, and the process goes on
        // with the other threads. Its TCB is glibc's and stays on glibc's list.
        sys::sigprocmask(libc::SIG_SETMASK, Some(&sys::full_sigset()));
        sys::exit_thread(0);
    }
    sys::sigprocmask(libc::SIG_SETMASK, Some(&sys::full_sigset()));
    // SAFETY: we are the exiting thread; nothing below this frame is live.
    unsafe { stack::advise_unused(th) };
    let prev = th.state.fetch_or(state::EXITED, Ordering::AcqRel);
    if prev & state::DETACHED != 0 {
        // SAFETY: detached: nobody else references the descriptor; the cache will not hand
        // the memory out before the kernel clears our tid.
        unsafe { retire(th as *const Thread as *mut Thread) };
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
