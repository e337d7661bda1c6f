//! `deadlock`: a wait-for cycle among blocked threads, found by a thread of the cycle itself.
//!
//! A thread blocked for a mutex, spinlock or rwlock (whose writer is known) or in a join
//! wakes every 250 ms ([`super::hooks::CHECK_NS`]) and follows the chain "I wait for X, X's
//! holder is T, T waits for Y, ..." through the thread records. If the chain comes back to
//! it, and every thread on it has been in that same wait (same `wait_seq`) for at least
//! [`MIN_WAIT`] on two looks, the cycle is real: lock holders only change when a holder
//! runs, and none of them can. The first member to see it reports it, with every thread's
//! stack and held locks ([`super::dump::threads`]); the signature (tids and wait sequence
//! numbers) keeps the others from reporting the same cycle again.

use super::config::OnCycle;
use super::names;
use super::report::{self, Target};
use super::tables;
use super::thread::{self, wait, Record};
use super::{config, dump, now};
use crate::errno::Errno;
use core::sync::atomic::{AtomicU64, Ordering};

/// How long each thread of a cycle must have waited before it counts.
pub const MIN_WAIT: u64 = 200_000_000;
const MAX_CYCLE: usize = 32;

/// Signatures of the cycles reported.
static REPORTED: [AtomicU64; 64] = [const { AtomicU64::new(0) }; 64];

#[derive(Clone, Copy)]
struct Link {
    tid: i32,
    seq: u64,
    kind: u32,
    obj: usize,
    inst: u32,
    owner: i32,
}

/// The thread `r` waits for: (wait kind, object, instance, the tid it waits for).
fn waits_for(r: &'static Record) -> Option<Link> {
    let kind = r.wait_kind.load(Ordering::Acquire);
    if kind == wait::NONE || now().saturating_sub(r.wait_since.load(Ordering::Relaxed)) < MIN_WAIT {
        return None;
    }
    let inst = r.wait_inst.load(Ordering::Relaxed);
    let owner = match kind {
        wait::MUTEX | wait::SPIN | wait::RDLOCK | wait::WRLOCK => super::inst(inst)?.holder.load(Ordering::Relaxed),
        wait::JOIN => r.wait_tid.load(Ordering::Relaxed),
        _ => return None,
    };
    (owner > 0).then(|| Link {
        tid: r.tid.load(Ordering::Relaxed),
        seq: r.wait_seq.load(Ordering::Relaxed),
        kind,
        obj: r.wait_obj.load(Ordering::Relaxed),
        inst,
        owner,
    })
}

/// Follows the chain from `me`; the cycle through `me`, if there is one.
fn cycle(me: &'static Record, out: &mut [Option<Link>; MAX_CYCLE]) -> Option<usize> {
    let my_tid = me.tid.load(Ordering::Relaxed);
    let mut cur = me;
    for n in 0..MAX_CYCLE {
        let l = waits_for(cur)?;
        out[n] = Some(l);
        if l.owner == my_tid {
            return Some(n + 1);
        }
        if out[..n].iter().flatten().any(|p| p.tid == l.owner) {
            return None; // a cycle that does not go through us: one of its members reports it
        }
        cur = thread::find(l.owner)?;
    }
    None
}

/// Called by a blocked thread after each slice of its wait. Some(EDEADLK) when a deadlock
/// through it was found and `RPTHREAD_DIAG_ON_CYCLE=edeadlk` asks the wait to give up.
pub fn check(me: &'static Record) -> Option<Errno> {
    let mut links = [None; MAX_CYCLE];
    let n = cycle(me, &mut links)?;
    // Second look: the same threads in the same waits.
    let mut again = [None; MAX_CYCLE];
    let m = cycle(me, &mut again)?;
    if m != n || links[..n].iter().zip(&again[..n]).any(|(a, b)| a.map(|a| (a.tid, a.seq)) != b.map(|b| (b.tid, b.seq))) {
        return None;
    }
    let mut sig = 0u64;
    for l in links[..n].iter().flatten() {
        sig = sig.wrapping_add(tables::mix((l.tid as u64) << 32 ^ l.seq));
    }
    if !claim(sig | 1) {
        // Another member of the cycle reported it (and, with edeadlk, gives up its wait).
        return None;
    }
    report_cycle(&links[..n]);
    action_only()
}

/// Records a cycle's signature; false if it was recorded already. With the table full every
/// detection reports (better twice than never).
fn claim(sig: u64) -> bool {
    for s in &REPORTED {
        match s.compare_exchange(0, sig, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return true,
            Err(v) if v == sig => return false,
            Err(_) => {}
        }
    }
    true
}

fn action_only() -> Option<Errno> {
    match config().on_cycle {
        OnCycle::Report => None,
        OnCycle::Edeadlk => Some(Errno::EDEADLK),
        OnCycle::Abort => {
            // SAFETY: abort never returns.
            unsafe { libc::abort() }
        }
    }
}

fn what(kind: u32) -> &'static str {
    match kind {
        wait::MUTEX => "waits for",
        wait::SPIN => "spins on",
        wait::RDLOCK => "waits to read",
        wait::WRLOCK => "waits to write",
        wait::JOIN => "joins",
        _ => "waits for",
    }
}

fn report_cycle(links: &[Option<Link>]) {
    let Some(mut o) = report::begin(Target::Main) else { return };
    let pid = crate::sys::getpid();
    let n = links.len();
    if o.json {
        o.s("{").key("event", true).js(b"deadlock").key("pid", false).i(pid as i64).key("cycle", false).s("[");
    } else {
        o.s("rpthread-diag: DEADLOCK: ").u(n as u64).s(if n == 1 { " thread waits for itself" } else { " threads wait for each other" });
        o.s(" (pid ").i(pid as i64).s(")\n");
    }
    for (k, l) in links.iter().flatten().enumerate() {
        let class = super::inst(l.inst).map_or(0, |i| i.class.load(Ordering::Relaxed));
        if o.json {
            if k > 0 {
                o.s(",");
            }
            o.s("{");
            names::thread(&mut o, l.tid);
            o.key("waits", false).js(what(l.kind).as_bytes());
            if l.kind != wait::JOIN {
                o.key("lock", false);
                names::lock(&mut o, l.obj, class);
            }
            o.key("held_by", false).i(l.owner as i64).s("}");
        } else {
            o.s("  ");
            names::thread(&mut o, l.tid);
            o.s(" ").s(what(l.kind)).s(" ");
            if l.kind == wait::JOIN {
                o.s("thread ").i(l.owner as i64).s("\n");
            } else {
                names::lock(&mut o, l.obj, class);
                o.s(",\n    held by ");
                names::thread(&mut o, l.owner);
                o.s("\n");
            }
        }
    }
    if o.json {
        o.s("],");
        o.key("threads", true);
    } else {
        o.s("  threads:\n");
    }
    dump::threads(&mut o, false);
    if o.json {
        o.s("}\n");
    }
}
