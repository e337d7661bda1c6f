//! `contention`: where threads wait.
//!
//! Per lock class: acquisitions, contended acquisitions, wait total / max, hold total / max,
//! and the call stacks that waited most. Every contended wait is timed (the slow path already
//! costs a futex sleep); on the uncontended path one acquisition in `RPTHREAD_DIAG_SAMPLE`
//! per thread is counted (standing for that many), and one counted acquisition in
//! [`HOLD_EVERY`] has its hold timed, so the fast path pays one per-thread decrement. Call
//! stacks attribute waits to call sites: a thread takes one at its first contended wait and
//! then once per [`STACK_WAIT_NS`] of waiting, each standing for the wait since the last
//! (so short waits, a spinlock's, do not pay an unwind each). Condition
//! variable waits are counted as waits of the condvar; semaphore waits as waits of the
//! semaphore.

use super::Acq;
use super::names;
use super::report::{self, Out, Target};
use super::tables::{self, raise, Class, Kind, CLASSES, SITES};
use super::thread::{self, Record};
use super::{config, now, stack};
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU32, Ordering};

/// A thread takes the stack of a contended wait once per this much waiting (ns). Taking one
/// in 8 contended waits instead cost a spinlock handed between two threads every ~50 ns
/// 2.03x its throughput (1.36x with no stacks at all): an unwind is microseconds.
pub const STACK_WAIT_NS: u64 = 1_000_000;
/// One sampled acquisition in this many (per thread) has its hold timed. A timed hold costs
/// two clock reads and the unlock's diagnostic path, ~50 ns: timing every sampled hold cost
/// the uncontended mutex pair with threads running 6% (12.9 → 13.7 ns at 1 in 64; bench
/// loop, medians of 5), counting alone 2.5%.
pub const HOLD_EVERY: u32 = 8;
/// Rows of the text table.
const ROWS: usize = 20;

/// An acquisition succeeded; `waited`: it blocked this long. `class` may be 0 (not looked up
/// yet: only done for sampled and contended acquisitions).
///
/// With `defer` (the contention-only fast paths' waits: `hooks::contended_wait`), a contended
/// acquisition that is not the sampled one and takes no stack is not booked in its class
/// but added to the thread's tally of waits for that same lock ([`Record::pend_addr`]); the
/// tally goes to the class when the thread waits for another lock, when it ends, and when a
/// report is written (for every thread). The caller holds the lock now: booking here (the
/// class lookup, counters on a cache line every waiter writes) lengthened every contended
/// critical section. Measured (bench/sync_mutex.c contended_tiny_2t and sync_rwlock.c
/// read_mostly_4_threads, 7 alternated runs each, cost against diagnostics off): a mutex
/// booked at once 1.07x, tallied 1.03x; read-mostly rwlock 1.51x with the earlier deferral
/// (booked before the thread's next wait), 1.40x tallied. That earlier deferral ran a
/// spinlock handed between two threads faster than with diagnostics off (0.66x: the
/// booking before each wait acted as a back-off that kept the lock with its holder); the
/// tally, 1.38x, is the book-keeping's own cost: two counter reads and the tally inside each
/// contended critical section of ~60 ns.
#[inline]
pub fn acquired(rec: &'static Record, a: Acq, class: u32, waited: Option<u64>, defer: bool) {
    let sampled = !thread::tick();
    if sampled {
        thread::rearm(rec, super::sample_period());
    } else if let Some(w) = waited {
        let since = rec.stack_wait.load(Ordering::Relaxed).saturating_add(w);
        if defer && since < STACK_WAIT_NS {
            rec.stack_wait.store(since, Ordering::Relaxed);
            tally(rec, a, class, w);
            return;
        }
    } else {
        return;
    }
    booked(rec, a, class, sampled, waited);
}

/// [`Record::pend_addr`] while a report (or the thread at its end) books the tally: the
/// fields are being read, the owner leaves them alone.
const TAKEN: usize = 1;

