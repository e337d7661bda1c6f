//! Thread-specific data: pthread_key_create/delete and pthread_getspecific/setspecific.
//!
//! The key table is ours: per key a sequence number (odd = in use, bumped on create and on
//! delete, so a deleted key's number never matches again) and a destructor. The values live
//! where glibc keeps them, in every thread's TCB (`glibc::tcb::KeyData`: an inline first
//! block of [`BLOCK`] slots, then up to [`BLOCKS`]` - 1` blocks calloc'ed on first use), for
//! our threads and for threads we did not create alike, so no thread needs anything of ours
//! allocated to hold a value (a malloc that calls pthread_setspecific while it initializes,
//! as jemalloc does, must not be called back). A slot remembers the sequence number of the key
//! it was set under; a value whose number no longer matches belongs to a deleted key and reads
//! as NULL, as in glibc.
//!
//! Destructors: our threads run them at exit ([`run_destructors`]). Threads glibc runs (the
//! main thread when it calls pthread_exit, threads glibc's own pthread_create made) end in
//! glibc's code, which clears the arrays through glibc's own key table: to have ours run
//! there, one glibc key ([`HOOK`], index 0 of glibc's table, created at load through glibc's
//! real pthread_key_create) gets a value in such a thread when it first stores one of ours;
//! glibc's clean-up meets that slot first and calls [`foreign_exit_hook`], which runs our
//! destructors, after C++ `thread_local` destructors, as glibc orders them.
//!
//! `get` is the hot path: the TCB (one %fs load), a bounds check, the slot, and the key's
//! sequence number.

use crate::errno::{Errno, Result};
use crate::glibc::tcb::{self, KeyData};
use core::ffi::c_void;
use core::ptr::null_mut;
use core::sync::atomic::{AtomicUsize, Ordering};

/// PTHREAD_KEYS_MAX.
pub const KEYS_MAX: usize = 1024;
/// PTHREAD_DESTRUCTOR_ITERATIONS.
pub const DESTRUCTOR_ITERATIONS: usize = 4;
/// Slots per block (the first block is inline in the TCB).
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

/// Index of the glibc key whose destructor runs ours in threads glibc ends ([`HOOK_NONE`]
/// until [`init`] made it). Its slot is never one of our keys.
static HOOK: AtomicUsize = AtomicUsize::new(HOOK_NONE);
const HOOK_NONE: usize = usize::MAX;

/// Value of the hook slot while [`foreign_exit_hook`] runs (no re-arming from destructors).
const HOOK_RUNNING: *mut c_void = 2 as *mut c_void;
/// Value that arms the hook.
const HOOK_ARMED: *mut c_void = 1 as *mut c_void;

/// Creates the glibc key of the exit hook. Called once at load, before any key of ours.
pub fn init() {
    let mut k: u32 = 0;
    // SAFETY: glibc's pthread_key_create with a valid out pointer and our destructor.
    let rc = unsafe { (crate::glibc::symbols::syms().real_pthread_key_create)(&mut k, Some(foreign_exit_hook)) };
    if rc == 0 && (k as usize) < BLOCK {
        // Relaxed: written before any thread of ours exists (clone publishes it).
        HOOK.store(k as usize, Ordering::Relaxed);
    }
}

/// The slot of `key` in the calling thread, if its block exists (`key < KEYS_MAX`).
#[inline(always)]
fn slot(key: usize) -> Option<*mut KeyData> {
    if key < BLOCK {
        // SAFETY: key < BLOCK is inside the inline block.
        return Some(unsafe { tcb::key_block0().add(key) });
    }
    // SAFETY: key / BLOCK < BLOCKS indexes the TCB's block pointers.
    let b = unsafe { *tcb::key_block(key / BLOCK) };
    // SAFETY: a non-null block pointer is a live calloc'ed block of BLOCK slots.
    (!b.is_null()).then(|| unsafe { b.add(key % BLOCK) })
}

