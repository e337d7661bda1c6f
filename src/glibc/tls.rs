//! Static TLS and DTV for our threads, through ld.so's own allocator, and the hand-over of
//! malloc's per-thread state between successive threads.
//!
//! Why the hand-over: glibc frees a dying thread's malloc tcache and puts its arena back on
//! the free list in `__libc_thread_freeres`, which it does not export. A thread of ours that
//! dies leaves its tcache (and its cached chunks, ~10 KB) and its arena attachment referenced
//! only from its TLS: re-initializing that TLS for the next thread would leak the tcache, and
//! the arena would stay attached to nobody, so every new thread would make glibc create
//! another one (64 MiB of address space each, up to 8 per CPU). Instead the two words of
//! libc's TLS that hold the tcache and the thread's arena go to a pool when the thread ends
//! ([`hand_over_malloc_state`]), and each new thread starts with a pooled pair if there is
//! one. A tcache is just a cache owned by one thread at a time, and the arena's count of
//! attached threads stays right (one thread leaves it, one joins it): this is what glibc's
//! own thread exit and the next thread's first malloc amount to.
//!
//! The two words are found at load without a malloc arena being created (see
//! [`discover_malloc_words`]); if they cannot be found unambiguously, hand-over is off and the
//! library still works, only leaking as described.
//!
//! Orderings: the statics here are written once, by the library's set-up, before any thread of
//! ours exists, and read afterwards: Relaxed suffices, thread creation (clone) publishes them.

use alloc::vec::Vec;
use super::{symbols::syms, tcb};
use crate::lock::Locked;
use core::ffi::c_void;
use core::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};

/// Size of the static TLS area glibc reserves per thread, TCB included.
static STATIC_SIZE: AtomicUsize = AtomicUsize::new(0);
/// Its alignment.
static STATIC_ALIGN: AtomicUsize = AtomicUsize::new(64);
/// libc's TLS block, relative to the thread pointer, and its size.
static LIBC_BLOCK_OFF: AtomicIsize = AtomicIsize::new(0);
static LIBC_BLOCK_LEN: AtomicUsize = AtomicUsize::new(0);
/// `__resp`'s offset from the thread pointer.
static RESP_OFF: AtomicIsize = AtomicIsize::new(0);
/// Offsets (from the thread pointer) of malloc's `tcache` and `thread_arena`; 0 = unknown.
static MALLOC_WORDS: [AtomicIsize; 2] = [AtomicIsize::new(0), AtomicIsize::new(0)];

/// Malloc state (tcache, arena) of ended threads, waiting for the next thread to be created.
static POOL: Locked<Vec<[usize; 2]>> = Locked::new(Vec::new());

/// Bytes of static TLS (TCB included) each thread mapping must reserve below its top.
pub fn static_size() -> usize {
    STATIC_SIZE.load(Ordering::Relaxed)
}

/// Alignment of the static TLS area.
pub fn static_align() -> usize {
    STATIC_ALIGN.load(Ordering::Relaxed)
}

/// `__resp`'s offset from the thread pointer.
pub fn resp_offset() -> isize {
    RESP_OFF.load(Ordering::Relaxed)
}

/// Offset of a static TLS address of the calling thread from its thread pointer.
pub fn offset_of_slot(addr: *mut u8) -> isize {
    addr as isize - tcb::current() as isize
}

struct LibcBlock {
    off: isize,
    len: usize,
    /// libc's writable segment `[lo, hi)` (its `.data` and `.bss`: `main_arena` lies there).
    rw: (usize, usize),
}

unsafe extern "C" fn find_libc(info: *mut libc::dl_phdr_info, _size: usize, data: *mut c_void) -> i32 {
    // SAFETY: dl_iterate_phdr passes a valid info; `data` is the LibcBlock we gave it.
    unsafe {
        let info = &*info;
        let name = if info.dlpi_name.is_null() {
            ""
        } else {
            core::ffi::CStr::from_ptr(info.dlpi_name).to_str().unwrap_or("")
        };
        if !name.contains("/libc.so") || info.dlpi_tls_data.is_null() {
            return 0;
        }
        let out = &mut *data.cast::<LibcBlock>();
        for i in 0..info.dlpi_phnum as usize {
            let ph = &*info.dlpi_phdr.add(i);
            if ph.p_type == libc::PT_TLS {
                out.off = offset_of_slot(info.dlpi_tls_data.cast());
                out.len = ph.p_memsz as usize;
            } else if ph.p_type == libc::PT_LOAD && ph.p_flags & libc::PF_W != 0 {
                let lo = info.dlpi_addr as usize + ph.p_vaddr as usize;
                out.rw = (lo, lo + ph.p_memsz as usize);
            }
        }
        1
    }
}

