//! `dump`: every thread's name, state, wait, held locks and stack, like a JVM thread dump: on
//! SIGQUIT (or `RPTHREAD_DIAG_SIGNAL`), unless the program installed its own handler; also
//! part of deadlock reports, and `rpthread_diag_dump()`.
//!
//! Threads are listed from `/proc/self/task` (every thread, ours or not). A thread's stack can
//! only be unwound by that thread, so the dumping thread asks each in turn with a queued
//! SIGCANCEL (`rt_tgsigqueueinfo`, `SI_QUEUE`, a magic value; pthread_cancel sends `SI_TKILL`,
//! so the two never mix): rpthread's SIGCANCEL handler hands it to [`on_request`], which
//! unwinds from the interrupted frame into [`REQUEST`] and wakes the asker. A thread that
//! does not answer within [`ANSWER_MS`] (signals blocked, stuck in the kernel) is shown
//! without a stack: the dump never waits longer than that per thread. Nothing here allocates
//! or uses stdio, so a dump works while other threads hold the malloc or stdout lock.
//!
//! A signal handler cuts short the system calls the kernel never restarts (nanosleep, poll,
//! select, epoll_wait, sigtimedwait, ...: they return EINTR or, for sleep(3), early). A thread
//! found in one of those (`/proc/self/task/<tid>/syscall`) is not asked: the dump shows the
//! call instead of its stack, and the program is not disturbed. Restarted calls (futex waits,
//! including every rpthread wait, read, write, ...) and running threads are asked.

use super::config::mode;
use super::names;
use super::report::{self, Out, Target};
use super::stack::{self, Frames, MAX};
use super::thread::{self, hold, wait};
use super::{config, modes, now};
use core::sync::atomic::{AtomicI32, AtomicU32, AtomicUsize, Ordering};

/// How long a thread has to hand over its stack.
pub const ANSWER_MS: u64 = 300;
const MAGIC: u64 = 0x5250_4447; // "RPDG"
const TIDS: usize = 1024;

/// The one outstanding stack request (serialized by `OWNER`).
struct Request {
    /// 0 idle, 1 asked, 2 being written, 3 done.
    state: AtomicU32,
    target: AtomicI32,
    seq: AtomicU32,
    n: AtomicUsize,
    pcs: [AtomicUsize; MAX],
}

static REQUEST: Request = Request {
    state: AtomicU32::new(0),
    target: AtomicI32::new(0),
    seq: AtomicU32::new(0),
    n: AtomicUsize::new(0),
    pcs: [const { AtomicUsize::new(0) }; MAX],
};
/// The dumping thread (tid), 0 if none: one dump at a time.
static OWNER: AtomicI32 = AtomicI32::new(0);
static TID_LIST: [AtomicI32; TIDS] = [const { AtomicI32::new(0) }; TIDS];

/// Installs the report signal's handler (dump, and the contention table so far) if the
/// program has none (default action).
pub fn install() {
    let sig = config().signal;
    // SAFETY: sigaction with valid structures; reading the current action first.
    unsafe {
        let mut old: libc::sigaction = core::mem::zeroed();
        if libc::sigaction(sig, core::ptr::null(), &mut old) != 0 || old.sa_sigaction != libc::SIG_DFL {
            return;
        }
        let mut act: libc::sigaction = core::mem::zeroed();
        act.sa_sigaction = on_signal as extern "C" fn(i32, *mut libc::siginfo_t, *mut libc::c_void) as usize;
        act.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
        libc::sigemptyset(&mut act.sa_mask);
        libc::sigaction(sig, &act, core::ptr::null_mut());
    }
}

extern "C" fn on_signal(_sig: i32, _info: *mut libc::siginfo_t, _uc: *mut libc::c_void) {
    // The interrupted code's errno, restored before returning.
    let errno = crate::errno::last();
    let was = thread::set_busy(true);
    if modes() & mode::DUMP != 0 {
        dump_all(true, "signal");
    }
    if modes() & mode::CONTENTION != 0 {
        super::contention::report(true);
    }
    thread::set_busy(was);
    crate::errno::set(errno);
}

/// A full dump as its own report (signal, API call).
pub fn dump_all(in_signal: bool, why: &str) {
    let Some(mut o) = report::begin(Target::Main) else { return };
    if o.json {
        o.s("{").key("event", true).js(b"thread_dump").key("pid", false).i(crate::sys::getpid() as i64);
        o.key("trigger", false).js(why.as_bytes()).key("threads", false);
    } else {
        o.s("rpthread-diag: thread dump (pid ").i(crate::sys::getpid() as i64).s(", on ").s(why).s(")\n");
    }
    threads(&mut o, in_signal);
    if o.json {
        o.s("}\n");
    }
}

