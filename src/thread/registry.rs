//! The registry: every live descriptor of ours, keyed by `pthread_t`. It turns a bad or stale
//! handle into ESRCH instead of a wild read. Threads we did not create are not here: they are
//! found on glibc's own lists (see [`super::lookup`]).
//!
//! An open-addressing hash table (linear probing, tombstones) in memory mapped directly, not
//! malloc'ed: thread creation and every handle lookup may run inside an interposed malloc
//! (jemalloc creates threads and calls pthread functions while it initializes), which must not
//! be called back.

use super::Thread;
use crate::errno::{Errno, Result};
use crate::lock::Locked;
use crate::sys;

#[derive(Clone, Copy)]
#[repr(C)]
struct Entry {
    /// The `pthread_t` (a TCB address, 64-aligned: never `EMPTY` or `GONE`).
    key: usize,
    val: *mut Thread,
}

const EMPTY: usize = 0;
const GONE: usize = 1;

struct Table {
    slots: *mut Entry,
    /// Number of slots, a power of two (0 before the first insert).
    cap: usize,
    /// Live entries.
    len: usize,
    /// Live entries plus tombstones.
    used: usize,
}
// SAFETY: the raw pointers are only dereferenced under the lock or by their owner.
unsafe impl Send for Table {}

static REGISTRY: Locked<Table> = Locked::new(Table { slots: core::ptr::null_mut(), cap: 0, len: 0, used: 0 });

fn hash(key: usize) -> usize {
    // TCBs are 64-aligned: drop the low bits, then multiplicative hashing.
    ((key >> 6) as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) as usize
}

impl Table {
    fn slot(&self, i: usize) -> Entry {
        // SAFETY: i < cap, and the slots are mapped for `cap` entries; the lock serializes.
        unsafe { *self.slots.add(i) }
    }

    fn set(&mut self, i: usize, e: Entry) {
        // SAFETY: as for `slot`; `&mut self` is the lock holder's.
        unsafe { *self.slots.add(i) = e };
    }

    /// The index holding `key`, if present.
    fn find(&self, key: usize) -> Option<usize> {
        if self.cap == 0 {
            return None;
        }
        let mask = self.cap - 1;
        let mut i = hash(key) & mask;
        loop {
            match self.slot(i).key {
                EMPTY => return None,
                k if k == key => return Some(i),
                _ => i = (i + 1) & mask,
            }
        }
    }

    fn insert(&mut self, key: usize, val: *mut Thread) -> Result<()> {
        if (self.used + 1) * 2 > self.cap {
            self.rebuild((self.len + 1).max(32).next_power_of_two() * 4)?;
        }
        let mask = self.cap - 1;
        let mut i = hash(key) & mask;
        while self.slot(i).key > GONE {
            i = (i + 1) & mask;
        }
        if self.slot(i).key == EMPTY {
            self.used += 1;
        }
        self.set(i, Entry { key, val });
        self.len += 1;
        Ok(())
    }

    fn remove(&mut self, key: usize) {
        if let Some(i) = self.find(key) {
            self.set(i, Entry { key: GONE, val: core::ptr::null_mut() });
            self.len -= 1;
        }
    }

    /// Moves the live entries into a fresh table of `cap` slots (tombstones dropped).
    fn rebuild(&mut self, cap: usize) -> Result<()> {
        let bytes = cap * core::mem::size_of::<Entry>();
        let fresh = sys::mmap_anon(bytes, libc::PROT_READ | libc::PROT_WRITE, 0).map_err(|_| Errno::EAGAIN)?.cast::<Entry>();
        let old = core::mem::replace(self, Table { slots: fresh, cap, len: 0, used: 0 });
        for i in 0..old.cap {
            let e = old.slot(i);
            if e.key > GONE {
                self.insert(e.key, e.val).expect("a fresh table has room");
            }
        }
        old.unmap();
        Ok(())
    }

    fn unmap(self) {
        if self.cap != 0 {
            // SAFETY: the slots were mapped by `rebuild` with this size and are not used again.
            let _ = unsafe { sys::munmap(self.slots.cast(), self.cap * core::mem::size_of::<Entry>()) };
        }
    }
}

/// Publishes a descriptor. EAGAIN if the table cannot grow (no memory).
///
/// # Safety
/// `t` must be a live descriptor that stays live until [`remove`]d.
pub unsafe fn insert(t: *mut Thread) -> Result<()> {
    // SAFETY: `t` is a live descriptor.
    let h = unsafe { (*t).handle() };
    REGISTRY.with(|r| r.insert(h, t))
}

/// Withdraws a descriptor: afterwards its handle is ESRCH.
pub fn remove(handle: usize) {
    REGISTRY.with(|r| r.remove(handle));
}

/// Runs `f` on the descriptor of `handle` while the registry is locked, so the descriptor
/// cannot be freed meanwhile. ESRCH if no such thread of ours.
pub fn with_thread<R>(handle: usize, f: impl FnOnce(&Thread) -> R) -> Result<R> {
    // SAFETY: registered descriptors stay valid until removed, which needs this lock.
    with_thread_raw(handle, |t| f(unsafe { &*t }))
}

/// As [`with_thread`], with the descriptor's own pointer (the one its memory was mapped
/// with), for callers that hand the descriptor on to be written or freed: a pointer cast
/// from the shared reference would not allow that.
pub fn with_thread_raw<R>(handle: usize, f: impl FnOnce(*mut Thread) -> R) -> Result<R> {
    REGISTRY.with(|r| match r.find(handle) {
        Some(i) => Ok(f(r.slot(i).val)),
        None => Err(Errno::ESRCH),
    })
}

/// Forgets every thread but `me`, calling `gone` on each forgotten descriptor: for the child
/// of fork(), where they do not exist.
///
/// # Safety
/// Only in the fork child, with no other thread running.
pub unsafe fn retain_only(me: usize, mut gone: impl FnMut(*mut Thread)) {
    let old = REGISTRY.with(|r| core::mem::replace(r, Table { slots: core::ptr::null_mut(), cap: 0, len: 0, used: 0 }));
    for i in 0..old.cap {
        let e = old.slot(i);
        if e.key == me {
            // Re-inserting into an empty table only maps memory; in the unlikely case that
            // fails the thread just becomes unknown (ESRCH), which loses nothing it owns.
            // SAFETY: the caller's live descriptor, kept in the registry as before.
            let _ = unsafe { insert(e.val) };
        } else if e.key > GONE {
            gone(e.val);
        }
    }
    old.unmap();
}

/// Locks the registry around fork() so the child never sees it half-updated.
pub fn lock_for_fork() {
    REGISTRY.lock_raw();
}

/// Releases the lock taken by [`lock_for_fork`] (parent and child).
pub fn unlock_after_fork() {
    REGISTRY.unlock_raw();
}
