//! Process-private condition variables: our protocol, with requeue on broadcast (see
//! [`super::cond`] for why private ones do not use glibc's).
//!
//! Object (48 bytes, all-zero = `PTHREAD_COND_INITIALIZER`; our own layout but for `wrefs`),
//! all `u32` unless noted: `futex` @0 (what waiters sleep on), `lock` @4 (internal 3-state
//! lock guarding the counters), `total` @8 (waits started), `wakeup` @12 (wake-ups granted),
//! `woken` @16 (wake-ups consumed), `bcast` @20 (broadcast generation), `mutex` @24 (usize:
//! lock word the waiters' mutex uses, for requeue), `wrefs` @36 (as in glibc's layout: bit 0
//! process-shared, always 0 here, bit 1 CLOCK_MONOTONIC, bit 2 being destroyed, and 8 per
//! thread inside a wait).
//!
//! Protocol (the counters change only under `lock`; `futex` changes on every event):
//! a waiter bumps `total` and `futex`, unlocks the mutex, sleeps on `futex` and leaves once a
//! granted wake-up is unconsumed (`wakeup != woken`, one granted since it came) or `bcast`
//! moved; signal grants one (`wakeup += 1`, `futex += 1`, FUTEX_WAKE 1); broadcast grants all
//! and FUTEX_CMP_REQUEUEs every sleeper but a few onto the mutex word, so they wake a few at a
//! time as the mutex changes hands instead of stampeding (they re-lock with the contended
//! state, so each unlock wakes the next). A timed-out waiter counts itself as granted and consumed.
//!
//! Orderings: the counters, `bcast`, `wrefs` and `mutex` are only changed under
//! `lock`, whose Acquire/Release orders them, so they use Relaxed; `futex` is also read by the
//! kernel, which compares it under its own lock. Only `signal`/`broadcast`'s lock-free
//! "anyone waiting?" check reads counters outside the lock (SeqCst loads, see there).
//!
//! Waiters block in exactly one place, [`PrivateCond::block`] (the cancellation point).

use super::cond::{DESTROYING, MONOTONIC, ONE_WAITER};
use super::model::{futex_cmp_requeue, futex_wait, futex_wake, AtomicU32, AtomicUsize, Deadline, Ordering};
use super::mutex::{word, Mutex};
use crate::errno::{Errno, Result};
use crate::sys::futex::{Clock, Scope};

/// Waiters a broadcast wakes directly; the rest are requeued onto the mutex, and each thread
/// that takes the mutex from there wakes one more, so about this many are awake at a time.
/// One (a strict relay) adds up every waiter's wake-up latency, which on a 2-CPU VM (a
/// cross-CPU wake-up ~25 µs) made broadcast to 8 waiters 1.5x slower than glibc's wake-all
/// (107 vs 70 µs per round, bench/sync_cond.c); with 4 in flight the latencies overlap:
/// 71-89 µs (glibc 72-80), 64 waiters unchanged (~700 µs both). The models keep the strict
/// relay (their few waiters would all be woken directly otherwise).
const BROADCAST_WAKE: i32 = if cfg!(loom) { 1 } else { 4 };

/// `mutex` value: requeue impossible (a mutex kind or scope we cannot requeue onto).
const NO_REQUEUE: usize = usize::MAX;

/// A private condition variable as it lies in the caller's `pthread_cond_t`.
#[repr(C)]
pub struct PrivateCond {
    futex: AtomicU32,
    lock: AtomicU32,
    total: AtomicU32,
    wakeup: AtomicU32,
    woken: AtomicU32,
    bcast: AtomicU32,
    mutex: AtomicUsize,
    spare: AtomicU32,
    wrefs: AtomicU32,
    spare2: AtomicUsize,
}

#[cfg(not(loom))]
const _: () = {
    assert!(core::mem::size_of::<PrivateCond>() == core::mem::size_of::<libc::pthread_cond_t>());
    assert!(core::mem::align_of::<PrivateCond>() <= core::mem::align_of::<libc::pthread_cond_t>());
    assert!(core::mem::offset_of!(PrivateCond, wrefs) == 36);
};

