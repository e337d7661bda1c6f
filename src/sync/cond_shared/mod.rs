//! Process-shared condition variables: glibc 2.36's algorithm and layout, so that one in
//! shared memory works between processes on rpthread and on glibc (see [`super::cond`] for
//! the private ones).
//!
//! Object (48 bytes, glibc's field names; all-zero is an empty one, but a zeroed object is
//! private and served by the other protocol):
//! `wseq` @0 (`u64`): waiter sequence, 2 per waiter, bit 0 = index of the current group G2;
//! `g1_start` @8 (`u64`): start of group G1 in the sequence, shifted left by one, bit 0 =
//! index of G2 as well; `g_refs[2]` @16: per group, 2 per waiter that may sleep on its futex,
//! bit 0 = a signaller waits for them to leave; `g_size[2]` @24: per group, waiters not yet
//! signalled (G2's is 0 or negative: waiters that left it early); `g1_orig_size` @32: G1's
//! size when it became G1, shifted left by two, bits 0-1 the internal lock (0 free, 1 held,
//! 2 held with sleepers); `wrefs` @36: 8 per waiter inside a wait, bit 2 = destroy waits for
//! them, bit 1 = CLOCK_MONOTONIC, bit 0 = process-shared; `g_signals[2]` @40: per group, 2
//! per signal not yet consumed, bit 0 = the group is closed. Waiters sleep on `g_signals`.
//!
//! Protocol: a waiter takes a position in `wseq` (always landing in G2), counts itself in
//! `wrefs`, releases the mutex, and waits until its group has a signal to consume (a CAS
//! taking 2 from `g_signals`) or is closed; then it leaves `wrefs` and re-locks the mutex.
//! Signallers, under the internal lock, put signals only into G1, as many as it has
//! unsignalled waiters. When G1 has none left and G2 has waiters, a signaller switches the
//! groups: it closes G1 (bit 0 of its `g_signals`), waits for the waiters still referencing
//! its futex to leave (`g_refs`), moves `g1_start` past it, reopens the slot as the new G2
//! and flips `wseq`'s bit so new waiters go there; the old G2 becomes G1. Broadcast signals
//! every waiter of both groups. A waiter that gives up (timeout, cancellation) shrinks its
//! group, or, if a signal was meant for it already, sends a replacement signal. A waiter
//! may consume a signal from a newer group that reuses its slot; it then adds one back.
//! No waiter is ever requeued onto the mutex (the shared-memory protocol has no room for
//! that: a broadcast wakes every sleeper of G1).
//!
//! Orderings (glibc's, justified at each access): the signal counts only decide who wakes,
//! so signal and broadcast use Relaxed and rely on the mutex for their ordering with
//! waiters; the group switch orders its steps with Release/Acquire as stated there.
//!
//! Waiters block in exactly one place, [`SharedCond::block`] (the cancellation point).

use super::cond::{DESTROYING, MONOTONIC, ONE_WAITER, SHARED};
use super::model::{fence, futex_wait, futex_wake, racing_store, AtomicU32, AtomicU64, Deadline, Ordering, Scope};
use super::mutex::Mutex;
use crate::errno::{Errno, Result};
use crate::sys::futex::Clock;

#[cfg(any(test, loom))]
mod tests;

/// The most waiters a group may hold (glibc's `__PTHREAD_COND_MAX_GROUP_SIZE`).
const MAX_GROUP_SIZE: u32 = 1 << 29;

/// A process-shared condition variable as it lies in the caller's `pthread_cond_t`.
#[repr(C)]
pub struct SharedCond {
    wseq: AtomicU64,
    g1_start: AtomicU64,
    g_refs: [AtomicU32; 2],
    g_size: [AtomicU32; 2],
    g1_orig_size: AtomicU32,
    wrefs: AtomicU32,
    g_signals: [AtomicU32; 2],
}

