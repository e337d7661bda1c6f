//! `order`: the lock-order graph and its cycles (lockdep's idea, over pthread locks).
//!
//! Nodes are lock classes ([`super::instance`]); an edge A → B means "a lock of class A was
//! held while one of class B was taken (blocking)". Before a thread blocks for a lock, each
//! class it holds is checked against the new one: a known edge costs one lookup; a new edge
//! is added under the graph lock after a search for a path back (B →…→ A). A path back means
//! both orders happen in this program, so two threads can deadlock — reported now, with both
//! orders, both call sites and threads, whether or not this run deadlocks. Consistent orders
//! never report. Edges into a read (shared) rwlock acquisition are not added: readers do not
//! exclude each other, and counting them would report read-read "cycles" that cannot hang.
//! Two locks of the same class nested are not an edge (an array of locks made in one loop).
//!
//! `RPTHREAD_DIAG_ON_CYCLE=edeadlk`: the edge is refused (kept, marked, out of the graph) and
//! the lock call returns EDEADLK, now and every later time it would close that cycle.

use super::config::OnCycle;
use super::Acq;
use super::names;
use super::report::{self, Target};
use super::tables::{self, edge_flags, Edge, CLASSES, EDGES};
use super::thread::{hold, Record};
use super::{config, stack};
use crate::errno::{Errno, Result};
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU32, Ordering};

/// Longest cycle reported in full.
const MAX_PATH: usize = 16;

/// Serializes graph changes and searches (a thread id; 0 = free).
static GRAPH: AtomicU32 = AtomicU32::new(0);

pub(crate) struct Scratch {
    visited: [u64; CLASSES / 64],
    via: [u32; CLASSES],
    todo: [u32; CLASSES],
}
/// The search scratch (in the diagnostic tables: `tables::Tables::order_search`).
pub(crate) struct Search(UnsafeCell<Scratch>);
// SAFETY: used only by the holder of GRAPH.
unsafe impl Sync for Search {}

fn lock_graph() {
    let me = crate::sys::gettid() as u32;
    while GRAPH.compare_exchange(0, me, Ordering::Acquire, Ordering::Relaxed).is_err() {
        crate::sys::sched_yield();
    }
}

fn unlock_graph() {
    GRAPH.store(0, Ordering::Release);
}

/// In a fork child: a graph lock held by a thread that is gone would never be released.
pub fn after_fork() {
    GRAPH.store(0, Ordering::Release);
}

fn key(from: u32, to: u32) -> u64 {
    (from as u64) << 32 | to as u64
}

fn edge(i: usize) -> &'static Edge {
    &tables::get().edges[i]
}

/// Checks the new acquisition `a` (class `class`) against every lock the thread holds.
/// EDEADLK when it would close a cycle and `edeadlk` is configured.
pub fn check(rec: &'static Record, a: Acq, class: u32) -> Result<()> {
    for h in rec.held() {
        let from = h.class.load(Ordering::Relaxed);
        if from == 0 || from == class {
            continue;
        }
        let k = key(from, class);
        let t = tables::get();
        match tables::find(EDGES, k, |i| &t.edges[i].key) {
            Some(i) => {
                let f = edge(i).flags.load(Ordering::Acquire);
                if f & edge_flags::REFUSED != 0 {
                    return Err(Errno::EDEADLK);
                }
            }
            None => add(rec, a, from, class, h.addr.load(Ordering::Relaxed))?,
        }
    }
    Ok(())
}

/// Adds edge from → to (first seen now), looking for a path back first.
#[cold]
fn add(rec: &'static Record, a: Acq, from: u32, to: u32, held_addr: usize) -> Result<()> {
    let st = stack::here();
    lock_graph();
    let t = tables::get();
    let k = key(from, to);
    let Some((i, new)) = tables::find_or_claim(EDGES, k, |i| &t.edges[i].key) else {
        unlock_graph();
        tables::note_lost(tables::lost::EDGES);
        return Ok(());
    };
    if !new {
        unlock_graph();
        return Ok(());
    }
    let mut path = [0u32; MAX_PATH];
    let n = path_back(to, from, &mut path);
    let e = edge(i);
    e.stack.store(st, Ordering::Relaxed);
    e.tid.store(rec.tid.load(Ordering::Relaxed), Ordering::Relaxed);
    let mut name = [0u8; 16];
    // SAFETY: PR_GET_NAME writes at most 16 bytes.
    unsafe { libc::prctl(libc::PR_GET_NAME, name.as_mut_ptr()) };
    tables::store_bytes(&e.name, &name);
    let refuse = n.is_some() && config().on_cycle == OnCycle::Edeadlk;
    if refuse {
        e.flags.store(edge_flags::REFUSED, Ordering::Release);
    } else {
        let cl = names::class(from).expect("edge classes exist");
        e.next_out.store(cl.first_out.load(Ordering::Relaxed), Ordering::Relaxed);
        cl.first_out.store(i as u32 + 1, Ordering::Release);
        e.flags.store(edge_flags::LINKED, Ordering::Release);
    }
    unlock_graph();
    let Some(n) = n else { return Ok(()) };
    inversion(rec, a, held_addr, from, to, st, &path[..n]);
    match config().on_cycle {
        OnCycle::Report => Ok(()),
        OnCycle::Edeadlk => Err(Errno::EDEADLK),
        OnCycle::Abort => {
            // SAFETY: abort never returns.
            unsafe { libc::abort() }
        }
    }
}

