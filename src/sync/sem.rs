//! Counting semaphore (`sem_t`, 32 bytes).
//!
//! Word `value` (bytes 0..4): bits 0..30 are the count (0..=SEM_VALUE_MAX), bit 31
//! `SLEEPERS` says waiters may sleep on the word. A post is one CAS that adds 1 and reads the
//! bit in the same atomic step, and wakes one sleeper if it was set: async-signal-safe
//! (atomics and a futex wake, nothing else), and no store-buffering race with waiters.
//!
//! `waiters` (bytes 4..8) counts threads in the sleeping section; only they touch it. A
//! waiter sets `SLEEPERS` before it sleeps (futex expects exactly `SLEEPERS`: count 0). The
//! last waiter to leave clears the bit, then re-reads `waiters` after a SeqCst fence: if a
//! new waiter came in meanwhile (it fenced after its increment, so one of the two sees the
//! other), it wakes one so that sleeper sets the bit again. `shared` (bytes 8..12) selects
//! shared futexes.

use super::model::{fence, futex_wake, AtomicU32, Deadline, Ordering, Scope};
#[cfg(loom)]
use super::model::futex_wait;
use crate::errno::{Errno, Result};

/// `SEM_VALUE_MAX`.
pub const VALUE_MAX: u32 = i32::MAX as u32;

const COUNT: u32 = VALUE_MAX;
const SLEEPERS: u32 = 1 << 31;

/// A semaphore.
#[repr(C)]
pub struct Semaphore {
    value: AtomicU32,
    waiters: AtomicU32,
    shared: u32,
    _pad: [u32; 5],
}

#[cfg(not(loom))]
const _: () = assert!(core::mem::size_of::<Semaphore>() == core::mem::size_of::<libc::sem_t>());

impl Semaphore {
    /// A semaphore with count `value`. Errors: EINVAL above `SEM_VALUE_MAX`.
    pub fn new(value: u32, scope: Scope) -> Result<Semaphore> {
        if value > VALUE_MAX {
            return Err(Errno::EINVAL);
        }
        Ok(Semaphore {
            value: AtomicU32::new(value),
            waiters: AtomicU32::new(0),
            shared: (scope == Scope::Shared) as u32,
            _pad: [0; 5],
        })
    }

    #[inline]
    fn scope(&self) -> Scope {
        if self.shared != 0 {
            Scope::Shared
        } else {
            Scope::Private
        }
    }

    /// Decrements the count if it is positive (keeping the bit); false if it is 0.
    #[inline]
    fn try_take(&self) -> bool {
        let mut v = self.value.load(Ordering::Relaxed);
        while v & COUNT > 0 {
            // Acquire: the taker sees what the poster did before its post.
            match self.value.compare_exchange_weak(v, v - 1, Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => return true,
                Err(now) => v = now,
            }
        }
        false
    }

    /// Decrements the count, sleeping while it is 0 until `deadline` at most.
    /// Errors: ETIMEDOUT, EINTR (a signal handler ran).
    #[inline]
    pub fn wait(&self, deadline: Deadline) -> Result<()> {
        if self.try_take() {
            return Ok(());
        }
        self.wait_slow(deadline)
    }

    #[cold]
    fn wait_slow(&self, deadline: Deadline) -> Result<()> {
        self.waiters.fetch_add(1, Ordering::Relaxed);
        // Pairs with the fence in `leave`: that waiter sees us, or we see its cleared bit.
        fence(Ordering::SeqCst);
        let r = loop {
            if self.try_take() {
                break Ok(());
            }
            // Count 0: make sure the bit is set, then sleep while the word stays so.
            if self.value.load(Ordering::Relaxed) == 0
                && self.value.compare_exchange(0, SLEEPERS, Ordering::Relaxed, Ordering::Relaxed).is_err()
            {
                continue;
            }
            match block(&self.value, deadline, self.scope()) {
                Err(Errno::ECANCELED) => {
                    // Cancelled while waiting: withdraw from the waiters, then act.
                    self.leave();
                    crate::cancel::act();
                }
                Err(e @ (Errno::ETIMEDOUT | Errno::EINTR)) => break Err(e),
                _ => {}
            }
        };
        self.leave();
        r
    }

    /// A waiter leaves the sleeping section; the last one clears `SLEEPERS`.
    fn leave(&self) {
        if self.waiters.fetch_sub(1, Ordering::Relaxed) != 1 {
            return;
        }
        self.value.fetch_and(!SLEEPERS, Ordering::Relaxed);
        fence(Ordering::SeqCst);
        if self.waiters.load(Ordering::Relaxed) != 0 {
            // A newcomer may have slept on the bit we cleared: it wakes and sets it again.
            futex_wake(&self.value, 1, self.scope());
        }
    }

