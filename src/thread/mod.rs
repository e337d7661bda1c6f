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
//! gone through exit(2), a full barrier, so its result and memory are final. The thread count
//! ([`live`], glibc's own) is AcqRel where a decrement decides the process exit, Relaxed for
//! increments; the `stats` counters are Relaxed (reports only).

pub mod attr;
pub mod create;
pub mod exit;
pub mod info;
pub mod join;
pub mod registry;
pub mod stack;

use crate::glibc::tcb;
use core::ffi::c_void;
use core::sync::atomic::{AtomicU32, Ordering};

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
    /// Start routine and argument.
    pub start: Option<StartFn>,
    /// Argument of `start`.
    pub arg: *mut c_void,
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
    /// CPU affinity to apply at start: the creator's attr bytes, valid while the creator
    /// waits for `start_status`.
    pub start_cpuset: (*const u8, usize),
    /// Start-up handshake for explicit attributes: 0 pending, 1 ok, else errno + 1.
    pub start_status: AtomicU32,
    /// Next entry in the stack cache.
    pub next_cached: *mut Thread,
}

// SAFETY: a descriptor is shared between its thread and joiners through atomics; the plain
// fields are written before the thread is published (clone) or after it ended (tid == 0).
unsafe impl Send for Thread {}
// SAFETY: as above.
unsafe impl Sync for Thread {}

impl Thread {
    /// A descriptor for a thread with TCB `tcb` and no start routine yet.
    pub fn new(tcb: *mut u8, mapping: stack::Mapping) -> Thread {
        Thread {
            tcb,
            state: AtomicU32::new(0),
            start: None,
            arg: core::ptr::null_mut(),
            mapping,
            stack_lo: 0,
            stack_hi: 0,
            guard: 0,
            adopted: false,
            start_sigmask: 0,
            start_sched: None,
            start_cpuset: (core::ptr::null(), 0),
            start_status: AtomicU32::new(0),
            next_cached: core::ptr::null_mut(),
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

/// Sets the current-thread slot of the (not yet running) thread whose TCB is `tcb`.
///
/// # Safety
/// `tcb`'s static TLS must be set up and the thread not running yet.
pub unsafe fn set_slot(tcb: *mut u8, t: *mut Thread) {
    // SAFETY: the slot lies in this library's static TLS block below `tcb`.
    unsafe { *tcb.offset(crate::arch::tls_slot_offset()).cast::<*mut Thread>() = t };
}

/// The calling thread's descriptor, if it is one of our threads (threads glibc runs, the
/// main thread included, have none: everything per-thread of theirs lives in glibc's TCB).
#[inline]
pub fn current() -> Option<&'static Thread> {
    let p = crate::arch::tls_slot().cast::<Thread>();
    // SAFETY: a non-null slot holds our live descriptor (set before the thread started).
    unsafe { p.as_ref() }
}

/// A thread named by a `pthread_t`.
#[derive(Clone, Copy)]
pub enum Target<'a> {
    /// One of ours.
    Ours(&'a Thread),
    /// One glibc runs (the main thread, threads glibc's own pthread_create made): its TCB.
    Foreign(*mut u8),
}

impl Target<'_> {
    /// The thread's TCB.
    pub fn tcb(&self) -> *mut u8 {
        match self {
            Target::Ours(t) => t.tcb,
            Target::Foreign(tcb) => *tcb,
        }
    }

    /// The kernel tid (0 once the thread has ended).
    pub fn tid(&self) -> i32 {
        // SAFETY: the TCB is live while the Target is (see `with_target`).
        unsafe { tcb::tid_word(self.tcb()) }.load(Ordering::Acquire) as i32
    }
}

/// Runs `f` on the thread `handle` names while it cannot be freed: one of ours (the registry
/// is locked meanwhile), else one on glibc's lists (glibc's list lock is held meanwhile, so
/// `f` must not create, join or end threads). ESRCH if neither knows the handle.
pub fn with_target<R>(handle: usize, f: impl FnOnce(Target) -> R) -> crate::errno::Result<R> {
    let mut f = Some(f);
    if let Ok(r) = registry::with_thread(handle, |t| (f.take().expect("called once"))(Target::Ours(t))) {
        return Ok(r);
    }
    let guard = crate::glibc::stacklist::StackListGuard::lock();
    if handle != 0 && guard.is_listed(handle) {
        return Ok((f.take().expect("not called yet"))(Target::Foreign(handle as *mut u8)));
    }
    Err(crate::errno::Errno::ESRCH)
}

/// True if `handle` names a thread glibc runs (not one of ours). The answer may be stale by
/// the time it is used, as glibc's own checks are: for operations glibc must do itself.
pub fn is_foreign(handle: usize) -> bool {
    registry::with_thread(handle, |_| ()).is_err()
        && handle != 0
        && crate::glibc::stacklist::StackListGuard::lock().is_listed(handle)
}

/// Number of live threads, the main thread included: glibc's own count (`__nptl_nthreads`),
/// which counts glibc's threads and ours alike. Whoever brings it to zero when leaving ends the
/// process with status 0 (glibc's start_thread and its main-thread pthread_exit path, and our
/// `exit::finish`).
pub fn live() -> &'static AtomicU32 {
    crate::glibc::thread_count()
}

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
