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
    /// If it was taken with the lock-order check (or needed none): [`cache_key`] of the
    /// [`stamp`] of the locks held below it then, its address and its mode; [`UNCHECKED`]
    /// otherwise. Kept when the entry is popped: the entry is then a cache for the next
    /// acquisition at its depth ([`Record::cached`]).
    pub key: AtomicU64,
}

/// [`Held::key`] of an entry not taken with the order check (zeroed memory reads so).
pub const UNCHECKED: u64 = 0;

/// The cache key of an acquisition of `addr` held once as `mode` under the held locks of
/// stamp `under`: one word, so that the fast path's test is one compare. Two different
/// (stamp, address, mode) give the same key only by a 64-bit hash coincidence: the stamp is
/// a hash, and the mode enters as a hash of its own.
#[inline(always)]
fn cache_key(under: u64, addr: usize, mode: u32) -> u64 {
    under ^ addr as u64 ^ tables::mix(mode as u64 | 1 << 40)
}

/// The chain of "no lock held" (even: no [`chain_of`] value).
const ROOT: u64 = 2;

/// The chain of the held classes `parent` plus `class` (odd: never [`ROOT`] or [`UNCHECKED`]).
fn chain_of(parent: u64, class: u32) -> u64 {
    tables::mix(parent.rotate_left(7) ^ class as u64) | 1
}

/// A chain (or [`ROOT`]) with the current re-initialization epoch (`diag::reinit_epoch`) in
/// its high half: never [`UNCHECKED`] (a chain is odd, ROOT is 2), and different from every
/// stamp taken before an object was initialized again.
#[inline(always)]
fn stamp(chain: u64) -> u64 {
    chain ^ (super::reinit_epoch() as u64) << 32
}

/// [`Held::mode`] of a lock held once (not relocked) with `hold` as an object of `kind`.
pub const fn held_once(hold: u32, kind: Kind) -> u32 {
    hold | (kind as u32) << 8 | 1 << 16
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
    /// Contended wait (ns) since the thread last took a wait's stack (`contention`).
    pub stack_wait: AtomicU64,
    /// `contention`: the lock of the thread's tally of contended waits not yet booked in
    /// their class (`contention::acquired`), 0 if none, 1 while a report books it; published
    /// last (Release), taken by a compare-and-swap (`contention::tally`).
    pub pend_addr: AtomicUsize,
    /// Its class (0: not looked up yet) and kind (`Kind` as u32).
    pub pend_class: AtomicU32,
    /// See [`Record::pend_class`].
    pub pend_kind: AtomicU32,
    /// The tally: waits, their total and longest (ns).
    pub pend_count: AtomicU64,
    /// See [`Record::pend_count`].
    pub pend_wait: AtomicU64,
    /// See [`Record::pend_count`].
    pub pend_max: AtomicU64,
    /// Sampled acquisitions until the next whose hold is timed.
    pub hold_sample: AtomicU32,
    /// Contention sampling: uncontended acquisitions until the next sampled one (with the
    /// thread's other sampling state; in TLS it measured the same). What the sampling cost
    /// the uncontended mutex pair at 1 in 64, 2.2 → 3.75 ns single-threaded and 12.9 → 14.1 ns
    /// with threads running, was the sampled acquisitions' booking, mostly their timed holds
    /// (~50 ns each): hence 1 in 256 and holds timed for one sample in 8.
    pub sample_left: AtomicUsize,
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
    /// `chains[k]`: the classes of the first `k` held entries, in order, as one hash
    /// ([`chain_of`]); `chains[0]` is [`ROOT`] (set when the record is claimed).
    chains: [AtomicU64; HELD + 1],
}

// Per-thread words in initial-exec TLS (a fresh thread reads zeros):
//   +0   the thread's record (0 = none yet, [`NO_RECORD`] = none to be had), with [`BUSY`]
//        or'ed in while the thread runs diagnostic code (whatever that code calls — the
//        unwinder may lock a mutex — then takes the plain path; in this word, the lock
//        paths' one load and one compare answer both questions: [`usable`]);
//   +8   contention sampling: the lock whose hold is being timed (0: none), read by every
//        unlock in `contention` mode (a load only; the countdown is [`Record::sample_left`]).
global_asm!(
    ".section .tbss,\"awT\",@nobits",
    ".p2align 3",
    "rpthread_diag_record:",
    ".zero 16",
    ".previous",
);

