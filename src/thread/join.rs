//! pthread_join (plain, try, timed, clock) and pthread_detach.
//!
//! Threads glibc runs (the main thread, threads glibc's own pthread_create made) are joined
//! and detached by glibc's own functions: their memory and lifecycle are glibc's. Ours follow
//! `Thread::state`; like glibc, the joiner is also recorded in the target's TCB (`joinid`),
//! which is how a thread sees that its target is joining it (EDEADLK).

use super::{live, registry, state, Thread};
use crate::cancel::{self, bits};
use crate::errno::{Errno, Result};
use crate::glibc::{symbols::syms, tcb};
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

/// Claims thread `t` for joining (glibc's checks, in glibc's order): EINVAL if detached or
/// already being joined; EDEADLK for a self-join or when `t` is joining the caller, unless the
/// caller has a pending cancellation request (then the wait acts on it).
fn claim(ptr: *mut Thread) -> Result<*mut Thread> {
    // SAFETY: a registered descriptor (the registry lock is held by the caller).
    let t = unsafe { &*ptr };
    let me = tcb::current();
    let s = t.state.load(Ordering::Acquire);
    if s & state::DETACHED != 0 {
        return Err(Errno::EINVAL);
    }
    let mine = tcb::my_cancel_word().load(Ordering::Relaxed);
    // SAFETY: our live TCB and the target's (the registry lock is held).
    let (joining_me, target_word) = unsafe {
        (tcb::joinid(me).load(Ordering::Acquire), tcb::cancel_word(t.tcb).load(Ordering::Relaxed))
    };
    let target_busy = bits::CANCELING | bits::CANCELED | bits::EXITING | bits::TERMINATED;
    if (t.tcb == me || (joining_me == t.tcb && target_word & target_busy == 0))
        && !cancel::enabled_and_canceled(mine)
    {
        return Err(Errno::EDEADLK);
    }
    let mut s = s;
    loop {
        if s & (state::DETACHED | state::JOIN_CLAIMED) != 0 {
            return Err(Errno::EINVAL);
        }
        match t.state.compare_exchange(s, s | state::JOIN_CLAIMED, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => break,
            Err(now) => s = now,
        }
    }
    // SAFETY: the target's live TCB.
    unsafe { tcb::joinid(t.tcb).store(me, Ordering::Release) };
    Ok(ptr)
}