/// libc's writable segment, where `main_arena` lives.
static LIBC_RW: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];

/// Measures static TLS and finds libc's TLS block. Runs once at load, in the main thread.
///
/// # Safety
/// Symbols must be resolved.
pub unsafe fn init() {
    let (mut size, mut align) = (0usize, 0usize);
    // SAFETY: ld.so writes two size_t values.
    unsafe { (syms().dl_get_tls_static_info)(&mut size, &mut align) };
    STATIC_SIZE.store(size, Ordering::Relaxed);
    STATIC_ALIGN.store(align.max(super::layout::ALIGN), Ordering::Relaxed);
    RESP_OFF.store(offset_of_slot(syms().resp_slot.cast()), Ordering::Relaxed);
    let mut block = LibcBlock { off: 0, len: 0, rw: (0, 0) };
    // SAFETY: the callback matches dl_iterate_phdr's contract and only reads.
    unsafe { libc::dl_iterate_phdr(Some(find_libc), (&mut block as *mut LibcBlock).cast()) };
    LIBC_BLOCK_OFF.store(block.off, Ordering::Relaxed);
    LIBC_BLOCK_LEN.store(block.len, Ordering::Relaxed);
    LIBC_RW[0].store(block.rw.0, Ordering::Relaxed);
    LIBC_RW[1].store(block.rw.1, Ordering::Relaxed);
}

/// Most words of libc's TLS block [`discover_malloc_words`] compares (glibc 2.36: 18).
const MAX_BLOCK_WORDS: usize = 64;

/// Copies libc's static TLS block of the calling thread into `out`; returns its length in
/// words (0 if it does not fit). Allocates nothing (see [`discover_malloc_words`]).
fn read_libc_block(out: &mut [usize; MAX_BLOCK_WORDS]) -> usize {
    let off = LIBC_BLOCK_OFF.load(Ordering::Relaxed);
    let words = LIBC_BLOCK_LEN.load(Ordering::Relaxed) / 8;
    if words > MAX_BLOCK_WORDS {
        return 0;
    }
    let base = tcb::current().wrapping_offset(off).cast::<usize>();
    for (i, w) in out.iter_mut().enumerate().take(words) {
        // SAFETY: libc's static TLS block of the calling thread is `words` readable words.
        *w = unsafe { base.add(i).read_volatile() };
    }
    words
}

/// Writes word `i` of the calling thread's libc TLS block.
///
/// # Safety
/// `i` must be below the block's length in words, and the word one the caller may change
/// (see [`discover_malloc_words`]).
unsafe fn write_libc_word(i: usize, v: usize) {
    let off = LIBC_BLOCK_OFF.load(Ordering::Relaxed);
    // SAFETY: forwarded; the block lies in the calling thread's static TLS.
    unsafe { tcb::current().wrapping_offset(off).cast::<usize>().add(i).write_volatile(v) };
}

/// libc's TLS block of the thread that initializes the library (the main thread), taken by
/// [`snapshot_initializer`] for [`discover_malloc_words`].
static INITIALIZER_BLOCK: [AtomicUsize; MAX_BLOCK_WORDS] = [const { AtomicUsize::new(0) }; MAX_BLOCK_WORDS];

/// Records libc's TLS block of the calling (initializing, main) thread after making sure
/// glibc's malloc is initialized in it: its `thread_arena` then points at `main_arena`.
/// Calls glibc's own `__libc_malloc`/`__libc_free` only (see [`discover_malloc_words`]).
pub fn snapshot_initializer() {
    let s = syms();
    // SAFETY: glibc's malloc and free of one block (black_box: the pair must not be elided).
    unsafe { (s.libc_free)(core::hint::black_box((s.libc_malloc)(24))) };
    let mut block = [0usize; MAX_BLOCK_WORDS];
    let words = read_libc_block(&mut block);
    for (slot, v) in INITIALIZER_BLOCK.iter().zip(&block[..words]) {
        slot.store(*v, Ordering::Relaxed);
    }
}

