//! The atomics and futex operations the synchronization algorithms are written against:
//! the real ones in the library, loom's models under `--cfg loom` (`make loom`), so the
//! model checker explores the same lock-word state machines that ship.
//!
//! Algorithms take their lock words as `&AtomicU32` (etc.) from this module. In the library
//! those references point into the caller's C object (`pthread_mutex_t` bytes); in loom tests
//! they point into loom atomics.
//!
//! The loom futex keeps a waiter table: `wait` sleeps on a loom condition variable until a
//! `wake` for its address picks it, so a lost wake-up shows up as a deadlock that loom
//! reports, and spurious wake-ups are modelled by `wait` returning early when loom chooses.

#[cfg(not(loom))]
pub use core::sync::atomic::{fence, AtomicI32, AtomicU32, AtomicU64, AtomicUsize, Ordering};
#[cfg(loom)]
pub use loom::sync::atomic::{fence, AtomicI32, AtomicU32, AtomicU64, AtomicUsize, Ordering};

pub use crate::sys::futex::{Clock, Scope};
use crate::errno::Result;

/// A deadline: absolute time on a clock.
pub type Deadline<'a> = Option<(&'a libc::timespec, Clock)>;

/// Sleeps while `*word == expected` (see [`crate::sys::futex::wait`] for the results).
#[cfg(not(loom))]
#[inline]
pub fn futex_wait(word: &AtomicU32, expected: u32, deadline: Deadline, scope: Scope) -> Result<()> {
    crate::sys::futex::wait(word, expected, deadline, scope)
}

/// Wakes up to `n` sleepers of `word`; returns how many.
#[cfg(not(loom))]
#[inline]
pub fn futex_wake(word: &AtomicU32, n: i32, scope: Scope) -> usize {
    crate::sys::futex::wake(word, n, scope)
}

/// Wakes `n_wake` sleepers of `from` and moves up to `n_move` others onto `to`, if
/// `*from == expected` (else EAGAIN).
#[cfg(not(loom))]
#[inline]
pub fn futex_cmp_requeue(
    from: &AtomicU32,
    n_wake: i32,
    n_move: i32,
    to: &AtomicU32,
    expected: u32,
    scope: Scope,
) -> Result<usize> {
    crate::sys::futex::cmp_requeue(from, n_wake, n_move, to, expected, scope)
}

#[cfg(loom)]
mod loom_futex {
    use super::*;
    use crate::errno::Errno;
    use loom::sync::{Condvar, Mutex};
    use std::collections::HashMap;

    /// Sleepers per address: each has a ticket; a wake moves tickets to `woken`.
    #[derive(Default)]
    struct Table {
        next_ticket: u64,
        sleeping: HashMap<usize, Vec<u64>>,
        woken: Vec<u64>,
    }

    loom::lazy_static! {
        static ref TABLE: (Mutex<Table>, Condvar) = (Mutex::new(Table::default()), Condvar::new());
    }

    fn key(w: &AtomicU32) -> usize {
        w as *const AtomicU32 as usize
    }

    /// Model of FUTEX_WAIT. Timeouts are modelled as "may return ETIMEDOUT at once".
    pub fn futex_wait(word: &AtomicU32, expected: u32, deadline: Deadline, _scope: Scope) -> Result<()> {
        let (lock, cv) = &*TABLE;
        let mut t = lock.lock().unwrap();
        // The kernel compares the word under its hash-bucket lock: the table lock here.
        if word.load(Ordering::SeqCst) != expected {
            return Err(Errno::EAGAIN);
        }
        if deadline.is_some() {
            return Err(Errno::ETIMEDOUT);
        }
        let ticket = t.next_ticket;
        t.next_ticket += 1;
        t.sleeping.entry(key(word)).or_default().push(ticket);
        loop {
            if let Some(i) = t.woken.iter().position(|&x| x == ticket) {
                t.woken.swap_remove(i);
                return Ok(());
            }
            t = cv.wait(t).unwrap();
        }
    }

    /// Model of FUTEX_WAKE.
    pub fn futex_wake(word: &AtomicU32, n: i32, _scope: Scope) -> usize {
        let (lock, cv) = &*TABLE;
        let mut t = lock.lock().unwrap();
        let q = t.sleeping.entry(key(word)).or_default();
        let k = (n.max(0) as usize).min(q.len());
        let picked: Vec<u64> = q.drain(..k).collect();
        t.woken.extend(picked);
        cv.notify_all();
        k
    }

    /// Model of FUTEX_CMP_REQUEUE.
    pub fn futex_cmp_requeue(
        from: &AtomicU32,
        n_wake: i32,
        n_move: i32,
        to: &AtomicU32,
        expected: u32,
        _scope: Scope,
    ) -> Result<usize> {
        let (lock, cv) = &*TABLE;
        let mut t = lock.lock().unwrap();
        if from.load(Ordering::SeqCst) != expected {
            return Err(Errno::EAGAIN);
        }
        let q = t.sleeping.entry(key(from)).or_default();
        let k = (n_wake.max(0) as usize).min(q.len());
        let woken: Vec<u64> = q.drain(..k).collect();
        let m = (n_move.max(0) as usize).min(q.len());
        let moved: Vec<u64> = q.drain(..m).collect();
        t.woken.extend(woken);
        t.sleeping.entry(key(to)).or_default().extend(moved);
        cv.notify_all();
        Ok(k + m)
    }
}

#[cfg(loom)]
pub use loom_futex::{futex_cmp_requeue, futex_wait, futex_wake};
