//! POSIX cancellation, kept where glibc keeps it: every thread's `cancelhandling` word and
//! cleanup lists in its TCB, with glibc's bit meanings and glibc's protocol (nptl 2.36:
//! pthread_cancel.c, cancellation.c). One source of truth means glibc's own cancellation points
//! (the read/write/... wrappers printf, fgets and system use, which switch to asynchronous
//! cancellation around their system call) act in our threads as in glibc's, and ours act in
//! the threads glibc runs (the main thread, threads glibc's pthread_create made).
//!
//! - [`window`]: the SIGCANCEL handler (glibc's semantics) and rpthread's own cancellable wait,
//!   a system call whose instructions from "check the word" to "syscall" form a window the
//!   handler can redirect out of, so no request is lost between the check and the sleep.
//! - [`cleanup`]: the cleanup-handler ABIs (glibc's `_pthread_cleanup_buffer` list and its
//!   setjmp `pthread_unwind_buf` chain), on the TCB's lists.
//! - [`unwind`]: acting on a cancellation or pthread_exit: glibc's forced unwind (C++
//!   destructors, `__attribute__((cleanup))`, list handlers run frame by frame), ending with a
//!   longjmp into the outermost buffer: `start_thread`'s for our threads (then
//!   `thread::exit::finish`), glibc's own for its threads.
//!
//! # The state word ([`bits`], `glibc::tcb::cancel_word`)
//! CANCELSTATE (disabled) and CANCELTYPE (asynchronous) belong to the thread itself;
//! pthread_cancel sets CANCELED (pending), or only CANCELING for an asynchronous target,
//! whose SIGCANCEL handler then sets CANCELED and acts. EXITING stops all of it. A request
//! acts when CANCELED is set and CANCELSTATE, EXITING, TERMINATED are clear: at once if
//! asynchronous, else at the next cancellation point. Bit [`IN_WAIT`] is ours (glibc's code
//! keeps bits it does not know): the thread sleeps in rpthread's own window, so pthread_cancel
//! signals it although its type is deferred.
//!
//! # For other modules: making a blocking wait a cancellation point
//! - [`testcancel`]: act now if a request is pending (at the start of a cancellation point).
//! - [`futex_wait_cancelable`]: a futex wait that returns `Err(ECANCELED)` instead of
//!   sleeping, or instead of going on sleeping, when a request is pending. It never acts
//!   itself: the caller restores its invariants (pthread_cond_wait re-acquires the mutex,
//!   pthread_join releases its claim, sem_wait leaves the waiter count) and then calls
//!   [`act`], which does not return. A wake-up consumed before ECANCELED must be passed on
//!   by the caller, as for any other early return.
//!
//! SIGCANCEL (32) must stay deliverable: a pthread_sigmask/sigprocmask of ours must remove
//! it from the caller's set, as glibc's does.

pub mod cleanup;
pub mod unwind;
pub mod window;

use crate::errno::{Errno, Result};
use crate::glibc::tcb;
use crate::sys::futex::{Clock, Scope};
use core::ffi::c_void;
use core::sync::atomic::{AtomicI32, Ordering};

pub use crate::glibc::layout::cancel_bits as bits;
use bits::*;

/// Ours: the thread sleeps in [`futex_wait_cancelable`]'s window (see the module doc).
pub const IN_WAIT: i32 = 1 << 24;

/// PTHREAD_CANCELED.
pub const CANCELED_VALUE: *mut c_void = usize::MAX as *mut c_void;

/// A request is pending and may act (at a cancellation point).
#[inline]
pub fn enabled_and_canceled(v: i32) -> bool {
    v & (CANCELSTATE | CANCELED | EXITING | TERMINATED) == CANCELED
}

/// A request is pending and acts at once (asynchronous type).
#[inline]
pub fn enabled_and_canceled_and_async(v: i32) -> bool {
    v & (CANCELSTATE | CANCELTYPE | CANCELED | EXITING | TERMINATED) == (CANCELTYPE | CANCELED)
}

fn my_word() -> &'static AtomicI32 {
    tcb::my_cancel_word()
}