/// The word of a fresh thread's libc block that is malloc's `thread_arena`: the only one that
/// is 0 in the fresh thread (`fresh`) while the initializing thread's copy (`init`) points into
/// libc's writable segment `rw` (at `main_arena`). `None` unless exactly one word qualifies.
fn arena_word(init: &[usize], fresh: &[usize], rw: (usize, usize)) -> Option<usize> {
    let mut found = None;
    for (i, (&m, &f)) in init.iter().zip(fresh).enumerate() {
        if f == 0 && m >= rw.0 && m < rw.1 {
            if found.is_some() {
                return None;
            }
            found = Some(i);
        }
    }
    found
}

/// The one word that went from 0 to non-zero between `before` and `after`, ignoring the
/// words in `skip`; `None` unless exactly one did.
fn single_new_word(before: &[usize], after: &[usize], skip: &[Option<usize>]) -> Option<usize> {
    let mut found = None;
    for (i, (&b, &a)) in before.iter().zip(after).enumerate() {
        if b == 0 && a != 0 && !skip.contains(&Some(i)) {
            if found.is_some() {
                return None;
            }
            found = Some(i);
        }
    }
    found
}

/// Finds malloc's two per-thread words, `thread_arena` and `tcache`. Runs in the bootstrap
/// thread (glibc's, fresh, no malloc called yet), after [`snapshot_initializer`] ran in the
/// thread that created it; leaves hand-over disabled unless both words are unambiguous.
///
/// Without creating a malloc arena: a first malloc in a thread whose `thread_arena` is NULL
/// makes glibc create one (64 MiB of address space, kept for the life of the process). So
/// `thread_arena` is found first, without malloc: it is the word that is 0 here and points
/// at `main_arena` (inside libc's writable segment) in the initializing thread. It is set to
/// `main_arena` for the probe; a malloc then sets exactly one more word, `tcache` (allocated
/// from `main_arena`). The arena word goes back to 0 before the thread ends, so glibc's
/// thread exit does not detach `main_arena` from a thread it was never attached to; the
/// probe's tcache is freed by glibc at that exit, as any thread's.
///
/// Calls glibc's own `__libc_malloc`/`__libc_free` and nothing that allocates through
/// `malloc`: when a program interposes another allocator, our initialization can run inside
/// that allocator's own initialization (jemalloc's `malloc_init_hard` calls `pthread_atfork`,
/// whose first call initializes us), and that allocator makes every other thread spin until
/// its initialization ends, which waits for this thread to be joined: a deadlock
/// (redis-server, linked with libjemalloc, hung at start-up).
pub fn discover_malloc_words() {
    if LIBC_BLOCK_LEN.load(Ordering::Relaxed) == 0 {
        return;
    }
    let mut before = [0usize; MAX_BLOCK_WORDS];
    let mut after = [0usize; MAX_BLOCK_WORDS];
    let words = read_libc_block(&mut before);
    if words == 0 {
        return;
    }
    let init: [usize; MAX_BLOCK_WORDS] = core::array::from_fn(|i| INITIALIZER_BLOCK[i].load(Ordering::Relaxed));
    let rw = (LIBC_RW[0].load(Ordering::Relaxed), LIBC_RW[1].load(Ordering::Relaxed));
    let Some(arena) = arena_word(&init[..words], &before[..words], rw) else { return };
    // SAFETY: `arena` is malloc's thread_arena of this thread, which has not used malloc:
    // pointing it at main_arena makes its first malloc use main_arena instead of a new arena.
    unsafe { write_libc_word(arena, init[arena]) };
    let s = syms();
    // SAFETY: glibc's malloc and free of one block (black_box: the pair must not be elided).
    unsafe { (s.libc_free)(core::hint::black_box((s.libc_malloc)(24))) };
    read_libc_block(&mut after);
    // SAFETY: back to "no arena" (see above); this thread calls malloc no more.
    unsafe { write_libc_word(arena, 0) };
    let errno_word = (offset_of_slot(
        // SAFETY: __errno_location returns the calling thread's errno address.
        unsafe { libc::__errno_location() }.cast(),
    ) - LIBC_BLOCK_OFF.load(Ordering::Relaxed))
        / 8;
    let errno_word = usize::try_from(errno_word).ok();
    let Some(tcache) = single_new_word(&before[..words], &after[..words], &[Some(arena), errno_word])
    else {
        return;
    };
    let base = LIBC_BLOCK_OFF.load(Ordering::Relaxed);
    MALLOC_WORDS[0].store(base + 8 * tcache as isize, Ordering::Relaxed);
    MALLOC_WORDS[1].store(base + 8 * arena as isize, Ordering::Relaxed);
}

