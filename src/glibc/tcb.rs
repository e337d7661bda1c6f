//! Building and reading glibc thread control blocks.
//!
//! Every thread's `pthread_t` is the address of its TCB (glibc's `struct pthread`), exactly as
//! under glibc: `%fs:0x10` holds it, so `pthread_self` is one load and values agree with what
//! glibc itself (C11 `thrd_current`, debuggers) reports.

use super::layout as L;
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
    // SAFETY: on x86_64 Linux %fs always points at a TCB whose word 0x10 is `self` (glibc
    // sets it for its threads, `init_new` for ours), constant for the thread's life.
    unsafe { crate::arch::fs_read_const_word::<{ L::SELF }>() as *mut u8 }
}

/// The calling thread's kernel tid, as cached in its TCB (valid for every thread).
#[inline(always)]
pub fn current_tid() -> i32 {
    // SAFETY: offset `L::TID` is checked against glibc's published offset at load.
    unsafe { crate::arch::fs_read_u32::<{ L::TID }>() as i32 }
}

/// A field of a TCB, viewed as `T`.
///
/// # Safety
/// `tcb` must be a live TCB and `off` the offset of a field of type `T`.
#[inline(always)]
pub unsafe fn field<T>(tcb: *mut u8, off: usize) -> *mut T {
    // SAFETY: `tcb` is valid as this function's `# Safety` section requires.
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

/// The cancellation state word of a thread (`cancelhandling`; bits in `crate::cancel`).
///
/// # Safety
/// `tcb` must be a live TCB.
#[inline(always)]
pub unsafe fn cancel_word<'a>(tcb: *mut u8) -> &'a AtomicI32 {
    // SAFETY: an aligned i32 that glibc too only updates atomically.
    unsafe { &*field::<AtomicI32>(tcb, L::CANCELHANDLING) }
}

/// The calling thread's cancellation state word.
#[inline(always)]
pub fn my_cancel_word() -> &'static AtomicI32 {
    // SAFETY: the calling thread's TCB lives as long as the thread.
    unsafe { cancel_word(current()) }
}

/// The head of the calling thread's `_pthread_cleanup_buffer` list (`T` is that struct).
#[inline(always)]
pub fn cleanup_list<T>() -> *mut *mut T {
    // SAFETY: a pointer field of every TCB (checked layout).
    unsafe { field(current(), L::CLEANUP) }
}

/// The head of the calling thread's `pthread_unwind_buf` chain (`T` is that struct).
#[inline(always)]
pub fn unwind_buf_chain<T>() -> *mut *mut T {
    // SAFETY: a pointer field of every TCB (checked layout).
    unsafe { field(current(), L::CLEANUP_JMP_BUF) }
}

/// A thread's exit value (`result`).
///
/// # Safety
/// `tcb` must be a live TCB.
#[inline]
pub unsafe fn result(tcb: *mut u8) -> *mut *mut core::ffi::c_void {
    // SAFETY: `tcb` is valid as this function's `# Safety` section requires.
    unsafe { field(tcb, L::RESULT) }
}

/// The thread joining `tcb`'s thread (`joinid`), null if none.
///
/// # Safety
/// `tcb` must be a live TCB.
#[inline]
pub unsafe fn joinid<'a>(tcb: *mut u8) -> &'a core::sync::atomic::AtomicPtr<u8> {
    // SAFETY: an aligned pointer field (checked layout).
    unsafe { &*field::<core::sync::atomic::AtomicPtr<u8>>(tcb, L::JOINID) }
}

/// The calling thread's `struct _Unwind_Exception` (`T` is that struct, 32 bytes).
#[inline]
pub fn unwind_exception<T>() -> *mut T {
    // SAFETY: the 32-byte, 16-aligned `exc` field of every TCB (checked layout).
    unsafe { field(current(), L::EXC) }
}

/// glibc's stack adjustment for comparing frame addresses: the top of the calling thread's
/// stack block (0 for the main thread), so that "below" means "inside, deeper".
#[inline]
pub fn stack_adjust() -> usize {
    // SAFETY: offsets inside the checked layout of the caller's TCB.
    unsafe {
        let me = current();
        (*field::<usize>(me, L::STACKBLOCK)).wrapping_add(*field::<usize>(me, L::STACKBLOCK_SIZE))
    }
}

/// Decodes a pointer mangled by glibc's PTR_MANGLE (setjmp buffers): rotate right by 17, then
/// xor with the calling thread's pointer guard.
#[inline]
pub fn demangle(p: usize) -> usize {
    // SAFETY: the pointer guard field of the caller's TCB.
    let guard = unsafe { *field::<usize>(current(), L::POINTER_GUARD) };
    p.rotate_right(17) ^ guard
}