/// Adds a wait to the thread's tally (see [`acquired`]), booking the tally of another lock
/// first. The tally's address says who may touch its fields: 0, only the owner (writing a
/// new tally); a lock's address, whoever takes it (a compare-and-swap: the owner to 0, a
/// report to [`TAKEN`]); [`TAKEN`], only the report reading it, so the owner then books this
/// wait in the class at once (while a report runs).
#[inline]
fn tally(rec: &'static Record, a: Acq, class: u32, w: u64) {
    // Acquire: pairs with the Release stores that published the tally (the owner's below) or
    // gave it back empty (a report's, in `take`).
    let cur = rec.pend_addr.load(Ordering::Acquire);
    if cur == TAKEN || (cur != 0 && rec.pend_addr.compare_exchange(cur, 0, Ordering::Acquire, Ordering::Relaxed).is_err()) {
        book(a.addr, a.kind as u32, class, 1, w, w);
        return;
    }
    if cur == a.addr && rec.pend_kind.load(Ordering::Relaxed) == a.kind as u32 {
        rec.pend_count.store(rec.pend_count.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
        rec.pend_wait.store(rec.pend_wait.load(Ordering::Relaxed).saturating_add(w), Ordering::Relaxed);
        raise(&rec.pend_max, w);
    } else {
        if cur != 0 {
            book_tally(rec, cur);
        }
        rec.pend_kind.store(a.kind as u32, Ordering::Relaxed);
        rec.pend_class.store(class, Ordering::Relaxed);
        rec.pend_count.store(1, Ordering::Relaxed);
        rec.pend_wait.store(w, Ordering::Relaxed);
        rec.pend_max.store(w, Ordering::Relaxed);
    }
    // Release: whoever takes the address sees the fields above.
    rec.pend_addr.store(a.addr, Ordering::Release);
}

/// Books a thread's tally of waits, if any: the thread's own at its end, every thread's
/// before a report ([`flush_all`]).
#[inline]
pub fn flush(rec: &Record) {
    // Relaxed: `take`'s compare-and-swap acquires the fields.
    let cur = rec.pend_addr.load(Ordering::Relaxed);
    if cur > TAKEN {
        take(rec, cur);
    }
}

/// Takes the tally of `r` for the lock at `cur` (its address as just read) and books it,
/// unless someone else took it first.
#[cold]
fn take(r: &Record, cur: usize) {
    // Acquire: pairs with the owner's Release store of the address.
    if r.pend_addr.compare_exchange(cur, TAKEN, Ordering::Acquire, Ordering::Relaxed).is_ok() {
        book_tally(r, cur);
        // Release: the owner's next tally starts after the fields were read.
        r.pend_addr.store(0, Ordering::Release);
    }
}

/// Books the tally of `r` for the lock at `addr`, which the caller took from the record.
fn book_tally(r: &Record, addr: usize) {
    let (kind, class) = (r.pend_kind.load(Ordering::Relaxed), r.pend_class.load(Ordering::Relaxed));
    book(addr, kind, class, r.pend_count.load(Ordering::Relaxed), r.pend_wait.load(Ordering::Relaxed), r.pend_max.load(Ordering::Relaxed));
}

/// Counts `n` contended acquisitions of the lock at `addr` (`kind`: a `Kind` as u32; `class`
/// 0: not looked up yet) that waited `total` ns in all, `max` at most: the counters only
/// (whoever added the waits did the stack accounting). The class lookup may take a stack,
/// whose unwinder may lock: run as diagnostic code.
#[cold]
fn book(addr: usize, kind: u32, class: u32, n: u64, total: u64, max: u64) {
    let class = if class != 0 {
        class
    } else {
        let Some(kind) = Kind::from_u32(kind) else { return };
        let was = thread::set_busy(true);
        let c = super::instance(addr, kind, false).1;
        thread::set_busy(was);
        c
    };
    if let Some(cl) = names::class(class) {
        count_waits(cl, n, total, max);
    }
}

/// Before a report: books every thread's tally (a wait its thread is adding meanwhile goes
/// into the next report).
fn flush_all() {
    for r in tables::get().threads.iter() {
        if r.used.load(Ordering::Acquire) != 0 {
            flush(r);
        }
    }
}

/// Counts `n` contended acquisitions that waited `total` ns in all, `max` at most, in a
/// class.
fn count_waits(cl: &Class, n: u64, total: u64, max: u64) {
    cl.contended.fetch_add(n, Ordering::Relaxed);
    cl.wait_ns.fetch_add(total, Ordering::Relaxed);
    raise(&cl.wait_max, max);
}

#[cold]
fn booked(rec: &'static Record, a: Acq, class: u32, sampled: bool, waited: Option<u64>) {
    let class = if class != 0 { class } else { rec.guarded(|| super::instance(a.addr, a.kind, false)).1 };
    let Some(cl) = names::class(class) else { return };
    if sampled {
        cl.sampled.fetch_add(1, Ordering::Relaxed);
        if thread::timed() == 0 && a.kind != Kind::Sem && due(&rec.hold_sample, HOLD_EVERY) {
            rec.timed_class.store(class, Ordering::Relaxed);
            rec.timed_t0.store(now(), Ordering::Relaxed);
            thread::set_timed(a.addr);
            super::count_timed_hold(true);
        }
    }
    if let Some(w) = waited {
        count_waits(cl, 1, w, w);
        // The wait since this thread's last stack (its first wait: at least STACK_WAIT_NS).
        let since = rec.stack_wait.load(Ordering::Relaxed).saturating_add(w);
        if since >= STACK_WAIT_NS {
            rec.stack_wait.store(0, Ordering::Relaxed);
            let id = rec.guarded(stack::here);
            if id != 0 {
                add_site(cl, id, since);
            }
        } else {
            rec.stack_wait.store(since, Ordering::Relaxed);
        }
    }
}

/// A per-thread countdown (a [`Record`] field, only its thread writes it): true on the first
/// call and then once in `every`.
fn due(left: &AtomicU32, every: u32) -> bool {
    let k = left.load(Ordering::Relaxed);
    left.store(if k == 0 { every - 1 } else { k - 1 }, Ordering::Relaxed);
    k == 0
}

fn add_site(cl: &Class, id: u32, w: u64) {
    for s in &cl.sites {
        let cur = s.stack.load(Ordering::Relaxed);
        if cur == id
            || (cur == 0 && s.stack.compare_exchange(0, id, Ordering::Relaxed, Ordering::Relaxed).map_or_else(|v| v == id, |_| true))
        {
            s.count.fetch_add(1, Ordering::Relaxed);
            s.wait_ns.fetch_add(w, Ordering::Relaxed);
            return;
        }
    }
}

/// A lock was released: ends its hold sample if it is the one being timed, at `end` (the
/// clock read before the lock word was released: a release that wakes a waiter makes a
/// system call, which timed a mutex handed between two threads every ~80 ns as held 340 ns on
/// average).
#[inline]
pub fn released(rec: &Record, addr: usize, end: u64) {
    if thread::timed() != addr {
        return;
    }
    thread::set_timed(0);
    super::count_timed_hold(false);
    let dt = end.saturating_sub(rec.timed_t0.load(Ordering::Relaxed));
    if let Some(cl) = names::class(rec.timed_class.load(Ordering::Relaxed)) {
        cl.hold_ns.fetch_add(dt, Ordering::Relaxed);
        cl.holds.fetch_add(1, Ordering::Relaxed);
        raise(&cl.hold_max, dt);
    }
}

/// With `hold` on, every release knows its hold time (on the coarse clock): a long one
/// counts towards the class's longest hold, which sampling alone would likely miss.
pub fn long_hold_seen(class: u32, dt: u64) {
    // Below 10 ms the coarse clock's ticks (1-4 ms) make the figure meaningless.
    if dt >= 10_000_000 {
        if let Some(cl) = names::class(class) {
            raise(&cl.hold_max, dt);
        }
    }
}

/// A condition wait ended after `waited`.
pub fn cond_waited(class: u32, waited: u64) {
    if let Some(cl) = names::class(class) {
        cl.contended.fetch_add(1, Ordering::Relaxed);
        cl.wait_ns.fetch_add(waited, Ordering::Relaxed);
        raise(&cl.wait_max, waited);
    }
}

/// Estimated acquisitions of a class.
fn acquisitions(cl: &Class) -> u64 {
    let est = cl.sampled.load(Ordering::Relaxed) * config().sample as u64;
    est.max(cl.contended.load(Ordering::Relaxed))
}

/// Estimated total hold time of a class (mean sampled hold × acquisitions).
fn hold_total(cl: &Class) -> u64 {
    let n = cl.holds.load(Ordering::Relaxed);
    if n == 0 {
        return 0;
    }
    (cl.hold_ns.load(Ordering::Relaxed) as u128 * acquisitions(cl) as u128 / n as u128) as u64
}

/// The sort order's scratch (in the diagnostic tables: `tables::Tables::contention_order`).
pub(crate) struct Order(UnsafeCell<[u32; CLASSES]>);
// SAFETY: used only by the holder of ORDER_BUSY.
unsafe impl Sync for Order {}
static ORDER_BUSY: AtomicU32 = AtomicU32::new(0);

/// Runs `f` on the class ids with any activity, most wait first.
fn sorted(f: impl FnOnce(&[u32])) {
    if ORDER_BUSY.swap(1, Ordering::Acquire) != 0 {
        return;
    }
    // SAFETY: ORDER_BUSY gives this caller the array alone.
    let ids = unsafe { &mut *tables::get().contention_order.0.get() };
    let t = tables::get();
    let mut n = 0;
    for (i, cl) in t.classes.iter().enumerate() {
        if cl.key.load(Ordering::Acquire) != 0
            && (cl.contended.load(Ordering::Relaxed) != 0 || cl.sampled.load(Ordering::Relaxed) != 0)
        {
            ids[n] = i as u32 + 1;
            n += 1;
        }
    }
    let key = |c: &u32| {
        let cl = &t.classes[*c as usize - 1];
        (cl.wait_ns.load(Ordering::Relaxed), cl.contended.load(Ordering::Relaxed), acquisitions(cl))
    };
    ids[..n].sort_unstable_by_key(|c| core::cmp::Reverse(key(c)));
    f(&ids[..n]);
    ORDER_BUSY.store(0, Ordering::Release);
}

/// Writes the contention table (at exit, on the report signal, on `rpthread_diag_report()`).
pub fn report(on_request: bool) {
    flush_all();
    let Some(mut o) = report::begin(Target::Main) else { return };
    sorted(|ids| {
        // At exit, a text table only if some lock was waited for (JSON: whenever locks were
        // taken, so tools always find the counts).
        let t = tables::get();
        let waited = ids.iter().any(|&c| t.classes[c as usize - 1].contended.load(Ordering::Relaxed) != 0);
        if on_request || waited || (o.json && !ids.is_empty()) {
            table(&mut o, ids, on_request)
        }
    });
}

fn table(o: &mut Out, ids: &[u32], on_request: bool) {
    let t = tables::get();
    let sample = config().sample;
    let pid = crate::sys::getpid();
    if o.json {
        o.s("{").key("event", true).js(b"contention").key("pid", false).i(pid as i64);
        o.key("sample", false).u(sample as u64).key("final", false).s(if on_request { "false" } else { "true" });
        o.key("locks", false).s("[");
    } else {
        o.s("rpthread-diag: contention (pid ").i(pid as i64).s(if on_request { ", so far" } else { ", at exit" });
        o.s("): ").u(ids.len() as u64).s(" locks, by total wait; uncontended acquisitions sampled 1 in ").u(sample as u64);
        o.s(" (~: estimated)\n");
    }
    // Text: the locks that were waited for, at most ROWS of them (JSON: every lock).
    let waited = ids.iter().filter(|&&c| t.classes[c as usize - 1].contended.load(Ordering::Relaxed) != 0).count();
    for (rank, &c) in ids.iter().enumerate() {
        let cl = &t.classes[c as usize - 1];
        if !o.json && (rank == ROWS || rank == waited) {
            if waited > rank {
                o.s("  ... and ").u((waited - rank) as u64).s(" more locks with less wait\n");
            }
            if ids.len() > waited {
                o.s("  (").u((ids.len() - waited) as u64).s(" more locks taken, never waited for: RPTHREAD_DIAG_FORMAT=json lists them)\n");
            }
            break;
        }
        row(o, rank + 1, c, cl);
    }
    if o.json {
        o.s("]}\n");
    }
}

fn row(o: &mut Out, rank: usize, c: u32, cl: &Class) {
    let acq = acquisitions(cl);
    let cont = cl.contended.load(Ordering::Relaxed);
    let wait = cl.wait_ns.load(Ordering::Relaxed);
    let wmax = cl.wait_max.load(Ordering::Relaxed);
    let hold = hold_total(cl);
    let hmax = cl.hold_max.load(Ordering::Relaxed);
    let is_cond = Kind::from_u32(cl.kind.load(Ordering::Relaxed)) == Some(Kind::Cond);
    let site_total: u64 = cl.sites.iter().map(|s| s.wait_ns.load(Ordering::Relaxed)).sum();
    if o.json {
        if rank > 1 {
            o.s(",");
        }
        o.s("{").key("rank", true).u(rank as u64).key("lock", false);
        names::class_name(o, c);
        o.key("acquisitions", false).u(acq).key("contended", false).u(cont);
        o.key("wait_ns", false).u(wait).key("wait_avg_ns", false).u(wait.checked_div(cont).unwrap_or(0));
        o.key("wait_max_ns", false).u(wmax).key("hold_ns", false).u(hold).key("hold_max_ns", false).u(hmax);
        o.key("sites", false).s("[");
        let mut first = true;
        for s in sorted_sites(cl) {
            if !first {
                o.s(",");
            }
            first = false;
            o.s("{").key("share", true).u(share_permille(s.2, site_total)).key("samples", false).u(s.1 as u64);
            o.key("stack", false);
            names::stack_inline(o, s.0, tables::FRAMES);
            o.s("}");
        }
        o.s("]}");
        return;
    }
    o.s("  #").u(rank as u64).s(" ");
    names::class_name(o, c);
    o.s("\n      ");
    if is_cond {
        o.s("waits ").u(cont).s("  wait total ").dur(wait);
        o.s("  avg ").dur(wait.checked_div(cont).unwrap_or(0)).s("  max ").dur(wmax).s("\n");
    } else {
        o.s("acquisitions ~").u(acq).s("  contended ").pct(cont, acq).s(" (").u(cont).s(")");
        o.s("  wait total ").dur(wait).s("  avg ").dur(wait.checked_div(cont).unwrap_or(0));
        o.s("  max ").dur(wmax).s("  hold total ~").dur(hold).s("  max ").dur(hmax).s("\n");
    }
    let sites = sorted_sites(cl);
    if sites.clone().next().is_some() {
        o.s("      waited most at:\n");
        for s in sites {
            o.s("        ");
            let p = share_permille(s.2, site_total);
            o.u(p / 10).s(".").u(p % 10).s("%  ");
            names::stack_inline(o, s.0, 4);
            o.s("\n");
        }
    }
}

fn share_permille(part: u64, total: u64) -> u64 {
    if total == 0 {
        0
    } else {
        (part as u128 * 1000 / total as u128) as u64
    }
}

/// The class's sites, most wait first: (stack, count, wait).
fn sorted_sites(cl: &Class) -> impl Iterator<Item = (u32, u32, u64)> + Clone {
    let mut v: [(u32, u32, u64); SITES] = core::array::from_fn(|i| {
        let s = &cl.sites[i];
        (s.stack.load(Ordering::Relaxed), s.count.load(Ordering::Relaxed), s.wait_ns.load(Ordering::Relaxed))
    });
    v.sort_unstable_by_key(|s| core::cmp::Reverse(s.2));
    v.into_iter().filter(|s| s.0 != 0)
}

/// Writes `RPTHREAD_DIAG_FOLDED` (if set): one line per contending stack, root first, the
/// lock as the leaf, weighted by its estimated wait in microseconds — the input of
/// flamegraph.pl and similar tools.
pub fn write_folded() {
    let Some(path) = config().folded.as_ref() else { return };
    let Some(mut o) = report::begin(Target::File(path.as_bytes())) else { return };
    o.json = false;
    sorted(|ids| {
        let t = tables::get();
        for &c in ids {
            let cl = &t.classes[c as usize - 1];
            let total: u64 = cl.sites.iter().map(|s| s.wait_ns.load(Ordering::Relaxed)).sum();
            let wait = cl.wait_ns.load(Ordering::Relaxed);
            for (id, _, w) in sorted_sites(cl) {
                let mut f = [(0usize, 0u32); tables::FRAMES];
                let n = stack::get(id, &mut f);
                for &(pc, m) in f[..n].iter().rev() {
                    names::frame(&mut o, pc, m);
                    o.s(";");
                }
                names::class_short(&mut o, c);
                let us = (w as u128 * wait as u128 / total.max(1) as u128 / 1000) as u64;
                o.s(" ").u(us.max(1)).s("\n");
            }
        }
    });
}
