//! THE ONLY module that knows glibc's internals.
//!
//! A thread created with raw `clone` has no glibc thread control block, yet glibc's own code
//! reads one through `%fs` all the time (stack canary, `errno`, malloc's per-thread cache,
//! locale, the thread id, rseq). This module builds one that glibc accepts, registers it where
//! glibc looks for threads, and switches glibc into multi-threaded mode. Offsets come from the
//! `_thread_db_*` descriptors libc exports for debuggers and are checked at load: on a layout we
//! do not know, the library refuses to start instead of corrupting memory.
//!
//! One state with glibc: where glibc keeps per-thread state in the TCB, rpthread uses the
//! same fields with glibc's meaning instead of keeping its own copy, so glibc's code and ours
//! agree about every thread, ours and glibc's own: `cancelhandling` and the cleanup lists
//! (`cleanup`, `cleanup_jmp_buf`, `exc`, `result`: see `crate::cancel`), the key arrays
//! (`specific*`, with glibc's key table: see `crate::tsd`), the scheduling cache (`flags`,
//! `schedpolicy`, `schedparam` under `lock`), `joinid`, and glibc's thread count
//! (`__nptl_nthreads`). Threads glibc runs need nothing of ours allocated.
//!
//! - [`layout`]: struct pthread / tcbhead_t offsets and the load-time check.
//! - [`symbols`]: the GLIBC_PRIVATE functions and variables we call, found with `dlsym`.
//! - [`tcb`]: building and reading a TCB (the `pthread_t` of every thread is its TCB address).
//! - [`tls`]: static TLS and DTV allocation, and the malloc-cache hand-over on reuse.
//! - [`stacklist`]: glibc's thread lists `_dl_stack_used`/`_dl_stack_user` (setxid,
//!   dlopen'ed static TLS and executable stacks walk them), and `_dl_stack_flags`.
//! - [`bootstrap`]: the one-time switch of glibc into multi-threaded mode, before rpthread's
//!   first thread ([`ensure_multithreaded`]).
//! - [`solo`]: whether the caller is the only thread (mutex fast path).
//! - [`specific`]: the key-data arrays in every TCB, where thread-specific values live.

pub mod bootstrap;
pub mod layout;
pub mod solo;
pub mod specific;
pub mod stacklist;
pub mod symbols;
pub mod tcb;
pub mod tls;

/// glibc's count of live threads (`__nptl_nthreads`), ours included (see `crate::thread::live`).
pub fn thread_count() -> &'static core::sync::atomic::AtomicU32 {
    // SAFETY: glibc's `unsigned int __nptl_nthreads`, updated with atomics by glibc too.
    unsafe { &*symbols::syms().nptl_nthreads.cast::<core::sync::atomic::AtomicU32>() }
}

/// Prints `msg` on stderr and aborts: used when glibc is not what we can safely live in.
pub fn fatal(msg: &str) -> ! {
    let prefix = b"rpthread: fatal: ";
    // SAFETY: write(2) on fd 2 with valid buffers; abort never returns.
    unsafe {
        libc::write(2, prefix.as_ptr().cast(), prefix.len());
        libc::write(2, msg.as_ptr().cast(), msg.len());
        libc::write(2, b"\n".as_ptr().cast(), 1);
        libc::abort()
    }
}

/// Resolves the glibc symbols we use. Allocates nothing (on a glibc that has them all), so
/// that it is complete before anything of ours can call into an interposed malloc.
///
/// # Safety
/// Must be called once, first, before any thread of ours exists.
pub unsafe fn resolve() {
    // SAFETY: forwarded contract.
    unsafe { symbols::resolve() };
}

/// Sets up the rest, once, after [`resolve`]: check the layout, measure static TLS and take
/// the TLS initializer snapshot. glibc stays in single-threaded mode until rpthread creates a
/// thread ([`ensure_multithreaded`]).
///
/// # Safety
/// Must be called once, after [`resolve`], before any thread of ours exists.
pub unsafe fn init() {
    // SAFETY: called once after `resolve`, as the functions below require.
    unsafe {
        layout::check();
        tls::init();
        tls::snapshot_initializer();
        solo::init();
    }
}

/// 0 = glibc in single-threaded mode, 1 = being switched, 2 = switched.
static MULTITHREADED: core::sync::atomic::AtomicU8 = core::sync::atomic::AtomicU8::new(0);

/// Whether glibc is still in single-threaded mode as far as rpthread is concerned (it has not
/// created a thread yet).
pub fn single_threaded() -> bool {
    MULTITHREADED.load(core::sync::atomic::Ordering::Acquire) != 2
}

/// pthread_cancel of the calling thread, deferred, while glibc is in single-threaded mode:
/// done by glibc's own pthread_cancel. It makes the same change to the thread's
/// `cancelhandling` word rpthread makes (the word is shared, see the module comment), and
/// also clears glibc's internal single-threaded flag, which is not exported: without that,
/// glibc's system-call wrappers skip the cancellation check, and a process that never
/// created a thread could not cancel itself (glibc's test tst-cancel-self).
pub fn cancel_self_single_threaded() -> i32 {
    // SAFETY: glibc's pthread_cancel on the calling thread's own handle (its TCB address,
    // which is glibc's pthread_t too).
    unsafe { (symbols::syms().real_pthread_cancel)(tcb::current() as libc::pthread_t) }
}

/// Switches glibc to multi-threaded mode if that has not happened yet ([`bootstrap`]): called
/// before rpthread creates a thread. glibc itself switches in its first pthread_create, so a
/// program that never creates a thread keeps glibc's single-threaded stdio and malloc (no
/// locks), its `__libc_single_threaded` reads 1 (libstdc++ then counts references without
/// atomics), and the bootstrap thread's start and end never touch libc's pages: as on glibc.
/// Fails (EAGAIN) where the switch's thread cannot be made for lack of memory: that
/// pthread_create fails, and the next one tries again.
#[inline]
pub fn ensure_multithreaded() -> crate::errno::Result<()> {
    use core::sync::atomic::Ordering;
    // Acquire: pairs with the Release below; what the switch set up (the malloc words the
    // new thread's TCB is built with) is visible to a thread that sees 2.
    if MULTITHREADED.load(Ordering::Acquire) != 2 {
        return switch_slow();
    }
    Ok(())
}

#[cold]
fn switch_slow() -> crate::errno::Result<()> {
    use core::sync::atomic::Ordering;
    loop {
        match MULTITHREADED.compare_exchange(0, 1, Ordering::Acquire, Ordering::Acquire) {
            Ok(_) => {
                // SAFETY: one switch at a time (the CAS), after `init` (the library is set up
                // before any create).
                let r = unsafe { bootstrap::switch_to_multithreaded() };
                MULTITHREADED.store(if r.is_ok() { 2 } else { 0 }, Ordering::Release);
                return r;
            }
            Err(2) => return Ok(()),
            // Another thread (one glibc created: a SIGEV_THREAD timer's) is switching.
            Err(_) => crate::sys::sched_yield(),
        }
    }
}
