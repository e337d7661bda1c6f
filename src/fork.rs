//! fork(): keep our own tables consistent across glibc's fork.
//!
//! glibc's fork() runs the handlers registered with its `__register_atfork`; ours are
//! registered once at load. Before fork we take every internal lock (so the child never
//! inherits a table half-updated by a thread that does not exist there); after it, the parent
//! releases them and the child also forgets the other threads and recycles their memory.

use crate::glibc::{symbols::syms, tcb, tls};
use crate::thread::{attr, registry, stack};
use core::sync::atomic::Ordering;

unsafe extern "C" fn prepare() {
    attr::lock_for_fork();
    crate::sync::sem_named::lock_for_fork();
    tls::lock_for_fork();
    stack::lock_for_fork();
    registry::lock_for_fork();
}

unsafe extern "C" fn parent() {
    registry::unlock_after_fork();
    stack::unlock_after_fork();
    tls::unlock_after_fork();
    crate::sync::sem_named::unlock_after_fork();
    attr::unlock_after_fork();
}

unsafe extern "C" fn child() {
    // SAFETY: fork child: single-threaded; the locks are held by us (prepare).
    unsafe { parent() };
    crate::diag::fork_child();
    let me = tcb::current() as usize;
    // SAFETY: fork child, registry lock released and only this thread exists.
    unsafe {
        registry::retain_only(me, |t| {
            // The thread does not exist in the child: no kernel will clear its tid, so we do;
            // its memory is then free for reuse. (glibc's own child handler already took it
            // off glibc's thread lists, into glibc's stack cache for one on a stack we mapped,
            // and reset glibc's thread count to 1.)
            tcb::tid_word((*t).tcb).store(0, Ordering::Relaxed);
            if (*t).mapping.owned() {
                crate::glibc::stacklist::forget_in_child((*t).tcb);
            }
            stack::release(t);
        })
    };
}

/// Registers our handlers with glibc's fork.
pub fn init() {
    // SAFETY: glibc's registration function with static handlers and no DSO handle.
    let rc = unsafe {
        (syms().real_register_atfork)(Some(prepare), Some(parent), Some(child), core::ptr::null_mut())
    };
    if rc != 0 {
        crate::glibc::fatal("cannot register fork handlers with glibc");
    }
}

/// A fork handler as pthread_atfork takes it.
pub type Handler = Option<unsafe extern "C" fn()>;

/// Registers user fork handlers. They go into glibc's own list, which its fork() runs:
/// prepare handlers in reverse order of registration, parent and child handlers in order.
/// Ours were registered first at load, so our prepare runs after every user prepare (user
/// handlers may still take their locks) and our child handler runs before user child
/// handlers (the library is consistent when they run).
///
/// # Safety
/// `dso` must be null or the `__dso_handle` of a loaded object.
pub unsafe fn register(prepare: Handler, parent: Handler, child: Handler, dso: *mut core::ffi::c_void) -> i32 {
    // SAFETY: glibc's registration function; the handlers are the caller's.
    unsafe { (syms().real_register_atfork)(prepare, parent, child, dso) }
}
