//! Building and reading glibc thread control blocks.
//!
//! Every thread's `pthread_t` is the address of its TCB (glibc's `struct pthread`), exactly as
//! under glibc: `%fs:0x10` holds it, so `pthread_self` is one load and values agree with what
//! glibc itself (C11 `thrd_current`, debuggers) reports.

use super::layout as L;
use core::arch::asm;
use core::sync::atomic::{AtomicI32, AtomicU32};

/// The kernel's `struct robust_list_head` (see set_robust_list(2)).
#[repr(C)]
pub struct RobustListHead {
    /// First entry (points to the head itself when empty).
    pub list: *mut u8,
    /// Offset from a list entry to its futex word.
    pub futex_offset: isize,
    /// An entry being added or removed (for the kernel's cleanup).
    pub list_op_pending: *mut u8,
}

/// The calling thread's TCB address (`%fs:0x10`, glibc's `THREAD_SELF`).
#[inline(always)]
pub fn current() -> *mut u8 {
    let p: *mut u8;
    // SAFETY: on x86_64 Linux %fs always points at a TCB whose word 0x10 is `self`
    // (glibc sets it for its threads, `init_new` for ours).
    unsafe { asm!("mov {}, qword ptr fs:[0x10]", out(reg) p, options(nostack, readonly, pure, preserves_flags)) };
    p
}

/// The calling thread's kernel tid, as cached in its TCB (valid for every thread).
#[inline(always)]
pub fn current_tid() -> i32 {
    let t: i32;
    // SAFETY: offset `L::TID` is checked against glibc's published offset at load.
    unsafe { asm!("mov {:e}, dword ptr fs:[0x2d0]", out(reg) t, options(nostack, readonly, preserves_flags)) };
    const _: () = assert!(L::TID == 0x2d0);
    t
}

/// A field of a TCB, viewed as `T`.
///
/// # Safety
/// `tcb` must be a live TCB and `off` the offset of a field of type `T`.
#[inline(always)]
pub unsafe fn field<T>(tcb: *mut u8, off: usize) -> *mut T {
    // SAFETY: forwarded from the caller.
    unsafe { tcb.add(off).cast() }
}

/// The kernel-maintained tid word of a thread (0 once the thread has ended).
///
/// # Safety
/// `tcb` must be a live TCB.
#[inline]
pub unsafe fn tid_word<'a>(tcb: *mut u8) -> &'a AtomicU32 {
    // SAFETY: the tid field is an aligned 4-byte word the kernel updates atomically.
    unsafe { &*field::<AtomicU32>(tcb, L::TID) }
}

/// The calling thread's robust-futex list head (what `set_robust_list` registered).
#[inline]
pub fn current_robust_head() -> *mut RobustListHead {
    // SAFETY: every thread's TCB has the robust head at this offset (checked layout).
    unsafe { field(current(), L::ROBUST_HEAD) }
}

/// Stack description glibc keeps in every TCB (its `pthread_getattr_np` and
/// `__libc_alloca_cutoff` read it).
pub struct StackBlock {
    /// Lowest address of the whole block (guard included).
    pub base: *mut u8,
    /// Size of the block.
    pub size: usize,
    /// Guard size at the bottom.
    pub guard: usize,
}

/// Fills a fresh (or reused, re-zeroed) TCB for a new thread, copying the per-process values
/// glibc expects from the creating thread. `_dl_allocate_tls` must already have set the DTV.
/// `zeroed`: the TCB is fresh from mmap, all zero but the DTV (nothing to clear).
///
/// # Safety
/// `tcb` must point to `L::SIZE` writable bytes reserved for this TCB, all zero but the DTV
/// if `zeroed`.
pub unsafe fn init_new(tcb: *mut u8, stack: &StackBlock, zeroed: bool) {
    let me = current();
    // SAFETY: all offsets are inside the TCB (checked layout); `me` is the caller's live TCB.
    unsafe {
        // Everything but the DTV pointer starts as zero, as in a fresh glibc thread.
        if !zeroed {
            let dtv = *field::<usize>(tcb, L::DTV);
            core::ptr::write_bytes(tcb, 0, L::SIZE);
            *field::<usize>(tcb, L::DTV) = dtv;
        }
        *field::<*mut u8>(tcb, L::TCB_SELF_PTR) = tcb;
        *field::<*mut u8>(tcb, L::SELF) = tcb;
        *field::<i32>(tcb, L::MULTIPLE_THREADS) = 1;
        *field::<usize>(tcb, L::STACK_GUARD) = *field::<usize>(me, L::STACK_GUARD);
        *field::<usize>(tcb, L::POINTER_GUARD) = *field::<usize>(me, L::POINTER_GUARD);
        *field::<u32>(tcb, L::FEATURE_1) = *field::<u32>(me, L::FEATURE_1);
        let list = field::<usize>(tcb, L::LIST);
        *list = list as usize;
        *list.add(1) = list as usize;
        let head = field::<RobustListHead>(tcb, L::ROBUST_HEAD);
        (*head).list = head.cast();
        (*head).futex_offset = L::ROBUST_FUTEX_OFFSET;
        *field::<*mut u8>(tcb, L::ROBUST_PREV) = head.cast();
        *field::<*mut u8>(tcb, L::SPECIFIC) = field(tcb, L::SPECIFIC_1STBLOCK);
        *field::<bool>(tcb, L::USER_STACK) = true;
        *field::<*mut u8>(tcb, L::STACKBLOCK) = stack.base;
        *field::<usize>(tcb, L::STACKBLOCK_SIZE) = stack.size;
        *field::<usize>(tcb, L::GUARDSIZE) = stack.guard;
        *field::<usize>(tcb, L::REPORTED_GUARDSIZE) = stack.guard;
    }
}