/// What a waiter remembers from the moment it started waiting.
pub struct Ticket {
    /// `wakeup` when the wait began: a wake-up granted later may be ours.
    seq: u32,
    /// `bcast` when the wait began.
    bcast: u32,
}

/// How a waiter stops waiting.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Leave {
    /// Consumed a granted wake-up (or left with a broadcast).
    Woken,
    /// Deadline passed before any wake-up was granted to it.
    TimedOut,
    /// Cancelled while blocked: gives up its place and passes on any wake-up it might have
    /// absorbed (wakes every sleeper, as nothing may be lost).
    Cancelled,
}

impl PrivateCond {
    /// A fresh condition variable, for tests and models.
    #[cfg(any(test, loom))]
    pub fn new_for_test() -> PrivateCond {
        PrivateCond {
            futex: AtomicU32::new(0),
            lock: AtomicU32::new(0),
            total: AtomicU32::new(0),
            wakeup: AtomicU32::new(0),
            woken: AtomicU32::new(0),
            bcast: AtomicU32::new(0),
            mutex: AtomicUsize::new(0),
            spare: AtomicU32::new(0),
            wrefs: AtomicU32::new(0),
            spare2: AtomicUsize::new(0),
        }
    }

    /// Initializes, with timed waits on `clock`. Relaxed stores: the object is published by
    /// whatever the program uses to share it.
    pub fn init(&self, clock: Clock) {
        for w in [&self.futex, &self.lock, &self.total, &self.wakeup, &self.woken, &self.bcast, &self.spare] {
            w.store(0, Ordering::Relaxed);
        }
        self.mutex.store(0, Ordering::Relaxed);
        self.spare2.store(0, Ordering::Relaxed);
        self.wrefs.store(if clock == Clock::Monotonic { MONOTONIC } else { 0 }, Ordering::Relaxed);
    }

    /// Always private (process-shared condition variables use [`super::cond_shared`]).
    fn scope(&self) -> Scope {
        Scope::Private
    }

    fn ilock(&self, scope: Scope) {
        if !word::try_lock(&self.lock) {
            let _ = word::lock_slow(&self.lock, scope, None);
        }
    }

    fn iunlock(&self, scope: Scope) {
        word::unlock(&self.lock, scope);
    }

    /// Waits for a signal or broadcast, releasing `m` while blocked and re-acquiring it before
    /// returning (also on every error after the release). `deadline` is absolute on its
    /// clock (its `tv_nsec` was checked by the caller). Errors: EPERM (a checked mutex the
    /// caller does not hold), ETIMEDOUT, EOWNERDEAD (robust mutex re-acquired from a dead
    /// owner), EINVAL (an invalid mutex).
    pub fn wait(&self, m: &Mutex, deadline: Deadline) -> Result<()> {
        let (t, mut fv) = self.enter(m)?;
        let scope = self.scope();
        let mut how = Leave::Woken;
        loop {
            let r = self.block(fv, deadline, scope);
            if r == Err(Errno::ECANCELED) {
                // Cancelled while waiting: leave without losing a wake-up, hold the mutex
                // again, then act (cleanup handlers run with the mutex held).
                self.abandon(&t, m);
                crate::cancel::act();
            }
            self.ilock(scope);
            if self.bcast.load(Ordering::Relaxed) != t.bcast {
                break;
            }
            let val = self.wakeup.load(Ordering::Relaxed);
            if val != t.seq && self.woken.load(Ordering::Relaxed) != val {
                break;
            }
            if r == Err(Errno::ETIMEDOUT) {
                how = Leave::TimedOut;
                break;
            }
            fv = self.futex.load(Ordering::Relaxed);
            self.iunlock(scope);
        }
        // Only a broadcast requeues, and it bumps `bcast` first: a waiter that leaves with
        // `bcast` unchanged never slept on the mutex word.
        let requeued = self.bcast.load(Ordering::Relaxed) != t.bcast;
        self.leave_locked(&t, how, scope);
        let relock = m.lock_after_wait(requeued);
        match (how, relock) {
            (_, Err(e)) => Err(e),
            (Leave::TimedOut, Ok(())) => Err(Errno::ETIMEDOUT),
            _ => Ok(()),
        }
    }

