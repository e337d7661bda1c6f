//! Per-thread records: what a thread holds, what it waits for, its sampling state.
//!
//! Records live in the preallocated [`super::tables::Tables::threads`] array, so that a
//! report can read every thread's held locks and wait. A thread finds its own record through
//! one word of initial-exec TLS (declared here with `global_asm`, as `thread::current` does):
//! that works for every thread, ours, the main thread and threads glibc runs, and a fresh
//! thread's TLS reads zero. The record is claimed on the thread's first diagnostic event and
//! released when one of our threads ends (`super::thread_exit`); records of threads that ended
//! otherwise are reclaimed once their tid is gone.
//!
//! Only the owning thread writes its record (besides claim and release); other threads read
//! it for reports with Relaxed loads: a report may catch a record mid-update and show one lock
//! too many or too few, never crash.

use super::tables::{self, Kind, HELD};
use core::arch::{asm, global_asm};
use core::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, AtomicUsize, Ordering};

/// What a blocked thread waits for ([`Record::wait_kind`]).
pub mod wait {
    /// Not waiting.
    pub const NONE: u32 = 0;
    /// A mutex (wait_obj = the mutex).
    pub const MUTEX: u32 = 1;
    /// An rwlock, to read.
    pub const RDLOCK: u32 = 2;
    /// An rwlock, to write.
    pub const WRLOCK: u32 = 3;
    /// A spinlock.
    pub const SPIN: u32 = 4;
    /// A semaphore.
    pub const SEM: u32 = 5;
    /// A condition variable.
    pub const COND: u32 = 6;
    /// A thread to end (wait_tid = its tid, wait_obj = its pthread_t).
    pub const JOIN: u32 = 7;
}

/// How a lock is held ([`Held::mode`] low byte).
pub mod hold {
    /// Exclusively (mutex, spinlock, rwlock writer).
    pub const EXCLUSIVE: u32 = 1;
    /// Shared (rwlock reader).
    pub const SHARED: u32 = 2;
}

/// One held lock.
#[repr(C)]
pub struct Held {
    /// The object.
    pub addr: AtomicUsize,
    /// Its instance index + 1 (0: not tracked).
    pub inst: AtomicU32,
    /// Its class id.
    pub class: AtomicU32,
    /// `hold::*` | kind << 8 | depth << 16 (recursive relocks).
    pub mode: AtomicU32,
    /// When it was taken (ns, monotonic), 0 if not timed.
    pub t0: AtomicU64,
}

/// A thread's record.
#[repr(C)]
pub struct Record {
    /// 0 free, 1 in use.
    pub used: AtomicU32,
    /// Kernel tid.
    pub tid: AtomicI32,
    /// pthread_t.
    pub handle: AtomicUsize,
    /// Set while the thread runs diagnostic code (whatever that code calls — the unwinder may
    /// lock a mutex — then takes the plain path).
    pub busy: AtomicU32,
    /// Contended acquisitions until the next whose stack is taken.
    pub stack_sample: AtomicU32,
    /// [`wait`] kind.
    pub wait_kind: AtomicU32,
    /// The object waited for.
    pub wait_obj: AtomicUsize,
    /// Its instance index + 1.
    pub wait_inst: AtomicU32,
    /// Join: the tid of the thread waited for.
    pub wait_tid: AtomicI32,
    /// When the wait began.
    pub wait_since: AtomicU64,
    /// Incremented at every wait: a deadlock needs every thread of the cycle in the same wait
    /// on two looks.
    pub wait_seq: AtomicU64,
    /// Contention sampling: since when the lock in the TLS `timed` word is held.
    pub timed_t0: AtomicU64,
    /// Class of the timed lock.
    pub timed_class: AtomicU32,
    /// Entries of `held` in use.
    pub nheld: AtomicU32,
    /// Held locks, oldest first.
    pub held: [Held; HELD],
}

// Per-thread words in initial-exec TLS (a fresh thread reads zeros):
//   +0   the thread's record (0 = none yet, 1 = none to be had);
//   +8   contention sampling: the lock whose hold is being timed (0: none);
//   +16  contention sampling: uncontended acquisitions until the next sampled one (u32).
// The last two are what `contention`'s inlined fast path touches: no record lookup there.
global_asm!(
    ".section .tbss,\"awT\",@nobits",
    ".p2align 3",
    "rpthread_diag_record:",
    ".zero 24",
    ".previous",
);

const NO_RECORD: usize = 1;

/// The TLS word at `OFF` (0, 8 or 16) of the calling thread.
#[inline(always)]
fn tls_load<const OFF: usize>() -> usize {
    let p: usize;
    // SAFETY: %fs-relative load of this library's static TLS block (24 bytes).
    unsafe {
        asm!("mov {0}, qword ptr [rip + rpthread_diag_record@GOTTPOFF]",
             "mov {0}, qword ptr fs:[{0} + {off}]", out(reg) p, off = const OFF,
             options(nostack, readonly, preserves_flags))
    };
    p
}

