//! `pthread_mutex_t`: the mutex, over futex.
//!
//! Object (40 bytes, glibc's x86_64 field layout; all-zero is `PTHREAD_MUTEX_INITIALIZER`):
//! `word` @0, `count` @4 (recursion depth), `owner` @8 (the holder's tid, every kind, as glibc
//! keeps it: debuggers' pretty-printers and programs that peek at `__data.__owner` see who
//! holds the lock), `nusers` @12 (glibc's counter of users: the holder and the condition
//! waiters that released the mutex to wait; pthread_mutex_destroy is EBUSY while it is not
//! 0, robust kinds excepted, as on glibc), `kind` @16
//! (glibc's encoding: bits 0-1 type, 16 robust, 32 priority-inherit, 64 priority-protect, 128
//! process-shared; -1 once destroyed), `ceiling` @20 (priority-protect only; glibc's
//! `__spins`/`__elision`), robust-list links @24/@32.
//!
//! Lock-word protocols (`word`, one per family of kinds):
//! - Plain kinds (normal, adaptive, recursive, errorcheck; also priority-protect): 0 unlocked,
//!   1 locked, 2 locked and maybe sleepers. Lock: CAS 0→1, else spin briefly on a relaxed
//!   load (only while the word is 1), then `swap(2)` + FUTEX_WAIT(2) until the swap returns 0.
//!   Unlock: `swap(0)`, FUTEX_WAKE(1) if it was 2. A thread that has slept locks with 2, so
//!   the sleepers behind it are woken; one a condvar broadcast may have requeued here wakes
//!   the next sleeper as soon as it holds the lock (`word::lock_requeued`).
//! - Robust and priority-inherit kinds: the kernel's encoding, owner tid | FUTEX_WAITERS |
//!   FUTEX_OWNER_DIED. Robust: CAS 0→tid, else set WAITERS and FUTEX_WAIT; the holder is on
//!   the thread's kernel robust list, so the kernel marks OWNER_DIED when it dies. PI: CAS
//!   0→tid, else FUTEX_LOCK_PI; unlock CAS tid→0, else FUTEX_UNLOCK_PI.
//!
//! Orderings: `word` carries the Acquire (lock) / Release (unlock) that orders critical
//! sections. `count`, `owner`, `nusers` and `ceiling` are written by the holder while it holds
//! the lock (so the lock word orders them for the next holder) and are otherwise only compared
//! with the caller's own tid, which only the caller stores: Relaxed suffices. `kind` is fixed
//! from init to destroy (published by whatever shares the object): Relaxed.
//!
//! Priority protect (PTHREAD_PRIO_PROTECT) does what glibc does: before taking the lock the
//! thread's priority is raised (under its current policy) to the highest ceiling of the
//! priority-protect mutexes it holds, and lowered again on unlock; a thread whose priority is
//! above the ceiling gets EINVAL, and a policy that has no such priority (SCHED_OTHER) makes the
//! lock fail with the kernel's error (EINVAL), as on glibc.

mod cond;
mod pi;
pub(crate) mod pp;
mod robust;
#[cfg(any(test, loom))]
mod tests;
pub(crate) mod word;

use super::model::{futex_wait, AtomicI32, AtomicU32, AtomicUsize, Deadline, Ordering};
use super::mutexattr::{self, MutexAttr};
use crate::errno::{Errno, Result};
use crate::sys::futex::{valid_timespec, Clock, Scope};

/// Type bits of `kind` (glibc's `PTHREAD_MUTEX_KIND_MASK_NP`).
const TYPE_MASK: i32 = 3;
const ROBUST: i32 = 16;
const PI: i32 = 32;
const PP: i32 = 64;
const SHARED: i32 = 128;
/// glibc's `PTHREAD_MUTEX_NO_ELISION_NP`: glibc puts it in the kind of a mutex whose
/// attribute had its type set to PTHREAD_MUTEX_NORMAL explicitly (a mutex a glibc process
/// initialized in shared memory); it means a normal mutex, so [`Mutex::kind`] drops it.
const NO_ELISION: i32 = 512;
const KNOWN: i32 = TYPE_MASK | ROBUST | PI | PP | SHARED;

