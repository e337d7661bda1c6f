//! Threads: the descriptor, the current-thread slot, the registry of live threads, and the
//! lifecycle (create → start → exit → join/detach) in the submodules.
//!
//! A thread of ours lives in one mapping: guard page, stack, this module's [`Thread`]
//! descriptor, static TLS, and glibc's TCB at the top (see `stack.rs`). Its `pthread_t` is
//! the TCB address. Threads we did not create (the main thread, glibc's internal ones) get a
//! heap descriptor the first time they need one ("adopted").
//!
//! Orderings: `Thread::state` transitions are AcqRel read-modify-writes (and Acquire loads):
//! whoever frees a thread must see everything the thread and the other parties did before their
//! transition. The kernel-cleared tid word is read with Acquire: once it reads 0 the thread has
//! gone through exit(2), a full barrier, so its result and memory are final. `joining` is
//! Release/Acquire: only compared, for the mutual-join check. `LIVE` is AcqRel where a
//! decrement decides the process exit, Relaxed for increments and the fork child's reset
//! (single-threaded); the `stats` counters are Relaxed (reports only).

pub mod attr;
pub mod create;
pub mod exit;
pub mod info;
pub mod join;
pub mod registry;
pub mod stack;

use crate::glibc::tcb;
use core::arch::{asm, global_asm};
use core::ffi::c_void;
use core::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering};

/// A thread's start routine.
pub type StartFn = unsafe extern "C" fn(*mut c_void) -> *mut c_void;

/// Bits of [`Thread::state`]. The state answers "who frees the thread": the thread itself
/// (DETACHED was set before it EXITED), its joiner (JOIN_CLAIMED), or whoever detaches it
/// after it EXITED.
pub mod state {
    /// pthread_detach ran (or the thread was created detached).
    pub const DETACHED: u32 = 1;
    /// A joiner has claimed the thread (one at a time; others get EINVAL).
    pub const JOIN_CLAIMED: u32 = 2;
    /// The thread has passed the point of no return in its exit path.
    pub const EXITED: u32 = 4;
}

/// Our per-thread descriptor.
pub struct Thread {
    /// glibc TCB address = the `pthread_t`.
    pub tcb: *mut u8,
    /// [`state`] bits.
    pub state: AtomicU32,
    /// The thread this one is blocked joining (to detect mutual joins: EDEADLK).
    pub joining: AtomicPtr<Thread>,
    /// Start routine and argument.
    pub start: Option<StartFn>,
    /// Argument of `start`.
    pub arg: *mut c_void,
    /// Value passed to pthread_exit or returned by `start`.
    pub result: *mut c_void,
    /// The memory this thread lives in (empty for adopted threads).
    pub mapping: stack::Mapping,
    /// Usable stack `[lo, hi)` reported by pthread_getattr_np.
    pub stack_lo: usize,
    /// See `stack_lo`.
    pub stack_hi: usize,
    /// Guard size reported by pthread_getattr_np.
    pub guard: usize,
    /// Not created by us.
    pub adopted: bool,
    /// Signal mask to install when the thread starts (kernel 64-bit set).
    pub start_sigmask: u64,
    /// Explicit scheduling requested at creation: (policy, priority).
    pub start_sched: Option<(i32, i32)>,
    /// Policy and priority last given through the pthread API (explicit creation attributes,
    /// inherited from the creator's record, pthread_setschedparam/setschedprio), as glibc
    /// caches them in its descriptor: what pthread_getattr_np reports once the thread has
    /// ended and the kernel can no longer be asked. See [`Thread::sched_record`].
    pub sched_set: AtomicU64,
    /// CPU affinity to apply at start: the creator's attr bytes, valid while the creator
    /// waits for `start_status`.
    pub start_cpuset: (*const u8, usize),
    /// Start-up handshake for explicit attributes: 0 pending, 1 ok, else errno + 1.
    pub start_status: AtomicU32,
    /// Next entry in the stack cache.
    pub next_cached: *mut Thread,
    /// Cancellation state and cleanup-handler lists (see `crate::cancel`).
    pub cancel: crate::cancel::PerThread,
}

// SAFETY: a descriptor is shared between its thread and joiners through atomics; the plain
// fields are written before the thread is published (clone) or after it ended (tid == 0).
unsafe impl Send for Thread {}
// SAFETY: as above.
unsafe impl Sync for Thread {}

impl Thread {
    /// The (policy, priority) recorded in `sched_set`, if any. Relaxed: a self-contained
    /// value that publishes nothing else; a reader racing a setter may see either value.
    pub fn sched_record(&self) -> Option<(i32, i32)> {
        let v = self.sched_set.load(Ordering::Relaxed);
        (v != 0).then(|| (((v >> 32) & 0x7fff_ffff) as i32, v as u32 as i32))
    }

