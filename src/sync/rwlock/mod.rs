//! Reader-writer lock (`pthread_rwlock_t`, 56 bytes): glibc 2.36's protocol and layout, for
//! process-private and process-shared locks alike (one protocol: it is also the faster one
//! with more threads than CPUs), so that a lock in shared memory works between processes on
//! rpthread and on glibc.
//!
//! Fields (glibc's names): `readers` @0, `writers` @4, `wrphase_futex` @8, `writers_futex`
//! @12, `cur_writer` @24 (the write holder's tid), `shared` @28 (non-zero: shared futexes),
//! `flags` @48 (the preference). All-zero is `PTHREAD_RWLOCK_INITIALIZER`.
//!
//! `readers` holds the state: bit 0 `WRPHASE` (a write phase: a primary writer may hold the
//! lock), bit 1 `WRLOCKED` (there is a primary writer), bit 2 `RWAITING` (readers wait for a
//! writer to go first), and from bit 3 `R`, the readers that hold or try to take the lock.
//! A reader adds itself to R; in a read phase it holds the lock at once. A writer sets
//! WRLOCKED (the one that does is the primary writer; others wait on `writers_futex`), then
//! starts a write phase if R is 0; otherwise the last reader out starts it for the writer.
//! Phase changes with waiters on the other side are explicit hand-overs: whoever flips
//! WRPHASE then stores the new phase in `wrphase_futex` (1: write phase, 0: read phase) and
//! wakes its sleepers; a thread that registered during the other phase may only proceed
//! once it read the new value there (so the lock may be destroyed as soon as it is free).
//! Bit 1 `FUTEX_USED` of either futex word says someone may sleep on it.
//!
//! Preferences: with `PREFER_READER` (0, the default) and `PREFER_WRITER_NP` (1) readers are
//! never held back by waiting writers (glibc treats 1 like 0 for readers, so read recursion
//! cannot deadlock); with either writer kind, a releasing writer hands WRLOCKED directly to
//! a waiting writer registered in `writers` (by setting the `WRHANDOVER` bit there).
//! `PREFER_WRITER_NONRECURSIVE_NP` (2) also makes a new reader wait (on `readers`, with
//! RWAITING) while readers hold the lock and a writer waits, so a recursive read lock
//! behind a waiting writer deadlocks, as glibc documents.
//!
//! Orderings, where not stated at the access: the state changes on `readers` carry the
//! lock's Acquire/Release. The futex words only decide whether a thread may sleep; the
//! futex system call compares them under the kernel's lock, so Relaxed accesses cannot lose
//! a wake-up, and a woken thread re-reads `readers`. Their plain stores race with other
//! threads' read-modify-writes (setting FUTEX_USED, hand-overs): `racing_store`, which the
//! model checker needs to keep the word's modification order total.
//!
//! Errors beyond glibc's: unlocking a lock that is neither write-locked by the caller nor
//! read-locked by anyone is EPERM (glibc would underflow the reader count and leave the
//! lock unusable).

use super::caller::tid;
use super::model::{
    fence, futex_wait, futex_wake, racing_store, spin_hint, spin_load, AtomicI32, AtomicU32, Deadline, Ordering, Scope,
};
use crate::errno::{Errno, Result};

mod read;

/// What [`RwLock::read_start`] did.
pub enum ReadStart {
    /// The read lock was taken, or refused with this error.
    Done(Result<()>),
    /// Registered as a reader in a write phase (the word): go on with
    /// [`RwLock::read_in_write_phase`].
    InWritePhase(u32),
    /// Writer-preferring kind: nothing done; [`RwLock::read`] may wait behind a writer.
    BehindWriter,
}
#[cfg(any(test, loom))]
mod tests;
mod write;

const WRPHASE: u32 = 1;
const WRLOCKED: u32 = 2;
const RWAITING: u32 = 4;
const READER_SHIFT: u32 = 3;
const ONE_READER: u32 = 1 << READER_SHIFT;
const READER_OVERFLOW: u32 = 1 << 31;
/// In `writers`: the releasing primary writer handed WRLOCKED to a registered writer.
const WRHANDOVER: u32 = 1 << 31;
/// In `wrphase_futex` and `writers_futex`: a thread may sleep on the word.
const FUTEX_USED: u32 = 2;

/// Polls of the awaited word before a waiter sleeps on it. Zero, as glibc (it sleeps at once),
/// on measurement (make bench, sync_rwlock, 5 rounds alternated with glibc, 2 CPUs; Mops/s,
/// ours vs glibc): 100 polls gave read-mostly 2 threads 6.1 vs 2.8 but 4 threads 9.0 vs 31.2
/// (the pollers burn the CPU the writer needs once threads outnumber CPUs); 10 polls 4.8 vs
/// 2.7 and 12.6 vs 28.1; none 4.9 vs 4.4 and 28.9 vs 32.8. The loops stay so that a machine
/// with more cores than threads can measure a spin (spin only while the holder runs).
const SPINS: u32 = 0;

