//! Thread-specific data: pthread_key_create/delete and pthread_getspecific/setspecific.
//!
//! The key table is global: per key a sequence number (odd = in use, bumped on create and on
//! delete, so a deleted key's number never matches again) and a destructor. Each thread keeps
//! its values in its descriptor: an inline first block of [`BLOCK`] slots, then up to
//! [`BLOCKS`]` - 1` blocks allocated on first use. A slot remembers the sequence number of the
//! key it was set under; a value whose number no longer matches belongs to a deleted key and
//! reads as NULL (as glibc does), so a re-created key never shows a stale value.
//!
//! `get` is the hot path: the descriptor (one %fs load), a bounds check, the slot, and the
//! key's sequence number.

use crate::errno::{Errno, Result};
use crate::thread::{self, Thread};
use core::cell::Cell;
use core::ffi::c_void;
use core::ptr::null_mut;
use core::sync::atomic::{AtomicUsize, Ordering};

/// PTHREAD_KEYS_MAX.
pub const KEYS_MAX: usize = 1024;
/// PTHREAD_DESTRUCTOR_ITERATIONS.
pub const DESTRUCTOR_ITERATIONS: usize = 4;
/// Slots per block (the first block is inline in the descriptor).
pub const BLOCK: usize = 32;
/// Blocks per thread.
pub const BLOCKS: usize = KEYS_MAX / BLOCK;

/// A key destructor.
pub type Destructor = unsafe extern "C" fn(*mut c_void);

struct Key {
    /// Odd while the key exists; bumped by create and by delete.
    seq: AtomicUsize,
    /// The destructor as an address (0 = none).
    dtor: AtomicUsize,
}

#[allow(clippy::declare_interior_mutable_const)]
const FREE_KEY: Key = Key { seq: AtomicUsize::new(0), dtor: AtomicUsize::new(0) };
static KEYS: [Key; KEYS_MAX] = [FREE_KEY; KEYS_MAX];

/// One thread's value for one key.
#[derive(Default)]
#[repr(C)]
pub struct Slot {
    seq: Cell<usize>,
    value: Cell<*mut c_void>,
}

type Block = [Slot; BLOCK];

/// A thread's values (lives in its descriptor; only the thread itself touches it).
pub struct Specific {
    first: Block,
    more: [Cell<*mut Block>; BLOCKS - 1],
    /// A value was set since the last destructor round started.
    used: Cell<bool>,
}

impl Default for Specific {
    fn default() -> Self {
        Specific {
            first: Default::default(),
            more: core::array::from_fn(|_| Cell::new(null_mut())),
            used: Cell::new(false),
        }
    }
}

impl Specific {
    /// The slot of `key` if its block exists.
    #[inline(always)]
    fn slot(&self, key: usize) -> Option<&Slot> {
        if key < BLOCK {
            return Some(&self.first[key]);
        }
        let b = self.more.get(key / BLOCK - 1)?.get();
        // SAFETY: a non-null block pointer is a live allocation owned by this thread.
        (!b.is_null()).then(|| unsafe { &(*b)[key % BLOCK] })
    }

    /// The slot of `key`, allocating its block if needed (`key < KEYS_MAX`).
    fn slot_alloc(&self, key: usize) -> Result<&Slot> {
        if let Some(s) = self.slot(key) {
            return Ok(s);
        }
        // SAFETY: calloc of a zeroed block; all-zero bytes are valid `Slot`s (0, null).
        let b = unsafe { libc::calloc(1, core::mem::size_of::<Block>()) }.cast::<Block>();
        if b.is_null() {
            return Err(Errno::ENOMEM);
        }
        self.more[key / BLOCK - 1].set(b);
        // SAFETY: just allocated and zeroed.
        Ok(unsafe { &(*b)[key % BLOCK] })
    }
}

/// Creates a key with an optional destructor. EAGAIN when all [`KEYS_MAX`] keys exist.
pub fn create(dtor: Option<Destructor>) -> Result<u32> {
    for (i, k) in KEYS.iter().enumerate() {
        let seq = k.seq.load(Ordering::Relaxed);
        // Free, and bumping the number does not wrap around to a value a slot may hold.
        if seq & 1 == 0 && seq.wrapping_add(2) > seq {
            // Acquire/Release: pairs with `delete` so a reuse follows the deletion in order.
            if k.seq.compare_exchange(seq, seq + 1, Ordering::AcqRel, Ordering::Relaxed).is_ok() {
                k.dtor.store(dtor.map_or(0, |d| d as usize), Ordering::Release);
                return Ok(i as u32);
            }
        }
    }
    Err(Errno::EAGAIN)
}

/// Deletes a key (no destructor runs). EINVAL if `key` does not exist.
pub fn delete(key: u32) -> Result<()> {
    let k = KEYS.get(key as usize).ok_or(Errno::EINVAL)?;
    let seq = k.seq.load(Ordering::Relaxed);
    if seq & 1 == 0 {
        return Err(Errno::EINVAL);
    }
    k.seq
        .compare_exchange(seq, seq + 1, Ordering::AcqRel, Ordering::Relaxed)
        .map(drop)
        .map_err(|_| Errno::EINVAL)
}