#[cfg(not(loom))]
const _: () = {
    assert!(core::mem::size_of::<SharedCond>() == core::mem::size_of::<libc::pthread_cond_t>());
    assert!(core::mem::align_of::<SharedCond>() <= core::mem::align_of::<libc::pthread_cond_t>());
    assert!(core::mem::offset_of!(SharedCond, wrefs) == 36);
    assert!(core::mem::offset_of!(SharedCond, g_signals) == 40);
};

/// Where a waiter stands: its position in the waiter sequence and its group's slot.
#[derive(Clone, Copy)]
struct Ticket {
    seq: u64,
    g: usize,
}

impl SharedCond {
    /// A fresh condition variable (all zero), for tests and models.
    #[cfg(any(test, loom))]
    pub fn new_for_test() -> SharedCond {
        SharedCond {
            wseq: AtomicU64::new(0),
            g1_start: AtomicU64::new(0),
            g_refs: [AtomicU32::new(0), AtomicU32::new(0)],
            g_size: [AtomicU32::new(0), AtomicU32::new(0)],
            g1_orig_size: AtomicU32::new(0),
            wrefs: AtomicU32::new(0),
            g_signals: [AtomicU32::new(0), AtomicU32::new(0)],
        }
    }

    /// Initializes as process-shared, with timed waits on `clock`. Relaxed stores: the object
    /// is published by whatever the program uses to share it.
    pub fn init(&self, clock: Clock) {
        let mut flags = SHARED;
        if clock == Clock::Monotonic {
            flags |= MONOTONIC;
        }
        self.wseq.store(0, Ordering::Relaxed);
        self.g1_start.store(0, Ordering::Relaxed);
        for w in self.g_refs.iter().chain(&self.g_size).chain(&self.g_signals) {
            w.store(0, Ordering::Relaxed);
        }
        self.g1_orig_size.store(0, Ordering::Relaxed);
        self.wrefs.store(flags, Ordering::Relaxed);
    }

    fn scope_of(wrefs: u32) -> Scope {
        if wrefs & SHARED != 0 {
            Scope::Shared
        } else {
            Scope::Private
        }
    }

    // ---- waiting ---------------------------------------------------------------------------

    /// Waits for a signal or broadcast, releasing `m` while blocked and re-acquiring it
    /// before returning (also on ETIMEDOUT). `deadline` is absolute on its clock (its
    /// `tv_nsec` was checked by the caller, as glibc checks it first).
    /// Errors: EPERM (a checked mutex the caller does not hold: nothing changed), ETIMEDOUT,
    /// EOWNERDEAD (robust mutex re-acquired from a dead owner).
    pub fn wait(&self, m: &Mutex, deadline: Deadline) -> Result<()> {
        // Acquire: synchronizes with the group switch that made our group G2 (its Release
        // fetch_xor), so we see that group's reset `g_signals`.
        let wseq = self.wseq.fetch_add(2, Ordering::Acquire);
        let t = Ticket { seq: wseq >> 1, g: (wseq & 1) as usize };
        // Relaxed: only leaving needs ordering (Release in confirm_wakeup).
        let flags = self.wrefs.fetch_add(ONE_WAITER, Ordering::Relaxed);
        let scope = Self::scope_of(flags);
        // Registered before the mutex is released: a signaller that takes the mutex after us
        // sees us. (A recursive mutex held more than once is only stepped down, as glibc.)
        if let Err(e) = m.unlock_for_wait() {
            self.cancel_waiting(t, scope);
            self.confirm_wakeup(scope);
            return Err(e);
        }
        let result = self.await_signal(t, m, deadline, scope);
        // Leave before re-locking, so pthread_cond_destroy may run with the mutex held.
        self.confirm_wakeup(scope);
        let relock = m.lock_after_wait(false);
        relock.and(result)
    }

