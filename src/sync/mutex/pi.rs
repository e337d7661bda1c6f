//! Priority-inheritance mutexes: the kernel's PI futex operations.

use super::*;

impl Mutex {
    // ---- priority inheritance ----------------------------------------------------------

    #[cold]
    pub(super) fn lock_pi(&self, kind: i32, deadline: Deadline, how: How) -> Result<()> {
        let try_only = how == How::Try;
        let ty = kind & TYPE_MASK;
        let scope = Self::scope(kind);
        let robust = kind & ROBUST != 0;
        let tid = self_tid() as u32;
        if self.word.load(Ordering::Relaxed) & TID_MASK == tid {
            match ty {
                RECURSIVE => return self.recurse(),
                ERRORCHECK => return Err(Errno::EDEADLK), // trylock too, as glibc's
                _ if try_only => return Err(Errno::EBUSY),
                // Normal: relock deadlocks. glibc asks the kernel first, which rejects a
                // deadline it cannot use (EINVAL, a negative tv_sec too) before it finds the
                // deadlock (after which glibc waits out the deadline).
                _ => {
                    if deadline.is_some_and(|(ts, _)| !valid_timespec(ts) || ts.tv_sec < 0) {
                        return Err(Errno::EINVAL);
                    }
                    return hang_until(deadline);
                }
            }
        }
        if robust && self.owner.load(Ordering::Relaxed) == NOTRECOVERABLE {
            return Err(Errno::ENOTRECOVERABLE);
        }
        let rl = if robust { Some(super::robust::list::List::current()) } else { None };
        if let Some(rl) = &rl {
            rl.set_pending(self.entry(), true);
        }
        let cas = self.word.compare_exchange(0, tid, Ordering::Acquire, Ordering::Relaxed);
        let r = if cas.is_ok() {
            Ok(())
        } else if try_only {
            // As glibc: only a dead owner (OWNER_DIED, robust) is worth asking the kernel
            // about; anything else is held (a non-robust owner that died holds it forever).
            match cas {
                Err(v) if v & OWNER_DIED == 0 => Err(Errno::EBUSY),
                _ => match futex::trylock(&self.word, scope) {
                    Err(Errno::EAGAIN) | Err(Errno::EDEADLK) | Err(Errno::ESRCH) => Err(Errno::EBUSY),
                    other => other,
                },
            }
        } else {
            pi_lock_until(&self.word, deadline, scope)
        };
        match r {
            Ok(()) => {}
            // The kernel: a non-robust PI owner that is gone (ESRCH), or ourselves (EDEADLK):
            // glibc makes the caller wait forever (or until the deadline).
            Err(Errno::ESRCH) | Err(Errno::EDEADLK) if !robust => return hang_until(deadline),
            Err(e) => {
                if let Some(rl) = &rl {
                    rl.clear_pending();
                }
                return Err(e);
            }
        }
        // Acquire: the kernel (or our CAS) took the lock; a dead previous owner shows as
        // OWNER_DIED, which we clear while holding it.
        let v = self.word.load(Ordering::Acquire);
        if robust && v & OWNER_DIED != 0 {
            self.word.fetch_and(!OWNER_DIED, Ordering::Relaxed);
            if let Some(rl) = &rl {
                rl.add(self.entry(), true);
                rl.clear_pending();
            }
            self.owner.store(INCONSISTENT, Ordering::Relaxed);
            self.count.store(1, Ordering::Relaxed);
            return Err(Errno::EOWNERDEAD);
        }
        if robust && self.owner.load(Ordering::Relaxed) == NOTRECOVERABLE {
            if self.word.compare_exchange(tid, 0, Ordering::Release, Ordering::Relaxed).is_err() {
                let _ = futex::unlock(&self.word, scope);
            }
            if let Some(rl) = &rl {
                rl.clear_pending();
            }
            return Err(Errno::ENOTRECOVERABLE);
        }
        if let Some(rl) = &rl {
            rl.add(self.entry(), true);
            rl.clear_pending();
        }
        self.took(tid as i32, how, true);
        Ok(())
    }

}


/// FUTEX_LOCK_PI with a deadline on either clock: LOCK_PI measures CLOCK_REALTIME,
/// LOCK_PI2 (Linux 5.14) CLOCK_MONOTONIC. The kernel validates the deadline (EINVAL for a
/// negative `tv_sec` too), as it does for glibc, which passes it unchecked.
fn pi_lock_until(w: &AtomicU32, deadline: Deadline, scope: Scope) -> Result<()> {
    match deadline {
        None => futex::lock(w, None, scope),
        Some((ts, Clock::Realtime)) => futex::lock(w, Some(ts), scope),
        Some((ts, Clock::Monotonic)) => futex::lock2(w, ts, scope),
    }
}

/// The kernel's priority-inheritance futex operations. The model checker has no PI futex:
/// the loom models cover the plain kinds only, so there these are unreachable.
#[cfg(not(loom))]
pub(super) mod futex {
    pub use crate::sys::futex::{lock_pi as lock, lock_pi2 as lock2, trylock_pi as trylock, unlock_pi as unlock};
}

#[cfg(loom)]
pub(super) mod futex {
    use super::{AtomicU32, Result, Scope};
    pub fn lock(_: &AtomicU32, _: Option<&libc::timespec>, _: Scope) -> Result<()> {
        unreachable!("PI mutexes are not modelled")
    }
    pub fn lock2(_: &AtomicU32, _: &libc::timespec, _: Scope) -> Result<()> {
        unreachable!("PI mutexes are not modelled")
    }
    pub fn trylock(_: &AtomicU32, _: Scope) -> Result<()> {
        unreachable!("PI mutexes are not modelled")
    }
    pub fn unlock(_: &AtomicU32, _: Scope) -> Result<()> {
        unreachable!("PI mutexes are not modelled")
    }
}
