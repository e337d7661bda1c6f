//! Barrier (`pthread_barrier_t`, 32 bytes), glibc 2.36's protocol and layout, so that a
//! barrier in shared memory works between processes on rpthread and on glibc.
//!
//! Fields (all `u32`): `in` @0, `current_round` @4, `count` @8, `shared` @12 (0: private
//! futexes, 128: shared ones, glibc's value), `out` @16; the rest is unused.
//!
//! Protocol: an arriving thread takes position `i` = `in` + 1 (one fetch-add). Rounds are
//! runs of `count` positions; `current_round` is the last position known to belong to a
//! finished round (a multiple of `count`). A thread whose position completes one or more
//! rounds (`current_round + count <= i`) raises `current_round` to `i - i % count` with a
//! CAS and wakes everyone sleeping on it; the others sleep on `current_round` until it
//! reaches their position. The thread at a multiple of `count` is the serial thread.
//! Leaving, each thread bumps `out`.
//!
//! Reset: positions stop at `max_in` (the last round end at or below `u32::MAX / 2`), so the
//! counters never wrap. A thread that arrives past it waits on `in` until the reset, then
//! enters again; the last thread of the old positions to leave (`out` reaching `max_in`)
//! zeroes `current_round` and `out`, then `in` last, and wakes the sleepers on `in`.
//! Destroy reuses the reset: it adds `max_in - in` to `out`, so the last thread still inside
//! performs a reset, and waits on `in` for it: the memory is free when destroy returns.

use super::model::{fence, futex_wait, futex_wake, racing_store, AtomicU32, Ordering, Scope};
use crate::errno::{Errno, Result};

/// glibc's `BARRIER_IN_THRESHOLD`: positions stay below this (and the count too).
pub const IN_THRESHOLD: u32 = u32::MAX / 2;

/// `PTHREAD_BARRIER_SERIAL_THREAD`.
pub const SERIAL_THREAD: i32 = -1;

/// The `shared` field of a process-shared barrier (glibc stores its futex flag there).
const SHARED_FLAG: i32 = 128;

/// A barrier.
#[repr(C)]
pub struct Barrier {
    in_: AtomicU32,
    current_round: AtomicU32,
    count: u32,
    shared: i32,
    out: AtomicU32,
    _unused: [u32; 3],
}

#[cfg(not(loom))]
const _: () = {
    assert!(core::mem::offset_of!(Barrier, out) == 16);
};

impl Barrier {
    /// A barrier for `count` threads. Errors: EINVAL for 0 or [`IN_THRESHOLD`] and above.
    pub fn new(count: u32, scope: Scope) -> Result<Barrier> {
        if count == 0 || count >= IN_THRESHOLD {
            return Err(Errno::EINVAL);
        }
        Ok(Barrier {
            in_: AtomicU32::new(0),
            current_round: AtomicU32::new(0),
            count,
            shared: if scope == Scope::Shared { SHARED_FLAG } else { 0 },
            out: AtomicU32::new(0),
            _unused: [0; 3],
        })
    }

    fn scope(&self) -> Scope {
        if self.shared != 0 {
            Scope::Shared
        } else {
            Scope::Private
        }
    }

    /// The count, and the last position before a reset. EINVAL for a count of 0 (memory
    /// that was never initialized; glibc would divide by zero).
    fn limits(&self) -> Result<(u32, u32)> {
        let count = self.count;
        if count == 0 {
            return Err(Errno::EINVAL);
        }
        Ok((count, IN_THRESHOLD - IN_THRESHOLD % count))
    }

    /// Waits until `count` threads arrived. Returns `SERIAL_THREAD` for exactly one thread
    /// of each round, 0 for the others. Errors: EINVAL (count 0: never initialized).
    pub fn wait(&self) -> Result<i32> {
        let (count, max_in) = self.limits()?;
        let i = loop {
            // AcqRel: the arrival publishes what this thread did before the barrier, and if
            // it completes the round it sees every earlier arrival's writes (and a reset).
            let i = self.in_.fetch_add(1, Ordering::AcqRel).wrapping_add(1);
            if i <= max_in {
                break i;
            }
            // Past the reset point: wait until the last thread of the old positions reset
            // the barrier, then enter again.
            let mut now = i;
            while now > max_in {
                let _ = futex_wait(&self.in_, now, None, self.scope());
                // Relaxed: only a hint to retry; the fetch-add above orders the retry.
                now = self.in_.load(Ordering::Relaxed);
            }
        };
        if !self.finish_rounds(i, count) {
            // Acquire: pairs with the Release CAS of the thread that finished our round.
            fence(Ordering::Acquire);
        }
        // Release: our use of the barrier happens before a reset or destroy.
        let o = self.out.fetch_add(1, Ordering::Release).wrapping_add(1);
        if o == max_in {
            // The last thread of the old positions: everyone else now waits on `in`.
            fence(Ordering::Acquire);
            self.current_round.store(0, Ordering::Relaxed);
            self.out.store(0, Ordering::Relaxed);
            let scope = self.scope();
            // Release: a thread that sees `in` reset sees the other fields reset. (Post-reset
            // arrivals increment `in` meanwhile: a racing store for the model.)
            racing_store(&self.in_, 0, Ordering::Release);
            futex_wake(&self.in_, i32::MAX, scope);
        }
        Ok(if i % count == 0 { SERIAL_THREAD } else { 0 })
    }

