//! The C ABI: `#[no_mangle] extern "C"` exports, thin: check and convert the C arguments,
//! call the domain module, convert the result. Plain unversioned names: ld.so binds a
//! program's versioned references (`pthread_create@GLIBC_2.34`) to them.

/// glibc's `__`-prefixed aliases (`__pthread_mutex_lock`, ...), which glibc's own libraries
/// and old binaries bind: one line each, `alias = target(params) -> ret;`, each forwarding to
/// the export of the POSIX name with the same contract. glibc's <pthread.h> does not declare
/// them, and neither does ours (cbindgen does not expand macros).
macro_rules! glibc_aliases {
    ($($alias:ident = $target:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {$(
        #[doc = concat!("glibc's alias of [`", stringify!($target), "`].")]
        ///
        /// # Safety
        /// As for the target.
        #[no_mangle]
        pub unsafe extern "C" fn $alias($($arg: $ty),*) -> $ret {
            // SAFETY: the caller keeps the target's contract, which is this function's.
            #[allow(unused_unsafe)]
            unsafe { $target($($arg),*) }
        }
    )*};
}
use glibc_aliases;

mod attr;
mod barrier;
mod c11;
mod cancel;
mod cond;
mod diag;
mod fork;
mod mutex;
mod once;
mod rwlock;
mod sched;
mod sem;
mod signal;
mod spin;
mod thread;
mod tsd;

use libc::c_int;
use crate::errno::{Errno, Result};
use core::sync::atomic::{AtomicI32, AtomicU8, Ordering};

/// 0 = not started, 1 = running, 2 = done.
static INIT_STATE: AtomicU8 = AtomicU8::new(0);

extern "C" fn constructor() {
    ensure_init();
}

// The library constructor: glibc's symbols and layout are checked before main().
#[used]
#[link_section = ".init_array"]
static CONSTRUCTOR: extern "C" fn() = constructor;

/// Runs the one-time set-up if it has not run yet: another library's constructor may create
/// a thread before ours ran.
#[inline]
pub fn ensure_init() {
    if INIT_STATE.load(Ordering::Acquire) != 2 {
        init_slow();
    }
}

/// 0 = glibc's symbols not resolved, 1 = being resolved, 2 = resolved.
static RESOLVE_STATE: AtomicU8 = AtomicU8::new(0);

/// Resolves glibc's symbols if that has not happened yet, and nothing else: for the calls a
/// malloc the program interposes makes while it initializes, before our constructor ran
/// (jemalloc creates its key then). The full set-up allocates, which would enter that malloc's
/// initialization a second time.
#[inline]
pub fn ensure_resolved() {
    if RESOLVE_STATE.load(Ordering::Acquire) != 2 {
        resolve_slow();
    }
}

#[cold]
fn resolve_slow() {
    if RESOLVE_STATE.compare_exchange(0, 1, Ordering::AcqRel, Ordering::Acquire).is_ok() {
        // SAFETY: the first and only call; it allocates nothing and calls nothing of ours.
        unsafe { crate::glibc::resolve() };
        RESOLVE_STATE.store(2, Ordering::Release);
    } else {
        while RESOLVE_STATE.load(Ordering::Acquire) != 2 {
            crate::sys::sched_yield();
        }
    }
}

/// Kernel tid of the thread running the set-up (valid while INIT_STATE is 1).
static INITIALIZER: AtomicI32 = AtomicI32::new(0);

#[cold]
fn init_slow() {
    if INIT_STATE.compare_exchange(0, 1, Ordering::AcqRel, Ordering::Acquire).is_ok() {
        INITIALIZER.store(crate::sys::gettid(), Ordering::Relaxed);
        // Symbols and our fork handlers come first: neither allocates, and a re-entrant call
        // (below) needs them.
        ensure_resolved();
        crate::fork::init();
        // SAFETY: once, after resolve.
        unsafe { crate::glibc::init() };
        crate::stats::init();
        crate::diag::init();
        INIT_STATE.store(2, Ordering::Release);
    } else if INIT_STATE.load(Ordering::Acquire) == 1
        // Relaxed: only the initializing thread can see its own tid here.
        && INITIALIZER.load(Ordering::Relaxed) == crate::sys::gettid()
    {
        // Re-entered by the set-up itself: one of our allocations went to a malloc the
        // program interposes, whose own initialization calls back into us (jemalloc calls
        // pthread_atfork). Waiting would hang forever; symbols and fork handlers are ready,
        // which is all such a call (fork handler registration) needs.
    } else {
        while INIT_STATE.load(Ordering::Acquire) != 2 {
            crate::sys::sched_yield();
        }
    }
}

/// Converts a domain result to the pthread return convention.
#[inline]
fn ret(r: Result<()>) -> c_int {
    crate::errno::code(r)
}

/// A mutable reference from a C pointer that must not be null (EINVAL if it is).
///
/// # Safety
/// As for [`nonnull`], and no other reference to `*p` may be live.
#[inline]
unsafe fn nonnull_mut<'a, T>(p: *mut T) -> Result<&'a mut T> {
    // SAFETY: `p` is valid as this function's `# Safety` section requires.
    unsafe { p.as_mut() }.ok_or(Errno::EINVAL)
}
