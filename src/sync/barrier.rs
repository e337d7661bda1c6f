//! Barrier (`pthread_barrier_t`, 32 bytes).
//!
//! Word `arrivals` (bytes 0..4) counts every arrival since the last wrap: arrival number `t`
//! belongs to round `t / count`, and the arrival with `(t + 1) % count == 0` completes its
//! round (it is the serial thread) and wakes everyone sleeping on the word. Waiters sleep
//! until `arrivals / count` differs from their round, so extra threads simply start the
//! next round and no wake-up can be lost between rounds.
//!
//! `inside` (bytes 4..8) counts threads between entry and their last access: destroy waits
//! for it to drop to 0, so the serial thread may destroy and free the barrier at once.

use super::model::{futex_wait, futex_wake, AtomicU32, Ordering, Scope};
use crate::errno::{Errno, Result};

/// The largest count accepted (glibc's limit is similar: half the counter range).
pub const MAX_COUNT: u32 = 1 << 30;

/// Past this many arrivals the serial thread subtracts its round's arrivals again.
const WRAP_AT: u32 = 1 << 31;

/// `PTHREAD_BARRIER_SERIAL_THREAD`.
pub const SERIAL_THREAD: i32 = -1;

/// A barrier.
#[repr(C)]
pub struct Barrier {
    arrivals: AtomicU32,
    inside: AtomicU32,
    count: AtomicU32,
    shared: u32,
    _pad: [u32; 4],
}

#[cfg(not(loom))]
const _: () = assert!(core::mem::size_of::<Barrier>() == core::mem::size_of::<libc::pthread_barrier_t>());

impl Barrier {
    /// A barrier for `count` threads. Errors: EINVAL for 0 or more than [`MAX_COUNT`].
    pub fn new(count: u32, scope: Scope) -> Result<Barrier> {
        if count == 0 || count > MAX_COUNT {
            return Err(Errno::EINVAL);
        }
        Ok(Barrier {
            arrivals: AtomicU32::new(0),
            inside: AtomicU32::new(0),
            count: AtomicU32::new(count),
            shared: (scope == Scope::Shared) as u32,
            _pad: [0; 4],
        })
    }

    fn scope(&self) -> Scope {
        if self.shared != 0 {
            Scope::Shared
        } else {
            Scope::Private
        }
    }

    /// Waits until `count` threads arrived. Returns `SERIAL_THREAD` for exactly one thread
    /// of each round, 0 for the others. Errors: EINVAL (destroyed or never initialized).
    pub fn wait(&self) -> Result<i32> {
        // Relaxed: `count` is set by init and cleared by destroy, neither concurrent with us.
        let count = self.count.load(Ordering::Relaxed);
        if count == 0 {
            return Err(Errno::EINVAL);
        }
        self.inside.fetch_add(1, Ordering::Relaxed);
        // AcqRel: the arrival publishes what this thread did before the barrier, and (by the
        // release sequence on `arrivals`) the serial thread's wake-up carries everyone's.
        let t = self.arrivals.fetch_add(1, Ordering::AcqRel);
        let round = t / count;
        let r = if (t + 1).is_multiple_of(count) {
            if t + 1 >= WRAP_AT {
                self.arrivals.fetch_sub(t + 1, Ordering::AcqRel);
            }
            futex_wake(&self.arrivals, i32::MAX, self.scope());
            SERIAL_THREAD
        } else {
            loop {
                // Acquire: once the round moved on, we see every arrival's writes.
                let now = self.arrivals.load(Ordering::Acquire);
                if now / count != round {
                    break;
                }
                let _ = futex_wait(&self.arrivals, now, None, self.scope());
            }
            0
        };
        // Release: our last access; destroy's Acquire load sees we are out.
        self.inside.fetch_sub(1, Ordering::Release);
        Ok(r)
    }

    /// Destroys the barrier. Errors: EBUSY while threads wait in an unfinished round,
    /// EINVAL if not initialized. Waits for threads of a finished round to leave.
    pub fn destroy(&self) -> Result<()> {
        let count = self.count.load(Ordering::Relaxed);
        if count == 0 {
            return Err(Errno::EINVAL);
        }
        if !self.arrivals.load(Ordering::Acquire).is_multiple_of(count) {
            return Err(Errno::EBUSY);
        }
        while self.inside.load(Ordering::Acquire) != 0 {
            #[cfg(not(loom))]
            crate::sys::sched_yield();
            #[cfg(loom)]
            loom::thread::yield_now();
        }
        self.count.store(0, Ordering::Relaxed);
        Ok(())
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn single_thread_rounds_and_errors() {
        assert!(Barrier::new(0, Scope::Private).is_err());
        assert!(Barrier::new(MAX_COUNT + 1, Scope::Private).is_err());
        let b = Barrier::new(1, Scope::Private).unwrap();
        for _ in 0..3 {
            assert_eq!(b.wait(), Ok(SERIAL_THREAD));
        }
        b.destroy().unwrap();
        assert_eq!(b.wait(), Err(Errno::EINVAL));
    }

    #[test]
    fn wraps_without_losing_rounds() {
        let b = Barrier::new(3, Scope::Private).unwrap();
        let start = (WRAP_AT / 3 + 1) * 3 - 1; // the last arrival of a round past WRAP_AT
        b.arrivals.store(start - 2, Ordering::Relaxed);
        let b = std::sync::Arc::new(b);
        let hs: Vec<_> = (0..2)
            .map(|_| {
                let b = b.clone();
                std::thread::spawn(move || b.wait().unwrap())
            })
            .collect();
        let me = b.wait().unwrap();
        let serials = hs.into_iter().map(|h| h.join().unwrap()).chain([me]).filter(|&r| r == SERIAL_THREAD).count();
        assert_eq!(serials, 1);
        assert_eq!(b.arrivals.load(Ordering::Relaxed), 0);
    }
}

#[cfg(loom)]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;

    fn rounds(threads: usize, rounds: usize) {
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(2);
        b.check(move || {
            let b = Arc::new((Barrier::new(threads as u32, Scope::Private).unwrap(), AtomicU32::new(0), AtomicU32::new(0)));
            let body = move |b: &(Barrier, AtomicU32, AtomicU32)| {
                for r in 0..rounds as u32 {
                    b.1.fetch_add(1, Ordering::Relaxed);
                    if b.0.wait().unwrap() == SERIAL_THREAD {
                        b.2.fetch_add(1, Ordering::Relaxed);
                    }
                    // Everyone of this round arrived before anyone leaves it.
                    assert!(b.1.load(Ordering::Relaxed) >= (r + 1) * threads as u32);
                }
            };
            let hs: Vec<_> = (1..threads)
                .map(|_| {
                    let b = b.clone();
                    loom::thread::spawn(move || body(&b))
                })
                .collect();
            body(&b);
            for h in hs {
                h.join().unwrap();
            }
            assert_eq!(b.2.load(Ordering::Relaxed), rounds as u32);
            b.0.destroy().unwrap();
        });
    }

    #[test]
    fn loom_barrier_two_threads_two_rounds() {
        rounds(2, 2);
    }

    #[test]
    fn loom_barrier_three_threads_two_rounds() {
        rounds(3, 2);
    }
}
