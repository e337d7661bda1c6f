//! Who is calling: the thread id the owner-tracking objects (rwlock writer, once runner)
//! record, and the process-shared flag of attribute objects. Under loom every model thread
//! runs on one OS thread, so ids come from a per-model-thread counter instead.

use super::model::Scope;
use crate::errno::{Errno, Result};

/// The calling thread's kernel tid (never 0).
#[cfg(not(loom))]
#[inline(always)]
pub fn tid() -> i32 {
    crate::glibc::tcb::current_tid()
}

/// A distinct non-zero id per loom model thread.
#[cfg(loom)]
pub fn tid() -> i32 {
    use std::sync::atomic::{AtomicI32, Ordering};
    static NEXT: AtomicI32 = AtomicI32::new(1);
    loom::thread_local!(static ID: i32 = NEXT.fetch_add(1, Ordering::Relaxed));
    ID.with(|id| *id)
}

/// The futex scope for a `PTHREAD_PROCESS_*` value; other values are EINVAL.
pub fn scope_of(pshared: i32) -> Result<Scope> {
    match pshared {
        libc::PTHREAD_PROCESS_PRIVATE => Ok(Scope::Private),
        libc::PTHREAD_PROCESS_SHARED => Ok(Scope::Shared),
        _ => Err(Errno::EINVAL),
    }
}

/// The `PTHREAD_PROCESS_*` value of a scope.
pub fn pshared_of(scope: Scope) -> i32 {
    match scope {
        Scope::Private => libc::PTHREAD_PROCESS_PRIVATE,
        Scope::Shared => libc::PTHREAD_PROCESS_SHARED,
    }
}
