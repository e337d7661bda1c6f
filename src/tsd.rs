//! Thread-specific data: pthread_key_create/delete and pthread_getspecific/setspecific.
//!
//! The key table is ours: per key a sequence number (odd = in use, bumped on create and on
//! delete, so a deleted key's number never matches again) and a destructor. The values live
//! where glibc keeps them, in every thread's TCB (see `glibc::specific`: a first block of
//! [`BLOCK`] slots, then up to [`BLOCKS`]` - 1` blocks calloc'ed on first use), for our
//! threads and for the threads glibc runs alike, so no thread needs anything of ours allocated
//! to hold a value (a malloc that calls pthread_setspecific while it initializes, as jemalloc
//! does, must not be called back). A slot remembers the sequence number of the key it was set
//! under; a value whose number no longer matches belongs to a deleted key and reads as NULL,
//! as in glibc.
//!
//! `get` is the hot path, glibc's instruction for instruction: a bounds check, one
//! `%fs`-relative load of the slot, and the key's sequence number. `set` takes a slow path
//! while the TCB's `specific_used` flag is clear (a thread's first value, or its first since
//! its destructors ran).
//!
//! Destructors: our threads run them at exit ([`run_destructors`]). Threads glibc runs (the
//! main thread when it calls pthread_exit, threads glibc's own pthread_create made) end in
//! glibc's code, which walks the arrays with glibc's own key table: to have ours run there,
//! one glibc key ([`HOOK`], index 0 of glibc's table, created at load with glibc's real
//! pthread_key_create) gets a value in such a thread when it first stores one of ours;
//! glibc's walk meets that slot first and calls [`foreign_exit_hook`], which runs our
//! destructors, after C++ `thread_local` destructors, as glibc orders them.

use crate::errno::{Errno, Result};
use crate::glibc::specific::{self, Slot};
use core::ffi::c_void;
use core::ptr::null_mut;
use core::sync::atomic::{AtomicUsize, Ordering};

/// PTHREAD_KEYS_MAX.
pub const KEYS_MAX: usize = 1024;
/// PTHREAD_DESTRUCTOR_ITERATIONS.
pub const DESTRUCTOR_ITERATIONS: usize = 4;
/// Slots per block (the first block is inline in the TCB).
pub const BLOCK: usize = specific::BLOCK;
/// Blocks per thread.
pub const BLOCKS: usize = KEYS_MAX / BLOCK;

const _: () = assert!(BLOCKS == specific::BLOCKS);

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
/// Entry 0 is never handed out (its sequence number is odd from the start): its slot is
/// the exit hook's, whose key is glibc's first. Reserved statically, because a malloc the
/// program interposes may create keys before the library's constructor ran (jemalloc does,
/// from libstdc++'s constructor).
static KEYS: [Key; KEYS_MAX] = {
    let mut k = [FREE_KEY; KEYS_MAX];
    k[0] = Key { seq: AtomicUsize::new(HOOK_SEQ), dtor: AtomicUsize::new(0) };
    k
};

type Block = [Slot; BLOCK];

/// Index of the glibc key whose destructor runs ours in threads glibc ends ([`HOOK_NONE`]
/// until [`init`] made it): 0, whose entry in our table is reserved (see [`KEYS`]).
static HOOK: AtomicUsize = AtomicUsize::new(HOOK_NONE);
const HOOK_NONE: usize = usize::MAX;
/// glibc's sequence number of a key created once in a fresh table.
const HOOK_SEQ: usize = 1;

/// Value of the hook slot while [`foreign_exit_hook`] runs (no re-arming from destructors).
const HOOK_RUNNING: usize = 2;
/// Value that arms the hook.
const HOOK_ARMED: *mut c_void = 1 as *mut c_void;

/// Creates the glibc key of the exit hook. Called once at load, before any key of ours.
pub fn init() {
    let mut k: u32 = 0;
    // SAFETY: glibc's pthread_key_create with a valid out pointer and our destructor.
    let rc = unsafe { (crate::glibc::symbols::syms().real_pthread_key_create)(&mut k, Some(foreign_exit_hook)) };
    // Only index 0 is walked before every key of ours and is never one of ours. glibc hands
    // out another index only if glibc's own pthread_key_create was reached before us (never
    // by programs, whose calls land here): then the hook is not used at all.
    if rc == 0 && k == 0 {
        // Relaxed: written before any thread of ours exists (clone publishes it).
        HOOK.store(0, Ordering::Relaxed);
    } else if rc == 0 {
        // SAFETY: glibc's own key, just created.
        unsafe { (crate::glibc::symbols::syms().real_pthread_key_delete)(k) };
    }
}

/// The calling thread's slot of `key >= BLOCK` if its block exists (`key < KEYS_MAX`).
#[inline(always)]
fn second_level_slot(key: usize) -> Option<&'static mut Slot> {
    let b = specific::block(key / BLOCK);
    // SAFETY: a non-null block pointer is a live allocation owned by the calling thread, and
    // only the calling thread touches its slots.
    (!b.is_null()).then(|| unsafe { &mut (*b)[key % BLOCK] })
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
    if seq & 1 == 0 || key == 0 {
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
    // Relaxed loads of the key's number: the value is this thread's own; the number only
    // tells whether the key it was stored under still exists, and using a key concurrently
    // with its deletion is undefined.
    if key < BLOCK {
        let (seq, v) = specific::first_get(key);
        if v != 0 && seq != KEYS[key].seq.load(Ordering::Relaxed) {
            specific::first_clear(key);
            return null_mut();
        }
        return v as *mut c_void;
    }
    if key >= KEYS_MAX {
        return null_mut();
    }
    let Some(slot) = second_level_slot(key) else { return null_mut() };
    let v = slot.data;
    if !v.is_null() && slot.seq != KEYS[key].seq.load(Ordering::Relaxed) {
        slot.data = null_mut();
        return null_mut();
    }
    v
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
    if specific::used() {
        if key < BLOCK {
            specific::first_set(key, seq, value as usize);
            return Ok(());
        }
        if let Some(slot) = second_level_slot(key) {
            slot.seq = seq;
            slot.data = value;
            return Ok(());
        }
    }
    set_slow(key, seq, value)
}

