//! POSIX cancellation: the per-thread state word, pthread_cancel and friends, and the
//! cancellation points.
//!
//! - [`window`]: the cancellable system call (musl's model): an asm routine whose instructions
//!   from "check the state word" to "syscall" form a window; the SIGCANCEL handler moves a
//!   thread interrupted inside the window to an exit that reports "cancelled" instead of
//!   entering the kernel, so no request is lost between the check and the sleep.
//! - [`cleanup`]: the cleanup-handler ABIs (our header's list, glibc's setjmp buffers).
//! - [`unwind`]: acting on a cancellation or pthread_exit: a forced unwind (C++ destructors,
//!   `__attribute__((cleanup))`) that also runs the handlers of [`cleanup`] frame by frame,
//!   then the rest of the thread's exit.
//!
//! # The state word ([`PerThread::word`])
//! Bits [`REQUESTED`], [`DISABLED`], [`ASYNC`]. Other threads only ever set REQUESTED
//! (pthread_cancel); the thread itself changes DISABLED and ASYNC. A request acts when
//! `REQUESTED` is set and `DISABLED` clear: at once if ASYNC, else at the next cancellation
//! point. Acting sets DISABLED (POSIX: cancelability is disabled while the cleanup runs).
//!
//! # For other modules: making a blocking wait a cancellation point
//! - [`testcancel`]: act now if a request is pending (call at the start of a cancellation
//!   point that may not block).
//! - [`futex_wait_cancelable`]: a futex wait that returns `Err(ECANCELED)` instead of
//!   sleeping, or instead of going on sleeping, when a request is pending. It never acts
//!   itself: the caller restores its invariants (pthread_cond_wait re-acquires the mutex,
//!   pthread_join releases its claim, sem_wait leaves the waiter count) and then calls
//!   [`act`], which does not return. A wake-up consumed before ECANCELED must be passed on
//!   by the caller, as for any other early return.
//! - [`syscall_cp`]: any system call as a cancellation point that acts by itself
//!   (the libc wrappers: read, sleep, ...).
//!
//! A cond wait, for example (the mutex must be held again when cleanup handlers run):
//! ```text
//! match cancel::futex_wait_cancelable(&cond.seq, seen, deadline, scope) {
//!     Err(Errno::ECANCELED) => {
//!         leave_waiters(cond);      // as for a timeout: no wake-up may be lost
//!         mutex.lock();             // POSIX: re-acquired before the handlers run
//!         cancel::act()             // never returns
//!     }
//!     r => ...
//! }
//! ```
//! sem_wait: on ECANCELED, withdraw from the waiter count, then `act()`.
//!
//! SIGCANCEL (32) must stay deliverable: a pthread_sigmask/sigprocmask of ours must remove
//! it from the caller's set, as glibc's does.

pub mod cleanup;
pub mod system;
pub mod unwind;
pub mod window;

use crate::errno::{Errno, Result};
use crate::sys::futex::{Clock, Scope};
use crate::thread::{self, registry, Thread};
use core::cell::{Cell, UnsafeCell};
use core::ffi::c_void;
use core::sync::atomic::{AtomicU32, Ordering};

/// A cancellation request is pending.
pub const REQUESTED: u32 = 1;
/// Cancelability disabled (PTHREAD_CANCEL_DISABLE, or acting already).
pub const DISABLED: u32 = 2;
/// Asynchronous cancel type (PTHREAD_CANCEL_ASYNCHRONOUS).
pub const ASYNC: u32 = 4;

/// PTHREAD_CANCELED.
pub const CANCELED: *mut c_void = usize::MAX as *mut c_void;

/// The cancellation part of a thread descriptor.
pub struct PerThread {
    /// [`REQUESTED`] | [`DISABLED`] | [`ASYNC`]; read by the asm window (a plain 32-bit load).
    pub word: AtomicU32,
    /// Head of the `struct _pthread_cleanup_buffer` list (our header's macros and glibc's
    /// `_pthread_cleanup_push`), innermost first.
    pub cleanup: Cell<*mut cleanup::CleanupBuffer>,
    /// Head of the `__pthread_unwind_buf_t` list (glibc's setjmp-based macros).
    pub unwind_bufs: Cell<*mut cleanup::UnwindBuf>,
    /// Stack pointer inside `start_thread` of our threads (0 for adopted ones): the forced
    /// unwind stops at the first frame whose CFA lies above it.
    pub start_sp: Cell<usize>,
    /// The exception object of the forced unwind.
    pub exc: UnsafeCell<unwind::Exception>,
}

