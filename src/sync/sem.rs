//! Counting semaphore (`sem_t`, 32 bytes), glibc 2.36's protocol and layout (its 64-bit
//! atomics variant), so that a semaphore in shared memory or a named one works between
//! processes on rpthread and on glibc.
//!
//! Fields: `data` @0 (`u64`): the count in the low 32 bits (0..=SEM_VALUE_MAX), the number
//! of waiters that may sleep in the high 32 bits; `private` @8 (`i32`): glibc's futex flag
//! value, 0 for a process-private semaphore and 128 for a shared one; `pad` @12 = 0. The
//! futex word is the low half of `data` (the count), and waiters sleep only while it is 0.
//!
//! Protocol: a post is one CAS that adds 1 to the count and reads the waiter count in the
//! same atomic step; it wakes one sleeper if there may be any. Async-signal-safe (atomics
//! and a futex wake) and it touches the semaphore no more after that CAS but for the wake,
//! so the semaphore may be destroyed as soon as the last waiter returns. A waiter first
//! tries to take a token (CAS count - 1); else it registers (waiters + 1) and loops: sleep
//! while the count is 0, then take a token and deregister in one CAS. A waiter that gives
//! up (timeout, signal, cancellation) just deregisters.

use super::model::{futex_wake_low, AtomicU64, Deadline, Ordering, Scope};
#[cfg(loom)]
use super::model::futex_wait_low;
use crate::errno::{Errno, Result};

/// `SEM_VALUE_MAX`.
pub const VALUE_MAX: u32 = i32::MAX as u32;

const COUNT: u64 = 0xffff_ffff;
const ONE_WAITER: u64 = 1 << 32;

/// The `private` field of a process-shared semaphore: glibc stores its futex flag there
/// (`FUTEX_PRIVATE_FLAG` is 128, and glibc's encoding of "shared" is that value).
pub const SHARED_FLAG: i32 = 128;

/// A semaphore.
#[repr(C)]
pub struct Semaphore {
    data: AtomicU64,
    private: i32,
    pad: i32,
    _unused: [u64; 2],
}

#[cfg(not(loom))]
const _: () = {
    assert!(core::mem::offset_of!(Semaphore, private) == 8);
};

impl Semaphore {
    /// A semaphore with count `value`. Errors: EINVAL above `SEM_VALUE_MAX`.
    pub fn new(value: u32, scope: Scope) -> Result<Semaphore> {
        if value > VALUE_MAX {
            return Err(Errno::EINVAL);
        }
        Ok(Semaphore {
            data: AtomicU64::new(u64::from(value)),
            private: if scope == Scope::Shared { SHARED_FLAG } else { 0 },
            pad: 0,
            _unused: [0; 2],
        })
    }

    /// The futex scope: glibc hands `private` to the kernel as is (0: private futex); any
    /// other value is treated as shared, which is always safe.
    #[inline]
    fn scope(&self) -> Scope {
        if self.private == 0 {
            Scope::Private
        } else {
            Scope::Shared
        }
    }