/// Whether malloc's per-thread state is carried between threads (see the module comment).
pub fn malloc_handover_enabled() -> bool {
    MALLOC_WORDS[0].load(Ordering::Relaxed) != 0
}

/// # Safety
/// `tp` must be a TCB with its static TLS set up.
unsafe fn malloc_words(tp: *mut u8) -> [*mut usize; 2] {
    // SAFETY: the offsets lie in libc's static TLS block below `tp`.
    [0, 1].map(|i| unsafe { tp.offset(MALLOC_WORDS[i].load(Ordering::Relaxed)).cast() })
}

/// Gives the calling thread, a thread of ours starting, the most recently handed-over malloc
/// state if it has none: a new thread takes an ended thread's tcache and arena as glibc's
/// first malloc in a new thread takes an arena from the free list. Taken when the thread
/// starts running, not when it is created: a thread only holds a state while it runs, so a
/// creator that runs ahead of its threads does not leave the pool empty for threads that do
/// run (glibc would then create arenas for them).
pub fn take_malloc_state() {
    if !malloc_handover_enabled() {
        return;
    }
    // SAFETY: the calling thread's own TLS.
    let slots = unsafe { malloc_words(tcb::current()) };
    // SAFETY: as above.
    if slots.iter().any(|w| unsafe { **w } != 0) {
        return;
    }
    if let Some(words) = POOL.with(|p| p.pop()) {
        // SAFETY: as above; the words hold malloc state no thread uses now.
        slots.iter().zip(words).for_each(|(w, v)| unsafe { **w = v });
    }
}

/// Builds DTV and static TLS for a fresh TCB at `tp` (inside a new mapping). Returns false if
/// ld.so could not allocate.
///
/// # Safety
/// `tp` must be 64-aligned with `static_size()` writable bytes below + `SIZE` above it.
pub unsafe fn allocate(tp: *mut u8) -> bool {
    // SAFETY: forwarded contract; ld.so initializes the area and mallocs the DTV.
    if unsafe { (syms().dl_allocate_tls)(tp.cast()) }.is_null() {
        return false;
    }
    true
}

/// Re-initializes the TLS of a reused TCB for a new thread: frees dynamically allocated TLS
/// blocks (as glibc's stack cache does), copies every module's TLS image again, and keeps any
/// malloc state still in the TCB (a thread that failed to start never handed its over).
///
/// # Safety
/// `tp` must be a TCB previously set up by [`allocate`] whose thread has fully exited.
pub unsafe fn reinit(tp: *mut u8) {
    let keep = if malloc_handover_enabled() {
        // SAFETY: `tp`'s static TLS is intact.
        Some(unsafe { malloc_words(tp).map(|w| *w) })
    } else {
        None
    };
    // SAFETY: dtv points at dtv[0]; dtv[-1].counter holds the number of slots; each slot is
    // {val, to_free}; to_free is malloc'ed by ld.so for dynamically loaded modules (or null).
    unsafe {
        let dtv = *tcb::field::<*mut [usize; 2]>(tp, super::layout::DTV);
        let n = (*dtv.sub(1))[0];
        for i in 1..=n {
            libc::free((*dtv.add(i))[1] as *mut c_void);
        }
        core::ptr::write_bytes(dtv, 0, n + 1);
        (syms().dl_allocate_tls_init)(tp.cast(), false);
    }
    if let Some(words) = keep {
        // SAFETY: the static TLS was just re-initialized; the words are ours to restore.
        unsafe { malloc_words(tp).iter().zip(words).for_each(|(w, v)| **w = v) };
    }
}

