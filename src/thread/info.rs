//! What pthread_getattr_np reports about a running thread.

use super::attr::{Attr, PAGE};
use super::{registry, state};
use crate::errno::{Errno, Result};
use crate::glibc::symbols::syms;
use core::sync::atomic::Ordering;

/// The attributes of thread `handle` (running, or ended and not yet joined), as a fresh attr
/// object.
pub fn attributes(handle: usize) -> Result<Attr> {
    let (lo, hi, guard, detached, tid, recorded) = registry::with_thread(handle, |t| {
        let detached = t.state.load(Ordering::Acquire) & state::DETACHED != 0;
        (t.stack_lo, t.stack_hi, t.guard, detached, t.tid(), t.sched_record())
    })?;
    let (lo, hi, guard) = if hi == 0 { main_stack()? } else { (lo, hi, guard) };
    let mut a = Attr::initial();
    a.detached = detached;
    a.guard_size = guard;
    a.stack_top = hi;
    a.stack_size = hi - lo;
    // A thread that has ended (tid 0: asking the kernel about tid 0 would describe the
    // caller) or ends while we ask: what was last set through the API, as glibc reports from
    // its descriptor (SCHED_OTHER, 0 when nothing was).
    let ended = recorded.unwrap_or((libc::SCHED_OTHER, 0));
    let (policy, priority) = match tid {
        0 => ended,
        tid => match crate::sched::param_of_tid(tid) {
            Err(Errno::ESRCH) => ended,
            r => r?,
        },
    };
    a.policy = policy;
    a.priority = priority;
    Ok(a)
}

/// The main thread's stack as glibc reports it: the mapping holding `__libc_stack_end`,
/// topped at the page above it, as deep as RLIMIT_STACK allows but not into the mapping
/// below.
fn main_stack() -> Result<(usize, usize, usize)> {
    // SAFETY: ld.so's variable, set at start-up.
    let end = unsafe { *syms().libc_stack_end } as usize;
    let maps = std::fs::read_to_string("/proc/self/maps").map_err(|_| Errno::ENOMEM)?;
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