    /// Takes a token if the count is positive; false if it is 0.
    #[inline]
    fn try_take(&self) -> bool {
        let mut d = self.data.load(Ordering::Relaxed);
        while d & COUNT > 0 {
            // Acquire: the taker sees what the poster did before its post.
            match self.data.compare_exchange_weak(d, d - 1, Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => return true,
                Err(now) => d = now,
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
        // Relaxed: the registration only has to be in the modification order of `data`
        // before our sleep, which the RMWs on the same word guarantee.
        let mut d = self.data.fetch_add(ONE_WAITER, Ordering::Relaxed);
        loop {
            if d & COUNT == 0 {
                match block(&self.data, deadline, self.scope()) {
                    Err(Errno::ECANCELED) => {
                        self.deregister();
                        crate::cancel::act();
                    }
                    Err(e @ (Errno::ETIMEDOUT | Errno::EINTR)) => {
                        self.deregister();
                        return Err(e);
                    }
                    _ => {}
                }
                d = self.data.load(Ordering::Relaxed);
            } else {
                // Take a token and stop being a waiter in one step. Acquire: as try_take.
                match self.data.compare_exchange_weak(d, d - 1 - ONE_WAITER, Ordering::Acquire, Ordering::Relaxed) {
                    Ok(_) => return Ok(()),
                    Err(now) => d = now,
                }
            }
        }
    }

    /// A waiter that gives up stops being counted. If it was woken for a token it leaves
    /// unused (the wake-up raced with its timeout or cancellation), another sleeper is woken
    /// in its place; glibc omits this (an extra wake-up is harmless to its waiters).
    fn deregister(&self) {
        let d = self.data.fetch_sub(ONE_WAITER, Ordering::Relaxed) - ONE_WAITER;
        if d & COUNT != 0 && d >> 32 != 0 {
            futex_wake_low(&self.data, 1, self.scope());
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

    /// Increments the count and wakes one sleeper if there may be one. Async-signal-safe.
    /// Errors: EOVERFLOW at `SEM_VALUE_MAX`.
    #[inline]
    pub fn post(&self) -> Result<()> {
        let scope = self.scope();
        let mut d = self.data.load(Ordering::Relaxed);
        loop {
            if d & COUNT == u64::from(VALUE_MAX) {
                return Err(Errno::EOVERFLOW);
            }
            // Release: the taker sees what we did before the post.
            match self.data.compare_exchange_weak(d, d + 1, Ordering::Release, Ordering::Relaxed) {
                Ok(_) => break,
                Err(now) => d = now,
            }
        }
        if d >> 32 != 0 {
            futex_wake_low(&self.data, 1, scope);
        }
        Ok(())
    }

    /// The current count.
    pub fn value(&self) -> u32 {
        (self.data.load(Ordering::Relaxed) & COUNT) as u32
    }
}

/// The one place a semaphore waiter sleeps (while the count is 0): a cancellation point
/// (sem_wait, sem_timedwait, sem_clockwait). Cancellation acting here must deregister the
/// waiter first (see [`Semaphore::wait_slow`]).
#[inline(never)]
fn block(data: &AtomicU64, deadline: Deadline, scope: Scope) -> Result<()> {
    #[cfg(not(loom))]
    return crate::cancel::futex_wait_cancelable(super::model::low_word(data), 0, deadline, scope);
    #[cfg(loom)]
    return futex_wait_low(data, 0, deadline, scope);
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn counts_errors_and_glibc_layout() {
        assert_eq!(Semaphore::new(VALUE_MAX + 1, Scope::Private).err(), Some(Errno::EINVAL));
        let s = Semaphore::new(1, Scope::Private).unwrap();
        assert_eq!(s.private, 0);
        s.wait(None).unwrap();
        assert_eq!(s.try_wait(), Err(Errno::EAGAIN));
        s.post().unwrap();
        assert_eq!(s.value(), 1);
        assert_eq!(s.data.load(Ordering::Relaxed), 1);
        let m = Semaphore::new(VALUE_MAX, Scope::Shared).unwrap();
        assert_eq!(m.private, 128);
        assert_eq!(m.post(), Err(Errno::EOVERFLOW));
        let ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        let e = Semaphore::new(0, Scope::Private).unwrap();
        assert_eq!(e.wait(Some((&ts, super::super::model::Clock::Monotonic))), Err(Errno::ETIMEDOUT));
        assert_eq!(e.data.load(Ordering::Relaxed), 0);
    }
}

#[cfg(loom)]
mod loom_tests {
    use super::*;
    use loom::sync::atomic::AtomicU32;
    use loom::sync::Arc;

    #[test]
    fn loom_sem_post_wait_no_lost_wakeup() {
        loom::model(|| {
            let s = Arc::new(Semaphore::new(0, Scope::Private).unwrap());
            let s2 = s.clone();
            let h = loom::thread::spawn(move || s2.wait(None).unwrap());
            s.post().unwrap();
            h.join().unwrap();
            assert_eq!(s.data.load(Ordering::Relaxed), 0);
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
            assert_eq!(s.data.load(Ordering::Relaxed), 0);
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
            assert_eq!(s.0.data.load(Ordering::Relaxed) >> 32, 0);
        });
    }
}