    /// Registers the caller as a waiter, then releases `m` (outside the internal lock: the
    /// unlock may make a system call, and signallers must not wait for it). Returns the ticket
    /// and the `futex` value to sleep on. On error (EPERM: a checked mutex the caller does not
    /// hold; EINVAL: an invalid mutex) nothing changed.
    fn enter(&self, m: &Mutex) -> Result<(Ticket, u32)> {
        m.check_owner()?;
        let scope = self.scope();
        let target = match m.requeue_target() {
            Some((w, s)) if s == scope => w as *const AtomicU32 as usize,
            _ => NO_REQUEUE,
        };
        self.ilock(scope);
        // Counted before the mutex is released, so a signaller that takes the mutex after us
        // sees us (and its lock-free "no waiters" check in `signal` is sound).
        self.total.store(self.total.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
        let fv = self.futex.load(Ordering::Relaxed).wrapping_add(1);
        self.futex.store(fv, Ordering::Relaxed);
        self.wrefs.fetch_add(ONE_WAITER, Ordering::Relaxed);
        self.mutex.store(target, Ordering::Relaxed);
        let t = Ticket { seq: self.wakeup.load(Ordering::Relaxed), bcast: self.bcast.load(Ordering::Relaxed) };
        self.iunlock(scope);
        // Cannot fail: ownership was checked (a recursive mutex held more than once is only
        // stepped down, as on glibc).
        let _ = m.unlock_for_wait();
        Ok((t, fv))
    }

    /// The one place a waiter blocks: sleeps on `futex` while it still reads `expected`, until
    /// woken (possibly spuriously), requeued and woken through the mutex, or the deadline.
    /// This is the cancellation point of pthread_cond_wait/timedwait: a cancellation acted on
    /// here must call [`PrivateCond::leave_locked`] with [`Leave::Cancelled`] (under the internal
    /// lock, via [`PrivateCond::abandon`]) and re-acquire the mutex before cleanup handlers run.
    #[inline(never)]
    fn block(&self, expected: u32, deadline: Deadline, scope: Scope) -> Result<()> {
        #[cfg(not(loom))]
        return crate::cancel::futex_wait_cancelable(&self.futex, expected, deadline, scope);
        #[cfg(loom)]
        return futex_wait(&self.futex, expected, deadline, scope);
    }

    /// Leaves the waiter set (internal lock held; released here): consumes or gives back a
    /// wake-up according to `how`, and lets a pending destroy finish.
    fn leave_locked(&self, t: &Ticket, how: Leave, scope: Scope) {
        let broadcast = self.bcast.load(Ordering::Relaxed) != t.bcast;
        if !broadcast {
            let total = self.total.load(Ordering::Relaxed);
            let wakeup = self.wakeup.load(Ordering::Relaxed);
            if how != Leave::Woken && wakeup != total {
                // Count ourselves as granted, so `total - wakeup` stays the number of
                // threads still waiting for one.
                self.wakeup.store(wakeup.wrapping_add(1), Ordering::Relaxed);
                self.futex.fetch_add(1, Ordering::Relaxed);
            }
            self.woken.store(self.woken.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
        }
        let left = self.wrefs.fetch_sub(ONE_WAITER, Ordering::Relaxed) - ONE_WAITER;
        let destroying = left & DESTROYING != 0;
        if destroying && left < ONE_WAITER {
            futex_wake(&self.wrefs, 1, scope);
        }
        self.iunlock(scope);
        if how == Leave::Cancelled && !destroying {
            futex_wake(&self.futex, i32::MAX, scope);
        }
    }

    /// For cancellation acted on inside [`PrivateCond::block`]: leave the waiter set without losing a
    /// wake-up and re-acquire the mutex (POSIX: cleanup handlers run with it held).
    pub fn abandon(&self, t: &Ticket, m: &Mutex) {
        let scope = self.scope();
        self.ilock(scope);
        let requeued = self.bcast.load(Ordering::Relaxed) != t.bcast;
        self.leave_locked(t, Leave::Cancelled, scope);
        let _ = m.lock_after_wait(requeued);
    }

    /// Lock-free "nobody waits" check. `wakeup` is read first: it never exceeds `total` and
    /// neither decreases, so equal values mean no waiter was pending when `total` was read.
    /// SeqCst loads (plain moves on x86) keep the two reads in this order.
    #[inline(always)]
    fn nobody_waits(&self) -> bool {
        let w = self.wakeup.load(Ordering::SeqCst);
        self.total.load(Ordering::SeqCst) == w
    }

    /// Wakes at least one waiter, if any.
    #[inline]
    pub fn signal(&self) {
        if self.nobody_waits() {
            return;
        }
        self.signal_slow();
    }

    #[cold]
    fn signal_slow(&self) {
        let scope = self.scope();
        self.ilock(scope);
        let wakeup = self.wakeup.load(Ordering::Relaxed);
        if self.total.load(Ordering::Relaxed) != wakeup {
            self.wakeup.store(wakeup.wrapping_add(1), Ordering::Relaxed);
            self.futex.fetch_add(1, Ordering::Relaxed);
            self.iunlock(scope);
            futex_wake(&self.futex, 1, scope);
        } else {
            self.iunlock(scope);
        }
    }

    /// Wakes every waiter: [`BROADCAST_WAKE`] directly, the rest requeued onto the mutex.
    #[inline]
    pub fn broadcast(&self) {
        if self.nobody_waits() {
            return;
        }
        self.broadcast_slow();
    }

    #[cold]
    fn broadcast_slow(&self) {
        let scope = self.scope();
        self.ilock(scope);
        let total = self.total.load(Ordering::Relaxed);
        if total == self.wakeup.load(Ordering::Relaxed) {
            self.iunlock(scope);
            return;
        }
        self.wakeup.store(total, Ordering::Relaxed);
        self.woken.store(total, Ordering::Relaxed);
        let fv = self.futex.load(Ordering::Relaxed).wrapping_add(1);
        self.futex.store(fv, Ordering::Relaxed);
        self.bcast.store(self.bcast.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
        let target = self.mutex.load(Ordering::Relaxed);
        self.iunlock(scope);
        if target != 0 && target != NO_REQUEUE {
            // SAFETY: `target` is the lock word of the mutex the current waiters use: they
            // cannot return (and the program cannot destroy it) before they re-lock it.
            let mw = unsafe { &*(target as *const AtomicU32) };
            // Fails (EAGAIN) if a new waiter arrived meanwhile: then wake everyone instead,
            // as a newcomer must never be parked on the mutex.
            if futex_cmp_requeue(&self.futex, BROADCAST_WAKE, i32::MAX, mw, fv, scope).is_ok() {
                return;
            }
        }
        futex_wake(&self.futex, i32::MAX, scope);
    }

    /// Destroys the condition variable: waits until every thread inside a wait has left it
    /// (woken ones may still be leaving; one never woken is waited for too, as glibc), then
    /// returns 0, so the memory may be freed.
    pub fn destroy(&self) -> Result<()> {
        let scope = self.scope();
        self.ilock(scope);
        let mut w = self.wrefs.fetch_or(DESTROYING, Ordering::Relaxed) | DESTROYING;
        if w >= ONE_WAITER {
            // Woken waiters may sit requeued on the mutex: wake them so they leave now rather
            // than whenever the mutex is next released.
            let target = self.mutex.load(Ordering::Relaxed);
            if target != 0 && target != NO_REQUEUE {
                // SAFETY: as in broadcast: those waiters still need this mutex.
                futex_wake(unsafe { &*(target as *const AtomicU32) }, i32::MAX, scope);
            }
            while w >= ONE_WAITER {
                self.iunlock(scope);
                let _ = futex_wait(&self.wrefs, w, None, scope);
                self.ilock(scope);
                w = self.wrefs.load(Ordering::Relaxed);
            }
        }
        self.iunlock(scope);
        Ok(())
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;

    struct Shared {
        m: Mutex,
        c: PrivateCond,
        v: core::cell::UnsafeCell<u32>,
    }
    // SAFETY: `v` is only touched under `m`.
    unsafe impl Sync for Shared {}
    // SAFETY: as above; nothing in `Shared` is tied to one thread.
    unsafe impl Send for Shared {}

    #[test]
    fn timed_wait_times_out_with_mutex_held() {
        let m = Mutex::with_kind(0);
        let c = PrivateCond::new_for_test();
        m.lock().unwrap();
        let ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        assert_eq!(c.wait(&m, Some((&ts, Clock::Monotonic))), Err(Errno::ETIMEDOUT));
        assert_eq!(m.trylock(), Err(Errno::EBUSY));
        m.unlock().unwrap();
        c.destroy().unwrap();
    }

    #[test]
    fn errorcheck_wait_without_owning_is_eperm() {
        let m = Mutex::with_kind(2);
        let c = PrivateCond::new_for_test();
        assert_eq!(c.wait(&m, None), Err(Errno::EPERM));
        c.signal();
        c.destroy().unwrap();
    }

    #[test]
    fn broadcast_wakes_all() {
        let s = Arc::new(Shared { m: Mutex::with_kind(0), c: PrivateCond::new_for_test(), v: 0.into() });
        let hs: Vec<_> = (0..8)
            .map(|_| {
                let s = s.clone();
                std::thread::spawn(move || {
                    s.m.lock().unwrap();
                    // SAFETY: under the mutex.
                    while unsafe { *s.v.get() } == 0 {
                        s.c.wait(&s.m, None).unwrap();
                    }
                    s.m.unlock().unwrap();
                })
            })
            .collect();
        std::thread::sleep(std::time::Duration::from_millis(20));
        s.m.lock().unwrap();
        // SAFETY: under the mutex.
        unsafe { *s.v.get() = 1 };
        s.c.broadcast();
        s.m.unlock().unwrap();
        hs.into_iter().for_each(|h| h.join().unwrap());
        s.c.destroy().unwrap();
    }
}

#[cfg(loom)]
mod loom_tests {
    use super::*;
    use loom::cell::UnsafeCell;
    use loom::sync::Arc;

    struct Shared {
        m: Mutex,
        c: PrivateCond,
        v: UnsafeCell<u32>,
    }

    /// Waiters that check a predicate under the mutex, and one thread that sets it and
    /// signals (or broadcasts): nobody may sleep forever (loom reports a deadlock if a
    /// wake-up is lost).
    fn model(waiters: usize, broadcast: bool) {
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(2);
        b.check(move || {
            let s = Arc::new(Shared { m: Mutex::with_kind(0), c: PrivateCond::new_for_test(), v: UnsafeCell::new(0) });
            let hs: Vec<_> = (0..waiters)
                .map(|_| {
                    let s = s.clone();
                    loom::thread::spawn(move || {
                        s.m.lock().unwrap();
                        // SAFETY: the cell is only touched with the mutex held (or after the joins).
                        while s.v.with(|p| unsafe { *p }) == 0 {
                            s.c.wait(&s.m, None).unwrap();
                        }
                        if !broadcast {
                            // SAFETY: the cell is only touched with the mutex held (or after the joins).
                            s.v.with_mut(|p| unsafe { *p -= 1 });
                        }
                        s.m.unlock().unwrap();
                    })
                })
                .collect();
            if broadcast {
                s.m.lock().unwrap();
                // SAFETY: the cell is only touched with the mutex held (or after the joins).
                s.v.with_mut(|p| unsafe { *p = 1 });
                s.c.broadcast();
                s.m.unlock().unwrap();
            } else {
                for _ in 0..waiters {
                    s.m.lock().unwrap();
                    // SAFETY: the cell is only touched with the mutex held (or after the joins).
                    s.v.with_mut(|p| unsafe { *p += 1 });
                    s.c.signal();
                    s.m.unlock().unwrap();
                }
            }
            hs.into_iter().for_each(|h| h.join().unwrap());
        });
    }

    #[test]
    fn loom_cond_signal_one_waiter() {
        model(1, false);
    }

    #[test]
    fn loom_cond_signal_two_waiters() {
        model(2, false);
    }

    #[test]
    fn loom_cond_broadcast_requeue_two_waiters() {
        model(2, true);
    }

    #[test]
    fn loom_cond_broadcast_requeue_three_waiters() {
        model(3, true);
    }

    /// A timed-out wait (the model's deadlines expire at once) must not swallow or owe a
    /// wake-up: one waiter times out first and then waits plainly, another waits plainly,
    /// two signals must release both.
    #[test]
    fn loom_cond_timeout_then_signals() {
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(2);
        b.check(|| {
            let s = Arc::new(Shared { m: Mutex::with_kind(0), c: PrivateCond::new_for_test(), v: UnsafeCell::new(0) });
            let hs: Vec<_> = (0..2)
                .map(|i| {
                    let s = s.clone();
                    loom::thread::spawn(move || {
                        let ts = libc::timespec { tv_sec: 1, tv_nsec: 0 };
                        s.m.lock().unwrap();
                        // SAFETY: the cell is only touched with the mutex held (or after the joins).
                        if i == 0 && s.v.with(|p| unsafe { *p }) == 0 {
                            let r = s.c.wait(&s.m, Some((&ts, Clock::Monotonic)));
                            assert!(r == Ok(()) || r == Err(Errno::ETIMEDOUT));
                        }
                        // SAFETY: the cell is only touched with the mutex held (or after the joins).
                        while s.v.with(|p| unsafe { *p }) == 0 {
                            s.c.wait(&s.m, None).unwrap();
                        }
                        // SAFETY: the cell is only touched with the mutex held (or after the joins).
                        s.v.with_mut(|p| unsafe { *p -= 1 });
                        s.m.unlock().unwrap();
                    })
                })
                .collect();
            for _ in 0..2 {
                s.m.lock().unwrap();
                // SAFETY: the cell is only touched with the mutex held (or after the joins).
                s.v.with_mut(|p| unsafe { *p += 1 });
                s.c.signal();
                s.m.unlock().unwrap();
            }
            hs.into_iter().for_each(|h| h.join().unwrap());
        });
    }

    /// Broadcast requeue with a plain locker of the same mutex in the mix: the hand-over
    /// chain of the requeued waiters must not strand the plain sleeper (or vice versa).
    #[test]
    fn loom_cond_broadcast_requeue_with_plain_locker() {
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(2);
        b.check(|| {
            let s = Arc::new(Shared { m: Mutex::with_kind(0), c: PrivateCond::new_for_test(), v: UnsafeCell::new(0) });
            let mut hs: Vec<_> = (0..2)
                .map(|_| {
                    let s = s.clone();
                    loom::thread::spawn(move || {
                        s.m.lock().unwrap();
                        // SAFETY: the cell is only touched with the mutex held (or after the joins).
                        while s.v.with(|p| unsafe { *p }) == 0 {
                            s.c.wait(&s.m, None).unwrap();
                        }
                        s.m.unlock().unwrap();
                    })
                })
                .collect();
            let p = s.clone();
            hs.push(loom::thread::spawn(move || {
                p.m.lock().unwrap();
                p.m.unlock().unwrap();
            }));
            s.m.lock().unwrap();
            // SAFETY: the cell is only touched with the mutex held (or after the joins).
            s.v.with_mut(|p| unsafe { *p = 1 });
            s.c.broadcast();
            s.m.unlock().unwrap();
            hs.into_iter().for_each(|h| h.join().unwrap());
        });
    }
}