    /// Waits until our group has a signal we take or is closed. ETIMEDOUT if the deadline
    /// passed first (then we gave up our place). Acts on cancellation.
    fn await_signal(&self, t: Ticket, m: &Mutex, deadline: Deadline, scope: Scope) -> Result<()> {
        let signals_word = &self.g_signals[t.g];
        // Acquire: if we read the 0 a group switch stored, we see its `g1_start` update too.
        let mut signals = signals_word.load(Ordering::Acquire);
        loop {
            loop {
                if signals & 1 != 0 {
                    // Our group is closed: everyone in it was signalled.
                    return Ok(());
                }
                if signals != 0 {
                    break;
                }
                // No signal: take a group reference before sleeping on the group's futex, so
                // a group switch waits for us to leave it. Acquire: synchronizes with the
                // switch's Release fetch_or on `g_refs`, so we see its closing flag.
                self.g_refs[t.g].fetch_add(2, Ordering::Acquire);
                if signals_word.load(Ordering::Acquire) & 1 != 0 || t.seq < self.g1_start.load(Ordering::Relaxed) >> 1 {
                    self.dec_grefs(t.g, scope);
                    return Ok(());
                }
                match self.block(signals_word, deadline, scope) {
                    Err(Errno::ECANCELED) => self.abandon(t, m, scope),
                    Err(Errno::ETIMEDOUT) => {
                        // Leave the futex before giving up our place: the switch of our group
                        // must not wait for us while we wait for the internal lock.
                        self.dec_grefs(t.g, scope);
                        self.cancel_waiting(t, scope);
                        return Err(Errno::ETIMEDOUT);
                    }
                    _ => self.dec_grefs(t.g, scope),
                }
                signals = signals_word.load(Ordering::Acquire);
            }
            // Take a signal. Acquire: synchronizes with the signaller's view; if we took one
            // from a newer group, we also see a newer `g1_start` below.
            match signals_word.compare_exchange_weak(signals, signals - 2, Ordering::Acquire, Ordering::Acquire) {
                Ok(_) => break,
                Err(now) => signals = now,
            }
        }
        self.return_stolen_signal(t, scope);
        Ok(())
    }

    /// After taking a signal: if our group was closed meanwhile, the signal may have come
    /// from the newer group now using our slot (the current G1). Give one back to it (at
    /// worst a spurious wake-up), for as long as that group is still G1.
    fn return_stolen_signal(&self, t: Ticket, scope: Scope) {
        let g1_start = self.g1_start.load(Ordering::Relaxed);
        if t.seq >= g1_start >> 1 || ((g1_start & 1) ^ 1) as usize != t.g {
            // Our group is still open, or the current G1 is in the other slot.
            return;
        }
        let signals_word = &self.g_signals[t.g];
        let mut s = signals_word.load(Ordering::Relaxed);
        while self.g1_start.load(Ordering::Relaxed) == g1_start {
            // A closing group (bit 0) counts as given back; it may still wait for a futex
            // sleeper whose signal we took, so wake one either way.
            if s & 1 != 0 {
                futex_wake(signals_word, 1, scope);
                return;
            }
            // Relaxed: at worst a spurious wake-up, no ordering to give.
            match signals_word.compare_exchange_weak(s, s + 2, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => {
                    futex_wake(signals_word, 1, scope);
                    return;
                }
                Err(now) => s = now,
            }
        }
    }

    /// The one place a waiter blocks: sleeps on its group's `g_signals` while it reads 0,
    /// until woken (possibly spuriously) or the deadline. The cancellation point of
    /// pthread_cond_wait/timedwait: a cancellation acted on here goes through
    /// [`SharedCond::abandon`] (the mutex is held again before cleanup handlers run).
    #[inline(never)]
    fn block(&self, word: &AtomicU32, deadline: Deadline, scope: Scope) -> Result<()> {
        #[cfg(not(loom))]
        return crate::cancel::futex_wait_cancelable(word, 0, deadline, scope);
        #[cfg(loom)]
        return futex_wait(word, 0, deadline, scope);
    }

