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

/// Polls of the awaited word before a waiter sleeps on it (glibc sleeps at once). The
/// hand-over a waiter waits for usually comes from a critical section a few nanoseconds
/// long; sleeping costs two futex calls and a wake-up (tens of µs on a VM). Not in the
/// models (it only multiplies their interleavings).
const SPINS: u32 = if cfg!(loom) { 0 } else { 100 };

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
    assert!(core::mem::size_of::<RwLock>() == 56);
    assert!(core::mem::size_of::<libc::pthread_rwlock_t>() == 56);
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

    // ---- readers -------------------------------------------------------------------------

    /// Takes a read lock, sleeping until `deadline` at most.
    /// Errors: EDEADLK (the caller holds the write lock), EAGAIN (too many readers),
    /// ETIMEDOUT.
    #[inline]
    pub fn read(&self, deadline: Deadline) -> Result<()> {
        if self.solo() {
            let r = self.readers.load(Ordering::Relaxed);
            if r & (WRPHASE | WRLOCKED) == 0 && r < READER_OVERFLOW - ONE_READER {
                self.readers.store(r + ONE_READER, Ordering::Relaxed);
                return Ok(());
            }
        }
        // Relaxed: only the holder itself ever stores its own tid there.
        if self.cur_writer.load(Ordering::Relaxed) == tid() {
            return Err(Errno::EDEADLK);
        }
        if self.kind == PREFER_WRITER_NONRECURSIVE {
            self.wait_behind_writer(deadline)?;
        }
        // Acquire: synchronizes with earlier writers and with the last reader of the
        // previous read phase.
        let mut r = self.readers.fetch_add(ONE_READER, Ordering::Acquire).wrapping_add(ONE_READER);
        while r >= READER_OVERFLOW {
            // Undo the registration while still overflowing (a CAS: a concurrent unlock may
            // make us the last reader, who must then hand over).
            match self.readers.compare_exchange_weak(r, r - ONE_READER, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return Err(Errno::EAGAIN),
                Err(now) => r = now,
            }
        }
        if r & WRPHASE == 0 {
            return Ok(());
        }
        self.read_in_write_phase(r, deadline)
    }

    /// `PREFER_WRITER_NONRECURSIVE`: while readers hold the lock and a writer waits, wait
    /// (on `readers`, with RWAITING set) without joining them.
    fn wait_behind_writer(&self, deadline: Deadline) -> Result<()> {
        let mut r = self.readers.load(Ordering::Relaxed);
        while r & WRPHASE == 0 && r & WRLOCKED != 0 && r >> READER_SHIFT > 0 {
            match self.readers.compare_exchange_weak(r, r | RWAITING, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => loop {
                    r = self.readers.load(Ordering::Relaxed);
                    if r & RWAITING == 0 {
                        break;
                    }
                    if let Err(Errno::ETIMEDOUT) = futex_wait(&self.readers, r, deadline, self.scope()) {
                        return Err(Errno::ETIMEDOUT);
                    }
                },
                Err(now) => r = now,
            }
        }
        Ok(())
    }

    /// A reader registered in a write phase (`r`, our registration included): start the
    /// read phase itself if no writer holds the lock, else wait for the hand-over.
    #[cold]
    fn read_in_write_phase(&self, mut r: u32, deadline: Deadline) -> Result<()> {
        while r & WRPHASE != 0 && r & WRLOCKED == 0 {
            // Acquire: synchronizes with the writers before us.
            match self.readers.compare_exchange_weak(r, r ^ WRPHASE, Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => {
                    // We started the read phase: we hand over to the readers waiting for it,
                    // as a writer would.
                    if self.wrphase_futex.swap(0, Ordering::Relaxed) & FUTEX_USED != 0 {
                        futex_wake(&self.wrphase_futex, i32::MAX, self.scope());
                    }
                    return Ok(());
                }
                Err(now) => r = now,
            }
        }
        // Wait until `wrphase_futex` shows the read phase (0), confirmed by `readers`: the
        // least recent value we may read there is the last read phase's 0, written before
        // the write phase began.
        let mut ready = false;
        let mut spins = SPINS;
        loop {
            loop {
                let wpf = spin_load(&self.wrphase_futex, Ordering::Relaxed);
                if wpf | FUTEX_USED != 1 | FUTEX_USED {
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
                if let Err(Errno::ETIMEDOUT) = futex_wait(&self.wrphase_futex, 1 | FUTEX_USED, deadline, self.scope()) {
                    return self.read_timed_out();
                }
            }
            if ready {
                return Ok(());
            }
            // Acquire: synchronizes with the writer's release, so the next read of
            // `wrphase_futex` is at least its hand-over value. (While the writer has not yet
            // stored its phase value, this loop spins.)
            if spin_load(&self.readers, Ordering::Acquire) & WRPHASE == 0 {
                ready = true;
            } else {
                spin_hint();
            }
        }
    }

    /// A reader's wait for the hand-over timed out: unregister if still in the write phase;
    /// if the read phase began meanwhile, take the lock (the hand-over is already under way,
    /// so spin for it rather than sleep).
    fn read_timed_out(&self) -> Result<()> {
        let mut r = self.readers.load(Ordering::Relaxed);
        while r & WRPHASE != 0 {
            match self.readers.compare_exchange_weak(r, r - ONE_READER, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return Err(Errno::ETIMEDOUT),
                Err(now) => r = now,
            }
        }
        // Acquire: as on the path without a timeout.
        fence(Ordering::Acquire);
        while spin_load(&self.wrphase_futex, Ordering::Relaxed) | FUTEX_USED == 1 | FUTEX_USED {
            spin_hint();
        }
        Ok(())
    }

    /// Takes a read lock if that needs no wait. Errors: EBUSY (a writer holds it, or with
    /// `PREFER_WRITER_NONRECURSIVE` a primary writer exists), EAGAIN (too many readers).
    pub fn try_read(&self) -> Result<()> {
        let mut r = self.readers.load(Ordering::Relaxed);
        loop {
            let rnew = if r & WRPHASE == 0 {
                if r & WRLOCKED != 0 && self.kind == PREFER_WRITER_NONRECURSIVE {
                    return Err(Errno::EBUSY);
                }
                r.wrapping_add(ONE_READER)
            } else {
                if r & WRLOCKED != 0 {
                    return Err(Errno::EBUSY);
                }
                r.wrapping_add(ONE_READER) ^ WRPHASE
            };
            if rnew >= READER_OVERFLOW {
                return Err(Errno::EAGAIN);
            }
            // Acquire: synchronizes with earlier writers.
            match self.readers.compare_exchange_weak(r, rnew, Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => break,
                Err(now) => r = now,
            }
        }
        if r & WRPHASE != 0 && self.wrphase_futex.swap(0, Ordering::Relaxed) & FUTEX_USED != 0 {
            // We started the read phase: hand over to the readers waiting for it.
            futex_wake(&self.wrphase_futex, i32::MAX, self.scope());
        }
        Ok(())
    }

    /// Releases a read lock; the last reader hands the lock to a primary writer.
    /// Errors: EPERM when no reader holds the lock.
    fn read_unlock(&self) -> Result<()> {
        if self.solo() {
            // A read phase without a primary writer: the count just drops.
            let r = self.readers.load(Ordering::Relaxed);
            if r >> READER_SHIFT != 0 && r & (WRPHASE | WRLOCKED | RWAITING) == 0 {
                self.readers.store(r - ONE_READER, Ordering::Relaxed);
                return Ok(());
            }
        }
        let scope = self.scope();
        let mut r = self.readers.load(Ordering::Relaxed);
        let rnew = loop {
            if r >> READER_SHIFT == 0 {
                return Err(Errno::EPERM);
            }
            let mut rnew = r - ONE_READER;
            if rnew >> READER_SHIFT == 0 {
                // The last reader: start the primary writer's write phase, and let readers
                // that waited for that writer register again.
                if rnew & WRLOCKED != 0 {
                    rnew |= WRPHASE;
                }
                rnew &= !RWAITING;
            }
            // Release: the read critical section happens before the next writer.
            match self.readers.compare_exchange_weak(r, rnew, Ordering::Release, Ordering::Relaxed) {
                Ok(_) => break rnew,
                Err(now) => r = now,
            }
        };
        if rnew & WRPHASE != 0 {
            // Explicit hand-over to the writer. Acquire: our store to `wrphase_futex` comes
            // after the one of the reader that started this read phase.
            fence(Ordering::Acquire);
            if self.wrphase_futex.swap(1, Ordering::Relaxed) & FUTEX_USED != 0 {
                futex_wake(&self.wrphase_futex, i32::MAX, scope);
            }
        }
        if r & RWAITING != rnew & RWAITING {
            futex_wake(&self.readers, i32::MAX, scope);
        }
        Ok(())
    }

    // ---- writers -------------------------------------------------------------------------

    /// Takes the write lock, sleeping until `deadline` at most.
    /// Errors: EDEADLK (the caller holds it already), ETIMEDOUT.
    #[inline]
    pub fn write(&self, deadline: Deadline) -> Result<()> {
        let me = tid();
        if self.solo() {
            // Free (idle read or write phase): the states of `try_write_free`.
            let r = self.readers.load(Ordering::Relaxed);
            if r & !WRPHASE == 0 {
                self.readers.store(WRPHASE | WRLOCKED, Ordering::Relaxed);
                self.writers_futex.store(1, Ordering::Relaxed);
                if r == 0 {
                    self.wrphase_futex.store(1, Ordering::Relaxed);
                }
                self.cur_writer.store(me, Ordering::Relaxed);
                return Ok(());
            }
        }
        if self.cur_writer.load(Ordering::Relaxed) == me {
            return Err(Errno::EDEADLK);
        }
        // Free and without readers: become the primary writer and start the write phase in
        // one CAS (glibc's trywrlock step; its wrlock takes the same states in two).
        if self.try_write_free().is_err() {
            self.write_slow(deadline)?;
        }
        // Relaxed: only the holder compares `cur_writer` with its own tid.
        self.cur_writer.store(me, Ordering::Relaxed);
        Ok(())
    }

    /// Takes the write lock if no writer holds it and no reader holds (or, preferring
    /// writers, tries to start a read phase); EBUSY otherwise. `cur_writer` is the
    /// caller's to set.
    #[inline]
    fn try_write_free(&self) -> Result<()> {
        let mut r = self.readers.load(Ordering::Relaxed);
        while r & WRLOCKED == 0 && (r >> READER_SHIFT == 0 || (self.prefers_writers() && r & WRPHASE != 0)) {
            // Acquire: synchronizes with the previous holders.
            match self.readers.compare_exchange_weak(r, r | WRPHASE | WRLOCKED, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => {
                    // Nobody can share FUTEX_USED with us: enable waiting for other writers.
                    racing_store(&self.writers_futex, 1, Ordering::Relaxed);
                    // A write phase we started needs its value; one that existed keeps its
                    // word (readers may have set FUTEX_USED on it).
                    if r & WRPHASE == 0 {
                        racing_store(&self.wrphase_futex, 1, Ordering::Relaxed);
                    }
                    return Ok(());
                }
                Err(now) => r = now,
            }
        }
        Err(Errno::EBUSY)
    }

    /// The contended write lock: become the primary writer (WRLOCKED), then own a write
    /// phase. `cur_writer` is the caller's to set.
    #[cold]
    fn write_slow(&self, deadline: Deadline) -> Result<()> {
        // Acquire: synchronizes with earlier primary writers.
        let mut r = self.readers.fetch_or(WRLOCKED, Ordering::Acquire);
        let mut may_share_futex_used = false;
        if r & WRLOCKED != 0 {
            let (now, shared) = self.become_primary(r, deadline)?;
            // Our snapshot: from our CAS, or inherited with a hand-over.
            r = now | WRLOCKED;
            may_share_futex_used = shared;
        }
        // Enable blocking on `writers_futex`, keeping FUTEX_USED if we may share it with
        // writers that still sleep there.
        racing_store(&self.writers_futex, 1 | if may_share_futex_used { FUTEX_USED } else { 0 }, Ordering::Relaxed);
        if r & WRPHASE != 0 {
            return Ok(());
        }
        while r & WRPHASE == 0 && r >> READER_SHIFT == 0 {
            // Acquire: synchronizes with the readers of the last read phase.
            match self.readers.compare_exchange_weak(r, r | WRPHASE, Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => {
                    racing_store(&self.wrphase_futex, 1, Ordering::Relaxed);
                    return Ok(());
                }
                Err(now) => r = now,
            }
        }
        self.wait_for_write_phase(deadline)
    }

    /// Another primary writer exists: register (when preferring writers), then loop until
    /// WRLOCKED is ours, by CAS when it is free or by a hand-over, sleeping on
    /// `writers_futex` otherwise. Returns the last `readers` value seen and whether we may
    /// share FUTEX_USED on `writers_futex` with other sleepers.
    fn become_primary(&self, mut r: u32, deadline: Deadline) -> Result<(u32, bool)> {
        let prefer_writer = self.prefers_writers();
        let mut may_share = false;
        if prefer_writer {
            self.writers.fetch_add(1, Ordering::Relaxed);
        }
        loop {
            if r & WRLOCKED == 0 {
                // Acquire: as the fetch_or.
                match self.readers.compare_exchange_weak(r, r | WRLOCKED, Ordering::Acquire, Ordering::Relaxed) {
                    Ok(_) => {
                        if prefer_writer {
                            self.writers.fetch_sub(1, Ordering::Relaxed);
                        }
                        return Ok((r, may_share));
                    }
                    Err(now) => {
                        r = now;
                        continue;
                    }
                }
            }
            if prefer_writer {
                let w = self.writers.load(Ordering::Relaxed);
                if w & WRHANDOVER != 0 {
                    // Acquire: synchronizes with the writer that handed WRLOCKED over, whose
                    // view of `readers` we take over with it.
                    if self
                        .writers
                        .compare_exchange_weak(w, w - WRHANDOVER - 1, Ordering::Acquire, Ordering::Relaxed)
                        .is_ok()
                    {
                        return Ok((self.readers.load(Ordering::Relaxed), may_share));
                    }
                    continue;
                }
            }
            let wf = spin_load(&self.writers_futex, Ordering::Relaxed);
            if wf & !FUTEX_USED != 1
                || (wf != 1 | FUTEX_USED
                    && self
                        .writers_futex
                        .compare_exchange_weak(wf, 1 | FUTEX_USED, Ordering::Relaxed, Ordering::Relaxed)
                        .is_err())
            {
                // No primary writer to wait for yet (it has not enabled waiting) or a lost
                // race: look at the state again.
                spin_hint();
                r = spin_load(&self.readers, Ordering::Relaxed);
                continue;
            }
            may_share = true;
            if let Err(Errno::ETIMEDOUT) = futex_wait(&self.writers_futex, 1 | FUTEX_USED, deadline, self.scope()) {
                if prefer_writer {
                    // Unregister; the last registered writer must take a pending hand-over
                    // (nobody else would release WRLOCKED): then we go on as primary writer.
                    let mut w = self.writers.load(Ordering::Relaxed);
                    loop {
                        let new = if w == WRHANDOVER + 1 { 0 } else { w - 1 };
                        // Acquire: as when taking a hand-over.
                        match self.writers.compare_exchange_weak(w, new, Ordering::Acquire, Ordering::Relaxed) {
                            Ok(_) => break,
                            Err(now) => w = now,
                        }
                    }
                    if w == WRHANDOVER + 1 {
                        return Ok((self.readers.load(Ordering::Relaxed), may_share));
                    }
                }
                return Err(Errno::ETIMEDOUT);
            }
            r = self.readers.load(Ordering::Relaxed);
        }
    }

    /// The primary writer of a read phase with readers: wait for the last reader's explicit
    /// hand-over of the write phase (`wrphase_futex` becoming 1, confirmed by `readers`).
    fn wait_for_write_phase(&self, deadline: Deadline) -> Result<()> {
        let mut ready = false;
        let mut spins = SPINS;
        loop {
            loop {
                let wpf = spin_load(&self.wrphase_futex, Ordering::Relaxed);
                if wpf | FUTEX_USED != FUTEX_USED {
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
                        .compare_exchange_weak(wpf, FUTEX_USED, Ordering::Relaxed, Ordering::Relaxed)
                        .is_err()
                {
                    continue;
                }
                if let Err(Errno::ETIMEDOUT) = futex_wait(&self.wrphase_futex, FUTEX_USED, deadline, self.scope()) {
                    return self.write_timed_out();
                }
            }
            if ready {
                return Ok(());
            }
            // Acquire: synchronizes with the last reader's release. (While the reader has
            // not yet stored the phase value, this loop spins.)
            if spin_load(&self.readers, Ordering::Acquire) & WRPHASE != 0 {
                ready = true;
            } else {
                spin_hint();
            }
        }
    }

    /// The primary writer's wait for the write phase timed out: hand WRLOCKED to a
    /// registered writer, or give it up if the write phase has not begun; if it has, the
    /// hand-over is under way and the lock is ours (spin for the hand-over's last store).
    fn write_timed_out(&self) -> Result<()> {
        let scope = self.scope();
        if self.prefers_writers() {
            let mut w = self.writers.load(Ordering::Relaxed);
            if w != 0 {
                // Releasing WRLOCKED: disable blocking on `writers_futex` as an unlock does.
                let wf = self.writers_futex.swap(0, Ordering::Relaxed);
                while w != 0 {
                    // Release: the next writer takes over our view of `readers`.
                    match self.writers.compare_exchange_weak(w, w | WRHANDOVER, Ordering::Release, Ordering::Relaxed) {
                        Ok(_) => {
                            if wf & FUTEX_USED != 0 {
                                futex_wake(&self.writers_futex, 1, scope);
                            }
                            return Err(Errno::ETIMEDOUT);
                        }
                        Err(now) => w = now,
                    }
                }
                // Still ours: enable waiting again, keeping the sleepers' flag.
                racing_store(&self.writers_futex, wf, Ordering::Relaxed);
            }
        }
        let mut r = self.readers.load(Ordering::Relaxed);
        if r & WRPHASE == 0 {
            let wf = self.writers_futex.swap(0, Ordering::Relaxed);
            while r & WRPHASE == 0 {
                // Release: orders our `writers_futex` changes before the next primary
                // writer's. Readers that waited for us (RWAITING) may go on.
                match self.readers.compare_exchange_weak(
                    r,
                    (r ^ WRLOCKED) & !RWAITING,
                    Ordering::Release,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        if wf & FUTEX_USED != 0 {
                            futex_wake(&self.writers_futex, 1, scope);
                        }
                        if r & RWAITING != 0 {
                            futex_wake(&self.readers, i32::MAX, scope);
                        }
                        return Err(Errno::ETIMEDOUT);
                    }
                    Err(now) => r = now,
                }
            }
            racing_store(&self.writers_futex, wf, Ordering::Relaxed);
        }
        // Acquire: as on the path without a timeout.
        fence(Ordering::Acquire);
        while spin_load(&self.wrphase_futex, Ordering::Relaxed) | FUTEX_USED == FUTEX_USED {
            spin_hint();
        }
        Ok(())
    }

    /// Takes the write lock if that needs no wait. Errors: EBUSY.
    pub fn try_write(&self) -> Result<()> {
        self.try_write_free()?;
        self.cur_writer.store(tid(), Ordering::Relaxed);
        Ok(())
    }

    /// Releases the write lock: hands it to a registered writer when preferring writers,
    /// else ends the write phase if readers wait (explicit hand-over to them).
    fn write_unlock(&self) {
        if self.solo()
            && self.readers.load(Ordering::Relaxed) == WRPHASE | WRLOCKED
            && self.writers.load(Ordering::Relaxed) == 0
            && self.writers_futex.load(Ordering::Relaxed) & FUTEX_USED == 0
        {
            // No reader or writer waits: end as an idle write phase.
            self.cur_writer.store(0, Ordering::Relaxed);
            self.writers_futex.store(0, Ordering::Relaxed);
            self.readers.store(WRPHASE, Ordering::Relaxed);
            return;
        }
        let scope = self.scope();
        self.cur_writer.store(0, Ordering::Relaxed);
        // Disable waiting by writers; they are woken once we decided how to go on.
        let wake_writers = self.writers_futex.swap(0, Ordering::Relaxed) & FUTEX_USED != 0;
        if !self.hand_to_writer() {
            let mut r = self.readers.load(Ordering::Relaxed);
            loop {
                // Readers waiting: their read phase begins (an explicit hand-over).
                let new = (r ^ WRLOCKED) ^ if r >> READER_SHIFT == 0 { 0 } else { WRPHASE };
                // Release: the critical section happens before the next holders.
                match self.readers.compare_exchange_weak(r, new, Ordering::Release, Ordering::Relaxed) {
                    Ok(_) => break,
                    Err(now) => r = now,
                }
            }
            if r >> READER_SHIFT != 0 && self.wrphase_futex.swap(0, Ordering::Relaxed) & FUTEX_USED != 0 {
                futex_wake(&self.wrphase_futex, i32::MAX, scope);
            }
        }
        if wake_writers {
            futex_wake(&self.writers_futex, 1, scope);
        }
    }

    /// Preferring writers: passes WRLOCKED to a registered writer (WRHANDOVER); false if
    /// none is registered.
    #[inline]
    fn hand_to_writer(&self) -> bool {
        if !self.prefers_writers() {
            return false;
        }
        let mut w = self.writers.load(Ordering::Relaxed);
        while w != 0 {
            // Release: the writer taking over synchronizes with us.
            match self.writers.compare_exchange_weak(w, w | WRHANDOVER, Ordering::Release, Ordering::Relaxed) {
                Ok(_) => return true,
                Err(now) => w = now,
            }
        }
        false
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
        assert_eq!(l.readers.load(Ordering::Relaxed), 2 * ONE_READER);
        assert_eq!(l.try_write(), Err(Errno::EBUSY));
        l.unlock().unwrap();
        l.unlock().unwrap();
        assert_eq!(l.unlock(), Err(Errno::EPERM));
        l.write(None).unwrap();
        assert_eq!(l.readers.load(Ordering::Relaxed), WRPHASE | WRLOCKED);
        assert_eq!(l.write(None), Err(Errno::EDEADLK));
        assert_eq!(l.read(None), Err(Errno::EDEADLK));
        assert_eq!(l.try_read(), Err(Errno::EBUSY));
        assert_eq!(l.try_write(), Err(Errno::EBUSY));
        l.unlock().unwrap();
        // Idle in a write phase (glibc's state #5); the next reader starts a read phase.
        assert_eq!(l.readers.load(Ordering::Relaxed), WRPHASE);
        l.read(None).unwrap();
        assert_eq!(l.readers.load(Ordering::Relaxed), ONE_READER);
        l.unlock().unwrap();
    }

    #[test]
    fn reader_overflow_is_eagain() {
        let l = lock(PREFER_READER);
        l.readers.store(READER_OVERFLOW - ONE_READER, Ordering::Relaxed);
        assert_eq!(l.read(None), Err(Errno::EAGAIN));
        assert_eq!(l.try_read(), Err(Errno::EAGAIN));
        assert_eq!(l.readers.load(Ordering::Relaxed), READER_OVERFLOW - ONE_READER);
    }

    #[test]
    fn only_nonrecursive_writer_preference_holds_readers_back() {
        for kind in [PREFER_READER, PREFER_WRITER] {
            let l = lock(kind);
            l.read(None).unwrap();
            // A primary writer waits for the readers: simulate its bit.
            l.readers.fetch_or(WRLOCKED, Ordering::Relaxed);
            l.try_read().unwrap();
            l.readers.fetch_sub(ONE_READER, Ordering::Relaxed);
        }
        let n = lock(PREFER_WRITER_NONRECURSIVE);
        n.read(None).unwrap();
        n.readers.fetch_or(WRLOCKED, Ordering::Relaxed);
        assert_eq!(n.try_read(), Err(Errno::EBUSY));
        let ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        assert_eq!(n.read(Some((&ts, super::super::model::Clock::Monotonic))), Err(Errno::ETIMEDOUT));
    }
}

