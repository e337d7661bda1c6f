//! Priority-protect mutexes: the ceiling, and the thread's raised priority.

use super::*;

impl Mutex {
    // ---- priority ceiling ------------------------------------------------------------------

    /// The priority ceiling of a priority-protect mutex (EINVAL for other kinds).
    pub fn prioceiling(&self) -> Result<i32> {
        let kind = self.kind();
        if kind & !KNOWN != 0 || kind & PP == 0 {
            return Err(Errno::EINVAL);
        }
        Ok(self.ceiling.load(Ordering::Relaxed))
    }

    /// Changes the ceiling, returning the old one: locks the mutex first unless the caller
    /// holds it (POSIX), then unlocks it again. EDEADLK for an errorcheck mutex the caller
    /// holds, as on glibc.
    pub fn set_prioceiling(&self, ceiling: i32) -> Result<i32> {
        let kind = self.kind();
        if kind & !KNOWN != 0 || kind & PP == 0 {
            return Err(Errno::EINVAL);
        }
        mutexattr::check_ceiling(ceiling)?;
        let held = self.owner.load(Ordering::Relaxed) == self_tid();
        // glibc: an errorcheck mutex the caller holds is EDEADLK (it would lock it again).
        if held && kind & TYPE_MASK == ERRORCHECK {
            return Err(Errno::EDEADLK);
        }
        if held {
            // Move the held ceiling's share of the thread's priority to the new value.
            let old = self.ceiling.load(Ordering::Relaxed);
            prio::change(old, ceiling)?;
            self.ceiling.store(ceiling, Ordering::Relaxed);
            return Ok(old);
        }
        // Take the lock without the ceiling protocol: it is not ours to raise to yet.
        if !word::try_lock(&self.word) {
            word::lock_slow(&self.word, Self::scope(kind), None)?;
        }
        let old = self.ceiling.swap(ceiling, Ordering::Relaxed);
        word::unlock(&self.word, Self::scope(kind));
        Ok(old)
    }

}


/// Priority protection, glibc's bookkeeping (nptl/tpp.c) in glibc's place, the thread's TCB
/// (`tpp`: `priomax`, then per SCHED_FIFO priority the number of held priority-protect
/// mutexes with that ceiling), so that glibc's code and ours agree: pthread_setschedparam
/// keeps a thread raised to its `priomax`. The thread's own priority comes from the
/// scheduling cache (`glibc::tcb::with_sched_cache`).
pub(crate) mod prio {
    use crate::errno::{Errno, Result};
    use crate::glibc::tcb;

    fn fifo_range() -> (i32, i32) {
        crate::sync::mutexattr::fifo_range()
    }

    /// The calling thread's priority as glibc's `__pthread_current_priority` sees it: the
    /// scheduling cache, filled from the kernel where it is not set yet.
    pub fn current_priority() -> Result<i32> {
        let me = tcb::current();
        let tid = tcb::current_tid();
        // SAFETY: the caller's own live TCB.
        unsafe {
            tcb::with_sched_cache(me, |c| {
                c.fill(tid)?;
                Ok(c.priority)
            })
        }
    }

    /// glibc's `__pthread_tpp_change_priority`: the calling thread holds one more
    /// priority-protect mutex of ceiling `new` (unless -1) and one fewer of `previous` (unless
    /// -1); the thread's priority follows the highest ceiling held, never below its own.
    pub fn change(previous: i32, new: i32) -> Result<()> {
        let (min, max) = fifo_range();
        let me = tcb::current();
        // SAFETY: the calling thread's own TCB field, which only it changes.
        let slot = unsafe { tcb::tpp(me) };
        if slot.is_null() {
            let n = 1 + (max - min + 1) as usize;
            // SAFETY: calloc of `n` ints, zeroed; glibc's layout (priomax, priomap[]).
            let p = unsafe { libc::calloc(n, core::mem::size_of::<i32>()) }.cast::<i32>();
            if p.is_null() {
                return Err(Errno::ENOMEM);
            }
            // SAFETY: freshly allocated.
            unsafe { *p = min - 1 };
            *slot = p;
        }
        let tpp = *slot;
        // SAFETY: `tpp` holds 1 + (max - min + 1) ints; indexes are range-checked below.
        let count = |prio: i32| unsafe { &mut *tpp.add(1 + (prio - min) as usize).cast::<u32>() };
        let in_range = |prio: i32| (min..=max).contains(&prio);
        if (new != -1 && !in_range(new)) || (previous != -1 && !in_range(previous)) {
            return Err(Errno::EINVAL);
        }
        // SAFETY: as above.
        let priomax = unsafe { *tpp };
        let mut newmax = priomax;
        if new != -1 {
            let c = count(new);
            *c = c.checked_add(1).ok_or(Errno::EAGAIN)?;
            newmax = newmax.max(new);
        }
        if previous != -1 {
            let c = count(previous);
            *c = c.saturating_sub(1);
            if *c == 0 && priomax == previous && previous > new {
                newmax = (min..previous).rev().find(|&p| *count(p) != 0).unwrap_or(min - 1);
            }
        }
        if priomax == newmax {
            return Ok(());
        }
        current_priority()?;
        let tid = tcb::current_tid();
        // SAFETY: our own TCB; the cache is read under its lock, as glibc does.
        unsafe {
            *tpp = newmax;
            tcb::with_sched_cache(me, |c| {
                if c.priority < newmax || c.priority < priomax {
                    crate::sys::sched::set_scheduler(tid, c.policy, c.priority.max(newmax))?;
                }
                Ok(())
            })
        }
    }

    /// Raises the calling thread for a priority-protect mutex of `ceiling` it is about to take
    /// (glibc: EINVAL if its priority is above the ceiling).
    pub fn raise(ceiling: i32) -> Result<()> {
        if current_priority()? > ceiling {
            return Err(Errno::EINVAL);
        }
        change(-1, ceiling)
    }

    /// Drops a hold of `ceiling` (unlock, or a lock that failed after [`raise`]).
    pub fn lower(ceiling: i32) {
        let _ = change(ceiling, -1);
    }

    /// Frees the calling thread's bookkeeping (its end).
    pub fn release() {
        // SAFETY: the calling thread's own field; the block was calloc'ed by `change`.
        unsafe {
            let slot = tcb::tpp(tcb::current());
            if !slot.is_null() {
                libc::free((*slot).cast());
                *slot = core::ptr::null_mut();
            }
        }
    }

    /// The highest ceiling thread `t` holds (None without bookkeeping): what
    /// pthread_setschedparam keeps it raised to, as glibc does.
    ///
    /// # Safety
    /// `t` must be a live TCB; the caller holds its TCB lock.
    pub unsafe fn priomax(t: *mut u8) -> Option<i32> {
        // SAFETY: per contract.
        let p = unsafe { *tcb::tpp(t) };
        // SAFETY: a live block's first int.
        (!p.is_null()).then(|| unsafe { *p })
    }
}