/// Creates a key with an optional destructor. EAGAIN when all [`KEYS_MAX`] keys exist.
pub fn create(dtor: Option<Destructor>) -> Result<u32> {
    let hook = HOOK.load(Ordering::Relaxed);
    for (i, k) in KEYS.iter().enumerate() {
        let seq = k.seq.load(Ordering::Relaxed);
        // Free, and bumping the number does not wrap around to a value a slot may hold.
        if seq & 1 == 0 && seq.wrapping_add(2) > seq && i != hook {
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
    let Some(s) = slot(key) else { return null_mut() };
    // SAFETY: the slot is the calling thread's own; only this thread touches it.
    let s = unsafe { &mut *s };
    let v = s.data;
    // Relaxed: the value is this thread's own; the number only tells whether the key it was
    // stored under still exists, and using a key concurrently with its deletion is undefined.
    if !v.is_null() && s.seq != KEYS[key].seq.load(Ordering::Relaxed) {
        if key == HOOK.load(Ordering::Relaxed) {
            return null_mut(); // glibc's slot, not a key of ours
        }
        s.data = null_mut();
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
    let s = match slot(key) {
        Some(s) => s,
        None if value.is_null() => return Ok(()), // reads as NULL already: nothing to allocate
        None => alloc_block(key)?,
    };
    // SAFETY: the calling thread's own slot.
    unsafe {
        (*s).seq = seq;
        (*s).data = value;
        if !value.is_null() || key >= BLOCK {
            *tcb::key_used() = true;
        }
    }
    if crate::thread::current().is_none() {
        arm_foreign_hook();
    }
    Ok(())
}

/// Allocates the block holding `key` (not in the inline block) and returns its slot.
#[cold]
fn alloc_block(key: usize) -> Result<*mut KeyData> {
    // SAFETY: calloc of zeroed slots; all-zero bytes are valid KeyData (0, null).
    let b = unsafe { libc::calloc(BLOCK, core::mem::size_of::<KeyData>()) }.cast::<KeyData>();
    if b.is_null() {
        return Err(Errno::ENOMEM);
    }
    // SAFETY: the calling thread's own block pointer; `b` has BLOCK slots.
    unsafe {
        *tcb::key_block(key / BLOCK) = b;
        Ok(b.add(key % BLOCK))
    }
}

/// In a thread glibc ends, makes glibc's clean-up call [`foreign_exit_hook`].
#[cold]
fn arm_foreign_hook() {
    let hook = HOOK.load(Ordering::Relaxed);
    if hook == HOOK_NONE {
        return;
    }
    // SAFETY: the calling thread's slot `hook` of the inline block (hook < BLOCK).
    if unsafe { (*tcb::key_block0().add(hook)).data }.is_null() {
        // glibc's setspecific stores the value under glibc's own sequence number for the key
        // (the inline block: no allocation).
        // SAFETY: glibc's function with its own valid key.
        unsafe { (crate::glibc::symbols::syms().real_pthread_setspecific)(hook as u32, HOOK_ARMED) };
    }
}

/// Destructor of glibc's hook key: runs our destructors in a thread glibc is ending.
unsafe extern "C" fn foreign_exit_hook(_armed: *mut c_void) {
    let hook = HOOK.load(Ordering::Relaxed);
    // SAFETY: the calling thread's hook slot (glibc cleared it before calling us): marked
    // busy so that destructors storing values do not re-arm it.
    let slot = unsafe { &mut *tcb::key_block0().add(hook) };
    slot.data = HOOK_RUNNING;
    // glibc cleared `specific_used` before this round; our values are still there.
    // SAFETY: the calling thread's own flag.
    unsafe { *tcb::key_used() = true };
    run_destructors();
    slot.data = null_mut();
}

/// Runs the destructors of the calling thread, which is exiting: for every non-NULL value of a
/// live key with a destructor, the slot is cleared and the destructor called with the value;
/// repeated while destructors set new values, at most [`DESTRUCTOR_ITERATIONS`] rounds (glibc's
/// algorithm). Then frees the thread's blocks and clears the inline one.
pub fn run_destructors() {
    let hook = HOOK.load(Ordering::Relaxed);
    // SAFETY: the calling thread's own flag.
    let used = unsafe { &mut *tcb::key_used() };
    for _ in 0..DESTRUCTOR_ITERATIONS {
        if !core::mem::replace(used, false) {
            break;
        }
        for key in 0..KEYS_MAX {
            if key == hook {
                continue;
            }
            let Some(s) = slot(key) else { continue };
            // SAFETY: the calling thread's own slot.
            let s = unsafe { &mut *s };
            let v = core::mem::replace(&mut s.data, null_mut());
            if v.is_null() {
                continue;
            }
            // Acquire: pairs with `create`'s Release store of the destructor.
            let k = &KEYS[key];
            if s.seq != k.seq.load(Ordering::Acquire) {
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

/// Frees the calling thread's second-level blocks and clears its inline block but for the
/// hook slot (the TCB may be reused by a new thread, or glibc goes on with it).
fn release() {
    let hook = HOOK.load(Ordering::Relaxed);
    for i in 1..BLOCKS {
        // SAFETY: the calling thread's block pointer `i`.
        let p = unsafe { core::mem::replace(&mut *tcb::key_block(i), null_mut()) };
        if !p.is_null() {
            // SAFETY: allocated by calloc in `alloc_block`; no reference to it outlives this.
            unsafe { libc::free(p.cast()) };
        }
    }
    for key in (0..BLOCK).filter(|&k| k != hook) {
        // SAFETY: the calling thread's inline slot.
        unsafe { (*tcb::key_block0().add(key)).data = null_mut() };
    }
    // SAFETY: the calling thread's own flag.
    unsafe { *tcb::key_used() = false };
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
