//! What the condition variable needs of a mutex.

use super::*;

impl Mutex {
    // ---- what the condition variable needs -----------------------------------------------

    /// Checks, without changing anything, that the caller may unlock the mutex: EPERM for the
    /// checked kinds (errorcheck, recursive, robust, PI, priority-protect) it does not hold,
    /// EINVAL for an invalid mutex. What a condition wait verifies before it registers.
    pub(crate) fn check_owner(&self) -> Result<()> {
        let kind = self.kind();
        if kind & !KNOWN != 0 {
            return Err(Errno::EINVAL);
        }
        let held = if kind & (ROBUST | PI) != 0 {
            self.word.load(Ordering::Relaxed) & TID_MASK == self_tid() as u32
        } else if kind & PP != 0 || matches!(kind & TYPE_MASK, RECURSIVE | ERRORCHECK) {
            self.owner.load(Ordering::Relaxed) == self_tid()
        } else {
            true
        };
        if held {
            Ok(())
        } else {
            Err(Errno::EPERM)
        }
    }

    /// The lock word and scope a condition variable may requeue its waiters onto: only the
    /// plain 3-state kinds (not robust, PI or priority-protect), whose waiters re-lock with
    /// [`Mutex::lock_after_wait`].
    pub(crate) fn requeue_target(&self) -> Option<(&AtomicU32, Scope)> {
        let kind = self.kind();
        // Not a recursive mutex: a wait releases only one level of it, as glibc's does, so
        // the waiter may still hold it and must not sleep on its word.
        if kind & !(TYPE_MASK | SHARED) == 0 && kind & TYPE_MASK != RECURSIVE {
            Some((&self.word, Self::scope(kind)))
        } else {
            None
        }
    }

    /// Re-locks after a condition wait. A thread that may have been requeued onto the word
    /// (`requeued`: it left with a broadcast) takes it in the contended state, so the
    /// requeued sleepers behind it are woken in turn (see the module comment); otherwise, and
    /// for the other kinds, the lock is taken normally (EOWNERDEAD passes through).
    /// The waiter stayed one of the mutex's users while it waited ([`Mutex::unlock_for_wait`]),
    /// so none is added.
    pub(crate) fn lock_after_wait(&self, requeued: bool) -> Result<()> {
        let kind = self.kind();
        // A recursive mutex locked several times is still the waiter's (the wait's unlock
        // took one level): the full lock counts the level back, as glibc's cond_lock does.
        if kind & !(TYPE_MASK | SHARED) != 0 || kind & TYPE_MASK == RECURSIVE {
            return self.lock_full(kind, None, How::Relock);
        }
        let ty = kind & TYPE_MASK;
        let tid = self_tid();
        let scope = Self::scope(kind);
        if requeued {
            word::lock_requeued(&self.word, scope);
        } else if !word::try_lock(&self.word) {
            let _ = word::lock_slow(&self.word, scope, None);
        }
        self.owner.store(tid, Ordering::Relaxed);
        if ty == RECURSIVE || ty == ERRORCHECK {
            self.count.store(1, Ordering::Relaxed);
        }
        Ok(())
    }
}