/// Gives up a claim (timeout, cancellation): the thread stays joinable.
fn unclaim(t: &Thread) {
    // SAFETY: the claimed thread's TCB stays valid while we hold the claim.
    unsafe { tcb::joinid(t.tcb).store(core::ptr::null_mut(), Ordering::Release) };
    t.state.fetch_and(!state::JOIN_CLAIMED, Ordering::AcqRel);
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
            // A `tv_nsec` the kernel rejects makes glibc's wait retry until the thread ends,
            // which it then joins: waiting without a deadline does the same without spinning.
            // (A negative `tv_sec` is ETIMEDOUT first, as glibc's futex wait checks it.)
            Wait::Until(ts, _) if ts.tv_sec >= 0 && !futex::valid_timespec(ts) => None,
            Wait::Until(ts, clock) => Some((ts, clock)),
        };
        // The kernel's wake at thread end is a shared-futex wake.
        let r = if cancellable {
            cancel::futex_wait_cancelable(word, tid, deadline, Scope::Shared)
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

/// Joins `handle`, returning its result. As glibc, a deadline is only looked at when the
/// thread is still running (see [`wait_gone`]): a thread that has ended is joined whatever
/// it holds, and a self-join is EDEADLK first.
pub fn join(handle: usize, how: Wait) -> Result<*mut c_void> {
    if let Wait::Try = how {
        // glibc's tryjoin looks at the thread's tid first: a running thread (the caller
        // included) is EBUSY before any other check.
        if let Ok(tid) = super::with_target(handle, |t| t.tid()) {
            if tid != 0 {
                return Err(Errno::EBUSY);
            }
        }
    }
    let t = match registry::with_thread_raw(handle, claim) {
        Ok(claimed) => claimed?,
        Err(_) if super::is_foreign(handle) => return join_foreign(handle, how),
        Err(e) => return Err(e),
    };
    // SAFETY: claimed: the thread cannot free itself, and no one else can free it.
    let th = unsafe { &*t };
    let r = wait_gone(th, how, !matches!(how, Wait::Try));
    if let Err(e) = r {
        unclaim(th);
        if e == Errno::ECANCELED {
            // Cancelled while waiting: the target stays joinable (POSIX), then we act.
            cancel::act();
        }
        return Err(e);
    }
    // SAFETY: ended (tid 0): its result is final.
    let result = unsafe { *tcb::result(th.tcb) };
    // SAFETY: claimed by us and ended.
    unsafe { super::exit::retire(t) };
    Ok(result)
}

/// Joins a thread glibc runs, with glibc's own function.
fn join_foreign(handle: usize, how: Wait) -> Result<*mut c_void> {
    let s = syms();
    let mut v = core::ptr::null_mut();
    // SAFETY: glibc's functions on a thread glibc runs; `v` is writable.
    let rc = unsafe {
        match how {
            Wait::Forever => (s.real_pthread_join)(handle as libc::pthread_t, &mut v),
            Wait::Try => (s.real_pthread_tryjoin_np)(handle as libc::pthread_t, &mut v),
            Wait::Until(ts, clock) => (s.real_pthread_clockjoin_np)(handle as libc::pthread_t, &mut v, clock.clockid(), ts),
        }
    };
    if rc == 0 { Ok(v) } else { Err(Errno(rc)) }
}

/// Detaches `handle`: its memory is freed when it ends (or now, if it already has). As in
/// glibc, detaching a thread another thread is joining changes nothing and returns 0.
pub fn detach(handle: usize) -> Result<()> {
    let exited = match registry::with_thread_raw(handle, |ptr| {
        // SAFETY: a registered descriptor (registry locked).
        let t = unsafe { &*ptr };
        let mut s = t.state.load(Ordering::Acquire);
        loop {
            if s & state::DETACHED != 0 {
                return Err(Errno::EINVAL);
            }
            if s & state::JOIN_CLAIMED != 0 {
                return Ok(None);
            }
            match t.state.compare_exchange(s, s | state::DETACHED, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => {
                    // glibc's mark: a detached thread's joinid is itself.
                    // SAFETY: the target's live TCB (registry locked).
                    unsafe { tcb::joinid(t.tcb).store(t.tcb, Ordering::Release) };
                    return Ok((s & state::EXITED != 0).then_some(ptr));
                }
                Err(now) => s = now,
            }
        }
    }) {
        Ok(r) => r?,
        Err(_) if super::is_foreign(handle) => {
            // SAFETY: glibc's function on a thread glibc runs.
            let rc = unsafe { (syms().real_pthread_detach)(handle as libc::pthread_t) };
            return if rc == 0 { Ok(()) } else { Err(Errno(rc)) };
        }
        Err(e) => return Err(e),
    };
    if let Some(t) = exited {
        // It passed its exit decision before we detached: freeing is ours.
        // SAFETY: nobody else can free it (DETACHED was set after EXITED).
        let th = unsafe { &*t };
        let _ = wait_gone(th, Wait::Forever, false);
        // SAFETY: ours to free, and ended.
        unsafe { super::exit::retire(t) };
    }
    Ok(())
}

/// Cleans up after a thread that failed to apply its explicit attributes and ended without
/// running user code (pthread_create then returns the error).
///
/// # Safety
/// `t` must be the descriptor of that thread, owned by the caller (its creator).
pub unsafe fn reap_failed_start(t: *mut Thread) {
    // SAFETY: the creator owns the descriptor; the thread ends on its own.
    let th = unsafe { &*t };
    let _ = wait_gone(th, Wait::Forever, false);
    live().fetch_sub(1, Ordering::Relaxed);
    // SAFETY: the creator owns it and it has ended.
    unsafe { super::exit::retire(t) };
}
