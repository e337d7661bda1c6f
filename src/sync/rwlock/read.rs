//! The read side of the rwlock: taking, timing out and releasing read locks.

use super::*;

impl RwLock {
    // ---- readers -------------------------------------------------------------------------

    /// Takes a read lock, sleeping until `deadline` at most.
    /// Errors: EDEADLK (the caller holds the write lock), EAGAIN (too many readers),
    /// ETIMEDOUT.
    #[inline]
    pub fn read(&self, deadline: Deadline) -> Result<()> {
        match self.read_start() {
            ReadStart::Done(r) => r,
            ReadStart::InWritePhase(r) => self.read_in_write_phase(r, deadline),
            ReadStart::BehindWriter => self.read_behind_writer(deadline),
        }
    }

    /// [`RwLock::read`] of the writer-preferring kind, after `read_start`.
    #[inline(never)]
    fn read_behind_writer(&self, deadline: Deadline) -> Result<()> {
        self.wait_behind_writer(deadline)?;
        match self.register_reader()? {
            None => Ok(()),
            Some(r) => self.read_in_write_phase(r, deadline),
        }
    }

    /// Whether readers of this lock may wait behind a writer before registering (the
    /// non-recursive writer preference: [`ReadStart::BehindWriter`]).
    #[inline(always)]
    pub fn readers_wait_behind_writers(&self) -> bool {
        self.kind == PREFER_WRITER_NONRECURSIVE
    }

    /// Whether the word `r` (from [`ReadStart::InWritePhase`]) shows a writer holding the lock.
    #[inline(always)]
    pub fn write_locked(r: u32) -> bool {
        r & WRLOCKED != 0
    }

    /// The part of [`RwLock::read`] that never blocks, for callers that time the rest
    /// (lock diagnostics): the read lock taken or refused, or registered in a write phase
    /// (go on with [`RwLock::read_in_write_phase`], which may wait), or, for the
    /// writer-preferring kind, nothing done yet (it may first wait behind a writer: call
    /// `read`).
    #[inline(always)]
    pub fn read_start(&self) -> ReadStart {
        if self.solo() {
            let r = self.readers.load(Ordering::Relaxed);
            if r & (WRPHASE | WRLOCKED) == 0 && r < READER_OVERFLOW - ONE_READER {
                self.readers.store(r + ONE_READER, Ordering::Relaxed);
                return ReadStart::Done(Ok(()));
            }
        }
        // Relaxed: only the holder itself ever stores its own tid there.
        if self.cur_writer.load(Ordering::Relaxed) == tid() {
            return ReadStart::Done(Err(Errno::EDEADLK));
        }
        if self.kind == PREFER_WRITER_NONRECURSIVE {
            return ReadStart::BehindWriter;
        }
        match self.register_reader() {
            Ok(Some(r)) => ReadStart::InWritePhase(r),
            r => ReadStart::Done(r.map(drop)),
        }
    }

    /// Counts the caller in as a reader: Ok(None) in a read phase (the lock is taken),
    /// Ok(Some(r)) in a write phase (`r`: the word after our registration), EAGAIN (undone)
    /// at the reader limit.
    #[inline(always)]
    fn register_reader(&self) -> Result<Option<u32>> {
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
        Ok((r & WRPHASE != 0).then_some(r))
    }

    /// `PREFER_WRITER_NONRECURSIVE`: while readers hold the lock and a writer waits, wait
    /// (on `readers`, with RWAITING set) without joining them.
    pub(super) fn wait_behind_writer(&self, deadline: Deadline) -> Result<()> {
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
    pub fn read_in_write_phase(&self, mut r: u32, deadline: Deadline) -> Result<()> {
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
        // Wait until `wrphase_futex` shows the read phase (0): the least recent value we may
        // read there is the last read phase's 0, written before the write phase began.
        if self.wait_for_phase(false, deadline).is_err() {
            return self.read_timed_out();
        }
        Ok(())
    }

    /// A reader's wait for the hand-over timed out: unregister if still in the write phase;
    /// if the read phase began meanwhile, take the lock (the hand-over is already under way,
    /// so spin for it rather than sleep).
    pub(super) fn read_timed_out(&self) -> Result<()> {
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
    pub(super) fn read_unlock(&self) -> Result<()> {
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
                wake(&self.wrphase_futex, i32::MAX, scope);
            }
        }
        if r & RWAITING != rnew & RWAITING {
            wake(&self.readers, i32::MAX, scope);
        }
        Ok(())
    }
}