/// In a fork child: a dump in progress belonged to a thread that is gone.
pub fn after_fork() {
    OWNER.store(0, Ordering::Release);
    REQUEST.state.store(0, Ordering::Release);
}

/// The tids of this process's threads, into TID_LIST; how many.
fn list_tids() -> usize {
    use crate::sys::fs;
    let mut n = 0;
    let Ok(fd) = fs::open(c"/proc/self/task", libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC, 0) else {
        return 0;
    };
    let mut buf = [0u8; 2048];
    while let Ok(r @ 1..) = fs::getdents64(fd, &mut buf) {
        // struct linux_dirent64: d_ino @0, d_off @8, d_reclen @16, d_type @18, d_name @19.
        let mut off = 0usize;
        while off + 19 < r {
            let reclen = u16::from_ne_bytes([buf[off + 16], buf[off + 17]]) as usize;
            if reclen < 20 || off + reclen > r {
                break;
            }
            if let Some(v) = parse_tid(&buf[off + 19..off + reclen]) {
                if n < TIDS {
                    TID_LIST[n].store(v, Ordering::Relaxed);
                    n += 1;
                }
            }
            off += reclen;
        }
    }
    fs::close(fd);
    n
}

/// A directory entry's name as a tid: decimal digits up to the NUL ("." and ".." are not).
fn parse_tid(name: &[u8]) -> Option<i32> {
    let digits = name.iter().take_while(|&&c| c != 0);
    let mut v: i32 = 0;
    let mut any = false;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.wrapping_mul(10).wrapping_add((c - b'0') as i32);
        any = true;
    }
    any.then_some(v)
}

