//! Spinlock (`pthread_spinlock_t`, an `int`), in glibc's x86_64 encoding, so that a lock in
//! shared memory works between a process on rpthread and one on glibc.
//!
//! Word: 1 = unlocked; 0 or below = locked. Init and unlock store 1. Lock is one atomic
//! decrement: the thread that takes the word from 1 to 0 holds the lock; a loser leaves it
//! negative and spins on plain loads (no cache-line ping-pong) until it reads a positive
//! value, then decrements again. Each waiter decrements at most once per unlock, so the word
//! cannot run away. Trylock is a CAS 1 → 0. As on glibc, an all-zero word is a *locked*
//! lock (programs must call pthread_spin_init), a thread re-locking a lock it holds spins
//! forever, and any thread may unlock.

use super::model::{racing_store_i32, spin_hint, spin_load_i32, AtomicI32, Ordering};
use crate::errno::{Errno, Result};

/// Spins between yields while the lock is held: the holder may be preempted, and yielding
/// lets it run on a busy machine. (glibc only spins; this changes nothing in the protocol.)
const SPINS_PER_YIELD: u32 = 1000;

const UNLOCKED: i32 = 1;

/// A spinlock.
#[repr(transparent)]
pub struct SpinLock(AtomicI32);

impl SpinLock {
    /// An unlocked spinlock.
    pub fn new() -> SpinLock {
        SpinLock(AtomicI32::new(UNLOCKED))
    }

    /// Acquires the lock, spinning while another thread holds it.
    #[inline]
    pub fn lock(&self) {
        if !self.lock_start() {
            self.lock_contended();
        }
    }

    /// The first step of [`SpinLock::lock`]: true if it took the lock; otherwise the caller
    /// must go on with [`SpinLock::lock_contended`] (lock diagnostics time that part).
    #[inline(always)]
    pub fn lock_start(&self) -> bool {
        // Acquire: the critical section sees the previous holder's writes.
        self.0.fetch_sub(1, Ordering::Acquire) == UNLOCKED
    }

    /// Spins until the lock is taken, after a [`SpinLock::lock_start`] that did not take it.
    #[cold]
    pub fn lock_contended(&self) {
        let mut spins = 0u32;
        loop {
            while spin_load_i32(&self.0) <= 0 {
                spins = spins.wrapping_add(1);
                if spins.is_multiple_of(SPINS_PER_YIELD) {
                    yield_now();
                } else {
                    spin_hint();
                }
            }
            if self.0.fetch_sub(1, Ordering::Acquire) == UNLOCKED {
                return;
            }
        }
    }

    /// Acquires the lock if it is free. Errors: EBUSY.
    #[inline]
    pub fn try_lock(&self) -> Result<()> {
        self.0
            .compare_exchange(UNLOCKED, 0, Ordering::Acquire, Ordering::Relaxed)
            .map(drop)
            .map_err(|_| Errno::EBUSY)
    }

    /// Releases the lock (Release: publishes the critical section). Also what
    /// pthread_spin_init does (glibc's init is its unlock).
    #[inline]
    pub fn unlock(&self) {
        racing_store_i32(&self.0, UNLOCKED, Ordering::Release);
    }
}

impl Default for SpinLock {
    fn default() -> Self {
        Self::new()
    }
}

#[inline]
fn yield_now() {
    #[cfg(not(loom))]
    crate::sys::sched_yield();
    #[cfg(loom)]
    loom::thread::yield_now();
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn glibc_encoding_and_trylock() {
        let s = SpinLock::new();
        assert_eq!(s.0.load(Ordering::Relaxed), 1);
        s.lock();
        assert_eq!(s.0.load(Ordering::Relaxed), 0);
        assert_eq!(s.try_lock(), Err(Errno::EBUSY));
        s.unlock();
        s.try_lock().unwrap();
        assert_eq!(s.0.load(Ordering::Relaxed), 0);
        s.unlock();
        // A lock left negative by losers is taken by the next decrement after an unlock.
        s.0.store(-3, Ordering::Relaxed);
        assert_eq!(s.try_lock(), Err(Errno::EBUSY));
        s.unlock();
        s.lock();
        s.unlock();
    }

    #[test]
    fn exclusion() {
        struct Counter(SpinLock, std::cell::UnsafeCell<u64>);
        // SAFETY: the counter is only touched under the spinlock.
        unsafe impl Sync for Counter {}
        let s = std::sync::Arc::new(Counter(SpinLock::new(), std::cell::UnsafeCell::new(0)));
        let hs: Vec<_> = (0..4)
            .map(|_| {
                let c = s.clone();
                std::thread::spawn(move || {
                    for _ in 0..10_000 {
                        c.0.lock();
                        // SAFETY: exclusive under the lock.
                        unsafe { *c.1.get() += 1 };
                        c.0.unlock();
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        // SAFETY: all threads joined.
        assert_eq!(unsafe { *s.1.get() }, 40_000);
    }
}

#[cfg(loom)]
mod loom_tests {
    use super::*;
    use loom::cell::UnsafeCell;
    use loom::sync::Arc;

    /// Two lockers and a trylocker: the counter guarded by the lock comes out exact.
    #[test]
    fn loom_spin_exclusion() {
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(2);
        b.check(|| {
            let s = Arc::new((SpinLock::new(), UnsafeCell::new(0u32)));
            let hs: Vec<_> = (0..2)
                .map(|i| {
                    let s = s.clone();
                    loom::thread::spawn(move || {
                        if i == 0 {
                            s.0.lock();
                        } else if s.0.try_lock().is_err() {
                            return;
                        }
                        // SAFETY: the cell is only touched with the lock held.
                        s.1.with_mut(|p| unsafe { *p += 1 });
                        s.0.unlock();
                    })
                })
                .collect();
            s.0.lock();
            // SAFETY: the cell is only touched with the lock held.
            s.1.with_mut(|p| unsafe { *p += 1 });
            s.0.unlock();
            for h in hs {
                h.join().unwrap();
            }
            s.0.lock();
            // SAFETY: the cell is only touched with the lock held.
            let n = s.1.with(|p| unsafe { *p });
            assert!(n == 2 || n == 3);
            s.0.unlock();
        });
    }
}