/// The calling thread's value for `key` (NULL if none, or if the key was deleted).
#[inline]
pub fn get(key: u32) -> *mut c_void {
    let key = key as usize;
    if key >= KEYS_MAX {
        return null_mut();
    }
    // The fast path makes no call (so no register saves): a thread without a descriptor yet
    // takes the cold path, which adopts it.
    let Some(th) = thread::current_if_known() else { return get_adopting(key) };
    let Some(slot) = th.tsd.slot(key) else { return null_mut() };
    let v = slot.value.get();
    // Relaxed: the value is this thread's own; the number only tells whether the key it was
    // stored under still exists, and using a key concurrently with its deletion is undefined.
    if !v.is_null() && slot.seq.get() != KEYS[key].seq.load(Ordering::Relaxed) {
        slot.value.set(null_mut());
        return null_mut();
    }
    v
}

#[cold]
#[inline(never)]
fn get_adopting(key: usize) -> *mut c_void {
    let _ = thread::current();
    get(key as u32)
}

/// Sets the calling thread's value for `key`. EINVAL if the key does not exist, ENOMEM if its
/// block could not be allocated.
#[inline]
pub fn set(key: u32, value: *mut c_void) -> Result<()> {
    let key = key as usize;
    let k = KEYS.get(key).ok_or(Errno::EINVAL)?;
    // Relaxed: see `get`.
    let seq = k.seq.load(Ordering::Relaxed);
    if seq & 1 == 0 {
        return Err(Errno::EINVAL);
    }
    if let Some(th) = thread::current_if_known() {
        if let Some(slot) = th.tsd.slot(key) {
            slot.seq.set(seq);
            slot.value.set(value);
            th.tsd.used.set(true);
            return Ok(());
        }
    }
    set_slow(key, seq, value)
}

/// [`set`] for a thread without a descriptor yet or a slot in a block not allocated yet.
#[cold]
#[inline(never)]
fn set_slow(key: usize, seq: usize, value: *mut c_void) -> Result<()> {
    let t = &thread::current().tsd;
    let slot = t.slot_alloc(key)?;
    slot.seq.set(seq);
    slot.value.set(value);
    t.used.set(true);
    Ok(())
}

/// Runs the destructors of the exiting thread `th` (the caller): for every non-NULL value of a
/// live key with a destructor, the slot is cleared and the destructor called with the value;
/// repeated while destructors set new values, at most [`DESTRUCTOR_ITERATIONS`] rounds. Then
/// frees the thread's blocks.
pub fn run_destructors(th: &Thread) {
    let t = &th.tsd;
    for _ in 0..DESTRUCTOR_ITERATIONS {
        if !t.used.replace(false) {
            break;
        }
        for key in 0..KEYS_MAX {
            if key % BLOCK == 0 && t.slot(key).is_none() {
                continue;
            }
            let Some(slot) = t.slot(key) else { continue };
            let v = slot.value.replace(null_mut());
            if v.is_null() {
                continue;
            }
            // Acquire: pairs with `create`'s Release store of the destructor.
            let k = &KEYS[key];
            if slot.seq.get() != k.seq.load(Ordering::Acquire) {
                continue;
            }
            let d = k.dtor.load(Ordering::Acquire);
            if d != 0 {
                // SAFETY: `d` was stored from a `Destructor` by `create`.
                let d: Destructor = unsafe { core::mem::transmute::<usize, Destructor>(d) };
                // SAFETY: the user's destructor with the user's value, as POSIX specifies.
                unsafe { d(v) };
            }
        }
    }
    release(th);
}

/// Frees the thread's second-level blocks and clears its inline block (the descriptor may be
/// reused by a new thread).
fn release(th: &Thread) {
    let t = &th.tsd;
    for b in &t.more {
        let p = b.replace(null_mut());
        if !p.is_null() {
            // SAFETY: allocated by calloc in `slot_alloc`; no reference to it outlives this.
            unsafe { libc::free(p.cast()) };
        }
    }
    for s in &t.first {
        s.value.set(null_mut());
    }
    t.used.set(false);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Adopting the test thread needs glibc's symbols (the library constructor does not run
    /// in unit tests).
    fn init() {
        static ONCE: std::sync::Once = std::sync::Once::new();
        // SAFETY: resolved once, before any adoption in this test binary.
        ONCE.call_once(|| unsafe { crate::glibc::symbols::resolve() });
    }

    #[test]
    fn create_set_get_delete() {
        init();
        let k = create(None).unwrap();
        assert!(get(k).is_null());
        set(k, 42 as *mut c_void).unwrap();
        assert_eq!(get(k) as usize, 42);
        delete(k).unwrap();
        assert_eq!(delete(k), Err(Errno::EINVAL));
        assert_eq!(set(k, null_mut()), Err(Errno::EINVAL));
        let k2 = create(None).unwrap();
        if k2 == k {
            assert!(get(k2).is_null(), "stale value after delete/create");
        }
        delete(k2).unwrap();
    }

    #[test]
    fn second_level_and_bounds() {
        init();
        assert!(get(KEYS_MAX as u32).is_null());
        assert_eq!(set(KEYS_MAX as u32, null_mut()), Err(Errno::EINVAL));
        let keys: Vec<u32> = (0..40).map(|_| create(None).unwrap()).collect();
        for &k in &keys {
            set(k, (k as usize + 1) as *mut c_void).unwrap();
        }
        for &k in &keys {
            assert_eq!(get(k) as usize, k as usize + 1);
        }
        for k in keys {
            delete(k).unwrap();
        }
    }
}