/// Breadth-first search for a path `start` →…→ `goal` over linked edges; fills `path` with
/// its edge indexes (+1) in order and returns its length. Called with the graph lock held.
fn path_back(start: u32, goal: u32, path: &mut [u32; MAX_PATH]) -> Option<usize> {
    if !(1..=CLASSES).contains(&(start as usize)) {
        return None;
    }
    // SAFETY: the graph lock gives this thread the scratch space alone.
    let s = unsafe { &mut *tables::get().order_search.0.get() };
    s.visited.fill(0);
    let t = tables::get();
    // Class ids run from 1 to CLASSES: bit `id - 1`.
    let mark = |s: &mut Scratch, c: u32| s.visited[(c as usize - 1) / 64] |= 1 << ((c - 1) % 64);
    let seen = |s: &Scratch, c: u32| s.visited[(c as usize - 1) / 64] & 1 << ((c - 1) % 64) != 0;
    let (mut head, mut tail) = (0, 0);
    s.todo[tail] = start;
    tail += 1;
    mark(s, start);
    while head < tail {
        let c = s.todo[head];
        head += 1;
        let mut e = names::class(c).map_or(0, |cl| cl.first_out.load(Ordering::Acquire));
        while e != 0 {
            let ed = &t.edges[e as usize - 1];
            let to = (ed.key.load(Ordering::Relaxed) & 0xffff_ffff) as u32;
            if (1..=CLASSES).contains(&(to as usize)) && !seen(s, to) {
                mark(s, to);
                s.via[to as usize - 1] = e;
                if to == goal {
                    // Walk back from the goal to the start.
                    let mut n = 0;
                    let mut cur = goal;
                    let mut rev = [0u32; MAX_PATH];
                    while cur != start && n < MAX_PATH {
                        let ei = s.via[cur as usize - 1];
                        rev[n] = ei;
                        n += 1;
                        cur = (t.edges[ei as usize - 1].key.load(Ordering::Relaxed) >> 32) as u32;
                    }
                    for k in 0..n {
                        path[k] = rev[n - 1 - k];
                    }
                    return Some(n);
                }
                if tail < s.todo.len() {
                    s.todo[tail] = to;
                    tail += 1;
                }
            }
            e = ed.next_out.load(Ordering::Relaxed);
        }
    }
    None
}

/// The report of a new edge closing a cycle.
fn inversion(rec: &Record, a: Acq, held_addr: usize, from: u32, to: u32, st: u32, path: &[u32]) {
    let Some(mut o) = report::begin(Target::Main) else { return };
    let tid = rec.tid.load(Ordering::Relaxed);
    let action = match config().on_cycle {
        OnCycle::Report => "report",
        OnCycle::Edeadlk => "edeadlk",
        OnCycle::Abort => "abort",
    };
    let held_mode = rec.find_held(held_addr).map_or(hold::EXCLUSIVE, |h| h.mode.load(Ordering::Relaxed) & 0xff);
    if o.json {
        o.s("{").key("event", true).js(b"lock_order_inversion").key("pid", false).i(crate::sys::getpid() as i64);
        o.key("action", false).js(action.as_bytes());
        o.key("acquiring", false);
        names::lock(&mut o, a.addr, to);
        o.key("holding", false);
        names::lock(&mut o, held_addr, from);
        o.key("thread", false).s("{");
        names::thread(&mut o, tid);
        o.s("}").key("stack", false);
        names::stack_id_lines(&mut o, st, "");
        o.key("established", false).s("[");
        for (k, &e) in path.iter().enumerate() {
            if k > 0 {
                o.s(",");
            }
            let ed = edge(e as usize - 1);
            let kk = ed.key.load(Ordering::Relaxed);
            o.s("{").key("holding", true);
            names::class_name(&mut o, (kk >> 32) as u32);
            o.key("acquired", false);
            names::class_name(&mut o, kk as u32);
            o.key("tid", false).i(ed.tid.load(Ordering::Relaxed) as i64);
            let mut nb = [0u8; 16];
            o.key("thread", false).js(tables::load_bytes(&ed.name, 16, &mut nb));
            o.key("stack", false);
            names::stack_id_lines(&mut o, ed.stack.load(Ordering::Relaxed), "");
            o.s("}");
        }
        o.s("]}\n");
        return;
    }
    o.s("rpthread-diag: lock-order inversion, a deadlock is possible (pid ").i(crate::sys::getpid() as i64).s(")\n");
    o.s("  ");
    names::thread(&mut o, tid);
    o.s(" takes ");
    names::lock(&mut o, a.addr, to);
    o.s("\n    while holding ");
    names::lock(&mut o, held_addr, from);
    if held_mode == hold::SHARED {
        o.s(" (read)");
    }
    o.s("\n");
    names::stack_id_lines(&mut o, st, "      at ");
    o.s("  but the opposite order was seen before:\n");
    for &e in path {
        let ed = edge(e as usize - 1);
        let kk = ed.key.load(Ordering::Relaxed);
        let mut nb = [0u8; 16];
        o.s("  thread ").i(ed.tid.load(Ordering::Relaxed) as i64).s(" \"").b(tables::load_bytes(&ed.name, 16, &mut nb));
        o.s("\" took ");
        names::class_name(&mut o, kk as u32);
        o.s("\n    while holding ");
        names::class_name(&mut o, (kk >> 32) as u32);
        o.s("\n");
        names::stack_id_lines(&mut o, ed.stack.load(Ordering::Relaxed), "      at ");
    }
    match config().on_cycle {
        OnCycle::Edeadlk => o.s("  this lock call returns EDEADLK (RPTHREAD_DIAG_ON_CYCLE=edeadlk)\n"),
        OnCycle::Abort => o.s("  aborting (RPTHREAD_DIAG_ON_CYCLE=abort)\n"),
        OnCycle::Report => o.s("  (RPTHREAD_DIAG_ON_CYCLE=edeadlk would make this lock call fail with EDEADLK)\n"),
    };
}

