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

    if LIVE.fetch_sub(1, Ordering::AcqRel) == 1 {
        // The last thread: the process ends as if main had returned 0 (atexit, stdio flush).
        // SAFETY: exit(3) from a thread is allowed.
        unsafe { libc::exit(0) };
    }
    if th.adopted {
        // The main thread leaves quietly: its memory is not ours, and the process goes on
        // with the other threads. It stays on glibc's list (its TCB is glibc's), so mark it
        // exiting, as glibc does, for setxid() to skip it: once its signals are blocked it
        // could never answer SIGSETXID. The lock makes sure no setxid() is in progress.
        {
            let _list = StackListGuard::lock();
            // SAFETY: our own TCB.
            unsafe { tcb::mark_exiting(th.tcb) };
        }
        sys::sigprocmask(libc::SIG_SETMASK, Some(&sys::full_sigset()));
        sys::exit_thread(0);
    }
    {
        // Off glibc's list first, signals still open: a setxid() in progress holds this lock
        // until our thread answered its signal.
        let list = StackListGuard::lock();
        // SAFETY: our TCB is on the list since create; we are its thread.
        unsafe {
            list.remove(th.tcb);
            tcb::mark_exiting(th.tcb);
        }
    }
    sys::sigprocmask(libc::SIG_SETMASK, Some(&sys::full_sigset()));
    // SAFETY: we are the exiting thread; nothing below this frame is live.
    unsafe { stack::advise_unused(th) };
    let prev = th.state.fetch_or(state::EXITED, Ordering::AcqRel);
    if prev & state::DETACHED != 0 {
        registry::remove(th.handle());
        // SAFETY: detached and out of the registry: nobody else references the descriptor;
        // the cache will not hand the memory out before the kernel clears our tid.
        unsafe { stack::release(th as *const Thread as *mut Thread) };
    }
    sys::exit_thread(0)
}