/// The protocol has short busy-waits (a thread that registered waits for the phase value the
/// other side stores right after its CAS). A model with two threads that may spin at once
/// lets loom explore schedules in which they take turns forever while the third thread
/// never runs (yields are not preemptions), so the three-thread models keep to roles where
/// at most one thread spins at a time.
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
            assert_eq!(l.0.readers.load(Ordering::SeqCst) & !(WRPHASE), 0);
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

    /// Writer preference: the releasing writer hands WRLOCKED to the registered one.
    #[test]
    fn loom_rwlock_writer_pref_handover() {
        model(PREFER_WRITER, &[true, true]);
    }

    #[test]
    fn loom_rwlock_writer_pref_reader_writer() {
        model(PREFER_WRITER, &[false, true]);
    }

    /// A writer that gives up (timeout) must not leave readers queued behind it asleep, nor
    /// the lock held.
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
            assert_eq!(l.0.readers.load(Ordering::SeqCst) & !(WRPHASE), 0);
        });
    }

    /// Writer preference: a writer that times out while registered must take a pending
    /// hand-over (or nobody would release WRLOCKED).
    #[test]
    fn loom_rwlock_timed_writer_handover() {
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(2);
        b.check(|| {
            let l = lock(PREFER_WRITER);
            let lw = l.clone();
            let w = thread::spawn(move || {
                let ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
                if lw.0.write(Some((&ts, super::super::model::Clock::Monotonic))).is_ok() {
                    assert_eq!(lw.1.fetch_add(1000, Ordering::SeqCst), 0);
                    lw.1.fetch_sub(1000, Ordering::SeqCst);
                    lw.0.unlock().unwrap();
                }
            });
            writer(&l);
            w.join().unwrap();
            reader(&l);
            assert_eq!(l.0.readers.load(Ordering::SeqCst) & !(WRPHASE), 0);
        });
    }
}