/// Sets bits of the calling thread's word with a CAS loop (glibc's way: its own code updates
/// the word with CAS too). Returns the old value.
fn update(f: impl Fn(i32) -> i32) -> i32 {
    let w = my_word();
    let mut old = w.load(Ordering::Relaxed);
    loop {
        let new = f(old);
        if new == old {
            return old;
        }
        // Acquire: a request (and what the canceller wrote before it) is seen by the thread
        // that finds CANCELED (glibc uses acquire CAS here too).
        match w.compare_exchange_weak(old, new, Ordering::Acquire, Ordering::Relaxed) {
            Ok(_) => return old,
            Err(now) => old = now,
        }
    }
}

/// What [`request`] leaves to do once the target may be freed again.
#[must_use]
pub enum Deliver {
    /// Nothing: the request is recorded (or the thread has ended).
    Nothing,
    /// The caller cancelled itself under the asynchronous type: act now (see [`deliver`]).
    ActSelf,
}

/// pthread_cancel on the thread whose TCB is `target`: glibc's algorithm. The caller keeps
/// the thread from being freed meanwhile (a signal is sent from here, while its tid is valid)
/// and then passes the result to [`deliver`], outside whatever lock it held.
///
/// # Safety
/// `target` must be a live TCB that stays live during the call.
pub unsafe fn request(target: *mut u8) -> Deliver {
    // SAFETY: the caller guarantees a live TCB.
    if unsafe { tcb::tid_word(target) }.load(Ordering::Acquire) == 0 {
        return Deliver::Nothing; // ended on the kernel side: its outcome is decided
    }
    // The target may need the unwinder inside a signal handler: load it now.
    unwind::preload();
    window::install_handler();
    let me = target == tcb::current();
    // SAFETY: as above.
    let w = unsafe { tcb::cancel_word(target) };
    let mut old = w.load(Ordering::Relaxed);
    loop {
        let new = old | CANCELING | CANCELED;
        if old == new {
            return Deliver::Nothing;
        }
        if enabled_and_canceled_and_async(new) {
            // Only "in progress": the handler marks CANCELED and acts (so a target leaving a
            // glibc system call waits for it, see glibc's __pthread_disable_asynccancel).
            if let Err(now) = w.compare_exchange_weak(old, old | CANCELING, Ordering::AcqRel, Ordering::Relaxed) {
                old = now;
                continue;
            }
            if me {
                return Deliver::ActSelf;
            }
            // SAFETY: as above.
            unsafe { signal(target) };
            return Deliver::Nothing;
        }
        if me && crate::glibc::single_threaded() {
            // A process that never created a thread cancels itself: glibc's own function
            // makes this change, and also makes glibc's system calls cancellation points.
            crate::glibc::cancel_self_single_threaded();
            return Deliver::Nothing;
        }
        match w.compare_exchange_weak(old, new, Ordering::AcqRel, Ordering::Relaxed) {
            Ok(_) => {
                if new & IN_WAIT != 0 && new & CANCELSTATE == 0 && !me {
                    // Wake it out of rpthread's window. SAFETY: as above.
                    unsafe { signal(target) };
                }
                return Deliver::Nothing;
            }
            Err(now) => old = now,
        }
    }
}

/// Finishes a [`request`]: a thread that cancelled itself asynchronously acts now.
pub fn deliver(d: Deliver) {
    if let Deliver::ActSelf = d {
        act();
    }
}

/// Sends SIGCANCEL to the thread of `target` unless it has ended.
///
/// # Safety
/// `target` must be a live TCB.
unsafe fn signal(target: *mut u8) {
    // SAFETY: the caller keeps the TCB alive.
    let tid = unsafe { tcb::tid_word(target) }.load(Ordering::Acquire) as i32;
    if tid > 0 {
        // ESRCH: it ended meanwhile, nothing left to cancel.
        let _ = crate::sys::tgkill(tid, window::SIGCANCEL);
    }
}

/// pthread_testcancel: acts on a pending request.
#[inline]
pub fn testcancel() {
    if enabled_and_canceled(my_word().load(Ordering::Relaxed)) {
        act();
    }
}

/// pthread_setcancelstate: `disable` true for PTHREAD_CANCEL_DISABLE. Returns the old state
/// (true = disabled). Enabling with a pending request under the asynchronous type acts.
pub fn set_state(disable: bool) -> bool {
    let old = update(|v| if disable { v | CANCELSTATE } else { v & !CANCELSTATE });
    let new = if disable { old | CANCELSTATE } else { old & !CANCELSTATE };
    if new != old && enabled_and_canceled_and_async(new) {
        do_cancel();
    }
    old & CANCELSTATE != 0
}