    /// Records `policy` (a non-negative SCHED_* value) and `priority` in `sched_set`.
    pub fn set_sched_record(&self, policy: i32, priority: i32) {
        let v = 1 << 63 | (policy as u32 as u64) << 32 | priority as u32 as u64;
        self.sched_set.store(v, Ordering::Relaxed);
    }

    /// A descriptor for a thread with TCB `tcb` and no start routine yet.
    pub fn new(tcb: *mut u8, mapping: stack::Mapping) -> Thread {
        Thread {
            tcb,
            state: AtomicU32::new(0),
            joining: AtomicPtr::new(core::ptr::null_mut()),
            start: None,
            arg: core::ptr::null_mut(),
            result: core::ptr::null_mut(),
            mapping,
            stack_lo: 0,
            stack_hi: 0,
            guard: 0,
            adopted: false,
            start_sigmask: 0,
            start_sched: None,
            sched_set: AtomicU64::new(0),
            start_cpuset: (core::ptr::null(), 0),
            start_status: AtomicU32::new(0),
            next_cached: core::ptr::null_mut(),
            cancel: Default::default(),
        }
    }

    /// The kernel tid (0 once the thread has ended).
    pub fn tid(&self) -> i32 {
        // SAFETY: `tcb` is live as long as the descriptor is.
        unsafe { tcb::tid_word(self.tcb) }.load(Ordering::Acquire) as i32
    }

    /// The `pthread_t`.
    pub fn handle(&self) -> usize {
        self.tcb as usize
    }
}

// The current thread's descriptor: one word of initial-exec TLS in this library. Initial-exec
// (the library is loaded at start-up, by LD_PRELOAD or as a dependency) makes `current()` two
// instructions, and the slot's offset from the thread pointer lets a creator fill it in for
// the new thread before the thread runs.
global_asm!(
    ".section .tbss,\"awT\",@nobits",
    ".p2align 3",
    "rpthread_current_thread:",
    ".zero 8",
    ".previous",
);

/// Offset of the current-thread slot from the thread pointer.
#[inline(always)]
fn slot_offset() -> isize {
    let off: isize;
    // SAFETY: reads the GOT entry ld.so filled with the slot's TP offset (R_X86_64_TPOFF64).
    unsafe {
        asm!("mov {}, qword ptr [rip + rpthread_current_thread@GOTTPOFF]", out(reg) off,
             options(nostack, readonly, pure, preserves_flags))
    };
    off
}

/// Sets the current-thread slot of the (not yet running) thread whose TCB is `tcb`.
///
/// # Safety
/// `tcb`'s static TLS must be set up and the thread not running yet.
pub unsafe fn set_slot(tcb: *mut u8, t: *mut Thread) {
    // SAFETY: the slot lies in this library's static TLS block below `tcb`.
    unsafe { *tcb.offset(slot_offset()).cast::<*mut Thread>() = t };
}

/// The calling thread's descriptor, adopting the thread if we did not create it.
#[inline]
pub fn current() -> &'static Thread {
    let p: *mut Thread;
    // SAFETY: %fs-relative load of our static TLS slot.
    unsafe {
        asm!("mov {0}, qword ptr [rip + rpthread_current_thread@GOTTPOFF]",
             "mov {0}, qword ptr fs:[{0}]", out(reg) p, options(nostack, readonly, preserves_flags))
    };
    if p.is_null() {
        return registry::adopt_current();
    }
    // SAFETY: the slot holds our live descriptor (set before start or at adoption).
    unsafe { &*p }
}

/// The calling thread's descriptor if it has one, without adopting (for signal handlers).
#[inline]
pub fn current_if_known() -> Option<&'static Thread> {
    let p: *mut Thread;
    // SAFETY: %fs-relative load of our static TLS slot.
    unsafe {
        asm!("mov {0}, qword ptr [rip + rpthread_current_thread@GOTTPOFF]",
             "mov {0}, qword ptr fs:[{0}]", out(reg) p, options(nostack, readonly, preserves_flags))
    };
    // SAFETY: a non-null slot holds our live descriptor.
    unsafe { p.as_ref() }
}

/// Number of live threads, the main thread included: when it drops to zero in
/// pthread_exit, the process exits with status 0 (as glibc does).
pub static LIVE: AtomicUsize = AtomicUsize::new(1);

/// Counters for `RPTHREAD_STATS` (a one-line summary at exit) and for tests that must prove
/// our pthread_create was used.
pub mod stats {
    use core::sync::atomic::{AtomicUsize, Ordering};
    /// Threads created by rpthread.
    pub static CREATED: AtomicUsize = AtomicUsize::new(0);
    /// Highest number of simultaneously live threads.
    pub static PEAK: AtomicUsize = AtomicUsize::new(1);
    /// Stacks served from the cache.
    pub static REUSED: AtomicUsize = AtomicUsize::new(0);

    /// Records a new live count.
    pub fn note_live(n: usize) {
        PEAK.fetch_max(n, Ordering::Relaxed);
    }
}