#[inline(always)]
fn tls_store<const OFF: usize>(v: usize) {
    // SAFETY: %fs-relative store to this library's static TLS block (24 bytes).
    unsafe {
        asm!("mov {t}, qword ptr [rip + rpthread_diag_record@GOTTPOFF]",
             "mov qword ptr fs:[{t} + {off}], {v}", t = out(reg) _, off = const OFF, v = in(reg) v,
             options(nostack, preserves_flags))
    };
}

/// Counts one uncontended acquisition: true while it is not the sampled one (the countdown
/// is above 1). A fresh thread's zero countdown sends its first acquisition to the full path,
/// which sets the thread up. Measured: this store is most of what `contention` costs an
/// uncontended lock+unlock pair (~1.5 ns: the unlock's locked exchange waits for it to leave
/// the store buffer); the rest of the fast path costs nothing measurable.
#[inline(always)]
pub fn tick() -> bool {
    let c = tls_load::<16>();
    if c > 1 {
        tls_store::<16>(c - 1);
        true
    } else {
        false
    }
}

/// Restarts the sampling countdown.
pub fn rearm(period: u32) {
    tls_store::<16>(period as usize);
}

/// The lock whose hold the thread is timing (0: none).
#[inline(always)]
pub fn timed() -> usize {
    tls_load::<8>()
}

/// Sets the lock whose hold is timed.
#[inline(always)]
pub fn set_timed(addr: usize) {
    tls_store::<8>(addr)
}

/// The calling thread's record, claimed on first use; None if the table is full or the thread
/// is inside diagnostic code already.
#[inline]
pub fn current() -> Option<&'static Record> {
    let p = tls_load::<0>();
    let r = if p > NO_RECORD {
        // SAFETY: the slot holds the address of our record in the mapped tables.
        unsafe { &*(p as *const Record) }
    } else if p == NO_RECORD {
        return None;
    } else {
        claim()?
    };
    if r.busy.load(Ordering::Relaxed) != 0 {
        return None;
    }
    Some(r)
}

/// The calling thread's record if it has one (no claim), busy or not.
pub fn existing() -> Option<&'static Record> {
    let p = tls_load::<0>();
    // SAFETY: as in `current`.
    (p > NO_RECORD).then(|| unsafe { &*(p as *const Record) })
}

#[cold]
fn claim() -> Option<&'static Record> {
    let t = tables::get();
    let me = crate::sys::gettid();
    let start = (tables::mix(me as u64) as usize) % t.threads.len();
    // Two passes: free records first, then records whose thread is gone.
    for pass in 0..2 {
        for k in 0..t.threads.len() {
            let r = &t.threads[(start + k) % t.threads.len()];
            // Acquire: the previous owner's writes (its release) are done. A record of a dead
            // thread goes 1 → 2 (only one reclaimer wins) and back to 1 once reset.
            let got = if pass == 0 {
                r.used.load(Ordering::Relaxed) == 0
                    && r.used.compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed).is_ok()
            } else {
                r.used.load(Ordering::Relaxed) == 1
                    && !alive(r.tid.load(Ordering::Relaxed))
                    && r.used.compare_exchange(1, 2, Ordering::Acquire, Ordering::Relaxed).is_ok()
            };
            if got {
                r.reset(me);
                r.used.store(1, Ordering::Release);
                tls_store::<0>(r as *const Record as usize);
                return Some(r);
            }
        }
    }
    tables::note_lost(tables::lost::THREADS);
    tls_store::<0>(NO_RECORD);
    None
}

/// Whether thread `tid` of this process still exists.
pub fn alive(tid: i32) -> bool {
    if tid <= 0 {
        return false;
    }
    // Signal 0 only checks that the thread exists.
    crate::sys::tgkill(tid, 0) != Err(crate::errno::Errno::ESRCH)
}

/// Gives the calling thread's record back (its thread is ending).
pub fn release_current() {
    if let Some(r) = existing() {
        r.nheld.store(0, Ordering::Relaxed);
        r.wait_kind.store(wait::NONE, Ordering::Relaxed);
        r.tid.store(0, Ordering::Relaxed);
        // Release: a later claimer sees the record cleared.
        r.used.store(0, Ordering::Release);
        tls_store::<0>(NO_RECORD);
    }
}

/// In the child of fork: only the calling thread exists; every other record is free again.
pub fn forget_others() {
    let t = tables::get();
    let mine = existing().map_or(0, |r| r as *const Record as usize);
    for r in t.threads.iter() {
        if r as *const Record as usize != mine {
            r.nheld.store(0, Ordering::Relaxed);
            r.wait_kind.store(wait::NONE, Ordering::Relaxed);
            r.tid.store(0, Ordering::Relaxed);
            r.used.store(0, Ordering::Release);
        }
    }
    if let Some(r) = existing() {
        r.tid.store(crate::sys::gettid(), Ordering::Relaxed);
    }
}