    /// Cancelled while blocked: leave the group futex and our place in the group without
    /// losing a signal, pass on a futex wake-up we may have absorbed, leave the waiters,
    /// re-lock the mutex (POSIX: cleanup handlers run with it held), then act.
    #[cold]
    fn abandon(&self, t: Ticket, m: &Mutex, scope: Scope) -> ! {
        self.dec_grefs(t.g, scope);
        self.cancel_waiting(t, scope);
        futex_wake(&self.g_signals[t.g], 1, scope);
        self.confirm_wakeup(scope);
        let _ = m.lock_after_wait(false);
        #[cfg(not(loom))]
        crate::cancel::act();
        #[cfg(loom)]
        unreachable!("the models do not cancel");
    }

    /// Drops our reference on group `g`'s futex; the last one out wakes a group switch that
    /// waits for it. Release: synchronizes with the switch's Acquire fence.
    fn dec_grefs(&self, g: usize, scope: Scope) {
        if self.g_refs[g].fetch_sub(2, Ordering::Release) == 3 {
            self.g_refs[g].fetch_and(!1, Ordering::Relaxed);
            futex_wake(&self.g_refs[g], i32::MAX, scope);
        }
    }

    /// Leaves the waiters counted in `wrefs`; the last one wakes a waiting destroy.
    /// Release: the destroy's Acquire sees we are done with the object.
    fn confirm_wakeup(&self, scope: Scope) {
        if self.wrefs.fetch_sub(ONE_WAITER, Ordering::Release) >> 2 == 3 {
            futex_wake(&self.wrefs, i32::MAX, scope);
        }
    }

    /// Gives up waiting (timeout, cancellation, failed unlock) after the caller dropped its
    /// group reference: shrinks our group if we are still in it unsignalled; if a signal
    /// was already meant for us (our group closed, or a G1 with no one left to signal),
    /// sends a replacement so it is not lost.
    fn cancel_waiting(&self, t: Ticket, scope: Scope) {
        let mut consumed = false;
        self.lock(scope);
        let g1_start = self.g1_start.load(Ordering::Relaxed) >> 1;
        let size = &self.g_size[t.g];
        if g1_start > t.seq {
            consumed = true;
        } else if g1_start + u64::from(self.orig_size()) <= t.seq {
            // In G2: nobody signalled us yet.
            let n = size.load(Ordering::Relaxed);
            if n.wrapping_add(MAX_GROUP_SIZE) != 0 {
                size.store(n.wrapping_sub(1), Ordering::Relaxed);
            } else {
                // Too many departures to count: wake everyone (spuriously) instead.
                self.unlock(scope);
                self.broadcast();
                return;
            }
        } else {
            // In G1: a size of 0 means the signal left for this group is ours.
            let n = size.load(Ordering::Relaxed);
            if n == 0 {
                consumed = true;
            } else {
                size.store(n - 1, Ordering::Relaxed);
            }
        }
        self.unlock(scope);
        if consumed {
            self.signal();
        }
    }

    // ---- signalling ------------------------------------------------------------------------

    /// Wakes at least one waiter, if any.
    #[inline]
    pub fn signal(&self) {
        // Relaxed: a waiter the caller must wake registered before releasing the mutex the
        // caller took since (the mutex orders it).
        let wrefs = self.wrefs.load(Ordering::Relaxed);
        if wrefs >> 3 == 0 {
            return;
        }
        self.signal_slow(Self::scope_of(wrefs));
    }