/// Reads `/proc/self/task/<tid>/<leaf>` (its start) into `buf`: the bytes read, 0 on error.
pub(super) fn read_task_file(tid: i32, leaf: &[u8], buf: &mut [u8]) -> usize {
    let mut path = [0u8; 64];
    let mut k = 0;
    let mut put = |bytes: &[u8]| {
        for &c in bytes {
            path[k] = c;
            k += 1;
        }
    };
    put(b"/proc/self/task/");
    let mut d = [0u8; 12];
    let mut i = d.len();
    let mut v = tid.max(0) as u32;
    loop {
        i -= 1;
        d[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    put(&d[i..]);
    put(leaf);
    // `path` ends with zeros: at most 16 + 10 + the leaf of its 64 bytes are written.
    let Ok(p) = core::ffi::CStr::from_bytes_until_nul(&path) else { return 0 };
    crate::sys::fs::read_file(p, buf).unwrap_or(0)
}

/// The kernel's state letter of thread `tid` (R, S, D, ...).
fn kernel_state(tid: i32) -> u8 {
    let mut buf = [0u8; 256];
    let n = read_task_file(tid, b"/stat", &mut buf);
    match buf[..n].iter().rposition(|&c| c == b')') {
        Some(p) if p + 2 < n => buf[p + 2],
        _ => b'?',
    }
}

/// The system call thread `tid` is blocked in, if it is one a signal would cut short.
fn not_restarted(tid: i32) -> Option<&'static str> {
    let mut buf = [0u8; 32];
    let n = read_task_file(tid, b"/syscall", &mut buf);
    let nr = buf[..n].iter().take_while(|c| c.is_ascii_digit()).fold(None, |acc: Option<i64>, &c| {
        Some(acc.unwrap_or(0) * 10 + (c - b'0') as i64)
    })?;
    crate::sys::signal::not_restarted(nr)
}

/// What became of a stack request.
// The frames stay inline: a report path may not allocate (another thread may hold the
// malloc lock), and an Answer lives only on the reporting thread's stack.
#[allow(clippy::large_enum_variant)]
pub enum Answer {
    /// The thread's stack.
    Stack(Frames),
    /// Not asked: it sleeps in this system call, which a signal would cut short.
    InSyscall(&'static str),
    /// Asked, no answer in time.
    Silent,
}

/// Asks thread `tid` for its stack, unless that would disturb it.
fn ask(tid: i32) -> Answer {
    if let Some(call) = not_restarted(tid) {
        return Answer::InSyscall(call);
    }
    match ask_signal(tid) {
        Some(f) => Answer::Stack(f),
        None => Answer::Silent,
    }
}

/// Asks thread `tid` for its stack with a queued signal; None if it does not answer in time.
fn ask_signal(tid: i32) -> Option<Frames> {
    let seq = REQUEST.seq.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
    REQUEST.target.store(tid, Ordering::Relaxed);
    REQUEST.n.store(0, Ordering::Relaxed);
    // Release: target and seq are visible to the handler that sees "asked".
    REQUEST.state.store(1, Ordering::Release);
    // SAFETY: siginfo_t is plain data; the fields set are those of an SI_QUEUE signal from us.
    let mut info: libc::siginfo_t = unsafe { core::mem::zeroed() };
    info.si_signo = crate::signal::SIGCANCEL;
    info.si_code = libc::SI_QUEUE;
    // SAFETY: the union fields of an SI_QUEUE siginfo start after the 16-byte header:
    // si_pid (i32), si_uid (u32), si_value (8 bytes) — the layout of x86_64 Linux.
    unsafe {
        let p = (&mut info as *mut libc::siginfo_t).cast::<u8>();
        *(p.add(16) as *mut i32) = crate::sys::getpid();
        *(p.add(20) as *mut u32) = libc::getuid();
        *(p.add(24) as *mut u64) = MAGIC << 32 | seq as u64;
    }
    let sent = crate::sys::signal::tgsigqueueinfo(crate::sys::getpid(), tid, crate::signal::SIGCANCEL, &info);
    let answered = sent.is_ok() && {
        let end = now() + ANSWER_MS * 1_000_000;
        loop {
            let s = REQUEST.state.load(Ordering::Acquire);
            if s == 3 {
                break true;
            }
            let left = end.saturating_sub(now());
            if left == 0 {
                // Take the request back; if the thread is writing right now, let it finish.
                if REQUEST.state.compare_exchange(1, 0, Ordering::AcqRel, Ordering::Acquire).is_ok() {
                    break false;
                }
                if REQUEST.state.load(Ordering::Acquire) == 3 {
                    break true;
                }
            }
            let ts = libc::timespec { tv_sec: 0, tv_nsec: left.clamp(1, 5_000_000) as i64 };
            let _ = crate::sys::futex::wait_relative(&REQUEST.state, s, &ts, crate::sys::futex::Scope::Private);
        }
    };
    let out = answered.then(|| {
        let mut f = Frames::EMPTY;
        f.n = REQUEST.n.load(Ordering::Relaxed).min(MAX);
        for (k, pc) in f.pcs.iter_mut().enumerate().take(f.n) {
            *pc = REQUEST.pcs[k].load(Ordering::Relaxed);
        }
        f
    });
    REQUEST.state.store(0, Ordering::Release);
    out
}

/// The stack of thread `tid` now (itself or asked), outside a dump; None if a dump is in
/// progress or the thread does not answer.
pub fn stack_of(tid: i32) -> Answer {
    let me = crate::sys::gettid();
    if tid == me {
        return Answer::Stack(stack::capture(false));
    }
    if OWNER.compare_exchange(0, me, Ordering::Acquire, Ordering::Relaxed).is_err() {
        return Answer::Silent;
    }
    let f = ask(tid);
    OWNER.store(0, Ordering::Release);
    f
}

/// The SIGCANCEL handler's share: a stack request for this thread? (true: consumed).
pub fn on_request(info: &libc::siginfo_t, _uc: *mut libc::c_void) -> bool {
    // SAFETY: an SI_QUEUE siginfo carries si_value at offset 24 (see `ask`).
    let value = unsafe { *((info as *const libc::siginfo_t).cast::<u8>().add(24) as *const u64) };
    if value >> 32 != MAGIC {
        return false;
    }
    if REQUEST.target.load(Ordering::Relaxed) != crate::sys::gettid()
        || REQUEST.seq.load(Ordering::Relaxed) != value as u32
        || REQUEST.state.compare_exchange(1, 2, Ordering::Acquire, Ordering::Relaxed).is_err()
    {
        return true; // a late answer to a request given up on
    }
    // The interrupted code's errno, restored below (the unwinder may change it).
    let errno = crate::errno::last();
    let was = thread::set_busy(true);
    let f = stack::capture(true);
    thread::set_busy(was);
    for (k, &pc) in f.as_slice().iter().enumerate() {
        REQUEST.pcs[k].store(pc, Ordering::Relaxed);
    }
    REQUEST.n.store(f.n, Ordering::Relaxed);
    // Release: the frames are visible to the asker that sees "done".
    REQUEST.state.store(3, Ordering::Release);
    crate::sys::futex::wake(&REQUEST.state, 1, crate::sys::futex::Scope::Private);
    crate::errno::set(errno);
    true
}

/// Writes every thread (text: one block each; JSON: an array). `in_signal`: called from a
/// signal handler (the caller's own frames up to the interrupted one are left out).
pub fn threads(o: &mut Out, in_signal: bool) {
    let me = crate::sys::gettid();
    if OWNER.compare_exchange(0, me, Ordering::Acquire, Ordering::Relaxed).is_err() {
        if o.json {
            o.s("[]");
        } else {
            o.s("  (another dump is in progress)\n");
        }
        return;
    }
    let n = list_tids();
    if o.json {
        o.s("[");
    }
    for (k, slot) in TID_LIST.iter().enumerate().take(n) {
        let tid = slot.load(Ordering::Relaxed);
        let frames = if tid == me { Answer::Stack(stack::capture(in_signal)) } else { ask(tid) };
        one(o, tid, k == 0, tid == crate::sys::getpid(), frames);
    }
    if o.json {
        o.s("]");
    }
    OWNER.store(0, Ordering::Release);
}

/// Writes a stack request's outcome: the frames (text: one per line after `indent`), or why
/// there are none. JSON: `"stack":[...]` (null when none) and, for a sleeping thread,
/// `"syscall":"nanosleep"`.
pub fn answer(o: &mut Out, a: &Answer, indent: &str) {
    match a {
        Answer::Stack(f) => {
            if o.json {
                o.key("stack", false);
            }
            names::stack_lines(o, f.as_slice(), indent);
        }
        Answer::InSyscall(call) => {
            if o.json {
                o.key("stack", false).s("null").key("syscall", false).js(call.as_bytes());
            } else {
                o.s("      (sleeping in ").s(call).s("(), which a signal would cut short: stack not taken)\n");
            }
        }
        Answer::Silent => {
            if o.json {
                o.key("stack", false).s("null");
            } else {
                o.s("      (no stack: the thread did not answer)\n");
            }
        }
    }
}

fn wait_words(kind: u32) -> &'static str {
    match kind {
        wait::MUTEX => "waiting for",
        wait::RDLOCK => "waiting to read",
        wait::WRLOCK => "waiting to write",
        wait::SPIN => "spinning on",
        wait::SEM => "waiting on",
        wait::COND => "waiting on",
        wait::JOIN => "joining",
        _ => "",
    }
}

fn one(o: &mut Out, tid: i32, first: bool, main: bool, frames: Answer) {
    let rec = thread::find(tid);
    let state = kernel_state(tid);
    let wk = rec.map_or(wait::NONE, |r| r.wait_kind.load(Ordering::Acquire));
    if o.json {
        if !first {
            o.s(",");
        }
        o.s("{");
        names::thread(o, tid);
        o.key("main", false).s(if main { "true" } else { "false" });
        o.key("state", false).js(&[state]);
    } else {
        o.s("  ");
        names::thread(o, tid);
        if main {
            o.s(" (main)");
        }
        o.s(" [").b(&[state]).s("]");
    }
    if let (Some(r), true) = (rec, wk != wait::NONE) {
        let obj = r.wait_obj.load(Ordering::Relaxed);
        let inst = super::inst(r.wait_inst.load(Ordering::Relaxed));
        let class = inst.map_or(0, |i| i.class.load(Ordering::Relaxed));
        let holder = match inst.map_or(0, |i| i.holder.load(Ordering::Relaxed)) {
            // Holders are only tracked by the modes that need them (`mode::HOLDER`); a
            // mutex says itself who holds it.
            0 if wk == wait::MUTEX => super::misuse::mutex_owner(obj),
            h => h,
        };
        let since = now().saturating_sub(r.wait_since.load(Ordering::Relaxed));
        if o.json {
            o.key("waiting", false).s("{").key("how", true).js(wait_words(wk).as_bytes());
            if wk == wait::JOIN {
                o.key("tid", false).i(r.wait_tid.load(Ordering::Relaxed) as i64);
            } else {
                o.key("lock", false);
                names::lock(o, obj, class);
                if holder != 0 {
                    o.key("held_by", false).i(holder as i64);
                }
            }
            o.key("for_ns", false).u(since).s("}");
        } else {
            o.s(" ").s(wait_words(wk)).s(" ");
            if wk == wait::JOIN {
                o.s("thread ").i(r.wait_tid.load(Ordering::Relaxed) as i64);
            } else {
                names::lock(o, obj, class);
                if holder != 0 {
                    o.s(", held by ");
                    names::thread(o, holder);
                }
            }
            o.s(", for ").dur(since);
        }
    }
    if !o.json {
        o.s("\n");
    }
    if let Some(r) = rec {
        if o.json {
            o.key("holds", false).s("[");
        }
        for (k, h) in r.held().iter().enumerate() {
            let mode = h.mode.load(Ordering::Relaxed);
            let addr = h.addr.load(Ordering::Relaxed);
            let class = h.class.load(Ordering::Relaxed);
            let t0 = h.t0.load(Ordering::Relaxed);
            if o.json {
                if k > 0 {
                    o.s(",");
                }
                names::lock(o, addr, class);
            } else {
                o.s("      holds ");
                names::lock(o, addr, class);
                if mode & 0xff == hold::SHARED {
                    o.s(" (read)");
                }
                if t0 != 0 {
                    o.s(", for ").dur(super::now_coarse().saturating_sub(t0));
                }
                o.s("\n");
            }
        }
        if o.json {
            o.s("]");
        }
    }
    answer(o, &frames, "      at ");
    if o.json {
        o.s("}");
    }
}
