//! Static TLS and DTV for our threads, through ld.so's own allocator, and the hand-over of
//! malloc's per-thread cache between successive threads.
//!
//! Why the hand-over: glibc frees a dying thread's malloc tcache in `__libc_thread_freeres`,
//! which it does not export. A thread of ours that dies leaves its tcache (and its cached
//! chunks, ~10 KB) referenced only from its TLS. Re-initializing that TLS for the next thread
//! would leak it; instead the two words of libc's TLS that hold the tcache and the thread's
//! arena are carried to the next thread that gets this TCB (or, when the TCB is unmapped, kept
//! in a pool for the next fresh one). A tcache is just a cache owned by one thread at a time,
//! so handing it to a new thread is exactly what glibc's own thread reuse amounts to.
//! The two words are found at load by watching which of libc's TLS words a first malloc in a
//! fresh thread sets (see [`discover_malloc_words`]); if that is not exactly two, hand-over is
//! off and the library still works, only leaking as described.
//!
//! Orderings: the statics here are written once, by the library's set-up, before any thread of
//! ours exists, and read afterwards: Relaxed suffices, thread creation (clone) publishes them.

use super::{symbols::syms, tcb};
use crate::sync::lock::Locked;
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

/// Carried malloc state of unmapped TCBs, waiting for a fresh thread.
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
        for i in 0..info.dlpi_phnum as usize {
            let ph = &*info.dlpi_phdr.add(i);
            if ph.p_type == libc::PT_TLS {
                let out = &mut *data.cast::<LibcBlock>();
                out.off = offset_of_slot(info.dlpi_tls_data.cast());
                out.len = ph.p_memsz as usize;
                return 1;
            }
        }
        0
    }
}

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
    let mut block = LibcBlock { off: 0, len: 0 };
    // SAFETY: the callback matches dl_iterate_phdr's contract and only reads.
    unsafe { libc::dl_iterate_phdr(Some(find_libc), (&mut block as *mut LibcBlock).cast()) };
    LIBC_BLOCK_OFF.store(block.off, Ordering::Relaxed);
    LIBC_BLOCK_LEN.store(block.len, Ordering::Relaxed);
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

/// Finds malloc's two per-thread words: run in a fresh thread that has not called malloc yet
/// (the bootstrap thread). Leaves hand-over disabled unless exactly two words change.
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
    let s = syms();
    // SAFETY: glibc's malloc and free of that block. Called through pointers found at load,
    // the pair is not one the compiler knows as malloc/free, so it cannot be removed.
    unsafe { (s.libc_free)(core::hint::black_box((s.libc_malloc)(24))) };
    read_libc_block(&mut after);
    let errno_off = offset_of_slot(
        // SAFETY: __errno_location returns the calling thread's errno address.
        unsafe { libc::__errno_location() }.cast(),
    );
    let base = LIBC_BLOCK_OFF.load(Ordering::Relaxed);
    let mut changed = [0isize; 2];
    let mut n = 0;
    for i in 0..words {
        let off = base + 8 * i as isize;
        if before[i] == 0 && after[i] != 0 && off != errno_off & !7 {
            if n < 2 {
                changed[n] = off;
            }
            n += 1;
        }
    }
    if n == 2 {
        MALLOC_WORDS[0].store(changed[0], Ordering::Relaxed);
        MALLOC_WORDS[1].store(changed[1], Ordering::Relaxed);
    }
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

/// Builds DTV and static TLS for a fresh TCB at `tp` (inside a new mapping), handing it a
/// pooled malloc state if there is one. Returns false if ld.so could not allocate.
///
/// # Safety
/// `tp` must be 64-aligned with `static_size()` writable bytes below + `SIZE` above it.
pub unsafe fn allocate(tp: *mut u8) -> bool {
    // SAFETY: forwarded contract; ld.so initializes the area and mallocs the DTV.
    if unsafe { (syms().dl_allocate_tls)(tp.cast()) }.is_null() {
        return false;
    }
    if malloc_handover_enabled() {
        if let Some(words) = POOL.with(|p| p.pop()) {
            // SAFETY: fresh TLS of `tp`; the words hold malloc state no thread uses now.
            unsafe { malloc_words(tp).iter().zip(words).for_each(|(w, v)| **w = v) };
        }
    }
    true
}

/// Re-initializes the TLS of a reused TCB for a new thread: frees dynamically allocated TLS
/// blocks (as glibc's stack cache does), copies every module's TLS image again, and keeps
/// the malloc state of the previous owner.
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

/// Releases the DTV and dynamic TLS of a TCB that is about to be unmapped, pooling its
/// malloc state for a future thread.
///
/// # Safety
/// `tp` must be a TCB set up by [`allocate`] whose thread has fully exited.
pub unsafe fn deallocate(tp: *mut u8) {
    if malloc_handover_enabled() {
        // SAFETY: `tp`'s static TLS is intact.
        let words = unsafe { malloc_words(tp).map(|w| *w) };
        if words != [0, 0] {
            POOL.with(|p| p.push(words));
        }
    }
    // SAFETY: ld.so frees the DTV and dynamic blocks; `false`: the TCB memory is ours.
    unsafe { (syms().dl_deallocate_tls)(tp.cast(), false) };
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
            && crate::sys::raw(libc::SYS_rseq, &[area as usize, 32, 0, 0x5305_3053]) == 0;
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
    #[test]
    fn malloc_words_are_found() {
        // SAFETY: the load-time sequence of glibc::init (the test process has its own TLS
        // and glibc; the bootstrap thread is glibc's own).
        unsafe {
            super::super::symbols::resolve();
            super::init();
            super::super::bootstrap::switch_to_multithreaded();
        }
        assert!(super::malloc_handover_enabled(), "malloc's per-thread words were not found");
    }
}
