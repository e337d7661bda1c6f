//! pthread_exit and the end of every thread: run what must run, then give the memory back.

use super::{registry, stack, state, Thread, LIVE};
use crate::glibc::{stacklist::StackListGuard, symbols::syms, tcb};
use crate::sys;
use core::ffi::c_void;
use core::sync::atomic::Ordering;

/// Ends the calling thread with `result` (pthread_exit, or return from the start routine).
pub fn exit_current(result: *mut c_void) -> ! {
    let th = super::current();
    // A pthread_once routine this thread is running will never finish: let another run it.
    crate::sync::once::abandon_running();
    // SAFETY: only the thread itself writes its result, before EXITED is published.
    unsafe { (*(th as *const Thread as *mut Thread)).result = result };
    if th.adopted && sys::gettid() != sys::getpid() {
        // A thread glibc created (a SIGEV_THREAD timer callback, say): glibc's own exit path
        // releases what glibc allocated for it. It is not in our live count.
        // SAFETY: glibc's pthread_exit on one of glibc's threads.
        unsafe { (syms().real_pthread_exit)(result) }
    }
    // SAFETY: glibc's C++ thread_local destructors for the calling thread.
    unsafe { (syms().call_tls_dtors)() };

    if LIVE.fetch_sub(1, Ordering::AcqRel) == 1 {
        // The last thread: the process ends as if main had returned 0 (atexit, stdio flush).
        // SAFETY: exit(3) from a thread is allowed.
        unsafe { libc::exit(0) };
    }
    if th.adopted {
        // The main thread leaves quietly: its memory is not ours, and the process goes on
        // with the other threads.
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
