//! Reader-writer lock (`pthread_rwlock_t`, 56 bytes).
//!
//! Lock word `state` (bytes 0..4): bits 0..29 are the reader count, where the all-ones value
//! `WRITE_LOCKED` means one writer holds the lock; bit 30 `READERS_WAITING` and bit 31
//! `WRITERS_WAITING` say someone may sleep. Readers sleep on `state`, writers on the sequence
//! word `writer_seq` (bytes 4..8), which every writer wake-up increments.
//!
//! The other bytes keep glibc's meaning so glibc-initialized objects work: `owner` (byte 24,
//! glibc's `__cur_writer`) is the writer's tid, for EDEADLK and EPERM; `shared` (byte 28,
//! glibc's `__shared`) is non-zero for a process-shared lock; `kind` (byte 48, glibc's
//! `__flags`) is the preference. All-zero is `PTHREAD_RWLOCK_INITIALIZER`.
//!
//! Preferences: `PREFER_READER` (the default) lets readers in whenever no writer holds the
//! lock. The two writer kinds make new readers wait while a writer waits. `PREFER_WRITER_NP`
//! must still allow a thread to take a read lock it already holds (glibc documents read
//! recursion for it), so a thread that holds read locks of such rwlocks (a per-thread count)
//! is let in past waiting writers; `PREFER_WRITER_NONRECURSIVE_NP` makes no exception, and a
//! recursive read lock behind a waiting writer deadlocks, as glibc documents.

use super::caller::tid;
use super::model::{futex_wait, futex_wake, AtomicI32, AtomicU32, Deadline, Ordering, Scope};
use crate::errno::{Errno, Result};

const READ_MASK: u32 = (1 << 30) - 1;
const WRITE_LOCKED: u32 = READ_MASK;
const MAX_READERS: u32 = READ_MASK - 1;
const READERS_WAITING: u32 = 1 << 30;
const WRITERS_WAITING: u32 = 1 << 31;

/// Spins on a held lock before sleeping. None, on measurement (as for the mutex): on 2 CPUs
/// bench/sync_rwlock.c read-mostly measured 8.6-9.0 Mops/s with 100 spins, 9.7-10.9 with 10
/// and 10.6-13.6 with none (2 and 4 threads, 3 runs each): a spinning waiter keeps a second
/// thread hammering the lock's line. Whether spinning pays on many cores is unmeasured (no
/// multi-core machine was lent); the loop stays so that figure can be taken. Under the model
/// checker spinning would only multiply the interleavings anyway.
const SPINS: u32 = 0;

/// `PTHREAD_RWLOCK_PREFER_READER_NP`.
pub const PREFER_READER: i32 = 0;
/// `PTHREAD_RWLOCK_PREFER_WRITER_NP`.
pub const PREFER_WRITER: i32 = 1;
/// `PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP`.
pub const PREFER_WRITER_NONRECURSIVE: i32 = 2;

/// A reader-writer lock with glibc's `pthread_rwlock_t` size and initializers.
#[repr(C)]
pub struct RwLock {
    state: AtomicU32,
    writer_seq: AtomicU32,
    _glibc_futexes: [u32; 4],
    owner: AtomicI32,
    shared: i32,
    _glibc_elision: [u32; 4],
    kind: i32,
    _pad: u32,
}

#[cfg(not(loom))]
const _: () = {
    assert!(core::mem::size_of::<RwLock>() == 56);
    assert!(core::mem::size_of::<libc::pthread_rwlock_t>() == 56);
    assert!(core::mem::offset_of!(RwLock, owner) == 24);
    assert!(core::mem::offset_of!(RwLock, shared) == 28);
    assert!(core::mem::offset_of!(RwLock, kind) == 48);
};

/// rwlock attributes (`pthread_rwlockattr_t`, 8 bytes: glibc's own layout).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct RwLockAttr {
    /// The preference (`PTHREAD_RWLOCK_PREFER_*`).
    pub kind: i32,
    /// `PTHREAD_PROCESS_PRIVATE` or `PTHREAD_PROCESS_SHARED`.
    pub pshared: i32,
}

#[cfg(not(loom))]
const _: () = assert!(core::mem::size_of::<RwLockAttr>() == core::mem::size_of::<libc::pthread_rwlockattr_t>());