    /// Decrements the count if it is positive. Errors: EAGAIN.
    #[inline]
    pub fn try_wait(&self) -> Result<()> {
        if self.try_take() {
            Ok(())
        } else {
            Err(Errno::EAGAIN)
        }
    }

    /// Increments the count and wakes one sleeper. Async-signal-safe.
    /// Errors: EOVERFLOW at `SEM_VALUE_MAX`.
    #[inline]
    pub fn post(&self) -> Result<()> {
        let mut v = self.value.load(Ordering::Relaxed);
        loop {
            if v & COUNT >= VALUE_MAX {
                return Err(Errno::EOVERFLOW);
            }
            // Release: the taker sees what we did before the post.
            match self.value.compare_exchange_weak(v, v + 1, Ordering::Release, Ordering::Relaxed) {
                Ok(_) => break,
                Err(now) => v = now,
            }
        }
        if v & SLEEPERS != 0 {
            futex_wake(&self.value, 1, self.scope());
        }
        Ok(())
    }

    /// The current count.
    pub fn value(&self) -> u32 {
        self.value.load(Ordering::Relaxed) & COUNT
    }

    /// Checks that the semaphore can be destroyed. Errors: EBUSY while threads sleep on it.
    pub fn check_destroy(&self) -> Result<()> {
        if self.waiters.load(Ordering::Relaxed) != 0 {
            return Err(Errno::EBUSY);
        }
        Ok(())
    }
}

/// The one place a semaphore waiter sleeps: a cancellation point (sem_wait, sem_timedwait,
/// sem_clockwait). Cancellation acting here must leave through the caller's bookkeeping:
/// the waiter is counted in `waiters` and must leave (`Semaphore::leave`, see
/// [`Semaphore::wait_slow`]).
#[inline(never)]
fn block(value: &AtomicU32, deadline: Deadline, scope: Scope) -> Result<()> {
    #[cfg(not(loom))]
    return crate::cancel::futex_wait_cancelable(value, SLEEPERS, deadline, scope);
    #[cfg(loom)]
    return futex_wait(value, SLEEPERS, deadline, scope);
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn counts_and_errors() {
        assert_eq!(Semaphore::new(VALUE_MAX + 1, Scope::Private).err(), Some(Errno::EINVAL));
        let s = Semaphore::new(1, Scope::Private).unwrap();
        s.wait(None).unwrap();
        assert_eq!(s.try_wait(), Err(Errno::EAGAIN));
        s.post().unwrap();
        assert_eq!(s.value(), 1);
        let m = Semaphore::new(VALUE_MAX, Scope::Private).unwrap();
        assert_eq!(m.post(), Err(Errno::EOVERFLOW));
        let ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        let e = Semaphore::new(0, Scope::Private).unwrap();
        assert_eq!(e.wait(Some((&ts, super::super::model::Clock::Monotonic))), Err(Errno::ETIMEDOUT));
        e.check_destroy().unwrap();
    }
}

#[cfg(loom)]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;

    #[test]
    fn loom_sem_post_wait_no_lost_wakeup() {
        loom::model(|| {
            let s = Arc::new(Semaphore::new(0, Scope::Private).unwrap());
            let s2 = s.clone();
            let h = loom::thread::spawn(move || s2.wait(None).unwrap());
            s.post().unwrap();
            h.join().unwrap();
            assert_eq!(s.value(), 0);
        });
    }

    #[test]
    fn loom_sem_two_waiters_two_posts() {
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(3);
        b.check(|| {
            let s = Arc::new(Semaphore::new(0, Scope::Private).unwrap());
            let hs: Vec<_> = (0..2)
                .map(|_| {
                    let s = s.clone();
                    loom::thread::spawn(move || s.wait(None).unwrap())
                })
                .collect();
            s.post().unwrap();
            s.post().unwrap();
            for h in hs {
                h.join().unwrap();
            }
            assert_eq!(s.value(), 0);
        });
    }

    /// A waiter that times out must not strand a sleeper or swallow a post.
    #[test]
    fn loom_sem_timed_waiter_leaves_cleanly() {
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(3);
        b.check(|| {
            let s = Arc::new((Semaphore::new(0, Scope::Private).unwrap(), AtomicU32::new(0)));
            let s1 = s.clone();
            let timed = loom::thread::spawn(move || {
                let ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
                if s1.0.wait(Some((&ts, super::super::model::Clock::Monotonic))).is_ok() {
                    s1.1.fetch_add(1, Ordering::Relaxed);
                }
            });
            let s2 = s.clone();
            let plain = loom::thread::spawn(move || s2.0.wait(None).unwrap());
            s.0.post().unwrap();
            s.0.post().unwrap();
            timed.join().unwrap();
            plain.join().unwrap();
            assert_eq!(s.0.value() + s.1.load(Ordering::Relaxed), 1);
        });
    }
}