/// In the record word: the thread runs diagnostic code (or'ed into its record's address,
/// which is below 2^47).
const BUSY: usize = 1 << 63;
/// The record word of a thread that could not have a record (the table was full): negative,
/// as a busy record's, and never one.
const NO_RECORD: usize = BUSY | 1 << 62;

/// Whether a record word names a record and the thread is not running diagnostic code: the
/// word is positive (0: none yet; [`NO_RECORD`] and a [`BUSY`] record are negative): one
/// test. (The flags in the low bits of an aligned address took a test of the bits and one of
/// zero, two of the few instructions of `order`'s fast paths.)
#[inline(always)]
fn usable(p: usize) -> bool {
    (p as isize) > 0
}

/// Whether a record word names a record, busy or not.
#[inline(always)]
fn has_record(p: usize) -> bool {
    p != 0 && p != NO_RECORD
}

/// Marks the calling thread as running diagnostic code (`busy`) or not; returns what it
/// was. Plain load and store: only the thread itself writes its word, and a signal handler
/// that interrupts it restores the value before returning.
pub fn set_busy(busy: bool) -> bool {
    let p = tls_load::<0>();
    if !has_record(p) {
        return false;
    }
    tls_store::<0>(if busy { p | BUSY } else { p & !BUSY });
    p & BUSY != 0
}

/// The TLS word at `OFF` (0 or 8) of the calling thread.
#[inline(always)]
fn tls_load<const OFF: usize>() -> usize {
    let p: usize;
    // SAFETY: %fs-relative load of this library's static TLS block (16 bytes).
    unsafe {
        asm!("mov {0}, qword ptr [rip + rpthread_diag_record@GOTTPOFF]",
             "mov {0}, qword ptr fs:[{0} + {off}]", out(reg) p, off = const OFF,
             options(nostack, readonly, preserves_flags))
    };
    p
}

#[inline(always)]
fn tls_store<const OFF: usize>(v: usize) {
    // SAFETY: %fs-relative store to this library's static TLS block (16 bytes).
    unsafe {
        asm!("mov {t}, qword ptr [rip + rpthread_diag_record@GOTTPOFF]",
             "mov qword ptr fs:[{t} + {off}], {v}", t = out(reg) _, off = const OFF, v = in(reg) v,
             options(nostack, preserves_flags))
    };
}

/// Counts one uncontended acquisition: true while it is not the sampled one (the countdown
/// is above 1). A thread without a record yet (or without one to be had, or running
/// diagnostic code) answers false, which sends its acquisition to the full path, where the
/// record is claimed and the countdown set (or, for diagnostic code, nothing is booked).
#[inline(always)]
pub fn tick() -> bool {
    let p = tls_load::<0>();
    if !usable(p) {
        return false;
    }
    // SAFETY: the slot holds the address of our record in the mapped tables.
    let r = unsafe { &*(p as *const Record) };
    // Relaxed: only the owning thread touches its countdown.
    let c = r.sample_left.load(Ordering::Relaxed);
    if c > 1 {
        r.sample_left.store(c - 1, Ordering::Relaxed);
        true
    } else {
        false
    }
}

/// Restarts the calling thread's sampling countdown (`rec`: its record).
pub fn rearm(rec: &Record, period: u32) {
    rec.sample_left.store(period as usize, Ordering::Relaxed);
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

/// The calling thread's record if it has one and is not running diagnostic code: for fast
/// paths (a thread without a record yet takes the full path, which claims one).
#[inline(always)]
pub fn current_claimed() -> Option<&'static Record> {
    let p = tls_load::<0>();
    if usable(p) {
        // SAFETY: the slot holds the address of our record in the mapped tables.
        Some(unsafe { &*(p as *const Record) })
    } else {
        None
    }
}

/// The calling thread's record, claimed on first use; None if the table is full or the thread
/// is inside diagnostic code already.
#[inline]
pub fn current() -> Option<&'static Record> {
    let p = tls_load::<0>();
    if usable(p) {
        // SAFETY: the slot holds the address of our record in the mapped tables.
        Some(unsafe { &*(p as *const Record) })
    } else if p == 0 {
        claim()
    } else {
        // No record to be had, or running diagnostic code.
        None
    }
}

