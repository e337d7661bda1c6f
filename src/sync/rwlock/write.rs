//! The write side of the rwlock: primary writers, write phases, hand-overs between writers.

use super::*;

impl RwLock {
    // ---- writers -------------------------------------------------------------------------

    /// Takes the write lock, sleeping until `deadline` at most.
    /// Errors: EDEADLK (the caller holds it already), ETIMEDOUT.
    #[inline]
    pub fn write(&self, deadline: Deadline) -> Result<()> {
        let me = tid();
        if self.write_solo(me) {
            return Ok(());
        }
        if self.cur_writer.load(Ordering::Relaxed) == me {
            return Err(Errno::EDEADLK);
        }
        // Free and without readers: become the primary writer and start the write phase in
        // one CAS (glibc's trywrlock step; its wrlock takes the same states in two).
        if self.try_write_free().is_err() {
            return self.write_slow_owned(me, deadline);
        }
        // Relaxed: only the holder compares `cur_writer` with its own tid.
        self.cur_writer.store(me, Ordering::Relaxed);
        Ok(())
    }

    /// Takes the write lock if no writer holds it and no reader holds (or, preferring
    /// writers, tries to start a read phase); EBUSY otherwise. `cur_writer` is the
    /// caller's to set.
    #[inline]
    pub(super) fn try_write_free(&self) -> Result<()> {
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
    pub(super) fn write_slow(&self, deadline: Deadline) -> Result<()> {
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
    pub(super) fn become_primary(&self, mut r: u32, deadline: Deadline) -> Result<(u32, bool)> {
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
    pub(super) fn wait_for_write_phase(&self, deadline: Deadline) -> Result<()> {
        if self.wait_for_phase(true, deadline).is_err() {
            return self.write_timed_out();
        }
        Ok(())
    }

    /// The primary writer's wait for the write phase timed out: hand WRLOCKED to a
    /// registered writer, or give it up if the write phase has not begun; if it has, the
    /// hand-over is under way and the lock is ours (spin for the hand-over's last store).
    pub(super) fn write_timed_out(&self) -> Result<()> {
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
    #[inline]
    pub fn try_write(&self) -> Result<()> {
        let me = tid();
        if self.write_solo(me) {
            return Ok(());
        }
        self.try_write_free()?;
        self.cur_writer.store(me, Ordering::Relaxed);
        Ok(())
    }

    /// While the caller is the only thread: takes a free write lock (idle read or write
    /// phase: the states of `try_write_free`) with plain stores. False: not alone, or not
    /// free.
    #[inline(always)]
    fn write_solo(&self, me: i32) -> bool {
        if !self.solo() {
            return false;
        }
        let r = self.readers.load(Ordering::Relaxed);
        if r & !WRPHASE != 0 {
            return false;
        }
        self.readers.store(WRPHASE | WRLOCKED, Ordering::Relaxed);
        self.writers_futex.store(1, Ordering::Relaxed);
        if r == 0 {
            self.wrphase_futex.store(1, Ordering::Relaxed);
        }
        self.cur_writer.store(me, Ordering::Relaxed);
        true
    }

    /// Releases the write lock: hands it to a registered writer when preferring writers,
    /// else ends the write phase if readers wait (explicit hand-over to them).
    pub(super) fn write_unlock(&self) {
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
                wake(&self.wrphase_futex, i32::MAX, scope);
            }
        }
        if wake_writers {
            wake(&self.writers_futex, 1, scope);
        }
    }

    /// The write lock, contended: [`RwLock::write_slow`], then ours (out of line, so that the
    /// uncontended path needs no stack frame).
    #[cold]
    #[inline(never)]
    pub(super) fn write_slow_owned(&self, me: i32, deadline: Deadline) -> Result<()> {
        self.write_slow(deadline)?;
        // Relaxed: only the holder compares `cur_writer` with its own tid.
        self.cur_writer.store(me, Ordering::Relaxed);
        Ok(())
    }

    /// Preferring writers: passes WRLOCKED to a registered writer (WRHANDOVER); false if
    /// none is registered.
    #[inline]
    pub(super) fn hand_to_writer(&self) -> bool {
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
}
