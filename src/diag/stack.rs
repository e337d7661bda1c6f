//! Call stacks: captured with libgcc's `_Unwind_Backtrace` (DWARF CFI, so programs built
//! without frame pointers unwind too), kept in the stack table by hash.
//!
//! libgcc_s is opened at start-up (dlopen allocates); capturing allocates nothing. libgcc 12+
//! finds unwind tables with `_dl_find_object`, lock-free; older ones through
//! `dl_iterate_phdr`, which takes ld.so's load lock. Its registered-objects mutex is a pthread
//! mutex: the capturing thread is marked busy, so that lock takes the plain path.

use super::symbols;
use super::tables::{self, FRAMES, STACKS};
use core::ffi::c_void;
use core::sync::atomic::{AtomicUsize, Ordering};

type TraceFn = extern "C" fn(*mut c_void, *mut c_void) -> i32;
type BacktraceFn = unsafe extern "C" fn(TraceFn, *mut c_void) -> i32;
type GetIpInfoFn = unsafe extern "C" fn(*mut c_void, *mut i32) -> usize;

static BACKTRACE: AtomicUsize = AtomicUsize::new(0);
static GET_IP_INFO: AtomicUsize = AtomicUsize::new(0);

/// Frames kept in a capture (more than a stored stack keeps: dumps print deeper stacks).
pub const MAX: usize = 32;

/// A captured stack, innermost first. Every pc is a return address (an interrupted pc is
/// stored plus one), so `pc - 1` lies in the calling instruction.
#[derive(Clone, Copy)]
pub struct Frames {
    /// Frames used.
    pub n: usize,
    /// The return addresses.
    pub pcs: [usize; MAX],
}

impl Frames {
    /// No frames.
    pub const EMPTY: Frames = Frames { n: 0, pcs: [0; MAX] };

    /// The frames in use.
    pub fn as_slice(&self) -> &[usize] {
        &self.pcs[..self.n]
    }
}

/// Opens libgcc_s; at start-up only.
pub fn init() {
    // SAFETY: dlopen/dlsym with NUL-terminated names; the library is never closed.
    unsafe {
        let h = libc::dlopen(c"libgcc_s.so.1".as_ptr(), libc::RTLD_NOW);
        if h.is_null() {
            return;
        }
        let b = libc::dlsym(h, c"_Unwind_Backtrace".as_ptr());
        let g = libc::dlsym(h, c"_Unwind_GetIPInfo".as_ptr());
        if !b.is_null() && !g.is_null() {
            GET_IP_INFO.store(g as usize, Ordering::Relaxed);
            BACKTRACE.store(b as usize, Ordering::Release);
        }
    }
}

struct State {
    frames: Frames,
    /// Still looking for the signal frame (captures made inside a signal handler).
    before_signal: bool,
    /// Still skipping the frames of this library at the top.
    skipping_ours: bool,
    /// Frames wanted (each costs an unwind step: stop as soon as there are enough).
    limit: usize,
    get_ip: GetIpInfoFn,
}

extern "C" fn trace(ctx: *mut c_void, arg: *mut c_void) -> i32 {
    // SAFETY: `arg` is the State that `capture` passed, alive for the whole backtrace.
    let st = unsafe { &mut *arg.cast::<State>() };
    let mut before = 0;
    // SAFETY: `ctx` is the unwinder's context for the current frame.
    let mut pc = unsafe { (st.get_ip)(ctx, &mut before) };
    if pc == 0 {
        return 5; // _URC_END_OF_STACK
    }
    if before != 0 {
        // An interrupted instruction, not a return address.
        pc += 1;
    }
    if st.before_signal {
        if before != 0 {
            st.before_signal = false;
        } else {
            return 0;
        }
    }
    if st.skipping_ours {
        if symbols::is_ours(pc - 1) {
            return 0;
        }
        st.skipping_ours = false;
    }
    st.frames.pcs[st.frames.n] = pc;
    st.frames.n += 1;
    if st.frames.n < st.limit {
        0
    } else {
        5
    }
}

/// The calling thread's stack, leaving out this library's frames at the top. `in_signal`:
/// called from a signal handler, whose own frames (up to the interrupted one) are left out.
pub fn capture(in_signal: bool) -> Frames {
    capture_n(in_signal, MAX)
}

/// [`capture`], at most `limit` frames (at most [`MAX`]).
pub fn capture_n(in_signal: bool, limit: usize) -> Frames {
    let b = BACKTRACE.load(Ordering::Acquire);
    if b == 0 {
        return Frames::EMPTY;
    }
    // SAFETY: the symbols were resolved from libgcc_s with these signatures.
    let (b, g) = unsafe {
        (
            core::mem::transmute::<usize, BacktraceFn>(b),
            core::mem::transmute::<usize, GetIpInfoFn>(GET_IP_INFO.load(Ordering::Relaxed)),
        )
    };
    let limit = limit.clamp(1, MAX);
    let mut st = State { frames: Frames::EMPTY, before_signal: in_signal, skipping_ours: true, limit, get_ip: g };
    // SAFETY: `trace` only touches `st`, which outlives the call.
    unsafe { b(trace, (&mut st as *mut State).cast()) };
    // The bottom frames of our own thread start code say nothing about the program.
    while st.frames.n > 1 && symbols::is_ours(st.frames.pcs[st.frames.n - 1] - 1) {
        st.frames.n -= 1;
    }
    st.frames
}

/// Hash of up to [`FRAMES`] frames (never 0).
pub fn hash(pcs: &[usize]) -> u64 {
    let mut h = 0x9e37_79b9_7f4a_7c15u64;
    for &pc in pcs.iter().take(FRAMES) {
        h = tables::mix(h ^ pc as u64);
    }
    h | 1
}

/// Keeps the first [`FRAMES`] frames in the stack table; returns the stack id (index + 1), 0
/// if the table is full.
pub fn intern(f: &Frames) -> u32 {
    let pcs = &f.pcs[..f.n.min(FRAMES)];
    let h = hash(pcs);
    let t = tables::get();
    let Some((i, new)) = tables::find_or_claim(STACKS, h, |i| &t.stacks[i].hash) else {
        tables::note_lost(tables::lost::STACKS);
        return 0;
    };
    let s = &t.stacks[i];
    if new {
        for (k, &pc) in pcs.iter().enumerate() {
            s.frames[k].store(pc, Ordering::Relaxed);
            s.modules[k].store(symbols::module_of(pc - 1), Ordering::Relaxed);
        }
        s.n.store(pcs.len() as u32, Ordering::Relaxed);
        // Release: frames and modules are visible to whoever sees ready.
        s.ready.store(1, Ordering::Release);
    }
    i as u32 + 1
}

/// Captures the calling thread's stack (as many frames as the table keeps) into the table (a
/// stack id, 0 if none).
pub fn here() -> u32 {
    let f = capture_n(false, FRAMES);
    if f.n == 0 {
        return 0;
    }
    intern(&f)
}

/// The frames of stack `id` (pcs and modules), if it is filled.
pub fn get(id: u32, out: &mut [(usize, u32); FRAMES]) -> usize {
    let Some(s) = (id as usize).checked_sub(1).and_then(|i| tables::get().stacks.get(i)) else { return 0 };
    if s.ready.load(Ordering::Acquire) != 1 {
        return 0;
    }
    let n = (s.n.load(Ordering::Relaxed) as usize).min(FRAMES);
    for (k, o) in out.iter_mut().enumerate().take(n) {
        *o = (s.frames[k].load(Ordering::Relaxed), s.modules[k].load(Ordering::Relaxed));
    }
    n
}
