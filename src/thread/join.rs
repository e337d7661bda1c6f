//! pthread_join (plain, try, timed, clock) and pthread_detach.

use super::{registry, stack, state, Thread, LIVE};
use crate::errno::{Errno, Result};
use crate::glibc::{stacklist::StackListGuard, tcb};
use crate::sys::futex::{self, Clock, Scope};
use core::ffi::c_void;
use core::sync::atomic::Ordering;

/// How long a join may wait.
#[derive(Clone, Copy)]
pub enum Wait<'a> {
    /// Until the thread ends.
    Forever,
    /// Not at all (EBUSY if it is still running).
    Try,
    /// Until an absolute deadline.
    Until(&'a libc::timespec, Clock),
}

/// Claims `handle` for joining: EINVAL if detached or already being joined, EDEADLK for a
/// self-join or a mutual join.
fn claim(handle: usize) -> Result<*mut Thread> {
    let me = super::current();
    if handle == me.handle() {
        return Err(Errno::EDEADLK);
    }
    registry::with_thread(handle, |t| {
        if t.adopted {
            return Err(Errno::EINVAL);
        }
        if t.joining.load(Ordering::Acquire) == me as *const Thread as *mut Thread {
            return Err(Errno::EDEADLK);
        }
        let mut s = t.state.load(Ordering::Acquire);
        loop {
            if s & (state::DETACHED | state::JOIN_CLAIMED) != 0 {
                return Err(Errno::EINVAL);
            }
            match t.state.compare_exchange(s, s | state::JOIN_CLAIMED, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return Ok(t as *const Thread as *mut Thread),
                Err(now) => s = now,
            }
        }
    })?
}

/// Waits for the thread's tid word to become 0 (the kernel clears it at the very end).
/// `cancellable`: a cancellation point (pthread_join): returns ECANCELED on a pending request.
fn wait_gone(t: &Thread, how: Wait, cancellable: bool) -> Result<()> {
    // SAFETY: the claimed thread's memory stays until we release it.
    let word = unsafe { tcb::tid_word(t.tcb) };
    loop {
        let tid = word.load(Ordering::Acquire);
        if tid == 0 {
            return Ok(());
        }
        let deadline = match how {
            Wait::Try => return Err(Errno::EBUSY),
            Wait::Forever => None,
            Wait::Until(ts, clock) => Some((ts, clock)),
        };
        // The kernel's wake at thread end is a shared-futex wake.
        let r = if cancellable {
            crate::cancel::futex_wait_cancelable(word, tid, deadline, Scope::Shared)
        } else {
            futex::wait(word, tid, deadline, Scope::Shared)
        };
        match r {
            Err(Errno::ECANCELED) => return Err(Errno::ECANCELED),
            Err(Errno::ETIMEDOUT) => return Err(Errno::ETIMEDOUT),
            _ => continue,
        }
    }
}

/// Joins `handle`, returning its result.
pub fn join(handle: usize, how: Wait) -> Result<*mut c_void> {
    if let Wait::Until(ts, _) = how {
        if !futex::valid_timespec(ts) {
            return Err(Errno::EINVAL);
        }
    }
    let t = claim(handle)?;
    // SAFETY: claimed: the thread cannot free itself, and no one else can free it.
    let th = unsafe { &*t };
    let me = super::current();
    me.joining.store(t, Ordering::Release);
    let r = wait_gone(th, how, !matches!(how, Wait::Try));
    me.joining.store(core::ptr::null_mut(), Ordering::Release);
    if let Err(e) = r {
        th.state.fetch_and(!state::JOIN_CLAIMED, Ordering::AcqRel);
        if e == Errno::ECANCELED {
            // Cancelled while waiting: the target stays joinable (POSIX), then we act.
            crate::cancel::act();
        }
        return Err(e);
    }
    let result = th.result;
    registry::remove(handle);
    // SAFETY: the thread has ended (tid 0) and is out of the registry.
    unsafe { stack::release(t) };
    Ok(result)
}

/// Detaches `handle`: its memory is freed when it ends (or now, if it already has).
pub fn detach(handle: usize) -> Result<()> {
    let exited = registry::with_thread(handle, |t| {
        let mut s = t.state.load(Ordering::Acquire);
        loop {
            if s & (state::DETACHED | state::JOIN_CLAIMED) != 0 {
                // glibc returns 0 for detaching an adopted (main) thread once; repeated
                // detach is EINVAL.
                return Err(Errno::EINVAL);
            }
            match t.state.compare_exchange(s, s | state::DETACHED, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return Ok((s & state::EXITED != 0 && !t.adopted).then_some(t as *const Thread as *mut Thread)),
                Err(now) => s = now,
            }
        }
    })??;
    if let Some(t) = exited {
        // It passed its exit decision before we detached: freeing is ours.
        // SAFETY: nobody else can free it (DETACHED was set after EXITED).
        let th = unsafe { &*t };
        let _ = wait_gone(th, Wait::Forever, false);
        registry::remove(handle);
        // SAFETY: ended and unregistered.
        unsafe { stack::release(t) };
    }
    Ok(())
}

/// Cleans up after a thread that failed to apply its explicit attributes and ended without
/// running user code (pthread_create then returns the error).
pub fn reap_failed_start(t: *mut Thread) {
    // SAFETY: the creator owns the descriptor; the thread ends on its own.
    let th = unsafe { &*t };
    let _ = wait_gone(th, Wait::Forever, false);
    {
        let list = StackListGuard::lock();
        // SAFETY: create added the TCB; the thread is gone.
        unsafe { list.remove(th.tcb) };
    }
    registry::remove(th.handle());
    LIVE.fetch_sub(1, Ordering::Relaxed);
    // SAFETY: ended and unregistered.
    unsafe { stack::release(t) };
}