impl Default for PerThread {
    fn default() -> Self {
        PerThread {
            word: AtomicU32::new(0),
            cleanup: Cell::new(core::ptr::null_mut()),
            unwind_bufs: Cell::new(core::ptr::null_mut()),
            start_sp: Cell::new(0),
            exc: UnsafeCell::new(unwind::Exception::new()),
        }
    }
}

impl PerThread {
    /// A request is pending and cancelability is enabled.
    #[inline]
    pub fn actionable(&self) -> bool {
        // Acquire: pairs with pthread_cancel's AcqRel fetch_or.
        self.word.load(Ordering::Acquire) & (REQUESTED | DISABLED) == REQUESTED
    }
}

/// pthread_cancel: requests cancellation of `handle`. ESRCH if no such thread. A thread that
/// has exited but not been joined is still known: the request is recorded and ignored.
pub fn cancel(handle: usize) -> Result<()> {
    // The unwinder must be loaded before the target may need it inside a signal handler.
    unwind::preload();
    let me = thread::current();
    if me.handle() == handle {
        let old = me.cancel.word.fetch_or(REQUESTED, Ordering::AcqRel);
        if old & (DISABLED | ASYNC) == ASYNC {
            act();
        }
        return Ok(());
    }
    let tid = registry::with_thread(handle, |t| {
        // AcqRel: the target's check of the word (acquire) sees the request.
        let old = t.cancel.word.fetch_or(REQUESTED, Ordering::AcqRel);
        // Signal only an enabled thread that had no request yet: it may be blocked in a
        // window, or running asynchronously. A disabled thread checks the word itself when
        // it enables cancelability and reaches a cancellation point.
        (old & (REQUESTED | DISABLED) == 0).then(|| t.tid())
    })?;
    if let Some(tid) = tid.filter(|&t| t > 0) {
        window::install_handler();
        // ESRCH here means the thread ended meanwhile: nothing left to cancel.
        let _ = crate::sys::tgkill(tid, window::SIGCANCEL);
    }
    Ok(())
}

/// pthread_testcancel: acts on a pending request.
#[inline]
pub fn testcancel() {
    if thread::current().cancel.actionable() {
        act();
    }
}

/// pthread_setcancelstate: `disable` true for PTHREAD_CANCEL_DISABLE. Returns the old state
/// (true = disabled). Enabling with a pending request under the asynchronous type acts.
pub fn set_state(disable: bool) -> bool {
    let w = &thread::current().cancel.word;
    let old = if disable { w.fetch_or(DISABLED, Ordering::AcqRel) } else { w.fetch_and(!DISABLED, Ordering::AcqRel) };
    if !disable && old & (REQUESTED | ASYNC) == (REQUESTED | ASYNC) {
        act();
    }
    old & DISABLED != 0
}

/// pthread_setcanceltype: `asynchronous` true for PTHREAD_CANCEL_ASYNCHRONOUS. Returns the old
/// type (true = asynchronous). Switching to asynchronous with a pending, enabled request acts.
pub fn set_type(asynchronous: bool) -> bool {
    let w = &thread::current().cancel.word;
    let old = if asynchronous { w.fetch_or(ASYNC, Ordering::AcqRel) } else { w.fetch_and(!ASYNC, Ordering::AcqRel) };
    if asynchronous && old & (REQUESTED | DISABLED) == REQUESTED {
        act();
    }
    old & ASYNC != 0
}

/// Acts on cancellation in the calling thread: disables further cancellation, sets the exit
/// value to PTHREAD_CANCELED and runs the exit path (cleanup handlers, destructors, ...).
pub fn act() -> ! {
    let th = thread::current();
    th.cancel.word.fetch_or(DISABLED, Ordering::AcqRel);
    unwind::exit_unwinding(th, CANCELED)
}

/// A system call that is a cancellation point: acts on a request pending when it starts or
/// arriving while it blocks. Returns the kernel's raw value (negative errno).
///
/// `eintr_acts`: a call interrupted by the SIGCANCEL signal returns EINTR when it is not
/// restartable; then a pending request acts too (false for close, whose EINTR still closed).
///
/// # Safety
/// The arguments must be valid for system call `nr`.
#[inline]
pub unsafe fn syscall_cp(nr: i64, args: [usize; 6], eintr_acts: bool) -> isize {
    // A thread without a descriptor is in no registry, so no request can be pending for it;
    // not adopting here keeps the wrappers async-signal-safe (write() in a signal handler of
    // a thread glibc created must not allocate).
    let Some(th) = thread::current_if_known() else {
        let [a, b, c, d, e, f] = args;
        // SAFETY: forwarded from the caller.
        return unsafe { crate::sys::raw6(nr, a, b, c, d, e, f) };
    };
    // SAFETY: forwarded from the caller.
    let r = unsafe { window::syscall(&th.cancel.word, nr, args) };
    if (r == -(libc::ECANCELED as isize) || (eintr_acts && r == -(libc::EINTR as isize))) && th.cancel.actionable() {
        act();
    }
    r
}