impl RwLockAttr {
    /// The defaults: reader preference, process-private.
    pub const DEFAULT: RwLockAttr = RwLockAttr { kind: PREFER_READER, pshared: libc::PTHREAD_PROCESS_PRIVATE };

    /// Checks a preference value (EINVAL if it is none of the three kinds).
    pub fn check_kind(kind: i32) -> Result<i32> {
        match kind {
            PREFER_READER | PREFER_WRITER | PREFER_WRITER_NONRECURSIVE => Ok(kind),
            _ => Err(Errno::EINVAL),
        }
    }
}

/// How many read locks of `PREFER_WRITER_NP` rwlocks the calling thread holds: such a thread
/// may take another read lock past waiting writers, so read recursion cannot deadlock.
mod held {
    use std::cell::Cell;
    #[cfg(not(loom))]
    std::thread_local!(static READS: Cell<u32> = const { Cell::new(0) });
    #[cfg(loom)]
    loom::thread_local!(static READS: Cell<u32> = Cell::new(0));

    pub fn any() -> bool {
        READS.with(|r| r.get() > 0)
    }
    pub fn add() {
        READS.with(|r| r.set(r.get().saturating_add(1)));
    }
    pub fn remove() {
        READS.with(|r| r.set(r.get().saturating_sub(1)));
    }
}

impl RwLock {
    /// A fresh unlocked lock with these attributes.
    pub fn new(attr: &RwLockAttr) -> RwLock {
        RwLock {
            state: AtomicU32::new(0),
            writer_seq: AtomicU32::new(0),
            _glibc_futexes: [0; 4],
            owner: AtomicI32::new(0),
            shared: (attr.pshared == libc::PTHREAD_PROCESS_SHARED) as i32,
            _glibc_elision: [0; 4],
            kind: attr.kind,
            _pad: 0,
        }
    }

    #[inline]
    fn scope(&self) -> Scope {
        if self.shared != 0 {
            Scope::Shared
        } else {
            Scope::Private
        }
    }

    /// Whether a reader may enter in state `s` (the count aside): no writer holds the lock,
    /// and under writer preference none waits (unless this thread already reads, see `held`).
    #[inline]
    fn may_read(&self, s: u32) -> bool {
        s & READ_MASK != WRITE_LOCKED
            && (s & WRITERS_WAITING == 0
                || self.kind == PREFER_READER
                || (self.kind == PREFER_WRITER && held::any()))
    }

    #[inline]
    fn note_read(&self) {
        if self.kind == PREFER_WRITER {
            held::add();
        }
    }

    /// Takes a read lock, sleeping until `deadline` at most.
    /// Errors: EDEADLK (the caller holds the write lock), EAGAIN (too many readers),
    /// ETIMEDOUT.
    #[inline]
    pub fn read(&self, deadline: Deadline) -> Result<()> {
        let s = self.state.load(Ordering::Relaxed);
        // Acquire on success: the critical section sees the last writer's release.
        if s & READ_MASK < MAX_READERS
            && self.may_read(s)
            && self.state.compare_exchange_weak(s, s + 1, Ordering::Acquire, Ordering::Relaxed).is_ok()
        {
            self.note_read();
            return Ok(());
        }
        self.read_slow(deadline)
    }

    #[cold]
    fn read_slow(&self, deadline: Deadline) -> Result<()> {
        let mut spins = SPINS;
        loop {
            let s = self.state.load(Ordering::Relaxed);
            let readers = s & READ_MASK;
            if readers == WRITE_LOCKED {
                if self.owner.load(Ordering::Relaxed) == tid() {
                    return Err(Errno::EDEADLK);
                }
            } else if self.may_read(s) {
                if readers == MAX_READERS {
                    return Err(Errno::EAGAIN);
                }
                if self.state.compare_exchange_weak(s, s + 1, Ordering::Acquire, Ordering::Relaxed).is_ok() {
                    self.note_read();
                    return Ok(());
                }
                continue;
            }
            if spins > 0 {
                spins -= 1;
                core::hint::spin_loop();
                continue;
            }
            if s & READERS_WAITING == 0
                && self.state.compare_exchange(s, s | READERS_WAITING, Ordering::Relaxed, Ordering::Relaxed).is_err()
            {
                continue;
            }
            // Sleeps only while the state is still what made us wait; every unlock that
            // sees READERS_WAITING clears it and wakes all readers.
            if let Err(Errno::ETIMEDOUT) = futex_wait(&self.state, s | READERS_WAITING, deadline, self.scope()) {
                return Err(Errno::ETIMEDOUT);
            }
        }
    }

