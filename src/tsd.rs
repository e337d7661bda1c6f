//! Thread-specific data: pthread_key_create/delete and pthread_getspecific/setspecific.
//!
//! One set of keys and values for the whole process, glibc's: keys are made and deleted in
//! glibc's own key table (its pthread_key_create/delete), and every thread's values live in
//! its TCB (see `glibc::specific`: a first block of [`BLOCK`] slots, then up to
//! [`BLOCKS`]` - 1` blocks calloc'ed on first use). So the threads glibc ends itself (the main
//! thread in pthread_exit, threads glibc's own pthread_create made) run the destructors with
//! glibc's own code, no thread needs anything of ours allocated to hold a value (a malloc
//! that calls pthread_setspecific while it initializes, as jemalloc does, must not be called
//! back), and all PTHREAD_KEYS_MAX keys are the program's.
//!
//! What is ours: [`KEYS`], a copy of each key's sequence number and destructor (the sequence
//! number is read back from the slot glibc writes when the key is created), which makes
//! `get` glibc's instruction sequence: a bounds check, one `%fs`-relative load of the slot and
//! the key's number (a value stored under an older number belongs to a deleted key and reads
//! as NULL); the stores of `set`; and the destructor rounds of our own threads
//! ([`run_destructors`], glibc's algorithm).

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
/// Per key: glibc's sequence number (odd = in use) and the destructor, as glibc holds them.
static KEYS: [Key; KEYS_MAX] = [FREE_KEY; KEYS_MAX];

type Block = [Slot; BLOCK];

/// The calling thread's slot of `key >= BLOCK` if its block exists (`key < KEYS_MAX`).
#[inline(always)]
fn second_level_slot(key: usize) -> Option<&'static mut Slot> {
    let b = specific::block(key / BLOCK);
    // SAFETY: a non-null block pointer is a live allocation owned by the calling thread, and
    // only the calling thread touches its slots.
    (!b.is_null()).then(|| unsafe { &mut (*b)[key % BLOCK] })
}

/// Creates a key with an optional destructor, in glibc's key table. EAGAIN when all
/// [`KEYS_MAX`] keys exist.
pub fn create(dtor: Option<Destructor>) -> Result<u32> {
    let s = crate::glibc::symbols::syms();
    let mut k: u32 = 0;
    // SAFETY: glibc's pthread_key_create with a valid out pointer.
    let rc = unsafe { (s.real_pthread_key_create)(&mut k, dtor) };
    if rc != 0 {
        return Err(Errno(rc));
    }
    let key = k as usize;
    // glibc's number for the key: the one its setspecific stores in the slot.
    // SAFETY: glibc's functions on a key it just made; the value is reset to NULL at once.
    let seq = unsafe {
        (s.real_pthread_setspecific)(k, core::ptr::without_provenance(1));
        let seq = if key < BLOCK { specific::first_get(key).0 } else { second_level_slot(key).map_or(0, |sl| sl.seq) };
        (s.real_pthread_setspecific)(k, core::ptr::null());
        seq
    };
    KEYS[key].dtor.store(dtor.map_or(0, |d| d as usize), Ordering::Relaxed);
    // Release: a thread that sees the number sees the destructor.
    KEYS[key].seq.store(seq, Ordering::Release);
    Ok(k)
}

/// Deletes a key (no destructor runs), in glibc's key table. EINVAL if `key` does not exist.
pub fn delete(key: u32) -> Result<()> {
    let k = KEYS.get(key as usize).ok_or(Errno::EINVAL)?;
    // SAFETY: glibc's pthread_key_delete, which checks the key itself.
    let rc = unsafe { (crate::glibc::symbols::syms().real_pthread_key_delete)(key) };
    if rc != 0 {
        return Err(Errno(rc));
    }
    // glibc bumped its number (odd to even): so do we. AcqRel: ordered after the creation.
    k.seq.fetch_add(1, Ordering::AcqRel);
    Ok(())
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
    Ok(())
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
        for (key, k) in KEYS.iter().enumerate() {
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

/// Frees the calling thread's second-level blocks and clears its first block (the TCB may be
/// reused by a new thread) and its `specific_used` flag.
fn release() {
    for i in 1..BLOCKS {
        let b = specific::block(i);
        if !b.is_null() {
            specific::set_block(i, null_mut());
            // SAFETY: allocated by calloc in `set_slow`; no reference to it outlives this.
            unsafe { libc::free(b.cast()) };
        }
    }
    for key in 0..BLOCK {
        specific::first_clear(key);
    }
    specific::set_used(false);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// glibc's key functions are found at load (the library constructor does not run in
    /// unit tests). The returned guard keeps the key tests apart: keys are process-wide and
    /// numbers are reused, so one test's second delete of its deleted key (EINVAL expected)
    /// would delete the other's key made meanwhile with the same number.
    fn init() -> std::sync::MutexGuard<'static, ()> {
        static ONCE: std::sync::Once = std::sync::Once::new();
        static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
        // SAFETY: resolved once, before any key is made in this test binary.
        ONCE.call_once(|| unsafe { crate::glibc::symbols::resolve() });
        SERIAL.lock().unwrap_or_else(|e| e.into_inner())
    }

    #[test]
    fn create_set_get_delete() {
        let _serial = init();
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
        let _serial = init();
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