/// Like [`syscall_cp`] but reports a request as `-ECANCELED` instead of acting, for callers
/// that must restore invariants first (then they call [`act`]).
///
/// # Safety
/// As for [`syscall_cp`].
#[inline]
pub unsafe fn syscall_cp_masked(th: &Thread, nr: i64, args: [usize; 6]) -> isize {
    // SAFETY: forwarded from the caller.
    let r = unsafe { window::syscall(&th.cancel.word, nr, args) };
    if r == -(libc::EINTR as isize) && th.cancel.actionable() {
        return -(libc::ECANCELED as isize);
    }
    r
}

/// A futex wait that is a cancellation point (see the module documentation): as
/// [`crate::sys::futex::wait`], plus `Err(ECANCELED)` when a cancellation request is pending
/// and enabled, before or during the sleep. The caller restores its invariants and calls
/// [`act`].
pub fn futex_wait_cancelable(
    word: &AtomicU32,
    expected: u32,
    deadline: Option<(&libc::timespec, Clock)>,
    scope: Scope,
) -> Result<()> {
    const FUTEX_WAIT: usize = 0;
    const FUTEX_WAIT_BITSET: usize = 9;
    const FUTEX_PRIVATE_FLAG: usize = 128;
    const FUTEX_CLOCK_REALTIME: usize = 256;
    let th = thread::current();
    let pflag = if scope == Scope::Private { FUTEX_PRIVATE_FLAG } else { 0 };
    let addr = word as *const AtomicU32 as usize;
    let args = match deadline {
        None => [addr, FUTEX_WAIT | pflag, expected as usize, 0, 0, 0],
        Some((ts, _)) if ts.tv_sec < 0 => {
            if th.cancel.actionable() {
                return Err(Errno::ECANCELED);
            }
            return Err(Errno::ETIMEDOUT);
        }
        Some((ts, clock)) => {
            let clk = if clock == Clock::Realtime { FUTEX_CLOCK_REALTIME } else { 0 };
            [addr, FUTEX_WAIT_BITSET | pflag | clk, expected as usize, ts as *const _ as usize, 0, 0xffff_ffff]
        }
    };
    // SAFETY: `word` is a live u32 and the timeout (if any) a valid timespec the kernel reads.
    let r = unsafe { syscall_cp_masked(th, libc::SYS_futex, args) };
    crate::errno::from_syscall(r).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Adopting the test thread needs glibc's symbols (the library constructor does not run
    /// in unit tests).
    fn init() {
        static ONCE: std::sync::Once = std::sync::Once::new();
        // SAFETY: resolved once, before any adoption in this test binary.
        ONCE.call_once(|| unsafe { crate::glibc::symbols::resolve() });
    }

    #[test]
    fn state_and_type_report_old_values() {
        init();
        let w = &thread::current().cancel.word;
        w.store(0, Ordering::Relaxed);
        assert!(!set_state(true));
        assert!(set_state(true));
        assert!(set_state(false));
        assert!(!set_type(true));
        assert!(set_type(false));
        assert!(!set_type(false));
        assert_eq!(w.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn cancelable_wait_reports_a_pending_request() {
        init();
        let th = thread::current();
        let word = AtomicU32::new(7);
        // No request: an immediate EAGAIN (value differs) proves the call went through.
        assert_eq!(futex_wait_cancelable(&word, 8, None, Scope::Private), Err(Errno::EAGAIN));
        th.cancel.word.store(REQUESTED, Ordering::Relaxed);
        // A request pending: ECANCELED without sleeping (the value matches, it would block).
        assert_eq!(futex_wait_cancelable(&word, 7, None, Scope::Private), Err(Errno::ECANCELED));
        // Disabled: the request waits; the call goes to the kernel again.
        th.cancel.word.store(REQUESTED | DISABLED, Ordering::Relaxed);
        assert_eq!(futex_wait_cancelable(&word, 8, None, Scope::Private), Err(Errno::EAGAIN));
        th.cancel.word.store(0, Ordering::Relaxed);
        // SAFETY: getpid takes no arguments.
        let pid = unsafe { syscall_cp(libc::SYS_getpid, [0; 6], true) };
        assert_eq!(pid as i32, crate::sys::getpid());
    }
}