    #[cold]
    fn signal_slow(&self, scope: Scope) {
        self.lock(scope);
        // Relaxed: as for `wrefs` in `signal`.
        let wseq = self.wseq.load(Ordering::Relaxed);
        let mut g1 = ((wseq & 1) ^ 1) as usize;
        let mut wake = false;
        if self.g_size[g1].load(Ordering::Relaxed) != 0 || self.switch_groups(wseq >> 1, &mut g1, scope) {
            // Relaxed: signalling establishes no ordering (see the module comment).
            self.g_signals[g1].fetch_add(2, Ordering::Relaxed);
            let n = self.g_size[g1].load(Ordering::Relaxed);
            self.g_size[g1].store(n.wrapping_sub(1), Ordering::Relaxed);
            wake = true;
        }
        self.unlock(scope);
        if wake {
            futex_wake(&self.g_signals[g1], 1, scope);
        }
    }

    /// Wakes every waiter.
    #[inline]
    pub fn broadcast(&self) {
        let wrefs = self.wrefs.load(Ordering::Relaxed);
        if wrefs >> 3 == 0 {
            return;
        }
        self.broadcast_slow(Self::scope_of(wrefs));
    }

    #[cold]
    fn broadcast_slow(&self, scope: Scope) {
        self.lock(scope);
        let wseq = self.wseq.load(Ordering::Relaxed);
        let mut g1 = ((wseq & 1) ^ 1) as usize;
        // Signal everyone left in G1, and wake them before G1 is closed below.
        let n = self.g_size[g1].load(Ordering::Relaxed);
        if n != 0 {
            self.g_signals[g1].fetch_add(n.wrapping_shl(1), Ordering::Relaxed);
            self.g_size[g1].store(0, Ordering::Relaxed);
            futex_wake(&self.g_signals[g1], i32::MAX, scope);
        }
        // Then make G2 the new G1 and signal everyone in it.
        let mut wake = false;
        if self.switch_groups(wseq >> 1, &mut g1, scope) {
            let n = self.g_size[g1].load(Ordering::Relaxed);
            self.g_signals[g1].fetch_add(n.wrapping_shl(1), Ordering::Relaxed);
            self.g_size[g1].store(0, Ordering::Relaxed);
            wake = true;
        }
        self.unlock(scope);
        if wake {
            futex_wake(&self.g_signals[g1], i32::MAX, scope);
        }
    }

    /// With the internal lock held and G1 (slot `*g1`) fully signalled: if G2 has waiters,
    /// closes G1, waits until no waiter references its futex any more, turns it into the new
    /// G2 and the old G2 into G1 (`*g1` then names it). `wseq` is the signaller's view of the
    /// sequence (shifted). False if G2 is empty, or ends up empty after departures.
    fn switch_groups(&self, wseq: u64, g1: &mut usize, scope: Scope) -> bool {
        let old = *g1;
        let old_orig_size = self.orig_size();
        let old_g1_start = self.g1_start.load(Ordering::Relaxed) >> 1;
        // Waiters in G2: positions since G1's end, less those that left G2 (its size is 0 or
        // negative). Unsigned arithmetic, as glibc (a zeroed condvar has a closed, empty G1).
        let g2_waiters = (wseq.wrapping_sub(old_g1_start).wrapping_sub(u64::from(old_orig_size)) as u32)
            .wrapping_add(self.g_size[old ^ 1].load(Ordering::Relaxed));
        if g2_waiters == 0 {
            return false;
        }
        // Close G1: its waiters stop trying to sleep and take no more signals from it.
        self.g_signals[old].fetch_or(1, Ordering::Relaxed);
        // Wait for the waiters that may sleep on G1's futex to leave it. Release: waiters
        // that take a reference after this see the closing flag (their Acquire fetch_add).
        let refs = &self.g_refs[old];
        let mut r = refs.fetch_or(0, Ordering::Release);
        while r >> 1 > 0 {
            // Ask the last one out to wake us, and sleep only while that request stands.
            r = refs.fetch_or(1, Ordering::Relaxed) | 1;
            if r >> 1 > 0 {
                let _ = futex_wait(refs, r, None, scope);
            }
            r = refs.load(Ordering::Relaxed);
        }
        // Acquire: synchronizes with the departures' Release in dec_grefs.
        fence(Ordering::Acquire);
        // Move G1's start past it; bit 0 flips to the index G2 will have. The addend is
        // 32-bit as glibc's (old_orig_size is 0 only at the first switch, where G1 is slot 1).
        let step = (old_orig_size << 1).wrapping_add(if old == 1 { 1 } else { u32::MAX });
        self.g1_start.fetch_add(u64::from(step), Ordering::Relaxed);
        // Reopen the slot as the new G2. Release: a waiter that reads this 0 (Acquire) sees
        // the new `g1_start`. (A racing store: departing waiters may still add a signal back.)
        racing_store(&self.g_signals[old], 0, Ordering::Release);
        // Publish the switch: new waiters now go to the old G1's slot. Release: synchronizes
        // with waiters' Acquire fetch_add.
        let wseq = self.wseq.fetch_xor(1, Ordering::Release) >> 1;
        *g1 = old ^ 1;
        let orig_size = wseq.wrapping_sub(old_g1_start + u64::from(old_orig_size)) as u32;
        self.set_orig_size(orig_size);
        // Added, not stored: keeps the departures counted while it was G2.
        let size = &self.g_size[*g1];
        let n = size.load(Ordering::Relaxed).wrapping_add(orig_size);
        size.store(n, Ordering::Relaxed);
        n != 0
    }