/// The calling thread's record if it has one (no claim), busy or not.
pub fn existing() -> Option<&'static Record> {
    let p = tls_load::<0>();
    // SAFETY: as in `current` (without the busy bit).
    has_record(p).then(|| unsafe { &*((p & !BUSY) as *const Record) })
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
        rearm(self, super::sample_period());
        set_timed(0);
        self.stack_wait.store(super::contention::STACK_WAIT_NS, Ordering::Relaxed);
        self.hold_sample.store(0, Ordering::Relaxed);
        self.chains[0].store(ROOT, Ordering::Relaxed);
        self.wait_kind.store(wait::NONE, Ordering::Relaxed);
        self.nheld.store(0, Ordering::Relaxed);
    }

    /// Runs diagnostic code with `busy` set: lock calls made meanwhile (by the unwinder, say)
    /// take the plain path instead of recursing into diagnostics.
    /// Called on the calling thread's own record ([`set_busy`]).
    #[inline]
    pub fn guarded<R>(&self, f: impl FnOnce() -> R) -> R {
        let was = set_busy(true);
        let r = f();
        set_busy(was);
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

    /// Records a newly held lock (false if there is no room); `checked`: taken with the
    /// lock-order check, or one that needs none.
    #[allow(clippy::too_many_arguments)]
    pub fn push(&self, addr: usize, inst: u32, class: u32, mode: u32, kind: Kind, t0: u64, checked: bool) -> bool {
        let n = self.nheld.load(Ordering::Relaxed) as usize;
        if n >= HELD {
            tables::note_lost(tables::lost::HELD);
            return false;
        }
        let h = &self.held[n];
        let parent = self.chain_below(n);
        h.addr.store(addr, Ordering::Relaxed);
        h.inst.store(inst, Ordering::Relaxed);
        h.class.store(class, Ordering::Relaxed);
        let m = held_once(mode, kind);
        h.mode.store(m, Ordering::Relaxed);
        h.t0.store(t0, Ordering::Relaxed);
        self.chains[n + 1].store(chain_of(parent, class), Ordering::Relaxed);
        h.key.store(if checked { cache_key(stamp(parent), addr, m) } else { UNCHECKED }, Ordering::Relaxed);
        self.nheld.store(n as u32 + 1, Ordering::Relaxed);
        true
    }

    /// The chain of the entries below depth `n`.
    #[inline(always)]
    fn chain_below(&self, n: usize) -> u64 {
        self.chains[n].load(Ordering::Relaxed)
    }

    /// `order`'s fast path ([`super::hooks`]): the depth at which `addr` can be recorded as
    /// held again by a plain increment of `nheld`, because the entry there (left by its last
    /// release) is that object, held once as `mode` ([`held_once`]), taken with the order
    /// check under exactly the locks held now (same chain: same classes, same order) and with
    /// no object initialized again since (same epoch: the class it names is still the
    /// object's). Then every field already says what a push would write, and the check would
    /// find every edge known. None: the full path.
    #[inline(always)]
    pub fn cached(&self, addr: usize, mode: u32) -> Option<usize> {
        let n = self.nheld.load(Ordering::Relaxed) as usize;
        let h = self.held.get(n)?;
        (h.key.load(Ordering::Relaxed) == cache_key(stamp(self.chain_below(n)), addr, mode)).then_some(n)
    }

    /// `order`'s fast release: pops the innermost entry if it is `addr` held once as `mode`
    /// or `alt` ([`held_once`]); false (nothing done) otherwise.
    #[inline(always)]
    pub fn pop_innermost(&self, addr: usize, mode: u32, alt: u32) -> bool {
        let n = self.nheld.load(Ordering::Relaxed) as usize;
        let Some(h) = n.checked_sub(1).and_then(|i| self.held.get(i)) else { return false };
        let m = h.mode.load(Ordering::Relaxed);
        if h.addr.load(Ordering::Relaxed) != addr || (m != mode && m != alt) {
            return false;
        }
        self.nheld.store(n as u32 - 1, Ordering::Relaxed);
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
        // Locks need not be released in order: close the gap. The moved entries' chains are
        // recomputed (a chain always names exactly the classes held up to its entry); what
        // they were checked under stays (it names the locks held when they were taken).
        for j in i..n - 1 {
            let (a, b) = (&self.held[j], &self.held[j + 1]);
            let class = b.class.load(Ordering::Relaxed);
            a.addr.store(b.addr.load(Ordering::Relaxed), Ordering::Relaxed);
            a.inst.store(b.inst.load(Ordering::Relaxed), Ordering::Relaxed);
            a.class.store(class, Ordering::Relaxed);
            a.mode.store(b.mode.load(Ordering::Relaxed), Ordering::Relaxed);
            a.t0.store(b.t0.load(Ordering::Relaxed), Ordering::Relaxed);
            self.chains[j + 1].store(chain_of(self.chain_below(j), class), Ordering::Relaxed);
            a.key.store(b.key.load(Ordering::Relaxed), Ordering::Relaxed);
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
        // Only this thread writes its record's wait fields: a plain increment (an atomic
        // read-modify-write here cost every contended wait ~10 ns).
        self.wait_seq.store(self.wait_seq.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
        // Release: a reader that sees the kind sees the fields above.
        self.wait_kind.store(kind, Ordering::Release);
    }

    /// The wait is over.
    pub fn end_wait(&self) {
        self.wait_kind.store(wait::NONE, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> Box<Record> {
        // SAFETY: every field is an atomic integer (or an array of them): all zeros is valid.
        let r: Box<Record> = Box::new(unsafe { core::mem::zeroed() });
        r.chains[0].store(ROOT, Ordering::Relaxed);
        r
    }

    const M: u32 = held_once(hold::EXCLUSIVE, Kind::Mutex);

    #[test]
    fn cache_hits_only_the_same_lock_under_the_same_held_locks() {
        let r = record();
        assert_eq!(r.cached(0x10, M), None, "nothing cached yet");
        r.push(0x10, 1, 7, hold::EXCLUSIVE, Kind::Mutex, 0, true);
        assert!(r.pop_innermost(0x10, M, M));
        assert_eq!(r.cached(0x10, M), Some(0));
        assert_eq!(r.cached(0x18, M), None, "another object");
        assert_eq!(r.cached(0x10, held_once(hold::SHARED, Kind::RwLock)), None, "another kind");
        // A trylock's entry is not a cache for a blocking lock.
        r.push(0x20, 2, 8, hold::EXCLUSIVE, Kind::Mutex, 0, false);
        assert!(r.pop_innermost(0x20, M, M));
        assert_eq!(r.cached(0x20, M), None);
        // Taken with 0x30 held: a hit with 0x30 held, not with another lock held instead.
        r.push(0x30, 3, 9, hold::EXCLUSIVE, Kind::Mutex, 0, false);
        r.push(0x10, 1, 7, hold::EXCLUSIVE, Kind::Mutex, 0, true);
        assert!(r.pop_innermost(0x10, M, M));
        assert_eq!(r.cached(0x10, M), Some(1));
        assert!(r.pop_innermost(0x30, M, M));
        r.push(0x40, 4, 10, hold::EXCLUSIVE, Kind::Mutex, 0, false);
        assert_eq!(r.cached(0x10, M), None, "same depth, other locks held");
    }

    #[test]
    fn out_of_order_release_recomputes_the_chains() {
        let r = record();
        for (a, c) in [(0x10, 1), (0x20, 2), (0x30, 3)] {
            r.push(a, c, c, hold::EXCLUSIVE, Kind::Mutex, 0, true);
        }
        r.pop(0x20).expect("held");
        let want = chain_of(chain_of(ROOT, 1), 3);
        assert_eq!(r.chain_below(2), want, "the chain of what is held: 0x10 then 0x30");
        assert_eq!(r.held().iter().map(|h| h.addr.load(Ordering::Relaxed)).collect::<Vec<_>>(), [0x10, 0x30]);
    }

    #[test]
    fn reinit_epoch_invalidates_the_cache() {
        let r = record();
        r.push(0x10, 1, 7, hold::EXCLUSIVE, Kind::Mutex, 0, true);
        assert!(r.pop_innermost(0x10, M, M));
        assert_eq!(r.cached(0x10, M), Some(0));
        super::super::bump_reinit_epoch();
        assert_eq!(r.cached(0x10, M), None);
    }
}
