//! Switching glibc into multi-threaded mode.
//!
//! While glibc believes the process is single-threaded, malloc skips its arena locks and
//! stdio its FILE locks (observed: heap corruption, lost output). The clean switch is glibc's
//! own: create and join one thread with glibc's real `pthread_create`, once, at load. glibc
//! then clears `__libc_single_threaded` (its copy and the executable's), enables stdio locks
//! and installs its SIGSETXID handler. That thread only bootstraps glibc; it also shows us
//! which TLS words malloc uses (see `tls::discover_malloc_words`). No user thread is ever
//! created by glibc's pthread_create.

use super::symbols::syms;
use core::ffi::c_void;

extern "C" fn probe(_: *mut c_void) -> *mut c_void {
    super::tls::discover_malloc_words();
    core::ptr::null_mut()
}

/// Creates and joins the bootstrap thread with glibc's own functions.
///
/// # Safety
/// Once, from the library constructor, after `symbols::resolve` and `tls::init`.
pub unsafe fn switch_to_multithreaded() {
    let s = syms();
    // SAFETY: pthread_t is plain data.
    let mut t: libc::pthread_t = unsafe { core::mem::zeroed() };
    // SAFETY: glibc's own create/join with a valid start routine.
    let rc = unsafe { (s.real_pthread_create)(&mut t, core::ptr::null(), probe, core::ptr::null_mut()) };
    if rc != 0 {
        super::fatal("glibc's pthread_create failed while switching glibc to multi-threaded mode");
    }
    // SAFETY: `t` was just created joinable.
    unsafe { (s.real_pthread_join)(t, core::ptr::null_mut()) };
}