/// glibc's per-thread scheduling cache: the policy and priority last set through the pthread
/// API or read from the kernel, each valid only when its flag says so. glibc's
/// pthread_getschedparam answers from it, its pthread_getattr_np reports it, and a new
/// thread inherits it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SchedCache {
    /// `priority` is valid.
    pub priority_set: bool,
    /// `policy` is valid.
    pub policy_set: bool,
    /// SCHED_* policy.
    pub policy: i32,
    /// `sched_priority`.
    pub priority: i32,
}

impl SchedCache {
    /// Fills what is not set yet from the kernel (kernel thread `tid`), as glibc does when a
    /// scheduling function first needs it.
    pub fn fill(&mut self, tid: i32) -> crate::errno::Result<()> {
        if !self.priority_set {
            self.priority = crate::sys::sched::get_param(tid)?;
            self.priority_set = true;
        }
        if !self.policy_set {
            self.policy = crate::sys::sched::get_scheduler(tid)?;
            self.policy_set = true;
        }
        Ok(())
    }
}

/// Runs `f` on the scheduling cache of thread `tcb` with the thread's TCB lock held, as
/// glibc's own functions do, and stores what `f` leaves in it.
///
/// # Safety
/// `tcb` must be a live TCB.
pub unsafe fn with_sched_cache<R>(tcb: *mut u8, f: impl FnOnce(&mut SchedCache) -> R) -> R {
    // SAFETY: fields of a live TCB (checked layout); the lock is glibc's low-level lock word.
    unsafe {
        let lock = &*field::<AtomicU32>(tcb, L::LOCK);
        lll_lock(lock);
        let flags = field::<i32>(tcb, L::FLAGS);
        let mut c = SchedCache {
            priority_set: *flags & L::ATTR_FLAG_SCHED_SET != 0,
            policy_set: *flags & L::ATTR_FLAG_POLICY_SET != 0,
            policy: *field::<i32>(tcb, L::SCHEDPOLICY),
            priority: *field::<i32>(tcb, L::SCHEDPARAM),
        };
        let r = f(&mut c);
        let bits = if c.priority_set { L::ATTR_FLAG_SCHED_SET } else { 0 }
            | if c.policy_set { L::ATTR_FLAG_POLICY_SET } else { 0 };
        *flags = (*flags & !(L::ATTR_FLAG_SCHED_SET | L::ATTR_FLAG_POLICY_SET)) | bits;
        *field::<i32>(tcb, L::SCHEDPOLICY) = c.policy;
        *field::<i32>(tcb, L::SCHEDPARAM) = c.priority;
        lll_unlock(lock);
        r
    }
}

/// glibc's `struct priority_protection_data` of a thread (null until it first takes a
/// priority-protect mutex): `priomax` then one count per SCHED_FIFO priority.
///
/// # Safety
/// `tcb` must be a live TCB; the field is only touched by its thread (and read under its
/// TCB lock by pthread_setschedparam).
#[inline]
pub unsafe fn tpp<'a>(tcb: *mut u8) -> &'a mut *mut i32 {
    // SAFETY: a pointer field of every TCB (checked layout), per contract.
    unsafe { &mut *field::<*mut i32>(tcb, L::TPP) }
}

/// glibc's low-level lock: 0 free, 1 locked, 2 locked with sleepers (private futex).
pub fn lll_lock(w: &AtomicU32) {
    use core::sync::atomic::Ordering;
    if w.compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed).is_ok() {
        return;
    }
    while w.swap(2, Ordering::Acquire) != 0 {
        let _ = crate::sys::futex::wait(w, 2, None, crate::sys::futex::Scope::Private);
    }
}

/// Releases a lock taken by [`lll_lock`].
pub fn lll_unlock(w: &AtomicU32) {
    use core::sync::atomic::Ordering;
    if w.swap(0, Ordering::Release) == 2 {
        crate::sys::futex::wake(w, 1, crate::sys::futex::Scope::Private);
    }
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
        let _ = crate::sys::set_robust_list(head.cast());
        super::tls::register_rseq(tcb);
        (s.ctype_init)();
        // __resp is static TLS: its offset from the thread pointer is the same in every thread.
        let resp_off = super::tls::resp_offset();
        *tcb.offset(resp_off).cast::<*mut u8>() = field(tcb, L::RES);
        crate::errno::set(crate::errno::Errno(0));
    }
}
