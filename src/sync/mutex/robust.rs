//! Robust mutexes: the kernel's owner-died encoding of the lock word, and the thread's
//! kernel robust list.

use super::*;
use crate::sync::model::futex_wake;

impl Mutex {
    // ---- robust (kernel robust-list) mutexes -------------------------------------------

    /// Address of this mutex's robust-list entry: its `next` link, as the kernel expects
    /// (`futex_offset` = -32 reaches `word`).
    pub(super) fn entry(&self) -> usize {
        &self.next as *const AtomicUsize as usize
    }

    #[cold]
    pub(super) fn lock_robust(&self, kind: i32, deadline: Deadline, how: How) -> Result<()> {
        let try_only = how == How::Try;
        let ty = kind & TYPE_MASK;
        // Always the shared futex: the kernel's wake-up when an owner dies is a shared-futex
        // wake, which a private wait never sees (glibc waits shared on every robust mutex).
        let scope = Scope::Shared;
        let tid = self_tid() as u32;
        let cur = self.word.load(Ordering::Relaxed);
        if cur & TID_MASK == tid {
            match ty {
                RECURSIVE => return self.recurse(),
                ERRORCHECK => return Err(Errno::EDEADLK), // trylock too, as glibc's
                _ if try_only => return Err(Errno::EBUSY),
                _ => {} // normal: relock deadlocks, as POSIX says
            }
        }
        if self.owner.load(Ordering::Relaxed) == NOTRECOVERABLE {
            return Err(Errno::ENOTRECOVERABLE);
        }
        let rl = list::List::current();
        rl.set_pending(self.entry(), false);
        // Once we have slept we cannot know whether others still sleep: keep WAITERS set.
        let mut assume_waiters = 0;
        loop {
            let v = self.word.load(Ordering::Relaxed);
            if v & OWNER_DIED != 0 && v & TID_MASK == 0 {
                let new = tid | (v & WAITERS) | assume_waiters;
                if self.word.compare_exchange(v, new, Ordering::Acquire, Ordering::Relaxed).is_ok() {
                    rl.add(self.entry(), false);
                    rl.clear_pending();
                    self.owner.store(INCONSISTENT, Ordering::Relaxed);
                    self.count.store(1, Ordering::Relaxed);
                    return Err(Errno::EOWNERDEAD);
                }
                continue;
            }
            if v == 0 {
                let new = tid | assume_waiters;
                if self.word.compare_exchange(0, new, Ordering::Acquire, Ordering::Relaxed).is_ok() {
                    break;
                }
                continue;
            }
            if try_only {
                rl.clear_pending();
                return Err(Errno::EBUSY);
            }
            // About to block: glibc checks the deadline here, `tv_nsec` first.
            if let Some((ts, _)) = deadline {
                let bad = if !valid_timespec(ts) {
                    Some(Errno::EINVAL)
                } else if ts.tv_sec < 0 {
                    Some(Errno::ETIMEDOUT)
                } else {
                    None
                };
                if let Some(e) = bad {
                    rl.clear_pending();
                    return Err(e);
                }
            }
            if v & WAITERS == 0
                && self.word.compare_exchange(v, v | WAITERS, Ordering::Relaxed, Ordering::Relaxed).is_err()
            {
                continue;
            }
            if let Err(Errno::ETIMEDOUT) = futex_wait(&self.word, v | WAITERS, deadline, scope) {
                rl.clear_pending();
                return Err(Errno::ETIMEDOUT);
            }
            assume_waiters = WAITERS;
        }
        // Acquire on the CAS made the unlocker's `owner` store visible.
        if self.owner.load(Ordering::Relaxed) == NOTRECOVERABLE {
            let old = self.word.swap(0, Ordering::Release);
            rl.clear_pending();
            if old & WAITERS != 0 {
                futex_wake(&self.word, i32::MAX, scope);
            }
            return Err(Errno::ENOTRECOVERABLE);
        }
        rl.add(self.entry(), false);
        rl.clear_pending();
        self.took(tid as i32, how, true);
        Ok(())
    }

    /// Unlock of the kinds whose word holds the owner's tid (robust and PI).
    #[cold]
    pub(super) fn unlock_owned_word(&self, kind: i32, drop_user: bool) -> Result<()> {
        let tid = self_tid() as u32;
        if self.word.load(Ordering::Relaxed) & TID_MASK != tid {
            return Err(Errno::EPERM);
        }
        let robust = kind & ROBUST != 0;
        let pi = kind & PI != 0;
        if kind & TYPE_MASK == RECURSIVE {
            let c = self.count.load(Ordering::Relaxed).saturating_sub(1);
            self.count.store(c, Ordering::Relaxed);
            if c != 0 {
                // glibc: stepping down an inconsistent robust mutex is ENOTRECOVERABLE.
                if robust && self.owner.load(Ordering::Relaxed) == INCONSISTENT {
                    return Err(Errno::ENOTRECOVERABLE);
                }
                return Ok(());
            }
        }
        if drop_user {
            self.nusers.store(self.nusers.load(Ordering::Relaxed).wrapping_sub(1), Ordering::Relaxed);
        }
        // Robust waiters sleep on the shared futex (see `lock_robust`).
        let scope = if robust && !pi { Scope::Shared } else { Self::scope(kind) };
        // Unlocking an inconsistent mutex (EOWNERDEAD never followed by consistent) makes
        // it unrecoverable for good.
        let notrec = robust && self.owner.load(Ordering::Relaxed) == INCONSISTENT;
        self.owner.store(if notrec { NOTRECOVERABLE } else { 0 }, Ordering::Relaxed);
        self.count.store(0, Ordering::Relaxed);
        let rl = if robust { Some(list::List::current()) } else { None };
        if let Some(rl) = &rl {
            rl.set_pending(self.entry(), pi);
            rl.remove(self.entry());
        }
        if pi {
            if self.word.compare_exchange(tid, 0, Ordering::Release, Ordering::Relaxed).is_err() {
                let _ = super::pi::futex::unlock(&self.word, scope);
            }
        } else {
            let old = self.word.swap(0, Ordering::Release);
            if old & WAITERS != 0 {
                futex_wake(&self.word, if notrec { i32::MAX } else { 1 }, scope);
            }
        }
        if let Some(rl) = &rl {
            rl.clear_pending();
        }
        Ok(())
    }