/// Reads the stack block glibc recorded in a TCB (zero size for the main thread).
///
/// # Safety
/// `tcb` must be a live TCB.
pub unsafe fn stack_block(tcb: *mut u8) -> StackBlock {
    // SAFETY: offsets inside the checked layout.
    unsafe {
        StackBlock {
            base: *field(tcb, L::STACKBLOCK),
            size: *field(tcb, L::STACKBLOCK_SIZE),
            guard: *field(tcb, L::REPORTED_GUARDSIZE),
        }
    }
}

// glibc's setxid() handshake with a thread's start and end (its nptl protocol, which
// setxid() on the other side follows):
// - `setxid_futex` is -1 while a listed thread has not started: setxid() then swaps it to -2
//   and sleeps until the thread, first thing, swaps it back to 0 and wakes it; only then is
//   the thread's tid valid to signal.
// - At its end a thread sets EXITING in `cancelhandling`; setxid() marks a thread (SETXID)
//   only with a CAS that fails once EXITING is set, so the two cannot cross. A thread that
//   was marked first waits, signals open, until its SIGSETXID handler cleared the mark.
// With this, the stack list lock is only held to link and unlink, as glibc does: not across
// clone, and not by a joinable thread at its end (its joiner unlinks it).

fn setxid_futex<'a>(tcb: *mut u8) -> &'a AtomicU32 {
    // SAFETY: an aligned u32 field of a live TCB (checked layout), used atomically by glibc.
    unsafe { &*field::<AtomicU32>(tcb, L::SETXID_FUTEX) }
}

/// Marks a listed TCB as "not started yet" (before clone).
///
/// # Safety
/// `tcb` must be a TCB built by [`init_new`] whose thread is not running.
pub unsafe fn mark_unstarted(tcb: *mut u8) {
    setxid_futex(tcb).store(u32::MAX, core::sync::atomic::Ordering::Release);
}

/// The thread of `tcb` has started (or will never start): release a setxid() waiting for it.
///
/// # Safety
/// `tcb` must be a live TCB marked by [`mark_unstarted`].
pub unsafe fn mark_started(tcb: *mut u8) {
    let w = setxid_futex(tcb);
    if w.swap(0, core::sync::atomic::Ordering::AcqRel) == (-2i32) as u32 {
        crate::sys::futex::wake(w, 1, crate::sys::futex::Scope::Private);
    }
}

/// Sets glibc's EXITING bit, then, if a setxid() marked this thread first, waits until its
/// SIGSETXID handler has run. From then on setxid() skips the thread.
///
/// # Safety
/// `tcb` must be the calling thread's TCB, and SIGSETXID must not be blocked.
pub unsafe fn begin_exit(tcb: *mut u8) {
    use core::sync::atomic::Ordering::{Acquire, SeqCst};
    // SAFETY: cancelhandling is an aligned i32 glibc updates with atomics too.
    let ch = unsafe { &*field::<AtomicI32>(tcb, L::CANCELHANDLING) };
    if ch.fetch_or(L::EXITING_BITMASK, SeqCst) & L::SETXID_BITMASK != 0 {
        let w = setxid_futex(tcb);
        while ch.load(Acquire) & L::SETXID_BITMASK != 0 {
            let _ = crate::sys::futex::wait(w, 0, None, crate::sys::futex::Scope::Private);
        }
        w.store(0, core::sync::atomic::Ordering::Relaxed);
    }
}

/// glibc's per-thread setup that its `start_thread` does before the user function:
/// robust list, rseq, ctype tables, resolver state, errno. Runs in the new thread.
///
/// # Safety
/// Call first thing in a new thread of ours, on its own TCB.
pub unsafe fn enter_thread(tcb: *mut u8) {
    let s = super::symbols::syms();
    // SAFETY: the TCB is ours and complete; the syscalls get valid pointers into it.
    unsafe {
        let head = field::<RobustListHead>(tcb, L::ROBUST_HEAD);
        crate::sys::raw(libc::SYS_set_robust_list, &[head as usize, 24]);
        super::tls::register_rseq(tcb);
        (s.ctype_init)();
        // __resp is static TLS: its offset from the thread pointer is the same in every thread.
        let resp_off = super::tls::resp_offset();
        *tcb.offset(resp_off).cast::<*mut u8>() = field(tcb, L::RES);
        *libc::__errno_location() = 0;
    }
}