const NORMAL: i32 = mutexattr::TYPE_NORMAL as i32;
const RECURSIVE: i32 = mutexattr::TYPE_RECURSIVE as i32;
const ERRORCHECK: i32 = mutexattr::TYPE_ERRORCHECK as i32;
const ADAPTIVE: i32 = mutexattr::TYPE_ADAPTIVE as i32;

/// Kernel robust/PI futex bits.
const WAITERS: u32 = 0x8000_0000;
const OWNER_DIED: u32 = 0x4000_0000;
const TID_MASK: u32 = 0x3fff_ffff;

/// `owner` values of a robust mutex whose state is in doubt (glibc's values).
const INCONSISTENT: i32 = i32::MAX;
const NOTRECOVERABLE: i32 = i32::MAX - 1;

/// Iterations of the spin phase of a contended lock (each a relaxed load + `pause`). Zero, on
/// measurement: on a quiet 2-core machine 10 spins cost throughput against glibc's
/// non-spinning mutex (4 threads × 1,000,000 lock/counter++/unlock: 365-388 ms with 10 spins,
/// 168-299 ms without, glibc 252-313 ms; bench/sync_mutex.c contended_tiny 0.31-0.51x with
/// spins, 0.56-0.88x without): spinning burns the CPU a preempted holder needs when threads
/// outnumber cores. Whether a spin pays on many cores is unmeasured (no multi-core machine
/// was available); the loop stays so that figure can be taken.
const SPINS: u32 = if cfg!(loom) { 1 } else { 0 };

/// Spin of a broadcast waiter woken ahead of its turn (`word::lock_requeued`): long enough
/// (~3.5 µs) to cover the current holder's critical section, so the hand-over needs no sleep.
const HANDOVER_SPINS: u32 = if cfg!(loom) { 1 } else { 100 };

/// What a lock call is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum How {
    /// pthread_mutex_lock and the timed locks: may block.
    Lock,
    /// pthread_mutex_trylock: never blocks.
    Try,
    /// Re-acquisition after a condition wait: may block, takes a plain word as contended (the
    /// wait may have left sleepers behind), and adds no user (the waiter stayed one).
    Relock,
}

/// A mutex as it lies in the caller's `pthread_mutex_t`.
#[repr(C)]
pub struct Mutex {
    word: AtomicU32,
    count: AtomicU32,
    owner: AtomicI32,
    nusers: AtomicU32,
    kind: AtomicI32,
    ceiling: AtomicI32,
    prev: AtomicUsize,
    next: AtomicUsize,
}

// glibc's field offsets (its code reads `__kind` and `__owner` of our mutexes: condvars,
// robust lists); size and alignment against pthread_mutex_t are checked in abi::object.
#[cfg(not(loom))]
const _: () = {
    assert!(core::mem::offset_of!(Mutex, owner) == 8);
    assert!(core::mem::offset_of!(Mutex, kind) == 16);
    assert!(core::mem::offset_of!(Mutex, prev) == 24);
};

#[inline(always)]
fn spin_hint() {
    #[cfg(loom)]
    loom::thread::yield_now();
    #[cfg(not(loom))]
    core::hint::spin_loop();
}

/// The calling thread's kernel tid.
#[inline(always)]
fn self_tid() -> i32 {
    crate::glibc::tcb::current_tid()
}

impl Mutex {
    /// A fresh mutex of `kind` (glibc encoding), for tests and models.
    #[cfg(any(test, loom))]
    pub fn with_kind(kind: i32) -> Mutex {
        Mutex {
            word: AtomicU32::new(0),
            count: AtomicU32::new(0),
            owner: AtomicI32::new(0),
            nusers: AtomicU32::new(0),
            kind: AtomicI32::new(kind),
            ceiling: AtomicI32::new(0),
            prev: AtomicUsize::new(0),
            next: AtomicUsize::new(0),
        }
    }