    /// `pthread_mutex_consistent`: marks the state protected by a robust mutex, acquired
    /// with EOWNERDEAD, as consistent again. EINVAL if the mutex is not robust or not in that
    /// state. As on glibc, nothing checks that the caller is the one holding it: the mutex
    /// is marked consistent and the caller recorded as its owner.
    pub fn consistent(&self) -> Result<()> {
        let kind = self.kind();
        if kind & ROBUST == 0 || self.owner.load(Ordering::Relaxed) != INCONSISTENT {
            return Err(Errno::EINVAL);
        }
        self.owner.store(self_tid(), Ordering::Relaxed);
        Ok(())
    }

}


/// The calling thread's kernel robust list (registered with `set_robust_list`), kept in
/// glibc's doubly-linked form: each entry is a mutex's `next` link, its `prev` link 8 bytes
/// below; the head's own `prev` is glibc's `robust_prev`, 8 bytes below the head. Bit 0 of a
/// `next` pointer marks a PI futex (kernel convention). Only the owning thread changes its
/// list; the kernel reads it when the thread dies.
pub(super) mod list {
    use crate::glibc::tcb::{current_robust_head, RobustListHead};
    use core::sync::atomic::{compiler_fence, AtomicUsize, Ordering};

    pub struct List(*mut RobustListHead);

    /// The link word at `addr` (a `next` or `prev` field, of a mutex or of the head).
    ///
    /// # Safety
    /// `addr` must be a live, aligned link field of this thread's robust list.
    unsafe fn link<'a>(addr: usize) -> &'a AtomicUsize {
        // SAFETY: forwarded.
        unsafe { &*(addr as *const AtomicUsize) }
    }

    impl List {
        pub fn current() -> List {
            List(current_robust_head())
        }

        fn head(&self) -> usize {
            self.0 as usize
        }

        fn pending(&self) -> &AtomicUsize {
            // SAFETY: the head is the calling thread's live TCB field; list_op_pending is an
            // aligned pointer-sized field, written only by this thread.
            unsafe { &*(core::ptr::addr_of_mut!((*self.0).list_op_pending) as *const AtomicUsize) }
        }

        /// Announces an entry being added/removed, so that the kernel also checks it if the
        /// thread dies half-way.
        pub fn set_pending(&self, entry: usize, pi: bool) {
            self.pending().store(entry | pi as usize, Ordering::Relaxed);
            compiler_fence(Ordering::SeqCst);
        }

        pub fn clear_pending(&self) {
            compiler_fence(Ordering::SeqCst);
            self.pending().store(0, Ordering::Relaxed);
        }

        /// Pushes `entry` at the front. The entry is complete before the head points at it
        /// (the kernel may walk the list the moment this thread dies).
        pub fn add(&self, entry: usize, pi: bool) {
            let head = self.head();
            // SAFETY: `head` and every linked entry are live link fields (entries leave the
            // list before their mutex can be destroyed); `entry` is our mutex's link.
            unsafe {
                let first = link(head).load(Ordering::Relaxed);
                link((first & !1) - 8).store(entry, Ordering::Relaxed);
                link(entry).store(first, Ordering::Relaxed);
                link(entry - 8).store(head, Ordering::Relaxed);
                compiler_fence(Ordering::SeqCst);
                link(head).store(entry | pi as usize, Ordering::Relaxed);
            }
        }

        /// Unlinks `entry` in O(1).
        pub fn remove(&self, entry: usize) {
            // SAFETY: `entry` is on this thread's list (we hold its mutex), so its neighbours
            // are live link fields.
            unsafe {
                let next = link(entry).load(Ordering::Relaxed);
                let prev = link(entry - 8).load(Ordering::Relaxed) & !1;
                link((next & !1) - 8).store(prev, Ordering::Relaxed);
                // `prev` points at the previous `next` field (or the head); keep our PI bit
                // chain intact by copying our `next` (with its bit) into it.
                link(prev).store(next, Ordering::Relaxed);
                compiler_fence(Ordering::SeqCst);
                link(entry - 8).store(0, Ordering::Relaxed);
                link(entry).store(0, Ordering::Relaxed);
            }
        }
    }
}
