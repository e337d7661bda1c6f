//! The thread-specific data arrays of glibc's `struct pthread`, which hold rpthread's key
//! values in every thread's TCB.
//!
//! Every TCB, glibc's (main thread, threads glibc created) and ours, has glibc's
//! `specific_1stblock` (32 `{seq, data}` slots), `specific[32]` (pointers to blocks of 32
//! slots; `specific[0]` = the first block, the others calloc'ed on first use) and
//! `specific_used`. glibc itself only touches them from its own pthread_key functions, which
//! rpthread replaces (glibc 2.36's libc has no internal key user), and at the end of its own
//! threads (`__nptl_deallocate_tsd`, only while `specific_used` is set; it frees the blocks).
//! Keeping the values there makes `pthread_getspecific` glibc's instruction sequence: one
//! `%fs`-relative load of the slot, no descriptor lookup, and no case for threads rpthread has
//! not adopted yet; debuggers that read keys through libthread_db see the values.

use super::layout as L;

/// Slots per block (glibc's PTHREAD_KEY_2NDLEVEL_SIZE).
pub const BLOCK: usize = 32;
/// Blocks per thread (glibc's PTHREAD_KEY_1STLEVEL_SIZE).
pub const BLOCKS: usize = 32;

/// One key's value in one thread (glibc's `struct pthread_key_data`).
#[repr(C)]
pub struct Slot {
    /// The key's sequence number when the value was set.
    pub seq: usize,
    /// The value.
    pub data: *mut core::ffi::c_void,
}

use crate::arch::{fs_read_word as read, fs_write_word as write};

/// The calling thread's `(seq, data)` for `key < BLOCK` (in the first block).
#[inline(always)]
pub fn first_get(key: usize) -> (usize, usize) {
    debug_assert!(key < BLOCK);
    let off = L::SPECIFIC_1STBLOCK + key * 16;
    // SAFETY: slot `key` of specific_1stblock, inside every TCB.
    unsafe { (read(off), read(off + 8)) }
}

/// Clears the calling thread's data for `key < BLOCK`.
#[inline(always)]
pub fn first_clear(key: usize) {
    // SAFETY: slot `key` of specific_1stblock, the calling thread's own.
    unsafe { write(L::SPECIFIC_1STBLOCK + key * 16 + 8, 0) };
}

/// Sets the calling thread's `(seq, data)` for `key < BLOCK`.
#[inline(always)]
pub fn first_set(key: usize, seq: usize, data: usize) {
    let off = L::SPECIFIC_1STBLOCK + key * 16;
    // SAFETY: slot `key` of specific_1stblock, the calling thread's own.
    unsafe {
        write(off, seq);
        write(off + 8, data);
    }
}

/// The calling thread's block `i` (`1 <= i < BLOCKS`), null if not allocated.
#[inline(always)]
pub fn block(i: usize) -> *mut [Slot; BLOCK] {
    debug_assert!(i < BLOCKS);
    // SAFETY: entry `i` of the specific[] array, inside every TCB.
    unsafe { read(L::SPECIFIC + i * 8) as *mut [Slot; BLOCK] }
}

/// Installs the calling thread's block `i` (`1 <= i < BLOCKS`).
pub fn set_block(i: usize, b: *mut [Slot; BLOCK]) {
    // SAFETY: entry `i` of the calling thread's own specific[] array.
    unsafe { write(L::SPECIFIC + i * 8, b as usize) };
}

/// Whether the calling thread has set a value since the flag was last cleared (glibc's
/// `specific_used`).
#[inline(always)]
pub fn used() -> bool {
    // SAFETY: a byte inside every TCB.
    unsafe { crate::arch::fs_read_byte::<{ L::SPECIFIC_USED }>() != 0 }
}

/// Sets or clears the calling thread's `specific_used`.
pub fn set_used(on: bool) {
    // SAFETY: the calling thread's own flag byte.
    unsafe { crate::arch::fs_write_byte::<{ L::SPECIFIC_USED }>(on as u8) };
}