    /// Initializes the mutex with `attr` (the defaults when `None`). Stores with Relaxed: the
    /// object is published to other threads by whatever the program uses to share it.
    pub fn init(&self, attr: Option<MutexAttr>) -> Result<()> {
        let a = attr.unwrap_or(MutexAttr::DEFAULT);
        let protocol = a.protocol();
        // glibc: robust priority-protect mutexes are not supported (nor the protocol value 3
        // an object never set up may hold).
        if a.robust() && protocol != mutexattr::PRIO_NONE && protocol != mutexattr::PRIO_INHERIT {
            return Err(Errno::ENOTSUP);
        }
        // The kind bits as glibc takes them (no-elision flag included), then the flags.
        let mut kind = a.mutex_kind();
        if a.robust() {
            kind |= ROBUST;
        }
        let mut ceiling = 0;
        match protocol {
            mutexattr::PRIO_INHERIT => kind |= PI,
            mutexattr::PRIO_PROTECT => {
                kind |= PP;
                ceiling = a.prioceiling().max(mutexattr::fifo_range().0);
            }
            _ => {}
        }
        // As glibc: the kernel wakes a dead owner's waiters with a shared-futex wake, so a
        // robust mutex is marked process-shared too.
        if a.shared() || a.robust() {
            kind |= SHARED;
        }
        self.word.store(0, Ordering::Relaxed);
        self.count.store(0, Ordering::Relaxed);
        self.owner.store(0, Ordering::Relaxed);
        self.nusers.store(0, Ordering::Relaxed);
        self.ceiling.store(ceiling, Ordering::Relaxed);
        self.prev.store(0, Ordering::Relaxed);
        self.next.store(0, Ordering::Relaxed);
        self.kind.store(kind, Ordering::Relaxed);
        Ok(())
    }

    /// The kind (glibc's encoding), without glibc's no-elision flag. Relaxed: the kind is
    /// fixed from init to destroy (published by whatever shares the object).
    #[inline(always)]
    fn kind(&self) -> i32 {
        self.kind.load(Ordering::Relaxed) & !NO_ELISION
    }

    /// Destroys the mutex, with glibc's rule and nothing else: EBUSY while a non-robust mutex
    /// has users (`nusers`: its holder, and condition waiters that released it, since a wait
    /// leaves the count alone), 0 otherwise, so a robust mutex is destroyed whatever its
    /// state and a destroyed one (kind -1 has the robust bit) can be destroyed again.
    /// Afterwards every operation is EINVAL until it is initialized again (kind = -1, as
    /// glibc marks it).
    pub fn destroy(&self) -> Result<()> {
        let kind = self.kind.load(Ordering::Relaxed);
        if kind & ROBUST == 0 && self.nusers.load(Ordering::Relaxed) != 0 {
            return Err(Errno::EBUSY);
        }
        self.kind.store(-1, Ordering::Relaxed);
        Ok(())
    }

    /// Locks the mutex (blocking). Errors: EINVAL (not a valid mutex, or a priority-protect
    /// ceiling below the caller's priority), EDEADLK (errorcheck relock), EAGAIN (recursion
    /// overflow), EOWNERDEAD / ENOTRECOVERABLE (robust).
    #[inline(always)]
    pub fn lock(&self) -> Result<()> {
        // The fast path for the default kinds is one load and one CAS, no thread-local lookup.
        let kind = self.kind();
        if kind == NORMAL || kind == ADAPTIVE {
            if !word::try_lock_private(&self.word) {
                word::lock_slow(&self.word, Scope::Private, None)?;
            }
            self.note_holder(self_tid());
            return Ok(());
        }
        self.lock_full(kind, None, How::Lock)
    }

    /// Records the caller as holder (`owner`, `nusers`), after it took the word. Besides
    /// keeping glibc's object contents, this costs nothing measurable uncontended and helps
    /// under contention: bench/sync_mutex.c contended_tiny at 4 threads, 5 alternated runs on
    /// 2 CPUs, 21-24 Mops/s without, 38-48 with (glibc 42-58). (Measured, not explained: a
    /// load of the mutex's line right after the CAS alone gives most of it.)
    #[inline(always)]
    fn note_holder(&self, tid: i32) {
        self.owner.store(tid, Ordering::Relaxed);
        self.add_user();
    }