    /// Takes a read lock if that needs no wait. Errors: EBUSY (a writer holds it, or waits
    /// under writer preference), EAGAIN (too many readers).
    pub fn try_read(&self) -> Result<()> {
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            if !self.may_read(s) {
                return Err(Errno::EBUSY);
            }
            if s & READ_MASK == MAX_READERS {
                return Err(Errno::EAGAIN);
            }
            match self.state.compare_exchange_weak(s, s + 1, Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => {
                    self.note_read();
                    return Ok(());
                }
                Err(now) => s = now,
            }
        }
    }

    /// Takes the write lock, sleeping until `deadline` at most.
    /// Errors: EDEADLK (the caller holds it already), ETIMEDOUT.
    #[inline]
    pub fn write(&self, deadline: Deadline) -> Result<()> {
        // Acquire: the critical section sees the previous holders' releases.
        if self.state.compare_exchange(0, WRITE_LOCKED, Ordering::Acquire, Ordering::Relaxed).is_ok() {
            // Relaxed: only the owner itself compares `owner` with its own tid; others may
            // read a stale value but never their own tid (they cleared it before unlocking).
            self.owner.store(tid(), Ordering::Relaxed);
            return Ok(());
        }
        self.write_slow(deadline)
    }

    #[cold]
    fn write_slow(&self, deadline: Deadline) -> Result<()> {
        let me = tid();
        // Once we slept, other writers may sleep too: we keep WRITERS_WAITING set when we
        // take the lock, so our unlock wakes the next of them (the waker cleared the bit).
        let mut keep = 0;
        let mut spins = SPINS;
        loop {
            let s = self.state.load(Ordering::Relaxed);
            let readers = s & READ_MASK;
            if readers == 0 {
                if self
                    .state
                    .compare_exchange_weak(s, s | WRITE_LOCKED | keep, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
                {
                    self.owner.store(me, Ordering::Relaxed);
                    return Ok(());
                }
                continue;
            }
            if readers == WRITE_LOCKED && self.owner.load(Ordering::Relaxed) == me {
                return Err(Errno::EDEADLK);
            }
            if spins > 0 {
                spins -= 1;
                core::hint::spin_loop();
                continue;
            }
            if s & WRITERS_WAITING == 0
                && self.state.compare_exchange(s, s | WRITERS_WAITING, Ordering::Relaxed, Ordering::Relaxed).is_err()
            {
                continue;
            }
            keep = WRITERS_WAITING;
            // Read the sequence before re-checking the state: a wake-up between the two
            // changes the sequence, and the futex wait then returns at once.
            let seq = self.writer_seq.load(Ordering::Acquire);
            let s = self.state.load(Ordering::Relaxed);
            if s & READ_MASK == 0 || s & WRITERS_WAITING == 0 {
                continue;
            }
            if let Err(Errno::ETIMEDOUT) = futex_wait(&self.writer_seq, seq, deadline, self.scope()) {
                return Err(Errno::ETIMEDOUT);
            }
        }
    }

    /// Takes the write lock if it is free. Errors: EBUSY.
    pub fn try_write(&self) -> Result<()> {
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            if s & READ_MASK != 0 {
                return Err(Errno::EBUSY);
            }
            match self.state.compare_exchange_weak(s, s | WRITE_LOCKED, Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => {
                    self.owner.store(tid(), Ordering::Relaxed);
                    return Ok(());
                }
                Err(now) => s = now,
            }
        }
    }

    /// Releases the caller's read or write lock. Errors: EPERM when the lock is not held, or
    /// is write-locked by another thread.
    #[inline]
    pub fn unlock(&self) -> Result<()> {
        let mut s = self.state.load(Ordering::Relaxed);
        if s & READ_MASK == WRITE_LOCKED {
            if self.owner.load(Ordering::Relaxed) != tid() {
                return Err(Errno::EPERM);
            }
            self.owner.store(0, Ordering::Relaxed);
            // Release: publishes the critical section. The waiting bits stay for `wake`.
            let prev = self.state.fetch_sub(WRITE_LOCKED, Ordering::Release);
            if prev & (READERS_WAITING | WRITERS_WAITING) != 0 {
                self.wake();
            }
            return Ok(());
        }
        loop {
            if s & READ_MASK == 0 {
                return Err(Errno::EPERM);
            }
            // Release: the reads of the critical section happen before a writer's entry.
            match self.state.compare_exchange_weak(s, s - 1, Ordering::Release, Ordering::Relaxed) {
                Ok(_) => break,
                Err(now) => s = now,
            }
        }
        if self.kind == PREFER_WRITER {
            held::remove();
        }
        if s & READ_MASK == 1 && s & (READERS_WAITING | WRITERS_WAITING) != 0 {
            self.wake();
        }
        Ok(())
    }

    /// The lock just became free and someone may sleep: wakes one writer or all readers, in
    /// the order of the preference; if the preferred side had nobody asleep, the other side.
    #[cold]
    fn wake(&self) {
        // The bits are re-read at each step: a reader may set READERS_WAITING behind a
        // writer we are about to wake (found waiting in a stale load, it would sleep forever).
        if self.kind == PREFER_READER {
            if self.wake_readers() {
                return;
            }
            if self.state.load(Ordering::Relaxed) & WRITERS_WAITING != 0 {
                self.wake_writer();
            }
        } else {
            if self.state.load(Ordering::Relaxed) & WRITERS_WAITING != 0 && self.wake_writer() {
                return;
            }
            self.wake_readers();
        }
    }

    /// Clears READERS_WAITING and wakes every sleeping reader; true if one woke. A woken
    /// reader either gets the lock (its unlock passes on any WRITERS_WAITING) or sets the
    /// bit again under a new holder, whose unlock wakes it.
    fn wake_readers(&self) -> bool {
        if self.state.fetch_and(!READERS_WAITING, Ordering::Relaxed) & READERS_WAITING == 0 {
            return false;
        }
        futex_wake(&self.state, i32::MAX, self.scope()) > 0
    }

    /// Clears WRITERS_WAITING and wakes one sleeping writer; true if one woke. The woken
    /// writer sets the bit again if it must wait again, or keeps it when it takes the lock.
    fn wake_writer(&self) -> bool {
        self.state.fetch_and(!WRITERS_WAITING, Ordering::Relaxed);
        // Release: pairs with the Acquire load of the sequence in `write_slow`.
        self.writer_seq.fetch_add(1, Ordering::Release);
        futex_wake(&self.writer_seq, 1, self.scope()) > 0
    }

    /// Checks that the lock can be destroyed. Errors: EBUSY while it is held.
    pub fn check_destroy(&self) -> Result<()> {
        if self.state.load(Ordering::Relaxed) & READ_MASK != 0 {
            return Err(Errno::EBUSY);
        }
        Ok(())
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn lock(kind: i32) -> RwLock {
        RwLock::new(&RwLockAttr { kind, pshared: 0 })
    }

    #[test]
    fn read_read_write_errors() {
        let l = lock(PREFER_READER);
        l.read(None).unwrap();
        l.read(None).unwrap();
        assert_eq!(l.try_write(), Err(Errno::EBUSY));
        assert_eq!(l.check_destroy(), Err(Errno::EBUSY));
        l.unlock().unwrap();
        l.unlock().unwrap();
        assert_eq!(l.unlock(), Err(Errno::EPERM));
        l.write(None).unwrap();
        assert_eq!(l.write(None), Err(Errno::EDEADLK));
        assert_eq!(l.read(None), Err(Errno::EDEADLK));
        assert_eq!(l.try_read(), Err(Errno::EBUSY));
        l.unlock().unwrap();
        l.check_destroy().unwrap();
    }

    #[test]
    fn reader_overflow_is_eagain() {
        let l = lock(PREFER_READER);
        l.state.store(MAX_READERS, Ordering::Relaxed);
        assert_eq!(l.read(None), Err(Errno::EAGAIN));
        assert_eq!(l.try_read(), Err(Errno::EAGAIN));
    }

    #[test]
    fn writer_preference_blocks_new_readers_only() {
        let l = lock(PREFER_WRITER);
        l.read(None).unwrap();
        // A writer waits: simulate its bit.
        l.state.fetch_or(WRITERS_WAITING, Ordering::Relaxed);
        // This thread holds a read lock: recursion is allowed.
        l.try_read().unwrap();
        l.unlock().unwrap();
        l.unlock().unwrap();
        // The last unlock woke "the writer" (cleared the bit): it waits again.
        l.state.fetch_or(WRITERS_WAITING, Ordering::Relaxed);
        // Now this thread holds none: blocked behind the writer.
        assert_eq!(l.try_read(), Err(Errno::EBUSY));
        let n = lock(PREFER_WRITER_NONRECURSIVE);
        n.read(None).unwrap();
        n.state.fetch_or(WRITERS_WAITING, Ordering::Relaxed);
        assert_eq!(n.try_read(), Err(Errno::EBUSY));
    }
}

