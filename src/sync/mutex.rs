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

use super::model::{futex_wait, futex_wake, AtomicI32, AtomicU32, AtomicUsize, Deadline, Ordering};
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

#[cfg(not(loom))]
const _: () = {
    assert!(core::mem::size_of::<Mutex>() == core::mem::size_of::<libc::pthread_mutex_t>());
    assert!(core::mem::align_of::<Mutex>() <= core::mem::align_of::<libc::pthread_mutex_t>());
};

/// The 3-state lock word of the plain kinds (see the module comment).
pub(crate) mod word {
    use super::*;

    /// One CAS: takes a free lock.
    #[inline(always)]
    pub fn try_lock(w: &AtomicU32) -> bool {
        // Acquire: the critical section sees the previous holder's writes.
        w.compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed).is_ok()
    }

    /// [`try_lock`] for a process-private word: while the caller is the only thread, a plain
    /// load and store do (glibc's single-threaded optimization); no other thread can exist
    /// to race with them, and one created later starts after this store (clone orders it).
    #[inline(always)]
    pub fn try_lock_private(w: &AtomicU32) -> bool {
        if crate::glibc::solo::alone() {
            if w.load(Ordering::Relaxed) != 0 {
                return false;
            }
            w.store(1, Ordering::Relaxed);
            return true;
        }
        try_lock(w)
    }

    /// [`unlock`] for a process-private word, with the same single-threaded shortcut (a word
    /// of 2 still takes the full path: a sleeper may have been left by a thread now gone).
    #[inline(always)]
    pub fn unlock_private(w: &AtomicU32) {
        if crate::glibc::solo::alone() && w.load(Ordering::Relaxed) == 1 {
            w.store(0, Ordering::Relaxed);
            return;
        }
        unlock(w, Scope::Private)
    }

    /// The contended path: a bounded spin that only reads the word (no cache-line ping-pong)
    /// and tries when it sees the lock free, as long as nobody sleeps yet; then sleep with
    /// the contended state.
    #[cold]
    #[inline(never)]
    pub fn lock_slow(w: &AtomicU32, scope: Scope, deadline: Deadline) -> Result<()> {
        let mut v = w.load(Ordering::Relaxed);
        for _ in 0..SPINS {
            v = w.load(Ordering::Relaxed);
            if v == 0 && try_lock(w) {
                return Ok(());
            }
            // Sleepers queued already: the lock is busy enough that spinning would only
            // race the thread the next unlock wakes. Queue behind them instead.
            if v == 2 {
                break;
            }
            spin_hint();
        }
        // With sleepers known, sleep first rather than write the word (a swap would pull
        // the cache line away from the holder, who needs it to unlock).
        // A deadline is first looked at here, as glibc's futex wait does: ETIMEDOUT for a
        // negative `tv_sec`, then the kernel's EINVAL for a bad `tv_nsec`.
        if v == 2 {
            if let Err(e @ (Errno::ETIMEDOUT | Errno::EINVAL)) = futex_wait(w, 2, deadline, scope) {
                return Err(e);
            }
        }
        loop {
            if w.swap(2, Ordering::Acquire) == 0 {
                return Ok(());
            }
            if let Err(e @ (Errno::ETIMEDOUT | Errno::EINVAL)) = futex_wait(w, 2, deadline, scope) {
                return Err(e);
            }
        }
    }

    /// Locks with the contended state from the start: for threads that slept on this word
    /// or may have been requeued onto it by a condition variable, so that whoever unlocks
    /// next wakes the sleepers still behind them.
    pub fn lock_contended(w: &AtomicU32, scope: Scope) {
        while w.swap(2, Ordering::Acquire) != 0 {
            let _ = futex_wait(w, 2, None, scope);
        }
    }

    /// Locks for a condition waiter that left with a broadcast, i.e. that may have been
    /// requeued onto this word with others still asleep behind it. Spins briefly (taking a
    /// free lock as contended, 0→2), else sleeps as [`lock_contended`]. Once it holds the lock
    /// it wakes the next sleeper at once, so that one is awake and spinning when this thread
    /// unlocks: a broadcast's waiters then pass the mutex on without paying a wake-up latency
    /// per hand-over. If a sleeper was woken, it becomes the one responsible for the sleepers
    /// behind it (it will lock the same way, or sleep with the word at 2), so the word goes
    /// back to 1 first and our unlock needs no system call.
    pub fn lock_requeued(w: &AtomicU32, scope: Scope) {
        let mut got = false;
        for _ in 0..HANDOVER_SPINS {
            if w.load(Ordering::Relaxed) == 0
                && w.compare_exchange(0, 2, Ordering::Acquire, Ordering::Relaxed).is_ok()
            {
                got = true;
                break;
            }
            spin_hint();
        }
        if !got {
            lock_contended(w, scope);
        }
        // First 2→1, then the wake: whoever slept before the CAS is still asleep at the wake,
        // so either the wake reaches one of them, and that thread (awake now) will lock the
        // same way or sleep with the word at 2 again, or there was no sleeper to answer for.
        // Anyone who goes to sleep after the CAS sets 2 itself. (The other order loses a
        // wake-up: the woken thread may sleep again, with 2, before a late 2→1.)
        let _ = w.compare_exchange(2, 1, Ordering::Relaxed, Ordering::Relaxed);
        futex_wake(w, 1, scope);
    }

    /// Releases the lock; wakes one sleeper if there may be any. Release: publishes the
    /// critical section to the next holder.
    #[inline(always)]
    pub fn unlock(w: &AtomicU32, scope: Scope) {
        if w.swap(0, Ordering::Release) == 2 {
            futex_wake(w, 1, scope);
        }
    }
}

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
        self.nusers.store(self.nusers.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
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
    #[inline]
    pub fn trylock(&self) -> Result<()> {
        let kind = self.kind();
        if kind == NORMAL || kind == ADAPTIVE {
            if !word::try_lock_private(&self.word) {
                return Err(Errno::EBUSY);
            }
            self.note_holder(self_tid());
            return Ok(());
        }
        self.lock_full(kind, None, How::Try)
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
            pp::raise(ceiling)?;
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
                pp::lower(ceiling);
            }
            return Err(e);
        }
        self.owner.store(tid, Ordering::Relaxed);
        if how != How::Relock {
            self.add_user();
        }
        if checked {
            self.count.store(1, Ordering::Relaxed);
        }
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
            pp::lower(self.ceiling.load(Ordering::Relaxed));
        }
        Ok(())
    }

    // ---- robust (kernel robust-list) mutexes -------------------------------------------

    /// Address of this mutex's robust-list entry: its `next` link, as the kernel expects
    /// (`futex_offset` = -32 reaches `word`).
    fn entry(&self) -> usize {
        &self.next as *const AtomicUsize as usize
    }

    #[cold]
    fn lock_robust(&self, kind: i32, deadline: Deadline, how: How) -> Result<()> {
        let try_only = how == How::Try;
        let ty = kind & TYPE_MASK;
        // Always the shared futex: the kernel's wake-up when an owner dies is a shared-futex
        // wake, which a private wait never sees (glibc waits shared on every robust mutex).
        let scope = Scope::Shared;
        let tid = self_tid() as u32;
        let cur = self.word.load(Ordering::Relaxed);
        if cur & TID_MASK == tid {
            match ty {
                RECURSIVE => return self.recurse(),
                ERRORCHECK => return Err(Errno::EDEADLK), // trylock too, as glibc's
                _ if try_only => return Err(Errno::EBUSY),
                _ => {} // normal: relock deadlocks, as POSIX says
            }
        }
        if self.owner.load(Ordering::Relaxed) == NOTRECOVERABLE {
            return Err(Errno::ENOTRECOVERABLE);
        }
        let rl = robust::List::current();
        rl.set_pending(self.entry(), false);
        // Once we have slept we cannot know whether others still sleep: keep WAITERS set.
        let mut assume_waiters = 0;
        loop {
            let v = self.word.load(Ordering::Relaxed);
            if v & OWNER_DIED != 0 && v & TID_MASK == 0 {
                let new = tid | (v & WAITERS) | assume_waiters;
                if self.word.compare_exchange(v, new, Ordering::Acquire, Ordering::Relaxed).is_ok() {
                    rl.add(self.entry(), false);
                    rl.clear_pending();
                    self.owner.store(INCONSISTENT, Ordering::Relaxed);
                    self.count.store(1, Ordering::Relaxed);
                    return Err(Errno::EOWNERDEAD);
                }
                continue;
            }
            if v == 0 {
                let new = tid | assume_waiters;
                if self.word.compare_exchange(0, new, Ordering::Acquire, Ordering::Relaxed).is_ok() {
                    break;
                }
                continue;
            }
            if try_only {
                rl.clear_pending();
                return Err(Errno::EBUSY);
            }
            // About to block: glibc checks the deadline here, `tv_nsec` first.
            if let Some((ts, _)) = deadline {
                let bad = if !valid_timespec(ts) {
                    Some(Errno::EINVAL)
                } else if ts.tv_sec < 0 {
                    Some(Errno::ETIMEDOUT)
                } else {
                    None
                };
                if let Some(e) = bad {
                    rl.clear_pending();
                    return Err(e);
                }
            }
            if v & WAITERS == 0
                && self.word.compare_exchange(v, v | WAITERS, Ordering::Relaxed, Ordering::Relaxed).is_err()
            {
                continue;
            }
            if let Err(Errno::ETIMEDOUT) = futex_wait(&self.word, v | WAITERS, deadline, scope) {
                rl.clear_pending();
                return Err(Errno::ETIMEDOUT);
            }
            assume_waiters = WAITERS;
        }
        // Acquire on the CAS made the unlocker's `owner` store visible.
        if self.owner.load(Ordering::Relaxed) == NOTRECOVERABLE {
            let old = self.word.swap(0, Ordering::Release);
            rl.clear_pending();
            if old & WAITERS != 0 {
                futex_wake(&self.word, i32::MAX, scope);
            }
            return Err(Errno::ENOTRECOVERABLE);
        }
        rl.add(self.entry(), false);
        rl.clear_pending();
        self.owner.store(tid as i32, Ordering::Relaxed);
        if how != How::Relock {
            self.add_user();
        }
        self.count.store(1, Ordering::Relaxed);
        Ok(())
    }

    /// Unlock of the kinds whose word holds the owner's tid (robust and PI).
    #[cold]
    fn unlock_owned_word(&self, kind: i32, drop_user: bool) -> Result<()> {
        let tid = self_tid() as u32;
        if self.word.load(Ordering::Relaxed) & TID_MASK != tid {
            return Err(Errno::EPERM);
        }
        let robust = kind & ROBUST != 0;
        let pi = kind & PI != 0;
        if kind & TYPE_MASK == RECURSIVE {
            let c = self.count.load(Ordering::Relaxed).saturating_sub(1);
            self.count.store(c, Ordering::Relaxed);
            if c != 0 {
                // glibc: stepping down an inconsistent robust mutex is ENOTRECOVERABLE.
                if robust && self.owner.load(Ordering::Relaxed) == INCONSISTENT {
                    return Err(Errno::ENOTRECOVERABLE);
                }
                return Ok(());
            }
        }
        if drop_user {
            self.nusers.store(self.nusers.load(Ordering::Relaxed).wrapping_sub(1), Ordering::Relaxed);
        }
        // Robust waiters sleep on the shared futex (see `lock_robust`).
        let scope = if robust && !pi { Scope::Shared } else { Self::scope(kind) };
        // Unlocking an inconsistent mutex (EOWNERDEAD never followed by consistent) makes
        // it unrecoverable for good.
        let notrec = robust && self.owner.load(Ordering::Relaxed) == INCONSISTENT;
        self.owner.store(if notrec { NOTRECOVERABLE } else { 0 }, Ordering::Relaxed);
        self.count.store(0, Ordering::Relaxed);
        let rl = if robust { Some(robust::List::current()) } else { None };
        if let Some(rl) = &rl {
            rl.set_pending(self.entry(), pi);
            rl.remove(self.entry());
        }
        if pi {
            if self.word.compare_exchange(tid, 0, Ordering::Release, Ordering::Relaxed).is_err() {
                let _ = pi::unlock(&self.word, scope);
            }
        } else {
            let old = self.word.swap(0, Ordering::Release);
            if old & WAITERS != 0 {
                futex_wake(&self.word, if notrec { i32::MAX } else { 1 }, scope);
            }
        }
        if let Some(rl) = &rl {
            rl.clear_pending();
        }
        Ok(())
    }

    /// `pthread_mutex_consistent`: marks the state protected by a robust mutex, acquired
    /// with EOWNERDEAD, as consistent again. EINVAL if the mutex is not robust or not in that
    /// state. As on glibc, nothing checks that the caller is the one holding it: the mutex
    /// is marked consistent and the caller recorded as its owner.
    pub fn consistent(&self) -> Result<()> {
        let kind = self.kind();
        if kind & ROBUST == 0 || self.owner.load(Ordering::Relaxed) != INCONSISTENT {
            return Err(Errno::EINVAL);
        }
        self.owner.store(self_tid(), Ordering::Relaxed);
        Ok(())
    }

    // ---- priority inheritance ----------------------------------------------------------

    #[cold]
    fn lock_pi(&self, kind: i32, deadline: Deadline, how: How) -> Result<()> {
        let try_only = how == How::Try;
        let ty = kind & TYPE_MASK;
        let scope = Self::scope(kind);
        let robust = kind & ROBUST != 0;
        let tid = self_tid() as u32;
        if self.word.load(Ordering::Relaxed) & TID_MASK == tid {
            match ty {
                RECURSIVE => return self.recurse(),
                ERRORCHECK => return Err(Errno::EDEADLK), // trylock too, as glibc's
                _ if try_only => return Err(Errno::EBUSY),
                // Normal: relock deadlocks. glibc asks the kernel first, which rejects a
                // deadline it cannot use (EINVAL, a negative tv_sec too) before it finds the
                // deadlock (after which glibc waits out the deadline).
                _ => {
                    if deadline.is_some_and(|(ts, _)| !valid_timespec(ts) || ts.tv_sec < 0) {
                        return Err(Errno::EINVAL);
                    }
                    return hang_until(deadline);
                }
            }
        }
        if robust && self.owner.load(Ordering::Relaxed) == NOTRECOVERABLE {
            return Err(Errno::ENOTRECOVERABLE);
        }
        let rl = if robust { Some(robust::List::current()) } else { None };
        if let Some(rl) = &rl {
            rl.set_pending(self.entry(), true);
        }
        let cas = self.word.compare_exchange(0, tid, Ordering::Acquire, Ordering::Relaxed);
        let r = if cas.is_ok() {
            Ok(())
        } else if try_only {
            // As glibc: only a dead owner (OWNER_DIED, robust) is worth asking the kernel
            // about; anything else is held (a non-robust owner that died holds it forever).
            match cas {
                Err(v) if v & OWNER_DIED == 0 => Err(Errno::EBUSY),
                _ => match pi::trylock(&self.word, scope) {
                    Err(Errno::EAGAIN) | Err(Errno::EDEADLK) | Err(Errno::ESRCH) => Err(Errno::EBUSY),
                    other => other,
                },
            }
        } else {
            pi_lock_until(&self.word, deadline, scope)
        };
        match r {
            Ok(()) => {}
            // The kernel: a non-robust PI owner that is gone (ESRCH), or ourselves (EDEADLK):
            // glibc makes the caller wait forever (or until the deadline).
            Err(Errno::ESRCH) | Err(Errno::EDEADLK) if !robust => return hang_until(deadline),
            Err(e) => {
                if let Some(rl) = &rl {
                    rl.clear_pending();
                }
                return Err(e);
            }
        }
        // Acquire: the kernel (or our CAS) took the lock; a dead previous owner shows as
        // OWNER_DIED, which we clear while holding it.
        let v = self.word.load(Ordering::Acquire);
        if robust && v & OWNER_DIED != 0 {
            self.word.fetch_and(!OWNER_DIED, Ordering::Relaxed);
            if let Some(rl) = &rl {
                rl.add(self.entry(), true);
                rl.clear_pending();
            }
            self.owner.store(INCONSISTENT, Ordering::Relaxed);
            self.count.store(1, Ordering::Relaxed);
            return Err(Errno::EOWNERDEAD);
        }
        if robust && self.owner.load(Ordering::Relaxed) == NOTRECOVERABLE {
            if self.word.compare_exchange(tid, 0, Ordering::Release, Ordering::Relaxed).is_err() {
                let _ = pi::unlock(&self.word, scope);
            }
            if let Some(rl) = &rl {
                rl.clear_pending();
            }
            return Err(Errno::ENOTRECOVERABLE);
        }
        if let Some(rl) = &rl {
            rl.add(self.entry(), true);
            rl.clear_pending();
        }
        self.owner.store(tid as i32, Ordering::Relaxed);
        if how != How::Relock {
            self.add_user();
        }
        self.count.store(1, Ordering::Relaxed);
        Ok(())
    }

    // ---- priority ceiling ------------------------------------------------------------------

    /// The priority ceiling of a priority-protect mutex (EINVAL for other kinds).
    pub fn prioceiling(&self) -> Result<i32> {
        let kind = self.kind();
        if kind & !KNOWN != 0 || kind & PP == 0 {
            return Err(Errno::EINVAL);
        }
        Ok(self.ceiling.load(Ordering::Relaxed))
    }

    /// Changes the ceiling, returning the old one: locks the mutex first unless the caller
    /// holds it (POSIX), then unlocks it again. EDEADLK for an errorcheck mutex the caller
    /// holds, as on glibc.
    pub fn set_prioceiling(&self, ceiling: i32) -> Result<i32> {
        let kind = self.kind();
        if kind & !KNOWN != 0 || kind & PP == 0 {
            return Err(Errno::EINVAL);
        }
        mutexattr::check_ceiling(ceiling)?;
        let held = self.owner.load(Ordering::Relaxed) == self_tid();
        // glibc: an errorcheck mutex the caller holds is EDEADLK (it would lock it again).
        if held && kind & TYPE_MASK == ERRORCHECK {
            return Err(Errno::EDEADLK);
        }
        if held {
            // Move the held ceiling's share of the thread's priority to the new value.
            let old = self.ceiling.load(Ordering::Relaxed);
            pp::raise(ceiling)?;
            self.ceiling.store(ceiling, Ordering::Relaxed);
            pp::lower(old);
            return Ok(old);
        }
        // Take the lock without the ceiling protocol: it is not ours to raise to yet.
        if !word::try_lock(&self.word) {
            word::lock_slow(&self.word, Self::scope(kind), None)?;
        }
        let old = self.ceiling.swap(ceiling, Ordering::Relaxed);
        word::unlock(&self.word, Self::scope(kind));
        Ok(old)
    }

    // ---- what the condition variable needs -----------------------------------------------

    /// Checks, without changing anything, that the caller may unlock the mutex: EPERM for the
    /// checked kinds (errorcheck, recursive, robust, PI, priority-protect) it does not hold,
    /// EINVAL for an invalid mutex. What a condition wait verifies before it registers.
    pub(crate) fn check_owner(&self) -> Result<()> {
        let kind = self.kind();
        if kind & !KNOWN != 0 {
            return Err(Errno::EINVAL);
        }
        let held = if kind & (ROBUST | PI) != 0 {
            self.word.load(Ordering::Relaxed) & TID_MASK == self_tid() as u32
        } else if kind & PP != 0 || matches!(kind & TYPE_MASK, RECURSIVE | ERRORCHECK) {
            self.owner.load(Ordering::Relaxed) == self_tid()
        } else {
            true
        };
        if held {
            Ok(())
        } else {
            Err(Errno::EPERM)
        }
    }

    /// The lock word and scope a condition variable may requeue its waiters onto: only the
    /// plain 3-state kinds (not robust, PI or priority-protect), whose waiters re-lock with
    /// [`Mutex::lock_after_wait`].
    pub(crate) fn requeue_target(&self) -> Option<(&AtomicU32, Scope)> {
        let kind = self.kind();
        // Not a recursive mutex: a wait releases only one level of it, as glibc's does, so
        // the waiter may still hold it and must not sleep on its word.
        if kind & !(TYPE_MASK | SHARED) == 0 && kind & TYPE_MASK != RECURSIVE {
            Some((&self.word, Self::scope(kind)))
        } else {
            None
        }
    }

    /// Re-locks after a condition wait. A thread that may have been requeued onto the word
    /// (`requeued`: it left with a broadcast) takes it in the contended state, so the
    /// requeued sleepers behind it are woken in turn (see the module comment); otherwise, and
    /// for the other kinds, the lock is taken normally (EOWNERDEAD passes through).
    /// The waiter stayed one of the mutex's users while it waited ([`Mutex::unlock_for_wait`]),
    /// so none is added.
    pub(crate) fn lock_after_wait(&self, requeued: bool) -> Result<()> {
        let kind = self.kind();
        // A recursive mutex locked several times is still the waiter's (the wait's unlock
        // took one level): the full lock counts the level back, as glibc's cond_lock does.
        if kind & !(TYPE_MASK | SHARED) != 0 || kind & TYPE_MASK == RECURSIVE {
            return self.lock_full(kind, None, How::Relock);
        }
        let ty = kind & TYPE_MASK;
        let tid = self_tid();
        let scope = Self::scope(kind);
        if requeued {
            word::lock_requeued(&self.word, scope);
        } else if !word::try_lock(&self.word) {
            let _ = word::lock_slow(&self.word, scope, None);
        }
        self.owner.store(tid, Ordering::Relaxed);
        if ty == RECURSIVE || ty == ERRORCHECK {
            self.count.store(1, Ordering::Relaxed);
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

/// FUTEX_LOCK_PI with a deadline on either clock: LOCK_PI measures CLOCK_REALTIME,
/// LOCK_PI2 (Linux 5.14) CLOCK_MONOTONIC. The kernel validates the deadline (EINVAL for a
/// negative `tv_sec` too), as it does for glibc, which passes it unchecked.
fn pi_lock_until(w: &AtomicU32, deadline: Deadline, scope: Scope) -> Result<()> {
    match deadline {
        None => pi::lock(w, None, scope),
        Some((ts, Clock::Realtime)) => pi::lock(w, Some(ts), scope),
        Some((ts, Clock::Monotonic)) => pi::lock2(w, ts, scope),
    }
}

/// The kernel's priority-inheritance futex operations. The model checker has no PI futex:
/// the loom models cover the plain kinds only, so there these are unreachable.
#[cfg(not(loom))]
mod pi {
    pub use crate::sys::futex::{lock_pi as lock, trylock_pi as trylock, unlock_pi as unlock};
    use crate::errno::Result;
    use crate::sys::futex::Scope;
    use core::sync::atomic::AtomicU32;

    /// FUTEX_LOCK_PI2: as LOCK_PI, with a CLOCK_MONOTONIC deadline.
    pub fn lock2(w: &AtomicU32, ts: &libc::timespec, scope: Scope) -> Result<()> {
        const FUTEX_LOCK_PI2: usize = 13;
        let private = if scope == Scope::Private { 128 } else { 0 };
        // SAFETY: `w` is a live u32 and `ts` a valid timespec the kernel only reads.
        // (sys::futex has no LOCK_PI2 wrapper yet; this is its one use.)
        let r = unsafe {
            crate::sys::raw(
                libc::SYS_futex,
                &[w as *const AtomicU32 as usize, FUTEX_LOCK_PI2 | private, 0, ts as *const _ as usize],
            )
        };
        crate::errno::from_syscall(r).map(drop)
    }
}

#[cfg(loom)]
mod pi {
    use super::{AtomicU32, Result, Scope};
    pub fn lock(_: &AtomicU32, _: Option<&libc::timespec>, _: Scope) -> Result<()> {
        unreachable!("PI mutexes are not modelled")
    }
    pub fn lock2(_: &AtomicU32, _: &libc::timespec, _: Scope) -> Result<()> {
        unreachable!("PI mutexes are not modelled")
    }
    pub fn trylock(_: &AtomicU32, _: Scope) -> Result<()> {
        unreachable!("PI mutexes are not modelled")
    }
    pub fn unlock(_: &AtomicU32, _: Scope) -> Result<()> {
        unreachable!("PI mutexes are not modelled")
    }
}

/// The calling thread's kernel robust list (registered with `set_robust_list`), kept in
/// glibc's doubly-linked form: each entry is a mutex's `next` link, its `prev` link 8 bytes
/// below; the head's own `prev` is glibc's `robust_prev`, 8 bytes below the head. Bit 0 of a
/// `next` pointer marks a PI futex (kernel convention). Only the owning thread changes its
/// list; the kernel reads it when the thread dies.
mod robust {
    use crate::glibc::tcb::{current_robust_head, RobustListHead};
    use core::sync::atomic::{compiler_fence, AtomicUsize, Ordering};

    pub struct List(*mut RobustListHead);

    /// The link word at `addr` (a `next` or `prev` field, of a mutex or of the head).
    ///
    /// # Safety
    /// `addr` must be a live, aligned link field of this thread's robust list.
    unsafe fn link<'a>(addr: usize) -> &'a AtomicUsize {
        // SAFETY: forwarded.
        unsafe { &*(addr as *const AtomicUsize) }
    }

    impl List {
        pub fn current() -> List {
            List(current_robust_head())
        }

        fn head(&self) -> usize {
            self.0 as usize
        }

        fn pending(&self) -> &AtomicUsize {
            // SAFETY: the head is the calling thread's live TCB field; list_op_pending is an
            // aligned pointer-sized field, written only by this thread.
            unsafe { &*(core::ptr::addr_of_mut!((*self.0).list_op_pending) as *const AtomicUsize) }
        }

        /// Announces an entry being added/removed, so that the kernel also checks it if the
        /// thread dies half-way.
        pub fn set_pending(&self, entry: usize, pi: bool) {
            self.pending().store(entry | pi as usize, Ordering::Relaxed);
            compiler_fence(Ordering::SeqCst);
        }

        pub fn clear_pending(&self) {
            compiler_fence(Ordering::SeqCst);
            self.pending().store(0, Ordering::Relaxed);
        }

        /// Pushes `entry` at the front. The entry is complete before the head points at it
        /// (the kernel may walk the list the moment this thread dies).
        pub fn add(&self, entry: usize, pi: bool) {
            let head = self.head();
            // SAFETY: `head` and every linked entry are live link fields (entries leave the
            // list before their mutex can be destroyed); `entry` is our mutex's link.
            unsafe {
                let first = link(head).load(Ordering::Relaxed);
                link((first & !1) - 8).store(entry, Ordering::Relaxed);
                link(entry).store(first, Ordering::Relaxed);
                link(entry - 8).store(head, Ordering::Relaxed);
                compiler_fence(Ordering::SeqCst);
                link(head).store(entry | pi as usize, Ordering::Relaxed);
            }
        }

        /// Unlinks `entry` in O(1).
        pub fn remove(&self, entry: usize) {
            // SAFETY: `entry` is on this thread's list (we hold its mutex), so its neighbours
            // are live link fields.
            unsafe {
                let next = link(entry).load(Ordering::Relaxed);
                let prev = link(entry - 8).load(Ordering::Relaxed) & !1;
                link((next & !1) - 8).store(prev, Ordering::Relaxed);
                // `prev` points at the previous `next` field (or the head); keep our PI bit
                // chain intact by copying our `next` (with its bit) into it.
                link(prev).store(next, Ordering::Relaxed);
                compiler_fence(Ordering::SeqCst);
                link(entry - 8).store(0, Ordering::Relaxed);
                link(entry).store(0, Ordering::Relaxed);
            }
        }
    }
}

/// Priority protection: per-thread counts of held priority-protect mutexes per ceiling, and
/// the thread's own priority from before it took the first one.
mod pp {
    use crate::errno::{Errno, Result};
    use std::cell::{Cell, RefCell};

    const LEVELS: usize = 100;

    std::thread_local! {
        static HELD: RefCell<[u32; LEVELS]> = const { RefCell::new([0; LEVELS]) };
        static BASE: Cell<i32> = const { Cell::new(0) };
    }

    fn sched() -> (i32, i32) {
        let mut p = libc::sched_param { sched_priority: 0 };
        // SAFETY: plain syscalls on the calling thread (pid 0) with a valid out-pointer.
        unsafe {
            let pol = crate::sys::raw(libc::SYS_sched_getscheduler, &[0]) as i32;
            crate::sys::raw(libc::SYS_sched_getparam, &[0, &mut p as *mut _ as usize]);
            (pol & !libc::SCHED_RESET_ON_FORK, p.sched_priority)
        }
    }

    fn set_prio(policy: i32, prio: i32) -> Result<()> {
        let p = libc::sched_param { sched_priority: prio };
        // SAFETY: valid pointer to a sched_param the kernel reads.
        let r = unsafe {
            crate::sys::raw(libc::SYS_sched_setscheduler, &[0, policy as usize, &p as *const _ as usize])
        };
        crate::errno::from_syscall(r).map(drop)
    }

    fn target(held: &[u32; LEVELS], base: i32) -> i32 {
        let top = held.iter().rposition(|&n| n != 0).map_or(0, |i| i as i32);
        top.max(base)
    }

    /// Raises the thread to `ceiling` (if higher) before it takes a priority-protect mutex.
    pub fn raise(ceiling: i32) -> Result<()> {
        let c = ceiling as usize;
        if c >= LEVELS {
            return Err(Errno::EINVAL);
        }
        HELD.with(|h| {
            let mut h = h.borrow_mut();
            let (policy, prio) = sched();
            if h.iter().all(|&n| n == 0) {
                BASE.with(|b| b.set(prio));
            }
            let base = BASE.with(|b| b.get());
            if base > ceiling {
                return Err(Errno::EINVAL);
            }
            h[c] = h[c].checked_add(1).ok_or(Errno::EAGAIN)?;
            let want = target(&h, base);
            if want != prio {
                if let Err(e) = set_prio(policy, want) {
                    h[c] -= 1;
                    return Err(e);
                }
            }
            Ok(())
        })
    }

    /// Drops one hold of `ceiling` and returns to the highest remaining level.
    pub fn lower(ceiling: i32) {
        let c = ceiling as usize;
        if c >= LEVELS {
            return;
        }
        HELD.with(|h| {
            let mut h = h.borrow_mut();
            h[c] = h[c].saturating_sub(1);
            let (policy, prio) = sched();
            let want = target(&h, BASE.with(|b| b.get()));
            if want != prio {
                let _ = set_prio(policy, want);
            }
        })
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn normal_lock_unlock_trylock() {
        let m = Mutex::with_kind(NORMAL);
        m.lock().unwrap();
        assert_eq!(m.trylock(), Err(Errno::EBUSY));
        assert_eq!(m.destroy(), Err(Errno::EBUSY));
        m.unlock().unwrap();
        m.trylock().unwrap();
        m.unlock().unwrap();
        m.destroy().unwrap();
        assert_eq!(m.lock(), Err(Errno::EINVAL));
    }

    #[test]
    fn errorcheck_and_recursive() {
        let e = Mutex::with_kind(ERRORCHECK);
        assert_eq!(e.unlock(), Err(Errno::EPERM));
        e.lock().unwrap();
        assert_eq!(e.lock(), Err(Errno::EDEADLK));
        assert_eq!(e.trylock(), Err(Errno::EBUSY));
        e.unlock().unwrap();
        assert_eq!(e.unlock(), Err(Errno::EPERM));
        let r = Mutex::with_kind(RECURSIVE);
        r.lock().unwrap();
        r.lock().unwrap();
        r.trylock().unwrap();
        r.unlock().unwrap();
        r.unlock().unwrap();
        r.unlock().unwrap();
        assert_eq!(r.unlock(), Err(Errno::EPERM));
    }

    #[test]
    fn timed_lock_times_out_and_checks_timespec() {
        let m = Mutex::with_kind(NORMAL);
        m.lock().unwrap();
        let past = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        assert_eq!(m.timedlock(&past, Clock::Monotonic), Err(Errno::ETIMEDOUT));
        let bad = libc::timespec { tv_sec: 0, tv_nsec: 1_000_000_000 };
        assert_eq!(m.timedlock(&bad, Clock::Realtime), Err(Errno::EINVAL));
        m.unlock().unwrap();
    }

    #[test]
    fn threads_exclude_each_other() {
        use std::sync::Arc;
        struct Shared(Mutex, core::cell::UnsafeCell<u64>);
        // SAFETY: the cell is only touched under the mutex.
        unsafe impl Sync for Shared {}
        let s = Arc::new(Shared(Mutex::with_kind(NORMAL), core::cell::UnsafeCell::new(0)));
        let hs: Vec<_> = (0..4)
            .map(|_| {
                let s = s.clone();
                std::thread::spawn(move || {
                    for _ in 0..20_000 {
                        s.0.lock().unwrap();
                        // SAFETY: we hold the mutex.
                        unsafe { *s.1.get() += 1 };
                        s.0.unlock().unwrap();
                    }
                })
            })
            .collect();
        hs.into_iter().for_each(|h| h.join().unwrap());
        // SAFETY: all threads joined.
        assert_eq!(unsafe { *s.1.get() }, 80_000);
    }
}

#[cfg(loom)]
mod loom_tests {
    use super::*;
    use loom::cell::UnsafeCell;
    use loom::sync::Arc;

    /// Two (and three) threads: the critical sections never overlap and nobody sleeps forever.
    fn exclusion(threads: usize) -> impl Fn() + Sync + Send + 'static {
        move || {
            let m = Arc::new((Mutex::with_kind(NORMAL), UnsafeCell::new(0u32)));
            let hs: Vec<_> = (0..threads)
                .map(|_| {
                    let m = m.clone();
                    loom::thread::spawn(move || {
                        m.0.lock().unwrap();
                        // SAFETY: the cell is only touched with the mutex held (or after the joins).
                        m.1.with_mut(|p| unsafe { *p += 1 });
                        m.0.unlock().unwrap();
                    })
                })
                .collect();
            hs.into_iter().for_each(|h| h.join().unwrap());
            // SAFETY: the cell is only touched with the mutex held (or after the joins).
            m.1.with(|p| assert_eq!(unsafe { *p }, threads as u32));
        }
    }

    #[test]
    fn loom_mutex_two_threads() {
        loom::model(exclusion(2));
    }

    #[test]
    fn loom_mutex_three_threads() {
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(2);
        b.check(exclusion(3));
    }
}