    /// Records the caller as holder after a lock that may have blocked: `owner`, one more
    /// user unless it is a condition wait's relock (the waiter stayed one), and with `count`
    /// the recursion count 1 (kinds that keep one).
    #[inline]
    fn took(&self, tid: i32, how: How, count: bool) {
        self.owner.store(tid, Ordering::Relaxed);
        if how != How::Relock {
            self.add_user();
        }
        if count {
            self.count.store(1, Ordering::Relaxed);
        }
    }

    /// One more user (`nusers`, glibc's counter of holders and condition waiters).
    #[inline(always)]
    fn add_user(&self) {
        self.nusers.store(self.nusers.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
    }

    /// Undoes [`Mutex::note_holder`], before the word is released. `drop_user`: false for a
    /// condition wait, whose waiter stays a user (glibc's `__pthread_mutex_unlock_usercnt`).
    #[inline(always)]
    fn note_release(&self, drop_user: bool) {
        self.owner.store(0, Ordering::Relaxed);
        if drop_user {
            self.nusers.store(self.nusers.load(Ordering::Relaxed).wrapping_sub(1), Ordering::Relaxed);
        }
    }

    /// Tries to lock without blocking: EBUSY if another thread holds it (and for an
    /// errorcheck mutex the caller holds), else as [`Mutex::lock`].
    #[inline(always)]
    pub fn trylock(&self) -> Result<()> {
        match self.try_plain() {
            Some(true) => Ok(()),
            Some(false) => Err(Errno::EBUSY),
            None => self.lock_full(self.kind(), None, How::Try),
        }
    }

    /// After a [`Mutex::try_plain`] that found the mutex busy: the rest of
    /// [`Mutex::lock`] (the contended path, without trying the word once more first).
    pub fn lock_plain_busy(&self) -> Result<()> {
        word::lock_slow(&self.word, Scope::Private, None)?;
        self.note_holder(self_tid());
        Ok(())
    }

    /// The try-lock of a plain (normal or adaptive, process-private) mutex: Some(taken), or
    /// None (nothing done) for the other kinds.
    #[inline(always)]
    pub fn try_plain(&self) -> Option<bool> {
        let kind = self.kind();
        if kind != NORMAL && kind != ADAPTIVE {
            return None;
        }
        if !word::try_lock_private(&self.word) {
            return Some(false);
        }
        self.note_holder(self_tid());
        Some(true)
    }

    /// Locks, giving up with ETIMEDOUT at the absolute `deadline`. As on glibc the deadline
    /// is only looked at when the caller must block: a free mutex is taken (and a recursive
    /// one the caller holds relocked) whatever it holds. When blocking, the plain kinds check
    /// as glibc's futex wait does (`tv_sec < 0`: ETIMEDOUT, then a bad `tv_nsec`: EINVAL),
    /// robust and priority-protect ones `tv_nsec` first, and priority-inheritance ones leave
    /// both to the kernel (EINVAL for either).
    pub fn timedlock(&self, deadline: &libc::timespec, clock: Clock) -> Result<()> {
        self.lock_full(self.kind(), Some((deadline, clock)), How::Lock)
    }

    /// Unlocks. Errors: EPERM when a checked kind (errorcheck, recursive, robust, PI,
    /// priority-protect) is not held by the caller; EINVAL for an invalid mutex.
    #[inline(always)]
    pub fn unlock(&self) -> Result<()> {
        let kind = self.kind();
        if kind == NORMAL || kind == ADAPTIVE {
            self.note_release(true);
            word::unlock_private(&self.word);
            return Ok(());
        }
        self.unlock_full(kind, true)
    }

    /// Releases the mutex for a condition wait: as [`Mutex::unlock`], but the waiter stays
    /// one of the mutex's users (glibc's `__pthread_mutex_unlock_usercnt(m, 0)`), so
    /// pthread_mutex_destroy meanwhile is EBUSY, as on glibc. A recursive mutex held more
    /// than once is only stepped down.
    pub(crate) fn unlock_for_wait(&self) -> Result<()> {
        self.unlock_full(self.kind(), false)
    }

    #[inline]
    fn scope(kind: i32) -> Scope {
        if kind & SHARED != 0 {
            Scope::Shared
        } else {
            Scope::Private
        }
    }

    #[cold]
    fn lock_full(&self, kind: i32, deadline: Deadline, how: How) -> Result<()> {
        if kind & !KNOWN != 0 || kind & (PI | PP) == PI | PP {
            return Err(Errno::EINVAL);
        }
        if kind & PI != 0 {
            return self.lock_pi(kind, deadline, how);
        }
        if kind & ROBUST != 0 {
            return self.lock_robust(kind, deadline, how);
        }
        let try_only = how == How::Try;
        let ty = kind & TYPE_MASK;
        let scope = Self::scope(kind);
        let checked = ty == RECURSIVE || ty == ERRORCHECK || kind & PP != 0;
        let tid = self_tid();
        // Relaxed: only this thread ever stores its own tid here, so seeing it means we hold it.
        if checked && self.owner.load(Ordering::Relaxed) == tid {
            match ty {
                RECURSIVE => return self.recurse(),
                // glibc's trylock of a plain errorcheck mutex only tries the word (EBUSY); its
                // priority-protect one checks the owner first.
                ERRORCHECK if try_only && kind & PP == 0 => return Err(Errno::EBUSY),
                ERRORCHECK => return Err(Errno::EDEADLK),
                _ => {} // normal priority-protect: relock deadlocks, as POSIX says
            }
        }
        let ceiling = self.ceiling.load(Ordering::Relaxed);
        if kind & PP != 0 {
            pp::prio::raise(ceiling)?;
        }
        let r = if word::try_lock(&self.word) {
            Ok(())
        } else if try_only {
            Err(Errno::EBUSY)
        } else if kind & PP != 0 && deadline.is_some_and(|(ts, _)| !valid_timespec(ts)) {
            // glibc's priority-protect lock checks `tv_nsec` itself before it blocks.
            Err(Errno::EINVAL)
        } else if how == How::Relock {
            // Back from a condition wait: whoever unlocks next must wake the sleepers the
            // wait may have left behind.
            word::lock_contended(&self.word, scope);
            Ok(())
        } else {
            word::lock_slow(&self.word, scope, deadline)
        };
        if let Err(e) = r {
            if kind & PP != 0 {
                pp::prio::lower(ceiling);
            }
            return Err(e);
        }
        self.took(tid, how, checked);
        Ok(())
    }

    /// One more level on a recursive mutex the caller holds.
    fn recurse(&self) -> Result<()> {
        let c = self.count.load(Ordering::Relaxed);
        if c == u32::MAX {
            return Err(Errno::EAGAIN);
        }
        self.count.store(c + 1, Ordering::Relaxed);
        Ok(())
    }

    /// Unlock of every kind but the fast-path ones; `drop_user` as in [`Mutex::note_release`].
    #[cold]
    fn unlock_full(&self, kind: i32, drop_user: bool) -> Result<()> {
        if kind & !KNOWN != 0 {
            return Err(Errno::EINVAL);
        }
        if kind & (PI | ROBUST) != 0 {
            return self.unlock_owned_word(kind, drop_user);
        }
        let ty = kind & TYPE_MASK;
        let checked = ty == RECURSIVE || ty == ERRORCHECK || kind & PP != 0;
        if checked {
            if self.owner.load(Ordering::Relaxed) != self_tid() {
                return Err(Errno::EPERM);
            }
            if ty == RECURSIVE {
                let c = self.count.load(Ordering::Relaxed) - 1;
                self.count.store(c, Ordering::Relaxed);
                if c != 0 {
                    return Ok(());
                }
            }
            self.count.store(0, Ordering::Relaxed);
        }
        self.note_release(drop_user);
        word::unlock(&self.word, Self::scope(kind));
        if kind & PP != 0 {
            pp::prio::lower(self.ceiling.load(Ordering::Relaxed));
        }
        Ok(())
    }

}


/// Blocks until `deadline` (forever without one): what a thread that relocks a mutex it
/// holds must do for the kinds whose relock deadlocks. Returns ETIMEDOUT at the deadline
/// (EINVAL for one the kernel rejects; the callers have checked it already).
fn hang_until(deadline: Deadline) -> Result<()> {
    let dummy = AtomicU32::new(0);
    loop {
        if let Err(e @ (Errno::ETIMEDOUT | Errno::EINVAL)) = futex_wait(&dummy, 0, deadline, Scope::Private) {
            return Err(e);
        }
    }
}
