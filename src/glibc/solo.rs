//! "Is the caller the only thread?" — for the single-threaded fast path of private mutexes,
//! the optimization glibc's own mutex has (a plain store instead of a locked instruction while
//! the process has one thread).
//!
//! rpthread switches glibc to multi-threaded mode before its first thread with a thread of
//! glibc's own (`super::bootstrap`), so glibc's own flags say "threads" from then on even
//! when that thread has ended; the answer is rebuilt from two counts instead: rpthread has
//! never created a thread ([`note_thread_created`]), and glibc's count of the threads it created itself
//! (`__nptl_nthreads`: SIGEV_THREAD timers, the bootstrap thread) is 1 (the main thread).
//! Both change only in the thread that creates a thread, before the new thread exists, so a
//! thread that reads "alone" is alone. Like glibc, threads made with raw clone(2) by the
//! program itself are not seen.

use core::sync::atomic::{AtomicBool, AtomicPtr, Ordering};

/// Where glibc's thread count is read; until `init` a constant 2 ("not alone").
static NTHREADS: AtomicPtr<i32> = AtomicPtr::new(&TWO as *const i32 as *mut i32);
static TWO: i32 = 2;
/// Set once rpthread has created a thread (never cleared, as glibc's own flag).
static CREATED: AtomicBool = AtomicBool::new(false);

/// Points the check at glibc's `__nptl_nthreads`.
///
/// # Safety
/// Symbols must be resolved.
pub unsafe fn init() {
    let p = super::symbols::syms().nptl_nthreads;
    if !p.is_null() {
        NTHREADS.store(p, Ordering::Relaxed);
    }
}

/// Records that rpthread is about to create a thread (called before the clone).
#[inline]
pub fn note_thread_created() {
    if !CREATED.load(Ordering::Relaxed) {
        CREATED.store(true, Ordering::Relaxed);
        threads_seen();
    }
}

/// Run once when the process is first seen with more than one thread ([`on_threads`]).
static ON_THREADS: AtomicPtr<()> = AtomicPtr::new(core::ptr::null_mut());

/// Registers `f` to run once, in the thread that first shows the process has more than one
/// thread: rpthread about to create its first thread (before the clone, so the new thread
/// starts after `f`), or, for threads glibc made itself, the first wait for a mutex (only
/// another thread can end it). For work worth doing only once threads exist.
pub fn on_threads(f: fn()) {
    // Release: whatever the registering thread set up is visible to the one that runs `f`.
    ON_THREADS.store(f as *mut (), Ordering::Release);
}

/// A lock wait began: the process has (or had) another thread.
#[inline]
pub fn note_wait() {
    if !ON_THREADS.load(Ordering::Relaxed).is_null() {
        threads_seen();
    }
}

#[cold]
fn threads_seen() {
    // Acquire: pairs with `on_threads`. The swap runs `f` once, whoever races here.
    let f = ON_THREADS.swap(core::ptr::null_mut(), Ordering::Acquire);
    if !f.is_null() {
        // SAFETY: the only non-null value stored is an `fn()` (on_threads).
        let f = unsafe { core::mem::transmute::<*mut (), fn()>(f) };
        f();
    }
}

/// True if the calling thread is the only thread of the process.
#[inline(always)]
pub fn alone() -> bool {
    if cfg!(loom) {
        return false;
    }
    // Relaxed: both values are only written by the one thread that can then read them
    // (see the module comment); a stale "not alone" only costs the atomic path.
    // SAFETY: NTHREADS points at TWO or at glibc's `int __nptl_nthreads`.
    !CREATED.load(Ordering::Relaxed) && unsafe { NTHREADS.load(Ordering::Relaxed).read_volatile() } == 1
}