/// Whether the calling thread may call free without glibc attaching it to a malloc arena:
/// it has a tcache or an arena already (or the words are unknown: then nobody can tell).
/// A thread of ours that never used malloc has neither, and a first free would attach it to
/// an arena, creating one if none is free (an ending thread then takes a 64 MiB arena with
/// it; glibc's own ending threads are past `tcache_thread_shutdown` and do not).
pub fn may_free_here() -> bool {
    if !malloc_handover_enabled() {
        return true;
    }
    // SAFETY: the calling thread's own TLS.
    unsafe { malloc_words(tcb::current()).iter().any(|w| **w != 0) }
}

/// DTVs of unmapped TCBs whose freeing waits for a thread that may call free (see
/// [`deallocate`]), chained through the spare word of their generation slot (`dtv[0]`).
static DEFERRED_DTVS: AtomicUsize = AtomicUsize::new(0);

/// Releases the DTV and dynamic TLS of a TCB that is about to be unmapped, and moves any
/// malloc state still in it to the pool (or to the calling thread if it has none). When the
/// caller must not call free ([`may_free_here`]), the DTV is kept for [`free_deferred`].
///
/// # Safety
/// `tp` must be a TCB set up by [`allocate`] whose thread has fully exited.
pub unsafe fn deallocate(tp: *mut u8) {
    let may_free = may_free_here();
    if malloc_handover_enabled() {
        // SAFETY: `tp`'s static TLS is intact.
        let words = unsafe { malloc_words(tp).map(|w| *w) };
        // (Only a thread that ended without handing its state over leaves one here.)
        if words != [0, 0] {
            let pushed = POOL.with(|p| {
                // A push that grows the pool allocates: only where the caller may.
                let room = may_free || p.len() < p.capacity();
                if room {
                    p.push(words);
                }
                room
            });
            if !pushed {
                // The caller adopts the state instead (its own words are 0) and hands it
                // over if it ends later; an ending caller past its hand-over loses it.
                // SAFETY: the calling thread's own TLS.
                unsafe { malloc_words(tcb::current()).iter().zip(words).for_each(|(w, v)| **w = v) };
            }
        }
    }
    if may_free {
        // SAFETY: ld.so frees the DTV and dynamic blocks; `false`: the TCB memory is ours.
        unsafe { (syms().dl_deallocate_tls)(tp.cast(), false) };
        return;
    }
    // SAFETY: the DTV is a heap block of ld.so's (`dtv[-1]` counts the slots after
    // `dtv[0]`, the generation slot, whose second word no one reads): it outlives the TCB.
    unsafe {
        let dtv = *tcb::field::<*mut usize>(tp, super::layout::DTV);
        let mut head = DEFERRED_DTVS.load(Ordering::Relaxed);
        loop {
            *dtv.add(1) = head;
            // Release: publishes the link; pairs with `free_deferred`'s Acquire swap.
            match DEFERRED_DTVS.compare_exchange_weak(head, dtv as usize, Ordering::Release, Ordering::Relaxed) {
                Ok(_) => break,
                Err(h) => head = h,
            }
        }
    }
}

/// Frees the DTVs [`deallocate`] had to leave (call from a thread that may call free: a
/// creator).
pub fn free_deferred() {
    if DEFERRED_DTVS.load(Ordering::Relaxed) == 0 || !may_free_here() {
        return;
    }
    // Acquire: pairs with the Release of each push, so the links are visible.
    let mut dtv = DEFERRED_DTVS.swap(0, Ordering::Acquire) as *mut usize;
    while !dtv.is_null() {
        // SAFETY: a deferred DTV (see `deallocate`), now ours alone: a stand-in TCB whose
        // DTV word points at it lets ld.so free it as it would from the real TCB.
        unsafe {
            let next = *dtv.add(1) as *mut usize;
            let mut stand_in = [0usize; 2];
            stand_in[super::layout::DTV / 8] = dtv as usize;
            (syms().dl_deallocate_tls)(stand_in.as_mut_ptr().cast(), false);
            dtv = next;
        }
    }
}