/// Wakes up to `n` sleepers on `word`: out of line, so that the unlock paths that find no
/// sleeper (the common case) carry no system-call set-up and need no stack frame.
#[cold]
#[inline(never)]
fn wake(word: &AtomicU32, n: i32, scope: Scope) {
    futex_wake(word, n, scope);
}

/// `PTHREAD_RWLOCK_PREFER_READER_NP`.
pub const PREFER_READER: i32 = 0;
/// `PTHREAD_RWLOCK_PREFER_WRITER_NP`.
pub const PREFER_WRITER: i32 = 1;
/// `PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP`.
pub const PREFER_WRITER_NONRECURSIVE: i32 = 2;

/// A reader-writer lock in glibc's `pthread_rwlock_t` layout.
#[repr(C)]
pub struct RwLock {
    readers: AtomicU32,
    writers: AtomicU32,
    wrphase_futex: AtomicU32,
    writers_futex: AtomicU32,
    _pad34: [u32; 2],
    cur_writer: AtomicI32,
    shared: i32,
    _elision: [u8; 8],
    _pad2: u64,
    kind: i32,
    _tail: u32,
}

#[cfg(not(loom))]
const _: () = {
    assert!(core::mem::offset_of!(RwLock, cur_writer) == 24);
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

impl RwLock {
    /// A fresh unlocked lock with these attributes.
    pub fn new(attr: &RwLockAttr) -> RwLock {
        RwLock {
            readers: AtomicU32::new(0),
            writers: AtomicU32::new(0),
            wrphase_futex: AtomicU32::new(0),
            writers_futex: AtomicU32::new(0),
            _pad34: [0; 2],
            cur_writer: AtomicI32::new(0),
            shared: (attr.pshared != libc::PTHREAD_PROCESS_PRIVATE) as i32,
            _elision: [0; 8],
            _pad2: 0,
            kind: attr.kind,
            _tail: 0,
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

    #[inline]
    fn prefers_writers(&self) -> bool {
        self.kind != PREFER_READER
    }

    /// The single-threaded fast path (glibc's mutexes have one; its rwlocks do not): while
    /// the caller is the only thread of the process, nobody can race with a private lock's
    /// state changes, so plain loads and stores make them (the same states and values as the
    /// protocol's atomic steps). Bench: uncontended wrlock+unlock has three atomic RMWs in
    /// the protocol (two before, with our own one; glibc has four).
    #[inline(always)]
    fn solo(&self) -> bool {
        self.shared == 0 && crate::glibc::solo::alone()
    }


    /// Waits for the explicit hand-over of a phase (`write`: the write phase, else the read
    /// phase): until `wrphase_futex` holds the phase's value (1 or 0, FUTEX_USED aside),
    /// confirmed by WRPHASE in `readers`; sleeps on the word (setting FUTEX_USED) while it
    /// holds the other phase's value. ETIMEDOUT when `deadline` passes first; the caller
    /// then unregisters.
    pub(super) fn wait_for_phase(&self, write: bool, deadline: Deadline) -> Result<()> {
        let other = if write { 0 } else { 1 };
        let mut ready = false;
        let mut spins = SPINS;
        loop {
            loop {
                let wpf = spin_load(&self.wrphase_futex, Ordering::Relaxed);
                if wpf | FUTEX_USED != other | FUTEX_USED {
                    break;
                }
                if spins > 0 {
                    spins -= 1;
                    spin_hint();
                    continue;
                }
                if wpf & FUTEX_USED == 0
                    && self
                        .wrphase_futex
                        .compare_exchange_weak(wpf, wpf | FUTEX_USED, Ordering::Relaxed, Ordering::Relaxed)
                        .is_err()
                {
                    continue;
                }
                if let Err(Errno::ETIMEDOUT) = futex_wait(&self.wrphase_futex, other | FUTEX_USED, deadline, self.scope()) {
                    return Err(Errno::ETIMEDOUT);
                }
            }
            if ready {
                return Ok(());
            }
            // Acquire: synchronizes with the release of whoever handed the phase over, so the
            // next read of `wrphase_futex` is at least its hand-over value. (While it has not
            // yet stored the phase value, this loop spins.)
            if (spin_load(&self.readers, Ordering::Acquire) & WRPHASE != 0) == write {
                ready = true;
            } else {
                spin_hint();
            }
        }
    }

    /// Releases the caller's read or write lock: the write lock if the caller holds it
    /// (`cur_writer`), else a read lock. Errors: EPERM when no reader holds the lock (see
    /// the module comment).
    #[inline]
    pub fn unlock(&self) -> Result<()> {
        if self.cur_writer.load(Ordering::Relaxed) == tid() {
            self.write_unlock();
            return Ok(());
        }
        self.read_unlock()
    }
}