/// The record of thread `tid`, if it has one.
pub fn find(tid: i32) -> Option<&'static Record> {
    tables::get()
        .threads
        .iter()
        .find(|r| r.used.load(Ordering::Acquire) == 1 && r.tid.load(Ordering::Relaxed) == tid)
}

impl Record {
    fn reset(&self, tid: i32) {
        self.tid.store(tid, Ordering::Relaxed);
        self.handle.store(crate::glibc::tcb::current() as usize, Ordering::Relaxed);
        self.busy.store(0, Ordering::Relaxed);
        rearm(super::sample_period());
        set_timed(0);
        self.stack_sample.store(0, Ordering::Relaxed);
        self.wait_kind.store(wait::NONE, Ordering::Relaxed);
        self.nheld.store(0, Ordering::Relaxed);
    }

    /// Runs diagnostic code with `busy` set: lock calls made meanwhile (by the unwinder, say)
    /// take the plain path instead of recursing into diagnostics.
    /// Plain load and store, no locked instruction: only the owner writes `busy`, and a
    /// signal handler that interrupts it restores the value before returning.
    #[inline]
    pub fn guarded<R>(&self, f: impl FnOnce() -> R) -> R {
        let was = self.busy.load(Ordering::Relaxed);
        self.busy.store(1, Ordering::Relaxed);
        let r = f();
        self.busy.store(was, Ordering::Relaxed);
        r
    }

    /// The held entries.
    pub fn held(&self) -> &[Held] {
        let n = (self.nheld.load(Ordering::Relaxed) as usize).min(HELD);
        &self.held[..n]
    }

    /// The entry of `addr` among the held ones, innermost first.
    pub fn find_held(&self, addr: usize) -> Option<&Held> {
        self.held().iter().rev().find(|h| h.addr.load(Ordering::Relaxed) == addr)
    }

    /// Records a newly held lock (false if there is no room).
    pub fn push(&self, addr: usize, inst: u32, class: u32, mode: u32, kind: Kind, t0: u64) -> bool {
        let n = self.nheld.load(Ordering::Relaxed) as usize;
        if n >= HELD {
            tables::note_lost(tables::lost::HELD);
            return false;
        }
        let h = &self.held[n];
        h.addr.store(addr, Ordering::Relaxed);
        h.inst.store(inst, Ordering::Relaxed);
        h.class.store(class, Ordering::Relaxed);
        h.mode.store(mode | (kind as u32) << 8 | 1 << 16, Ordering::Relaxed);
        h.t0.store(t0, Ordering::Relaxed);
        self.nheld.store(n as u32 + 1, Ordering::Relaxed);
        true
    }

    /// Removes the innermost entry of `addr`, returning (mode, t0, class, inst) of it, or None
    /// if the thread does not hold it (as far as we know).
    pub fn pop(&self, addr: usize) -> Option<(u32, u64, u32, u32)> {
        let n = (self.nheld.load(Ordering::Relaxed) as usize).min(HELD);
        let i = (0..n).rev().find(|&i| self.held[i].addr.load(Ordering::Relaxed) == addr)?;
        let h = &self.held[i];
        let out = (
            h.mode.load(Ordering::Relaxed),
            h.t0.load(Ordering::Relaxed),
            h.class.load(Ordering::Relaxed),
            h.inst.load(Ordering::Relaxed),
        );
        // Locks need not be released in order: close the gap.
        for j in i..n - 1 {
            let (a, b) = (&self.held[j], &self.held[j + 1]);
            a.addr.store(b.addr.load(Ordering::Relaxed), Ordering::Relaxed);
            a.inst.store(b.inst.load(Ordering::Relaxed), Ordering::Relaxed);
            a.class.store(b.class.load(Ordering::Relaxed), Ordering::Relaxed);
            a.mode.store(b.mode.load(Ordering::Relaxed), Ordering::Relaxed);
            a.t0.store(b.t0.load(Ordering::Relaxed), Ordering::Relaxed);
        }
        self.nheld.store(n as u32 - 1, Ordering::Relaxed);
        Some(out)
    }

    /// Announces a wait (for reports and the deadlock check).
    pub fn begin_wait(&self, kind: u32, obj: usize, inst: u32, tid: i32, now: u64) {
        self.wait_obj.store(obj, Ordering::Relaxed);
        self.wait_inst.store(inst, Ordering::Relaxed);
        self.wait_tid.store(tid, Ordering::Relaxed);
        self.wait_since.store(now, Ordering::Relaxed);
        self.wait_seq.fetch_add(1, Ordering::Relaxed);
        // Release: a reader that sees the kind sees the fields above.
        self.wait_kind.store(kind, Ordering::Release);
    }

    /// The wait is over.
    pub fn end_wait(&self) {
        self.wait_kind.store(wait::NONE, Ordering::Relaxed);
    }
}
