//! Switching glibc into multi-threaded mode.
//!
//! While glibc believes the process is single-threaded, malloc skips its arena locks and
//! stdio its FILE locks (observed: heap corruption, lost output). The clean switch is glibc's
//! own: create and join one thread with glibc's real `pthread_create`, once, before rpthread
//! creates its first thread (`super::ensure_multithreaded`), as glibc does in its own first
//! pthread_create. glibc
//! then clears `__libc_single_threaded` (its copy and the executable's), enables stdio locks
//! and installs its SIGSETXID handler. That thread only bootstraps glibc; it also shows us
//! which TLS words malloc uses (see `tls::discover_malloc_words`). No user thread is ever
//! created by glibc's pthread_create.
//!
//! The bootstrap thread leaves nothing behind: it runs on a small stack we map and unmap
//! (glibc does not cache a stack it did not allocate; with its default attributes it would
//! keep an 8 MiB stack in its cache for the life of the process), and its probe makes glibc's
//! malloc use `main_arena` instead of creating an arena of its own (64 MiB of address space).

use super::symbols::syms;
use crate::errno::Errno;
use crate::sys;
use core::ffi::c_void;

/// The bootstrap thread's stack, beyond the static TLS and TCB glibc places at its top: the
/// probe and glibc's thread start and end need a few KiB.
const STACK_REST: usize = 32 << 10;

extern "C" fn probe(_: *mut c_void) -> *mut c_void {
    super::tls::discover_malloc_words();
    core::ptr::null_mut()
}

/// Creates and joins the bootstrap thread with glibc's own functions, on a stack of ours.
/// Fails (EAGAIN, or glibc's pthread_create's error) where memory or threads run out: the
/// pthread_create that asked fails with it, as glibc's own would, and the next one tries
/// again.
///
/// # Safety
/// After `super::init` (which took the TLS initializer snapshot the probe compares with),
/// before rpthread's first thread; not concurrently with itself.
pub unsafe fn switch_to_multithreaded() -> Result<(), Errno> {
    let s = syms();
    let size = (super::tls::static_size() + STACK_REST).next_multiple_of(crate::sys::PAGE);
    let stack = sys::mmap_anon(size, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_STACK).map_err(|_| Errno::EAGAIN)?;
    // SAFETY: pthread_attr_t is plain data, initialized by glibc's pthread_attr_init.
    let mut attr: libc::pthread_attr_t = unsafe { core::mem::zeroed() };
    let mut t: libc::pthread_t = 0;
    // SAFETY: glibc's own attr functions on glibc's attr object; the stack is ours, mapped
    // above, and stays mapped until the thread is joined (glibc's join returns once the
    // kernel has cleared the thread's tid, after its last use of the stack).
    let rc = unsafe {
        (s.real_pthread_attr_init)(&mut attr);
        let mut rc = (s.real_pthread_attr_setstack)(&mut attr, stack.cast(), size);
        if rc == 0 {
            rc = (s.real_pthread_create)(&mut t, &attr, probe, core::ptr::null_mut());
        }
        (s.real_pthread_attr_destroy)(&mut attr);
        rc
    };
    if rc != 0 {
        // SAFETY: our mapping, which no thread ran on.
        let _ = unsafe { sys::munmap(stack, size) };
        return Err(Errno(rc));
    }
    // SAFETY: `t` was just created joinable. Joining a thread on a user stack frees only its
    // DTV; then the stack is no one's.
    unsafe {
        (s.real_pthread_join)(t, core::ptr::null_mut());
        let _ = sys::munmap(stack, size);
    }
    Ok(())
}
