//! Signals aimed at threads: pthread_kill, pthread_sigqueue, pthread_sigmask.
//!
//! Signals 32 (SIGCANCEL) and 33 (SIGSETXID) are glibc's internal signals: glibc uses 33 to
//! run setuid() in every thread and rpthread uses 32 for cancellation, so (as in glibc) they can
//! be neither sent with pthread_kill nor blocked with pthread_sigmask.

use crate::errno::{Errno, Result};
use crate::sys;

pub use crate::glibc::layout::{internal_signal_mask as internal_mask, SIGCANCEL, SIGSETXID};

fn internal(sig: i32) -> bool {
    sig == SIGCANCEL || sig == SIGSETXID
}

fn valid(sig: i32) -> bool {
    (0..=64).contains(&sig)
}

/// The kernel tid of live thread `handle`; `Ok(0)` if it has ended but not been joined
/// (then pthread_kill succeeds without effect, as glibc 2.34+ and POSIX's thread-ID lifetime
/// say).
fn tid_of(handle: usize) -> Result<i32> {
    crate::thread::with_target(handle, |t| t.tid())
}

/// Sends `sig` to thread `handle` (0 only checks the thread exists). In glibc's order: an
/// internal signal is EINVAL, then a thread that has ended takes any other number and
/// ignores it (glibc sends nothing to an exiting thread), then the kernel's range check.
pub fn kill(handle: usize, sig: i32) -> Result<()> {
    if internal(sig) {
        return Err(Errno::EINVAL);
    }
    let tid = tid_of(handle)?;
    if tid == 0 {
        return Ok(());
    }
    if !valid(sig) {
        return Err(Errno::EINVAL);
    }
    if sig == 0 {
        return Ok(());
    }
    match sys::tgkill(tid, sig) {
        // The thread ended between the lookup and the signal: treat like an ended thread.
        Err(Errno::ESRCH) => Ok(()),
        r => r,
    }
}

/// Queues `sig` with `value` to thread `handle` (SI_QUEUE, as sigqueue(3) does for processes).
/// In glibc's order: ESRCH for a thread that has ended (unlike pthread_kill), then EINVAL
/// for an internal signal, then the kernel's range check.
pub fn queue(handle: usize, sig: i32, value: libc::sigval) -> Result<()> {
    let tid = tid_of(handle)?;
    if tid == 0 {
        return Err(Errno::ESRCH);
    }
    if !valid(sig) || internal(sig) {
        return Err(Errno::EINVAL);
    }
    if sig == 0 {
        return Ok(());
    }
    // SAFETY: siginfo_t is plain data; the fields set are those of an SI_QUEUE signal.
    let mut info: libc::siginfo_t = unsafe { core::mem::zeroed() };
    info.si_signo = sig;
    info.si_code = libc::SI_QUEUE;
    // SAFETY: the _rt layout of siginfo_t: si_pid @16, si_uid @20, si_value @24.
    unsafe {
        let p = (&mut info as *mut libc::siginfo_t).cast::<u8>();
        *p.add(16).cast::<i32>() = sys::getpid();
        *p.add(20).cast::<u32>() = libc::getuid();
        *p.add(24).cast::<libc::sigval>() = value;
    }
    sys::signal::tgsigqueueinfo(sys::getpid(), tid, sig, &info)
}

/// Changes the calling thread's signal mask; `how` is SIG_BLOCK, SIG_UNBLOCK or SIG_SETMASK
/// (EINVAL otherwise, when `set` is given). The internal signals are never blocked.
pub fn sigmask(how: i32, set: Option<&libc::sigset_t>, old: Option<&mut libc::sigset_t>) -> Result<()> {
    let mut filtered;
    let set = match set {
        Some(s) => {
            if ![libc::SIG_BLOCK, libc::SIG_UNBLOCK, libc::SIG_SETMASK].contains(&how) {
                return Err(Errno::EINVAL);
            }
            filtered = *s;
            // SAFETY: sigdelset on a valid set with valid signal numbers.
            unsafe {
                libc::sigdelset(&mut filtered, SIGCANCEL);
                libc::sigdelset(&mut filtered, SIGSETXID);
            }
            Some(&filtered)
        }
        None => None,
    };
    // `how` is valid when a set is given (checked above); without one the kernel ignores it.
    let prev = sys::sigprocmask(how, set);
    if let Some(o) = old {
        *o = prev;
    }
    Ok(())
}