/// pthread_setcanceltype: `asynchronous` true for PTHREAD_CANCEL_ASYNCHRONOUS. Returns the old
/// type (true = asynchronous). Switching to asynchronous with a pending, enabled request acts.
pub fn set_type(asynchronous: bool) -> bool {
    let old = update(|v| if asynchronous { v | CANCELTYPE } else { v & !CANCELTYPE });
    let new = if asynchronous { old | CANCELTYPE } else { old & !CANCELTYPE };
    if new != old && enabled_and_canceled_and_async(new) {
        act();
    }
    old & CANCELTYPE != 0
}

/// Acts on cancellation in the calling thread: its exit value becomes PTHREAD_CANCELED and it
/// leaves through [`do_cancel`].
pub fn act() -> ! {
    // SAFETY: the calling thread's own result field.
    unsafe { *tcb::result(tcb::current()) = CANCELED_VALUE };
    do_cancel()
}

/// glibc's `__do_cancel`: no more cancellation (EXITING), then the forced unwind of the
/// calling thread from its innermost setjmp buffer. pthread_exit ends here too.
pub fn do_cancel() -> ! {
    my_word().fetch_or(EXITING, Ordering::AcqRel);
    unwind::unwind(cleanup::innermost_unwind_buf())
}

/// A futex wait that is a cancellation point (see the module documentation): as
/// [`crate::sys::futex::wait`], plus `Err(ECANCELED)` when a cancellation request is pending
/// and enabled, before or during the sleep. The caller restores its invariants and calls
/// [`act`].
pub fn futex_wait_cancelable(
    word: &core::sync::atomic::AtomicU32,
    expected: u32,
    deadline: Option<(&libc::timespec, Clock)>,
    scope: Scope,
) -> Result<()> {
    let state = my_word();
    if matches!(deadline, Some((ts, _)) if ts.tv_sec < 0) {
        if enabled_and_canceled(state.load(Ordering::Relaxed)) {
            return Err(Errno::ECANCELED);
        }
        return Err(Errno::ETIMEDOUT);
    }
    let call = crate::sys::futex::wait_call(word, expected, deadline, scope);
    // SeqCst: ordered against pthread_cancel's CAS on the same word (a read-modify-write
    // order): either the canceller sees IN_WAIT and signals, or the window's check sees
    // CANCELED.
    state.fetch_or(IN_WAIT, Ordering::SeqCst);
    // SAFETY: `word` is a live u32 and the timeout (if any) a valid timespec the kernel reads;
    // `state` is the calling thread's word.
    let r = unsafe { window::syscall(state, call.nr, call.args) };
    state.fetch_and(!IN_WAIT, Ordering::SeqCst);
    if r == -(libc::ECANCELED as isize)
        || (r == -(libc::EINTR as isize) && enabled_and_canceled(state.load(Ordering::Relaxed)))
    {
        return Err(Errno::ECANCELED);
    }
    crate::errno::from_syscall(r).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_and_type_report_old_values() {
        let w = my_word();
        let saved = w.load(Ordering::Relaxed);
        w.store(0, Ordering::Relaxed);
        assert!(!set_state(true));
        assert!(set_state(true));
        assert!(set_state(false));
        assert!(!set_type(true));
        assert!(set_type(false));
        assert!(!set_type(false));
        assert_eq!(w.load(Ordering::Relaxed), 0);
        w.store(saved, Ordering::Relaxed);
    }

    #[test]
    fn cancelable_wait_reports_a_pending_request() {
        let w = my_word();
        let saved = w.load(Ordering::Relaxed);
        let word = core::sync::atomic::AtomicU32::new(7);
        w.store(0, Ordering::Relaxed);
        // No request: an immediate EAGAIN (value differs) proves the call went through.
        assert_eq!(futex_wait_cancelable(&word, 8, None, Scope::Private), Err(Errno::EAGAIN));
        w.store(CANCELED, Ordering::Relaxed);
        // A request pending: ECANCELED without sleeping (the value matches, it would block).
        assert_eq!(futex_wait_cancelable(&word, 7, None, Scope::Private), Err(Errno::ECANCELED));
        // Disabled: the request waits; the call goes to the kernel again.
        w.store(CANCELED | CANCELSTATE, Ordering::Relaxed);
        assert_eq!(futex_wait_cancelable(&word, 8, None, Scope::Private), Err(Errno::EAGAIN));
        w.store(saved, Ordering::Relaxed);
    }
}
