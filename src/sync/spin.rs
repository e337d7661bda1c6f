//! Spinlock (`pthread_spinlock_t`, an `int`).
//!
//! Word: 0 = unlocked, otherwise the tid of the holder (so a thread re-locking its own lock
//! gets EDEADLK instead of spinning forever). Lock is one CAS 0 → tid; waiters spin on plain
//! loads (no cache-line ping-pong) and yield the CPU now and then, for the holder may be
//! preempted. Unlock stores 0 without checking the owner, as glibc (programs may unlock
//! from another thread).

use super::caller::tid;
use super::model::{AtomicI32, Ordering};
use crate::errno::{Errno, Result};

/// Spins between yields while the lock is held.
const SPINS_PER_YIELD: u32 = 1000;

/// A spinlock.
#[repr(transparent)]
pub struct SpinLock(AtomicI32);

#[cfg(not(loom))]
const _: () = assert!(core::mem::size_of::<SpinLock>() == core::mem::size_of::<libc::pthread_spinlock_t>());

impl SpinLock {
    /// An unlocked spinlock.
    pub fn new() -> SpinLock {
        SpinLock(AtomicI32::new(0))
    }

    /// Acquires the lock. Errors: EDEADLK when the caller holds it.
    #[inline]
    pub fn lock(&self) -> Result<()> {
        let me = tid();
        // Acquire: the critical section sees the previous holder's writes.
        match self.0.compare_exchange(0, me, Ordering::Acquire, Ordering::Relaxed) {
            Ok(_) => Ok(()),
            Err(holder) if holder == me => Err(Errno::EDEADLK),
            Err(_) => {
                self.lock_contended(me);
                Ok(())
            }
        }
    }

    #[cold]
    fn lock_contended(&self, me: i32) {
        let mut spins = 0;
        loop {
            while self.0.load(Ordering::Relaxed) != 0 {
                spins += 1;
                if spins % SPINS_PER_YIELD == 0 {
                    crate::sys::sched_yield();
                } else {
                    core::hint::spin_loop();
                }
            }
            if self.0.compare_exchange_weak(0, me, Ordering::Acquire, Ordering::Relaxed).is_ok() {
                return;
            }
        }
    }

    /// Acquires the lock if it is free. Errors: EBUSY.
    #[inline]
    pub fn try_lock(&self) -> Result<()> {
        self.0
            .compare_exchange(0, tid(), Ordering::Acquire, Ordering::Relaxed)
            .map(drop)
            .map_err(|_| Errno::EBUSY)
    }

    /// Releases the lock (Release: publishes the critical section).
    #[inline]
    pub fn unlock(&self) {
        self.0.store(0, Ordering::Release);
    }

    /// Checks that the lock can be destroyed. Errors: EBUSY while held.
    pub fn check_destroy(&self) -> Result<()> {
        if self.0.load(Ordering::Relaxed) != 0 {
            return Err(Errno::EBUSY);
        }
        Ok(())
    }
}

impl Default for SpinLock {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn errors() {
        let s = SpinLock::new();
        s.lock().unwrap();
        assert_eq!(s.lock(), Err(Errno::EDEADLK));
        assert_eq!(s.try_lock(), Err(Errno::EBUSY));
        assert_eq!(s.check_destroy(), Err(Errno::EBUSY));
        s.unlock();
        s.try_lock().unwrap();
        s.unlock();
        s.check_destroy().unwrap();
    }

    #[test]
    fn exclusion() {
        let s = std::sync::Arc::new((SpinLock::new(), std::cell::UnsafeCell::new(0u64)));
        struct P(std::sync::Arc<(SpinLock, std::cell::UnsafeCell<u64>)>);
        // SAFETY: the counter is only touched under the spinlock.
        unsafe impl Send for P {}
        let hs: Vec<_> = (0..4)
            .map(|_| {
                let p = P(s.clone());
                std::thread::spawn(move || {
                    let p = p;
                    for _ in 0..10_000 {
                        p.0 .0.lock().unwrap();
                        // SAFETY: exclusive under the lock.
                        unsafe { *p.0 .1.get() += 1 };
                        p.0 .0.unlock();
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