/// Writes `RPTHREAD_DIAG_DOT` (if set): the graph for Graphviz; edges that closed a cycle
/// (refused ones included) in red.
pub fn write_dot() {
    let Some(path) = config().dot.as_ref() else { return };
    let Some(mut o) = report::begin(Target::File(path.as_bytes())) else { return };
    o.json = false;
    let t = tables::get();
    o.s("digraph lock_order {\n  node [shape=box, fontname=\"monospace\"];\n");
    for (i, cl) in t.classes.iter().enumerate() {
        if cl.key.load(Ordering::Acquire) == 0 {
            continue;
        }
        let c = i as u32 + 1;
        let used = cl.first_out.load(Ordering::Relaxed) != 0
            || t.edges.iter().any(|e| e.key.load(Ordering::Relaxed) & 0xffff_ffff == c as u64);
        if !used {
            continue;
        }
        o.s("  c").u(c as u64).s(" [label=\"");
        dot_label(&mut o, c);
        o.s("\"];\n");
    }
    for e in t.edges.iter() {
        let k = e.key.load(Ordering::Acquire);
        if k == 0 {
            continue;
        }
        let (from, to) = (k >> 32, k & 0xffff_ffff);
        let refused = e.flags.load(Ordering::Relaxed) & edge_flags::REFUSED != 0;
        let back = back_edge(from as u32, to as u32);
        o.s("  c").u(from).s(" -> c").u(to);
        if refused || back {
            o.s(" [color=red, penwidth=2]");
        }
        o.s(";\n");
    }
    o.s("}\n");
}

/// Whether edge from → to lies on a cycle (the reverse path exists).
fn back_edge(from: u32, to: u32) -> bool {
    lock_graph();
    let mut p = [0u32; MAX_PATH];
    let r = path_back(to, from, &mut p).is_some();
    unlock_graph();
    r
}

/// A node label: the class's short name (symbols and file names, which contain no quotes).
fn dot_label(o: &mut report::Out, c: u32) {
    let json = o.json;
    o.json = false;
    names::class_short(o, c);
    o.json = json;
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// Links edge `i` (index) from → to by hand.
    fn link(i: usize, from: u32, to: u32) {
        let t = tables::get();
        let e = &t.edges[i];
        e.key.store(key(from, to), Ordering::Relaxed);
        let cl = names::class(from).unwrap();
        e.next_out.store(cl.first_out.load(Ordering::Relaxed), Ordering::Relaxed);
        cl.first_out.store(i as u32 + 1, Ordering::Relaxed);
        e.flags.store(edge_flags::LINKED, Ordering::Relaxed);
    }

    #[test]
    fn path_back_finds_cycles_through_the_last_class_id() {
        assert!(tables::map());
        let last = CLASSES as u32;
        // 1 → last → 7 → 1: from 1, the path back from last to 1 is last → 7 → 1.
        link(10, 1, last);
        link(11, last, 7);
        link(12, 7, 1);
        lock_graph();
        let mut p = [0u32; MAX_PATH];
        let n = path_back(last, 1, &mut p);
        let none = path_back(1, 99, &mut p.clone());
        unlock_graph();
        assert_eq!(n, Some(2));
        assert_eq!(&p[..2], &[12, 13]);
        assert_eq!(none, None);
        assert_eq!(path_back(0, 1, &mut [0; MAX_PATH]), None);
    }
}
