//! The registry: every live descriptor, keyed by `pthread_t`. It turns a bad or stale handle
//! into ESRCH instead of a wild read, and holds adopted threads.

use super::{stack::Mapping, Thread};
use crate::errno::{Errno, Result};
use crate::glibc::tcb;
use crate::sync::lock::Locked;
use core::hash::{BuildHasherDefault, Hasher};
use std::collections::HashMap;

/// Multiplicative hashing of addresses (TCBs are 64-aligned: drop the low bits first).
#[derive(Default)]
pub struct AddrHasher(u64);

impl Hasher for AddrHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ *b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_usize(&mut self, n: usize) {
        self.0 = ((n >> 6) as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type Map = HashMap<usize, *mut Thread, BuildHasherDefault<AddrHasher>>;

struct Registry(Option<Map>);
// SAFETY: the raw descriptor pointers are only dereferenced under the lock or by their owner.
unsafe impl Send for Registry {}

static REGISTRY: Locked<Registry> = Locked::new(Registry(None));

fn with_map<R>(f: impl FnOnce(&mut Map) -> R) -> R {
    REGISTRY.with(|r| f(r.0.get_or_insert_with(Map::default)))
}

/// Publishes a descriptor.
pub fn insert(t: *mut Thread) {
    // SAFETY: `t` is a live descriptor.
    let h = unsafe { (*t).handle() };
    with_map(|m| m.insert(h, t));
}

/// Withdraws a descriptor: afterwards its handle is ESRCH.
pub fn remove(handle: usize) {
    with_map(|m| m.remove(&handle));
}

/// Runs `f` on the descriptor of `handle` while the registry is locked, so the descriptor
/// cannot be freed meanwhile. ESRCH if no such thread.
pub fn with_thread<R>(handle: usize, f: impl FnOnce(&Thread) -> R) -> Result<R> {
    with_map(|m| match m.get(&handle) {
        // SAFETY: registered descriptors stay valid until removed, which needs this lock.
        Some(&t) => Ok(f(unsafe { &*t })),
        None => Err(Errno::ESRCH),
    })
}

/// Gives the calling thread (one we did not create) a descriptor.
#[cold]
pub fn adopt_current() -> &'static Thread {
    let me = tcb::current();
    let mut t = Box::new(Thread::new(me, Mapping::none()));
    t.adopted = true;
    // SAFETY: the TCB of a running thread.
    let sb = unsafe { tcb::stack_block(me) };
    if sb.size != 0 {
        t.stack_lo = sb.base as usize + sb.guard;
        t.stack_hi = sb.base as usize + sb.size;
        t.guard = sb.guard;
    }
    let t = Box::leak(t);
    // SAFETY: our own TLS slot; this thread is running, so its TLS is set up.
    unsafe { super::set_slot(me, t) };
    insert(t);
    if crate::sys::gettid() != crate::sys::getpid() {
        // A thread glibc created: forget it when it exits, or glibc's next thread on the same
        // TCB would find a stale entry (and the descriptor would leak).
        let dtor: unsafe extern "C" fn(*mut core::ffi::c_void) = forget_adopted;
        // SAFETY: glibc calls `dtor(t)` at this thread's exit; the dso argument is any address
        // inside this library (glibc uses it to pin us while the destructor is pending).
        unsafe { (crate::glibc::symbols::syms().cxa_thread_atexit_impl)(dtor, (t as *mut Thread).cast(), dtor as *mut core::ffi::c_void) };
    }
    t
}

/// Thread-exit destructor of an adopted glibc thread: unregister and free its descriptor.
unsafe extern "C" fn forget_adopted(p: *mut core::ffi::c_void) {
    let t = p.cast::<Thread>();
    // SAFETY: `p` is the descriptor adopt_current leaked for this thread, freed only here.
    unsafe {
        remove((*t).handle());
        super::set_slot((*t).tcb, core::ptr::null_mut());
        drop(Box::from_raw(t));
    }
}

/// Forgets every thread but the caller: for the child of fork(), where they are gone.
/// Returns the descriptors removed (their memory may be recycled).
///
/// # Safety
/// Only in the fork child, with the registry lock held across fork by `prepare_fork`.
pub unsafe fn retain_only(me: usize) -> Vec<*mut Thread> {
    with_map(|m| {
        let others: Vec<_> = m.iter().filter(|(&h, _)| h != me).map(|(_, &t)| t).collect();
        m.retain(|&h, _| h == me);
        others
    })
}

/// Locks the registry around fork() so the child never sees it half-updated.
pub fn lock_for_fork() {
    REGISTRY.lock_raw();
}

/// Releases the lock taken by [`lock_for_fork`] (parent and child).
pub fn unlock_after_fork() {
    REGISTRY.unlock_raw();
}
