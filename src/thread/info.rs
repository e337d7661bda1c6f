//! What pthread_getattr_np reports about a running thread.

use super::attr::{Attr, PAGE};
use super::{state, Target};
use crate::glibc::tcb;
use crate::errno::{Errno, Result};
use crate::glibc::symbols::syms;
use core::sync::atomic::Ordering;

/// What `attributes` needs from a thread, read while it cannot be freed.
struct Snapshot {
    /// Usable stack `[lo, hi)`; `hi == 0` for the main thread (found in /proc/self/maps).
    lo: usize,
    hi: usize,
    guard: usize,
    detached: bool,
    tid: i32,
    /// The thread's scheduling cache (what glibc reports).
    sched: tcb::SchedCache,
}

/// The attributes of thread `handle` (running, or ended and not yet joined), as a fresh attr
/// object: stack, guard, detach state, scheduling and the thread's CPU affinity, as glibc's
/// pthread_getattr_np reports them.
pub fn attributes(handle: usize) -> Result<Attr> {
    let snap = super::with_target(handle, |t| match t {
        Target::Ours(t) => Snapshot {
            lo: t.stack_lo,
            hi: t.stack_hi,
            guard: t.guard,
            detached: t.state.load(Ordering::Acquire) & state::DETACHED != 0,
            tid: t.tid(),
            // SAFETY: our live TCB (registry locked).
            sched: unsafe { tcb::with_sched_cache(t.tcb, |c| *c) },
        },
        Target::Foreign(tcb) => {
            // SAFETY: a listed TCB stays valid while glibc's list lock is held.
            let (sb, detached) = unsafe {
                (tcb::stack_block(tcb), tcb::joinid(tcb).load(Ordering::Acquire) == tcb)
            };
            // glibc's threads: the block minus the guard below it. The main thread has no
            // block (glibc keeps `__libc_stack_end` in its `stackblock_size`): as glibc, tell
            // it by the null `stackblock`.
            let (lo, hi) = if sb.base.is_null() { (0, 0) } else { (sb.base as usize + sb.guard, sb.base as usize + sb.size) };
            // SAFETY: as above.
            let sched = unsafe { tcb::with_sched_cache(tcb, |c| *c) };
            Snapshot { lo, hi, guard: sb.guard, detached, tid: t.tid(), sched }
        }
    })?;
    let (lo, hi, guard) = if snap.hi == 0 { main_stack()? } else { (snap.lo, snap.hi, snap.guard) };
    let mut a = Attr::initial();
    a.detached = snap.detached as u8;
    a.guard_size = guard;
    a.set_stack_top(hi);
    a.stack_size = hi - lo;
    // glibc reports its scheduling cache as it is, set or not (see `sched`).
    a.policy = snap.sched.policy;
    a.priority = snap.sched.priority;
    // glibc stores the thread's affinity in the attributes (for an ended thread the kernel
    // answers for tid 0, the caller, as it does for glibc).
    a.ext_mut().cpuset = Some(crate::sys::sched::affinity_of_tid(snap.tid)?);
    Ok(a)
}

/// The main thread's stack as glibc reports it: the mapping holding `__libc_stack_end`,
/// topped at the page above it, as deep as RLIMIT_STACK allows but not into the mapping
/// below.
fn main_stack() -> Result<(usize, usize, usize)> {
    // SAFETY: ld.so's variable, set at start-up.
    let end = unsafe { *syms().libc_stack_end } as usize;
    let maps = crate::sys::fs::read_all(c"/proc/self/maps").map_err(|_| Errno::ENOMEM)?;
    let maps = core::str::from_utf8(&maps).map_err(|_| Errno::ENOMEM)?;
    let mut rl = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes one rlimit.
    if unsafe { libc::getrlimit(libc::RLIMIT_STACK, &mut rl) } != 0 {
        return Err(Errno::ENOMEM);
    }
    let top = (end & !(PAGE - 1)) + PAGE;
    let mut last_to = 0usize;
    for line in maps.lines() {
        let range = line.split(' ').next().unwrap_or("");
        let mut it = range.split('-').map(|x| usize::from_str_radix(x, 16).unwrap_or(0));
        let (from, to) = (it.next().unwrap_or(0), it.next().unwrap_or(0));
        if from <= end && end < to {
            let limit = if rl.rlim_cur == libc::RLIM_INFINITY { usize::MAX } else { rl.rlim_cur as usize };
            let mut size = limit.saturating_sub(to - top) & !(PAGE - 1);
            size = size.min(top - last_to);
            return Ok((top - size, top, 0));
        }
        last_to = to;
    }
    Err(Errno::ENOMEM)
}