    // ---- the internal lock (bits 0-1 of g1_orig_size) ---------------------------------------

    /// Takes the internal lock: 0 → 1, or with contention → 2 and sleep. Acquire.
    fn lock(&self, scope: Scope) {
        let w = &self.g1_orig_size;
        let mut s = w.load(Ordering::Relaxed);
        while s & 3 == 0 {
            match w.compare_exchange_weak(s, s | 1, Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => return,
                Err(now) => s = now,
            }
        }
        loop {
            while s & 3 != 2 {
                match w.compare_exchange_weak(s, (s & !3) | 2, Ordering::Acquire, Ordering::Relaxed) {
                    Ok(_) if s & 3 == 0 => return,
                    Ok(_) => break,
                    Err(now) => s = now,
                }
            }
            let _ = futex_wait(w, (s & !3) | 2, None, scope);
            s = w.load(Ordering::Relaxed);
        }
    }

    /// Releases the internal lock, waking a sleeper if there may be one. Release.
    fn unlock(&self, scope: Scope) {
        if self.g1_orig_size.fetch_and(!3, Ordering::Release) & 3 == 2 {
            futex_wake(&self.g1_orig_size, 1, scope);
        }
    }

    /// G1's original size (internal lock held).
    fn orig_size(&self) -> u32 {
        self.g1_orig_size.load(Ordering::Relaxed) >> 2
    }

    /// Sets G1's original size (internal lock held), keeping the lock bits, which a waiter
    /// may change once (1 → 2) concurrently: then 2 is stored with the size.
    fn set_orig_size(&self, size: u32) {
        let w = &self.g1_orig_size;
        let s = (w.load(Ordering::Relaxed) & 3) | (size << 2);
        if w.swap(s, Ordering::Relaxed) & 3 != s & 3 {
            racing_store(w, (size << 2) | 2, Ordering::Relaxed);
        }
    }

    // ---- destroy ---------------------------------------------------------------------------

    /// Destroys the condition variable: waits until every thread inside a wait has left it
    /// (a program may destroy it once all waiters were woken), then returns 0, as glibc. A
    /// waiter that was never woken is waited for too.
    pub fn destroy(&self) -> Result<()> {
        // Acquire: synchronizes with the last waiter's Release in confirm_wakeup.
        let mut wrefs = self.wrefs.fetch_or(DESTROYING, Ordering::Acquire);
        let scope = Self::scope_of(wrefs);
        while wrefs >> 3 != 0 {
            let _ = futex_wait(&self.wrefs, wrefs | DESTROYING, None, scope);
            wrefs = self.wrefs.load(Ordering::Acquire);
        }
        Ok(())
    }
}