/// Hands the calling thread's malloc state (tcache and arena) to the pool for the next thread
/// to start, as glibc's thread exit frees the tcache and puts the arena back on the free
/// list: called by an ending thread of ours once its last user code (destructors) ran.
///
/// # Safety
/// The caller must be an ending thread of ours that calls malloc no more, and free only where
/// [`may_free_here`] allows it (a free would make glibc attach it to an arena again).
pub unsafe fn hand_over_malloc_state() {
    if !malloc_handover_enabled() {
        return;
    }
    // SAFETY: the calling thread's own TLS.
    let slots = unsafe { malloc_words(tcb::current()) };
    // SAFETY: as above.
    let words = slots.map(|w| unsafe { *w });
    if words == [0, 0] {
        return; // never used malloc: nothing to hand over, and it must not allocate now
    }
    POOL.with(|p| {
        // A growing pool allocates with this thread's own state, before it is handed over.
        p.push(words);
        // SAFETY: as above; from here on the state belongs to the pool.
        slots.iter().for_each(|w| unsafe { **w = 0 });
    });
}

/// Registers the calling thread's rseq area as glibc does (so `sched_getcpu` works), or marks
/// it failed so glibc falls back to the system call.
///
/// # Safety
/// `tp` must be the calling thread's TCB.
pub unsafe fn register_rseq(tp: *mut u8) {
    let s = syms();
    if s.rseq_offset.is_null() {
        return;
    }
    // SAFETY: __rseq_offset/__rseq_size are ld.so variables; the area lies inside the TCB,
    // 32-byte aligned; the kernel keeps it until this thread exits.
    unsafe {
        let area = tp.offset(*s.rseq_offset);
        let cpu_id = area.add(4).cast::<i32>();
        *cpu_id = -1; // RSEQ_CPU_ID_UNINITIALIZED
        let enabled = !s.rseq_size.is_null() && *s.rseq_size > 0;
        let ok = enabled
            && crate::sys::rseq_register(area, 32, 0x5305_3053).is_ok();
        if !ok {
            *cpu_id = -2; // RSEQ_CPU_ID_REGISTRATION_FAILED
        }
    }
}

/// Locks the malloc-state pool around fork().
pub fn lock_for_fork() {
    POOL.lock_raw();
}

/// Releases the pool lock after fork() (parent and child).
pub fn unlock_after_fork() {
    POOL.unlock_raw();
}

#[cfg(test)]
mod tests {
    // The discovery itself needs the initializing thread to be attached to main_arena, which
    // a unit test (run in a thread of the test harness) is not: it is exercised in every
    // process the library loads into, and checked by scripts/footprint.py (detached churn
    // whose threads malloc keeps glibc's arena count only if the hand-over works).
    use super::{arena_word, single_new_word};

    const RW: (usize, usize) = (0x7000, 0x8000);

    #[test]
    fn arena_word_is_the_only_main_arena_pointer_missing_in_a_fresh_thread() {
        // errno, __resp (set in both), thread_arena, tcache (a heap pointer).
        let init = [5, 0x7100, 0x7200, 0x55_0000];
        let fresh = [0, 0x9000, 0, 0];
        assert_eq!(arena_word(&init, &fresh, RW), Some(2));
        // Two candidates: ambiguous, hand-over stays off.
        let init2 = [0x7300, 0x7100, 0x7200, 0x55_0000];
        assert_eq!(arena_word(&init2, &fresh, RW), None);
        // None (glibc's malloc not attached to main_arena in the initializer).
        assert_eq!(arena_word(&[5, 0, 0x60_0000, 0], &fresh, RW), None);
    }

    #[test]
    fn tcache_word_is_the_single_new_word() {
        let before = [0, 1, 0, 0];
        assert_eq!(single_new_word(&before, &[0, 1, 0x7200, 0x55_0010], &[Some(2)]), Some(3));
        assert_eq!(single_new_word(&before, &[3, 1, 0x7200, 0x55_0010], &[Some(2), Some(0)]), Some(3));
        assert_eq!(single_new_word(&before, &[3, 1, 0x7200, 0x55_0010], &[Some(2), None]), None);
        assert_eq!(single_new_word(&before, &before, &[]), None);
    }
}
