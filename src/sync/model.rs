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
//!
//! A futex word may also be the low half of a 64-bit atomic (the semaphore's `data`, as
//! glibc lays it out): [`futex_wait_low`] and [`futex_wake_low`] take the `AtomicU64`.

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

/// One step of a busy-wait loop: a `pause` in the library; in the model a yield, so that
/// loom explores the other threads instead of the spinning one forever.
#[inline(always)]
pub fn spin_hint() {
    #[cfg(loom)]
    loom::thread::yield_now();
    #[cfg(not(loom))]
    core::hint::spin_loop();
}

/// A load in a busy-wait loop, which only decides whether to look again. Under loom it is a
/// read-modify-write that stores the value back: loom lets a plain load in a loop read an
/// old value again and again (an endless path), while an RMW reads the newest one. The loop
/// goes on only on what it reads, and stored values are unchanged, so this hides no bug.
#[inline(always)]
pub fn spin_load(word: &AtomicU32, order: Ordering) -> u32 {
    #[cfg(loom)]
    return word.fetch_add(0, order);
    #[cfg(not(loom))]
    return word.load(order);
}

/// [`spin_load`] for a signed word, Relaxed.
#[inline(always)]
pub fn spin_load_i32(word: &AtomicI32) -> i32 {
    #[cfg(loom)]
    return word.fetch_add(0, Ordering::Relaxed);
    #[cfg(not(loom))]
    return word.load(Ordering::Relaxed);
}

/// A plain store to a word that other threads change with read-modify-writes at the same
/// time (an unlock store racing lockers' decrements, a reset racing arrivals). Under loom a
/// swap: loom orders a plain store only partially against other threads' RMWs and lets them
/// go on reading the value it replaced (it does not enforce RMW atomicity against the
/// store), an execution no hardware produces; a swap puts the write in a total order with
/// them. In the library a plain store.
#[inline(always)]
pub fn racing_store(word: &AtomicU32, value: u32, order: Ordering) {
    #[cfg(loom)]
    word.swap(value, order);
    #[cfg(not(loom))]
    word.store(value, order);
}

/// [`racing_store`] for a signed word.
#[inline(always)]
pub fn racing_store_i32(word: &AtomicI32, value: i32, order: Ordering) {
    #[cfg(loom)]
    word.swap(value, order);
    #[cfg(not(loom))]
    word.store(value, order);
}

/// The futex word that is the low 32 bits of `word`: x86_64 is little-endian, so it lies at
/// `word`'s own address. The result is only ever handed to the kernel as a futex address;
/// Rust code reads and writes the value through `word` itself, never through it.
#[cfg(not(loom))]
#[inline(always)]
pub fn low_word(word: &AtomicU64) -> &AtomicU32 {
    // SAFETY: the address is `word`'s, aligned to 8 (so to 4), inside a live atomic that
    // lasts as long as the borrow; no Rust access is ever made through the new reference
    // (see above), so no mixed-size atomic access happens in Rust.
    unsafe { &*(word as *const AtomicU64).cast::<AtomicU32>() }
}

/// [`futex_wait`] on the low 32 bits of `word`.
#[cfg(not(loom))]
#[inline]
pub fn futex_wait_low(word: &AtomicU64, expected: u32, deadline: Deadline, scope: Scope) -> Result<()> {
    crate::sys::futex::wait(low_word(word), expected, deadline, scope)
}

/// [`futex_wake`] on the low 32 bits of `word`.
#[cfg(not(loom))]
#[inline]
pub fn futex_wake_low(word: &AtomicU64, n: i32, scope: Scope) -> usize {
    crate::sys::futex::wake(low_word(word), n, scope)
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

    /// Model of FUTEX_WAIT on the word at `key` whose current value `load` reads. Timeouts
    /// are modelled as "may return ETIMEDOUT at once".
    fn wait_on(key: usize, load: impl Fn() -> u32, expected: u32, deadline: Deadline) -> Result<()> {
        let (lock, cv) = &*TABLE;
        let mut t = lock.lock().unwrap();
        // The kernel compares the word under its hash-bucket lock: the table lock here.
        if load() != expected {
            return Err(Errno::EAGAIN);
        }
        if deadline.is_some() {
            return Err(Errno::ETIMEDOUT);
        }
        let ticket = t.next_ticket;
        t.next_ticket += 1;
        t.sleeping.entry(key).or_default().push(ticket);
        loop {
            if let Some(i) = t.woken.iter().position(|&x| x == ticket) {
                t.woken.swap_remove(i);
                return Ok(());
            }
            t = cv.wait(t).unwrap();
        }
    }

    /// Model of FUTEX_WAKE on the word at `key`.
    fn wake_on(key: usize, n: i32) -> usize {
        let (lock, cv) = &*TABLE;
        let mut t = lock.lock().unwrap();
        let q = t.sleeping.entry(key).or_default();
        let k = (n.max(0) as usize).min(q.len());
        let picked: Vec<u64> = q.drain(..k).collect();
        t.woken.extend(picked);
        cv.notify_all();
        k
    }

    /// Model of FUTEX_WAIT.
    pub fn futex_wait(word: &AtomicU32, expected: u32, deadline: Deadline, _scope: Scope) -> Result<()> {
        wait_on(key(word), || word.load(Ordering::SeqCst), expected, deadline)
    }

    /// Model of FUTEX_WAKE.
    pub fn futex_wake(word: &AtomicU32, n: i32, _scope: Scope) -> usize {
        wake_on(key(word), n)
    }

    /// Model of FUTEX_WAIT on the low half of a 64-bit word.
    pub fn futex_wait_low(word: &AtomicU64, expected: u32, deadline: Deadline, _scope: Scope) -> Result<()> {
        wait_on(word as *const AtomicU64 as usize, || word.load(Ordering::SeqCst) as u32, expected, deadline)
    }

    /// Model of FUTEX_WAKE on the low half of a 64-bit word.
    pub fn futex_wake_low(word: &AtomicU64, n: i32, _scope: Scope) -> usize {
        wake_on(word as *const AtomicU64 as usize, n)
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
pub use loom_futex::{futex_cmp_requeue, futex_wait, futex_wait_low, futex_wake, futex_wake_low};