/// [`set`] for a thread whose `specific_used` flag is clear (its first value, or the first
/// since its destructors last ran) or whose block for `key` does not exist yet.
#[cold]
#[inline(never)]
fn set_slow(key: usize, seq: usize, value: *mut c_void) -> Result<()> {
    if key < BLOCK {
        specific::first_set(key, seq, value as usize);
    } else {
        let slot = match second_level_slot(key) {
            Some(s) => s,
            // Nothing stored reads as NULL already: no block for that (glibc's shortcut).
            None if value.is_null() => return Ok(()),
            None => {
                // SAFETY: calloc of a zeroed block; all-zero bytes are valid `Slot`s (0, null).
                // calloc'ed as glibc's own blocks are: glibc frees them if it ever ends the
                // thread with `specific_used` set.
                let b = unsafe { libc::calloc(1, core::mem::size_of::<Block>()) }.cast::<Block>();
                if b.is_null() {
                    return Err(Errno::ENOMEM);
                }
                specific::set_block(key / BLOCK, b);
                second_level_slot(key).expect("block just installed")
            }
        };
        slot.seq = seq;
        slot.data = value;
    }
    specific::set_used(true);
    if crate::thread::current().is_none() {
        arm_foreign_hook();
    }
    Ok(())
}

/// In a thread glibc ends, makes glibc's end-of-thread walk call [`foreign_exit_hook`].
#[cold]
fn arm_foreign_hook() {
    let hook = HOOK.load(Ordering::Relaxed);
    if hook == HOOK_NONE || specific::first_get(hook).1 != 0 {
        return;
    }
    // glibc's setspecific stores the value under glibc's own sequence number for the key
    // (the inline block: no allocation).
    // SAFETY: glibc's function with its own valid key.
    unsafe { (crate::glibc::symbols::syms().real_pthread_setspecific)(hook as u32, HOOK_ARMED) };
}

/// Destructor of glibc's hook key: runs our destructors in a thread glibc is ending.
unsafe extern "C" fn foreign_exit_hook(_armed: *mut c_void) {
    let hook = HOOK.load(Ordering::Relaxed);
    // glibc cleared the hook slot before calling us: mark it busy so that destructors storing
    // values do not re-arm it, and raise `specific_used`, which glibc cleared for its round.
    specific::first_set(hook, HOOK_SEQ, HOOK_RUNNING);
    specific::set_used(true);
    run_destructors();
    specific::first_clear(hook);
}

/// Runs the destructors of the calling thread, which is exiting: for every non-NULL value of a
/// live key with a destructor, the slot is cleared and the destructor called with the value;
/// repeated while destructors set new values, at most [`DESTRUCTOR_ITERATIONS`] rounds (glibc's
/// algorithm). Then frees the thread's blocks.
pub fn run_destructors() {
    if !specific::used() {
        // No value was set since the last round (blocks are only allocated by a set, which
        // raises the flag): nothing to run and nothing to free.
        return;
    }
    for _ in 0..DESTRUCTOR_ITERATIONS {
        if !specific::used() {
            break;
        }
        specific::set_used(false);
        for (key, k) in KEYS.iter().enumerate().skip(1) {
            let (seq, v) = if key < BLOCK {
                let (seq, v) = specific::first_get(key);
                if v != 0 {
                    specific::first_clear(key);
                }
                (seq, v as *mut c_void)
            } else {
                if key % BLOCK == 0 && specific::block(key / BLOCK).is_null() {
                    continue;
                }
                let Some(slot) = second_level_slot(key) else { continue };
                (slot.seq, core::mem::replace(&mut slot.data, null_mut()))
            };
            if v.is_null() {
                continue;
            }
            // Acquire: pairs with `create`'s Release store of the destructor.
            if seq != k.seq.load(Ordering::Acquire) {
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
    release();
}

/// Frees the calling thread's second-level blocks and clears its first block but the hook
/// slot (the TCB may be reused by a new thread, glibc's or ours) and its `specific_used` flag.
fn release() {
    for i in 1..BLOCKS {
        let b = specific::block(i);
        if !b.is_null() {
            specific::set_block(i, null_mut());
            // SAFETY: allocated by calloc in `set_slow`; no reference to it outlives this.
            unsafe { libc::free(b.cast()) };
        }
    }
    for key in 1..BLOCK {
        specific::first_clear(key);
    }
    specific::set_used(false);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_set_get_delete() {
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
        assert!(get(KEYS_MAX as u32).is_null());
        assert_eq!(set(KEYS_MAX as u32, null_mut()), Err(Errno::EINVAL));
        let keys: Vec<u32> = (0..40).map(|_| create(None).unwrap()).collect();
        for &k in &keys {
            set(k, (k as usize + 1) as *mut c_void).unwrap();
        }
        for &k in &keys {
            assert_eq!(get(k) as usize, k as usize + 1);
        }
        for &k in &keys {
            set(k, null_mut()).unwrap();
        }
        for k in keys {
            delete(k).unwrap();
        }
    }
}