    /// Completes the rounds position `i` completes, or waits for someone to complete ours.
    /// True if this thread completed its own round (it synchronized with every arrival of
    /// the round through its fetch-add already).
    fn finish_rounds(&self, i: u32, count: u32) -> bool {
        let mut cr = self.current_round.load(Ordering::Relaxed);
        while cr + count <= i {
            let newcr = i - i % count;
            // Release: threads of the finished rounds see what we saw through `in`.
            match self.current_round.compare_exchange_weak(cr, newcr, Ordering::Release, Ordering::Relaxed) {
                Ok(_) => {
                    cr = newcr;
                    futex_wake(&self.current_round, i32::MAX, self.scope());
                    if i <= cr {
                        return true;
                    }
                    break;
                }
                Err(now) => cr = now,
            }
        }
        while i > cr {
            let _ = futex_wait(&self.current_round, cr, None, self.scope());
            cr = self.current_round.load(Ordering::Relaxed);
        }
        false
    }

    /// Destroys the barrier: waits until every thread that entered has left it (they may
    /// still be leaving a finished round), then returns 0, as glibc. A round still waiting
    /// for arrivals makes this wait for it. Errors: EINVAL (count 0: never initialized).
    pub fn destroy(&self) -> Result<()> {
        let (_, max_in) = self.limits()?;
        // Relaxed: the program made every arrival happen before this call.
        let mut inn = self.in_.load(Ordering::Relaxed);
        // Pretend the reset point was reached: the last thread out resets `in` to 0.
        if self.out.fetch_add(max_in.wrapping_sub(inn), Ordering::Relaxed) < inn {
            while inn != 0 {
                let _ = futex_wait(&self.in_, inn, None, self.scope());
                inn = self.in_.load(Ordering::Relaxed);
            }
        }
        // Acquire: the memory's reuse happens after every thread's last access.
        fence(Ordering::Acquire);
        Ok(())
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn single_thread_rounds_and_errors() {
        assert!(Barrier::new(0, Scope::Private).is_err());
        assert!(Barrier::new(IN_THRESHOLD, Scope::Private).is_err());
        let b = Barrier::new(1, Scope::Private).unwrap();
        for _ in 0..3 {
            assert_eq!(b.wait(), Ok(SERIAL_THREAD));
        }
        b.destroy().unwrap();
        assert_eq!(Barrier::new(2, Scope::Shared).unwrap().shared, 128);
    }

    #[test]
    fn resets_at_the_threshold() {
        let b = Barrier::new(3, Scope::Private).unwrap();
        let max_in = IN_THRESHOLD - IN_THRESHOLD % 3;
        // One round before the reset point: the round after it runs on reset counters.
        for w in [&b.in_, &b.out, &b.current_round] {
            w.store(max_in - 3, Ordering::Relaxed);
        }
        let b = std::sync::Arc::new(b);
        let hs: Vec<_> = (0..5)
            .map(|_| {
                let b = b.clone();
                std::thread::spawn(move || b.wait().unwrap())
            })
            .collect();
        let me = b.wait().unwrap();
        let serials = hs.into_iter().map(|h| h.join().unwrap()).chain([me]).filter(|&r| r == SERIAL_THREAD).count();
        assert_eq!(serials, 2);
        assert_eq!(b.in_.load(Ordering::Relaxed), 3);
        b.destroy().unwrap();
    }
}

#[cfg(loom)]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;

    /// `threads` threads pass `rounds` rounds: nobody leaves a round before everyone of it
    /// arrived, one serial thread per round; `start` places the counters (near the reset
    /// point to model the reset).
    fn rounds(threads: usize, rounds: usize, start: u32) {
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(2);
        b.check(move || {
            let bar = Barrier::new(threads as u32, Scope::Private).unwrap();
            for w in [&bar.in_, &bar.out, &bar.current_round] {
                w.store(start, Ordering::Relaxed);
            }
            let b = Arc::new((bar, AtomicU32::new(0), AtomicU32::new(0)));
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
        rounds(2, 2, 0);
    }

    #[test]
    fn loom_barrier_three_threads_two_rounds() {
        rounds(3, 2, 0);
    }

    /// The second round starts past the reset point: its threads wait for the reset.
    #[test]
    fn loom_barrier_reset_between_rounds() {
        rounds(2, 2, IN_THRESHOLD - IN_THRESHOLD % 2 - 2);
    }
}
