//! The library's own internal lock, for its global tables (thread registry, stack cache,
//! TLS hand-over pool, default attributes). Not exported; pthread_mutex_t lives in
//! `sync::mutex`. A leaf module (over `sys` only), so every layer may use it.
//!
//! Lock word: 0 = unlocked, 1 = locked, 2 = locked with (possible) sleepers — the classic
//! three-state futex lock (Drepper, "Futexes Are Tricky", mutex #2).

use crate::sys::futex::{self, Scope};
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU32, Ordering};

/// A small futex lock, process-private, not recursive.
pub struct RawLock(AtomicU32);

impl RawLock {
    /// An unlocked lock.
    pub const fn new() -> Self {
        RawLock(AtomicU32::new(0))
    }

    /// Acquires the lock. Acquire ordering on success: the critical section sees everything
    /// the previous holder wrote before its release.
    #[inline]
    pub fn lock(&self) {
        if self.0.compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed).is_err() {
            self.lock_slow();
        }
    }

    #[cold]
    fn lock_slow(&self) {
        for _ in 0..100 {
            core::hint::spin_loop();
            if self.0.load(Ordering::Relaxed) == 0
                && self.0.compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed).is_ok()
            {
                return;
            }
        }
        while self.0.swap(2, Ordering::Acquire) != 0 {
            let _ = futex::wait(&self.0, 2, None, Scope::Private);
        }
    }

    /// Releases the lock (Release ordering: publishes the critical section's writes).
    #[inline]
    pub fn unlock(&self) {
        if self.0.swap(0, Ordering::Release) == 2 {
            futex::wake(&self.0, 1, Scope::Private);
        }
    }
}

impl Default for RawLock {
    fn default() -> Self {
        Self::new()
    }
}

/// Data guarded by a [`RawLock`].
pub struct Locked<T> {
    lock: RawLock,
    data: UnsafeCell<T>,
}

// SAFETY: access to `data` is serialized by `lock`.
unsafe impl<T: Send> Sync for Locked<T> {}

impl<T> Locked<T> {
    /// Wraps `data`.
    pub const fn new(data: T) -> Self {
        Locked { lock: RawLock::new(), data: UnsafeCell::new(data) }
    }

    /// Runs `f` with exclusive access to the data.
    #[inline]
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        self.lock.lock();
        struct Unlock<'a>(&'a RawLock);
        impl Drop for Unlock<'_> {
            fn drop(&mut self) {
                self.0.unlock();
            }
        }
        let _u = Unlock(&self.lock);
        // SAFETY: we hold the lock, so no other reference to the data exists.
        f(unsafe { &mut *self.data.get() })
    }

    /// Takes the lock without running anything: for holding it across fork().
    pub fn lock_raw(&self) {
        self.lock.lock();
    }

    /// Releases a lock taken with [`Locked::lock_raw`].
    pub fn unlock_raw(&self) {
        self.lock.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn locked_counts_exactly() {
        let l = Arc::new(Locked::new(0u64));
        let hs: Vec<_> = (0..4)
            .map(|_| {
                let l = l.clone();
                std::thread::spawn(move || {
                    for _ in 0..20_000 {
                        l.with(|v| *v += 1);
                    }
                })
            })
            .collect();
        hs.into_iter().for_each(|h| h.join().unwrap());
        assert_eq!(l.with(|v| *v), 80_000);
    }
}
