//! The SIGCANCEL handler and rpthread's own cancellable system call.
//!
//! The handler follows glibc's (nptl/pthread_cancel.c): a request that arrives marks the
//! thread cancelled (CANCELING | CANCELED) and sets its exit value; if the thread's type is
//! asynchronous (its own choice, or glibc's cancellable system call wrappers, which switch to
//! it around the call) it acts at once. Our window adds one case, below.
//!
//! `rpthread_syscall_cp_asm(word, nr, a..f)` checks the thread's cancellation word and then
//! executes `syscall`. The instructions from the label `rpthread_cp_begin` up to (not
//! including) `rpthread_cp_end`, which follows the `syscall` instruction, form the window:
//!
//! - a request that arrives before the check is seen by the check (exit to
//!   `rpthread_cp_cancel`, which returns `-ECANCELED` without entering the kernel);
//! - a request that arrives after the check but before the kernel starts sleeping, or while
//!   it sleeps in a restartable call: SIGCANCEL interrupts the thread with its PC inside the
//!   window (for a restartable call the kernel rewinds the PC onto the `syscall`
//!   instruction before delivering the signal), and the handler moves the PC to
//!   `rpthread_cp_cancel`;
//! - a non-restartable call (nanosleep, poll, ...) returns `-EINTR` with the PC at
//!   `rpthread_cp_end`: the Rust caller sees EINTR with a pending request and acts;
//! - a call that completed (PC at `rpthread_cp_end` with a result) keeps its result: the
//!   request acts at the next cancellation point, so no side effect is lost.
//!
//! The handler also acts at once on a thread whose cancellation type is asynchronous.

use super::bits::{CANCELED, CANCELING, CANCELTYPE, EXITING};
use crate::glibc::tcb;
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, Ordering};

/// Decides whether a queued SIGCANCEL (`SI_QUEUE`, which pthread_cancel never sends) was a
/// request of the lock diagnostics (a thread's stack for a report) and consumes it (true).
pub type QueuedFilter = fn(&libc::siginfo_t, *mut libc::c_void) -> bool;

/// The [`QueuedFilter`], set once at load by the lock diagnostics: a slot rather than a call
/// by name, because they depend on this module (no import cycle, scripts/structure.py).
static QUEUED_FILTER: AtomicPtr<()> = AtomicPtr::new(core::ptr::null_mut());

/// Sets the handler's [`QueuedFilter`] (at load, before the handler can see a queued signal).
pub fn set_queued_filter(f: QueuedFilter) {
    QUEUED_FILTER.store(f as *mut (), Ordering::Release);
}

/// The signal pthread_cancel sends (glibc's SIGCANCEL, reserved: glibc's sigaction refuses it).
pub use crate::glibc::layout::SIGCANCEL;

/// Performs system call `nr` through the window, with `word` as the cancellation word.
/// Returns the raw kernel value, or `-ECANCELED` if a request was pending and enabled before
/// the call entered the kernel (or arrived while a restartable call slept).
///
/// # Safety
/// The arguments must be valid for `nr`; `word` must be the calling thread's state word.
#[inline]
pub unsafe fn syscall(word: &AtomicI32, nr: i64, a: [usize; 6]) -> isize {
    // SAFETY: forwarded; the routine follows the C calling convention.
    unsafe { crate::arch::rpthread_syscall_cp_asm(word, nr, a[0], a[1], a[2], a[3], a[4], a[5]) }
}

static INSTALLED: AtomicBool = AtomicBool::new(false);

/// Installs the SIGCANCEL handler (once). glibc's sigaction refuses signal 32, so this uses
/// the raw system call with our own restorer.
pub fn install_handler() {
    if INSTALLED.load(Ordering::Acquire) {
        return;
    }
    let act = crate::sys::signal::KernelSigaction {
        handler: handler as extern "C" fn(i32, *mut libc::siginfo_t, *mut libc::c_void) as usize,
        // SA_RESTART: a restartable call interrupted in the window comes back with its PC
        // on the `syscall` instruction, inside the window.
        flags: (libc::SA_SIGINFO | libc::SA_RESTART) as u64 | crate::sys::signal::SA_RESTORER,
        restorer: crate::arch::sigreturn_restorer(),
        mask: 0,
    };
    // SAFETY: `handler` is this module's SIGCANCEL handler, the restorer the arch's
    // rt_sigreturn trampoline.
    if unsafe { crate::sys::signal::set_action(SIGCANCEL, &act) }.is_ok() {
        INSTALLED.store(true, Ordering::Release);
    }
}

/// Unblocks SIGCANCEL in the calling thread.
pub fn unblock() {
    crate::sys::signal::unblock(1 << (SIGCANCEL - 1));
}

/// The SIGCANCEL handler.
extern "C" fn handler(_sig: i32, info: *mut libc::siginfo_t, uc: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo.
    let info = unsafe { &*info };
    // A queued signal may be a diagnostic request (a stack for a report), never a cancel.
    if info.si_code == libc::SI_QUEUE {
        let f = QUEUED_FILTER.load(Ordering::Acquire);
        if !f.is_null() {
            // SAFETY: only set_queued_filter stores into the slot, always a QueuedFilter.
            let f = unsafe { core::mem::transmute::<*mut (), QueuedFilter>(f) };
            if f(info, uc) {
                return;
            }
        }
    }
    // Only requests from this process's pthread_cancel (tgkill from one of its threads).
    // SAFETY: si_pid is valid for SI_TKILL.
    if info.si_code != libc::SI_TKILL || unsafe { info.si_pid() } != crate::sys::getpid() {
        return;
    }
    // The interrupted code's errno, restored before returning to it.
    let errno = crate::errno::last();
    let w = tcb::my_cancel_word();
    let mut old = w.load(Ordering::Relaxed);
    loop {
        let new = old | CANCELING | CANCELED;
        if old == new || old & EXITING != 0 {
            break;
        }
        match w.compare_exchange_weak(old, new, Ordering::Acquire, Ordering::Relaxed) {
            Ok(_) => {
                // SAFETY: the calling thread's own result field.
                unsafe { *tcb::result(tcb::current()) = super::CANCELED_VALUE };
                if old & CANCELTYPE != 0 {
                    // Unwinding leaves the handler without sigreturn: reopen the signal first.
                    unblock();
                    super::do_cancel();
                }
                break;
            }
            Err(now) => old = now,
        }
    }
    if super::enabled_and_canceled(w.load(Ordering::Relaxed)) {
        // Asleep (or about to be) in our window: leave it with ECANCELED.
        // SAFETY: the kernel passes the interrupted context.
        let gregs = unsafe { &mut (*uc.cast::<libc::ucontext_t>()).uc_mcontext.gregs };
        let pc = gregs[libc::REG_RIP as usize] as usize;
        let (begin, end, cancel) = crate::arch::cancel_window_labels();
        if (begin..end).contains(&pc) {
            gregs[libc::REG_RIP as usize] = cancel as i64;
        }
    }
    crate::errno::set(errno);
}