#[cfg(loom)]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;
    use loom::thread;

    fn lock(kind: i32) -> Arc<(RwLock, AtomicU32)> {
        Arc::new((RwLock::new(&RwLockAttr { kind, pshared: 0 }), AtomicU32::new(0)))
    }

    /// `inside` counts writers as 1000 and readers as 1: a writer must see 0, a reader < 1000.
    fn reader(l: &(RwLock, AtomicU32)) {
        l.0.read(None).unwrap();
        let v = l.1.fetch_add(1, Ordering::SeqCst);
        assert!(v < 1000);
        l.1.fetch_sub(1, Ordering::SeqCst);
        l.0.unlock().unwrap();
    }

    fn writer(l: &(RwLock, AtomicU32)) {
        l.0.write(None).unwrap();
        assert_eq!(l.1.fetch_add(1000, Ordering::SeqCst), 0);
        l.1.fetch_sub(1000, Ordering::SeqCst);
        l.0.unlock().unwrap();
    }

    fn model(kind: i32, roles: &'static [bool]) {
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(if roles.len() > 2 { 2 } else { 3 });
        b.check(move || {
            let l = lock(kind);
            let hs: Vec<_> = roles[1..]
                .iter()
                .map(|&w| {
                    let l = l.clone();
                    thread::spawn(move || if w { writer(&l) } else { reader(&l) })
                })
                .collect();
            if roles[0] { writer(&l) } else { reader(&l) }
            for h in hs {
                h.join().unwrap();
            }
            assert_eq!(l.0.state.load(Ordering::SeqCst) & READ_MASK, 0);
        });
    }

    #[test]
    fn loom_rwlock_reader_writer_reader_pref() {
        model(PREFER_READER, &[false, true]);
    }

    #[test]
    fn loom_rwlock_two_writers() {
        model(PREFER_READER, &[true, true]);
    }

    #[test]
    fn loom_rwlock_writer_pref_progress() {
        model(PREFER_WRITER_NONRECURSIVE, &[false, true, false]);
    }

    #[test]
    fn loom_rwlock_writer_pref_two_writers_reader() {
        model(PREFER_WRITER, &[true, true, false]);
    }

    /// A writer that gives up (timeout) must not leave readers queued behind it asleep.
    #[test]
    fn loom_rwlock_timed_writer_gives_up() {
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(2);
        b.check(|| {
            let l = lock(PREFER_WRITER_NONRECURSIVE);
            let lw = l.clone();
            let w = thread::spawn(move || {
                let ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
                if lw.0.write(Some((&ts, super::super::model::Clock::Monotonic))).is_ok() {
                    assert_eq!(lw.1.fetch_add(1000, Ordering::SeqCst), 0);
                    lw.1.fetch_sub(1000, Ordering::SeqCst);
                    lw.0.unlock().unwrap();
                }
            });
            let lr = l.clone();
            let r = thread::spawn(move || reader(&lr));
            reader(&l);
            w.join().unwrap();
            r.join().unwrap();
        });
    }
}
