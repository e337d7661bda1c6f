//! `pthread_cond_t`: the condition variable, in one of two protocols chosen at init by the
//! process-shared attribute.
//!
//! - Process-shared: glibc 2.36's algorithm and layout ([`super::cond_shared`]), so that a
//!   condition variable in shared memory works between processes on rpthread and on glibc.
//! - Process-private (also `PTHREAD_COND_INITIALIZER`): our own protocol with requeue on
//!   broadcast ([`super::cond_private`]). Kept because it measures faster than glibc's on
//!   bench/sync_cond.c (2 CPUs, 10 rounds alternated with glibc's algorithm built into this
//!   library, under other load): producer/consumer 3.2 vs 1.35 Mitems/s, broadcast to 8
//!   waiters 39 vs 72 µs, to 64 waiters 203 vs 249 µs, ping-pong equal. glibc's signal may
//!   have to wait until the waiters of the group it closes have left its futex; ours never
//!   waits, and its broadcast requeues most waiters onto the mutex (DESIGN.md's aim) where
//!   glibc's wakes them all at once.
//!
//! Both layouts keep `wrefs` at byte 36 with glibc's meaning of its low bits, which is what
//! the choice is read from: bit 0 process-shared (0 in a private one), bit 1 CLOCK_MONOTONIC,
//! bit 2 destroy waits for the waiters to leave, and 8 per thread inside a wait. A zeroed
//! object is a private one with CLOCK_REALTIME, as `PTHREAD_COND_INITIALIZER` must be.
//!
//! The word is read with Relaxed: bits 0 and 1 are only written by init, which the program
//! orders before any use.

#[cfg(not(loom))]
use super::cond_private::PrivateCond;
#[cfg(not(loom))]
use super::cond_shared::SharedCond;
#[cfg(not(loom))]
use super::condattr::CondAttr;
#[cfg(not(loom))]
use super::model::{AtomicU32, Deadline, Ordering};
#[cfg(not(loom))]
use super::mutex::Mutex;
#[cfg(not(loom))]
use crate::errno::Result;
#[cfg(not(loom))]
use crate::sys::futex::Clock;

/// In `wrefs`: process-shared (glibc's protocol).
pub const SHARED: u32 = 1;
/// In `wrefs`: timed waits measure CLOCK_MONOTONIC.
pub const MONOTONIC: u32 = 2;
/// In `wrefs`: pthread_cond_destroy waits for the waiters to leave.
pub const DESTROYING: u32 = 4;
/// In `wrefs`: one thread inside a wait.
pub const ONE_WAITER: u32 = 8;

/// The 48 bytes of a `pthread_cond_t`, holding a [`SharedCond`] or a [`PrivateCond`].
#[cfg(not(loom))]
#[repr(C, align(8))]
pub struct Cond {
    _head: [AtomicU32; 9],
    wrefs: AtomicU32,
    _tail: [AtomicU32; 2],
}

#[cfg(not(loom))]
const _: () = {
    assert!(core::mem::offset_of!(Cond, wrefs) == 36);
    assert!(core::mem::size_of::<SharedCond>() == 48 && core::mem::size_of::<PrivateCond>() == 48);
    assert!(core::mem::align_of::<SharedCond>() <= 8 && core::mem::align_of::<PrivateCond>() <= 8);
};

/// The protocol a condition variable is in.
#[cfg(not(loom))]
enum Kind<'a> {
    Shared(&'a SharedCond),
    Private(&'a PrivateCond),
}

#[cfg(not(loom))]
impl Cond {
    fn kind(&self) -> Kind<'_> {
        let p = self as *const Cond;
        if self.wrefs.load(Ordering::Relaxed) & SHARED != 0 {
            // SAFETY: both views have Cond's size and at most its alignment (checked above)
            // and consist of atomics, for which every bit pattern is valid.
            Kind::Shared(unsafe { &*p.cast::<SharedCond>() })
        } else {
            // SAFETY: as above.
            Kind::Private(unsafe { &*p.cast::<PrivateCond>() })
        }
    }

    /// Initializes with `attr` (defaults when `None`): the protocol follows its
    /// process-shared setting.
    pub fn init(&self, attr: Option<CondAttr>) {
        let a = attr.unwrap_or(CondAttr::DEFAULT);
        let p = self as *const Cond;
        if a.shared() {
            // SAFETY: as in `kind`.
            unsafe { &*p.cast::<SharedCond>() }.init(a.clock());
        } else {
            // SAFETY: as in `kind`.
            unsafe { &*p.cast::<PrivateCond>() }.init(a.clock());
        }
    }

    /// The clock of `pthread_cond_timedwait` deadlines (from the condattr).
    pub fn clock(&self) -> Clock {
        if self.wrefs.load(Ordering::Relaxed) & MONOTONIC != 0 {
            Clock::Monotonic
        } else {
            Clock::Realtime
        }
    }

    /// Waits for a signal or broadcast, releasing `m` while blocked and re-acquiring it
    /// before returning (see the protocols for the errors).
    #[inline]
    pub fn wait(&self, m: &Mutex, deadline: Deadline) -> Result<()> {
        match self.kind() {
            Kind::Shared(c) => c.wait(m, deadline),
            Kind::Private(c) => c.wait(m, deadline),
        }
    }

    /// Wakes at least one waiter, if any.
    #[inline]
    pub fn signal(&self) {
        match self.kind() {
            Kind::Shared(c) => c.signal(),
            Kind::Private(c) => c.signal(),
        }
    }

    /// Wakes every waiter.
    #[inline]
    pub fn broadcast(&self) {
        match self.kind() {
            Kind::Shared(c) => c.broadcast(),
            Kind::Private(c) => c.broadcast(),
        }
    }

    /// Waits until every thread inside a wait has left, then returns 0 (as glibc).
    pub fn destroy(&self) -> Result<()> {
        match self.kind() {
            Kind::Shared(c) => c.destroy(),
            Kind::Private(c) => c.destroy(),
        }
    }
}
