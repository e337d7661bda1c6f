//! The `syscall` instruction, wrapped, and the handful of calls the library makes directly.

use crate::errno::{from_syscall, Result};

/// Performs a system call with up to six arguments and returns the kernel's raw value
/// (negative errno on failure).
///
/// # Safety
/// The arguments must be valid for system call `nr`: pointers must point where the kernel will
/// read or write, with the sizes the call expects.
#[inline(always)]
pub unsafe fn raw6(nr: i64, a: usize, b: usize, c: usize, d: usize, e: usize, f: usize) -> isize {
    // SAFETY: forwarded from the caller.
    unsafe { crate::arch::syscall6(nr, a, b, c, d, e, f) }
}

/// `syscall` with fewer arguments: the unused registers are passed as zero.
///
/// # Safety
/// As for [`raw6`].
#[inline(always)]
pub unsafe fn raw(nr: i64, args: &[usize]) -> isize {
    let mut a = [0usize; 6];
    a[..args.len()].copy_from_slice(args);
    // SAFETY: forwarded from the caller.
    unsafe { raw6(nr, a[0], a[1], a[2], a[3], a[4], a[5]) }
}

/// The calling thread's kernel thread id.
#[inline]
pub fn gettid() -> i32 {
    // SAFETY: gettid takes no arguments and cannot fail.
    unsafe { raw(libc::SYS_gettid, &[]) as i32 }
}

/// The process id.
#[inline]
pub fn getpid() -> i32 {
    // SAFETY: getpid takes no arguments and cannot fail.
    unsafe { raw(libc::SYS_getpid, &[]) as i32 }
}

/// Sends `sig` to thread `tid` of this process.
pub fn tgkill(tid: i32, sig: i32) -> Result<()> {
    // SAFETY: tgkill takes plain integers.
    from_syscall(unsafe { raw(libc::SYS_tgkill, &[getpid() as usize, tid as usize, sig as usize]) })
        .map(drop)
}

/// Maps anonymous private memory.
pub fn mmap_anon(len: usize, prot: i32, extra_flags: i32) -> Result<*mut u8> {
    let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | extra_flags;
    // SAFETY: an anonymous mapping at an address of the kernel's choosing touches no existing memory.
    let r = unsafe {
        raw(libc::SYS_mmap, &[0, len, prot as usize, flags as usize, usize::MAX, 0])
    };
    from_syscall(r).map(|a| a as *mut u8)
}

/// Unmaps `[addr, addr + len)`.
///
/// # Safety
/// Nothing may use the range afterwards.
pub unsafe fn munmap(addr: *mut u8, len: usize) -> Result<()> {
    // SAFETY: the caller owns the range.
    from_syscall(unsafe { raw(libc::SYS_munmap, &[addr as usize, len]) }).map(drop)
}

/// Changes the protection of `[addr, addr + len)`.
///
/// # Safety
/// The range must be a mapping the caller owns.
pub unsafe fn mprotect(addr: *mut u8, len: usize, prot: i32) -> Result<()> {
    // SAFETY: the caller owns the range.
    from_syscall(unsafe { raw(libc::SYS_mprotect, &[addr as usize, len, prot as usize]) }).map(drop)
}

/// Gives the pages of `[addr, addr + len)` back to the kernel (they read as zero afterwards).
///
/// # Safety
/// The range must be a private anonymous mapping whose contents the caller no longer needs.
pub unsafe fn madvise_dontneed(addr: *mut u8, len: usize) {
    // SAFETY: the caller no longer needs the contents. Failure only means the memory stays resident.
    unsafe { raw(libc::SYS_madvise, &[addr as usize, len, libc::MADV_DONTNEED as usize]) };
}

/// Replaces the signal mask of the calling thread, returning the old one.
pub fn sigprocmask(how: i32, set: Option<&libc::sigset_t>) -> libc::sigset_t {
    // SAFETY: sigset_t is plain data.
    let mut old: libc::sigset_t = unsafe { core::mem::zeroed() };
    let setp = set.map_or(0, |s| s as *const _ as usize);
    // SAFETY: the kernel reads 8 bytes from `setp` (if non-null) and writes 8 bytes to `old`.
    unsafe {
        raw(libc::SYS_rt_sigprocmask, &[how as usize, setp, &mut old as *mut _ as usize, 8])
    };
    old
}

/// Writes `msg` to standard error with one write(2) (no stdio: usable anywhere).
pub fn write_stderr(msg: &[u8]) {
    // SAFETY: the kernel reads `msg.len()` bytes of `msg`.
    unsafe { raw(libc::SYS_write, &[2, msg.as_ptr() as usize, msg.len()]) };
}

/// set_robust_list(2): the calling thread's robust-futex list head (the kernel's 24-byte
/// `struct robust_list_head`).
///
/// # Safety
/// `head` stays a valid robust list head until the thread exits or sets another.
pub unsafe fn set_robust_list(head: *mut u8) -> Result<()> {
    // SAFETY: the caller keeps the head alive; the kernel only records the address.
    from_syscall(unsafe { raw(libc::SYS_set_robust_list, &[head as usize, 24]) }).map(drop)
}

/// rseq(2) registration of the calling thread's area (`len` bytes, signature `sig`).
///
/// # Safety
/// `area` is 32-byte aligned, `len` bytes, and lives until the thread exits.
pub unsafe fn rseq_register(area: *mut u8, len: u32, sig: u32) -> Result<()> {
    // SAFETY: the caller's area; the kernel writes it on preemption until the thread exits.
    from_syscall(unsafe { raw(libc::SYS_rseq, &[area as usize, len as usize, 0, sig as usize]) }).map(drop)
}

/// clock_nanosleep(2), relative (flags 0): sleeps for `req` on `clock`; on EINTR the time
/// left goes to `rem` when given.
pub fn clock_nanosleep(clock: libc::clockid_t, req: &libc::timespec, rem: Option<&mut libc::timespec>) -> Result<()> {
    let rem = rem.map_or(0, |r| r as *mut _ as usize);
    // SAFETY: the kernel reads `req` and writes `rem` when non-null.
    from_syscall(unsafe { raw(libc::SYS_clock_nanosleep, &[clock as usize, 0, req as *const _ as usize, rem]) })
        .map(drop)
}

/// madvise(MADV_HUGEPAGE) over a range (a hint: errors are ignored).
///
/// # Safety
/// The caller owns the range.
pub unsafe fn madvise_hugepage(addr: *mut u8, len: usize) {
    // SAFETY: a hint about the caller's own range.
    unsafe { raw(libc::SYS_madvise, &[addr as usize, len, libc::MADV_HUGEPAGE as usize]) };
}

/// A signal set with every signal in it.
pub fn full_sigset() -> libc::sigset_t {
    // SAFETY: sigset_t is plain data; all bits set = all signals (the kernel ignores
    // SIGKILL/SIGSTOP in masks).
    unsafe { core::mem::transmute([!0u64; 16]) }
}

/// Ends the calling thread (not the process). The kernel clears and wakes the thread's
/// `CLONE_CHILD_CLEARTID` word.
pub fn exit_thread(code: i32) -> ! {
    loop {
        // SAFETY: exit ends only this thread; it never returns.
        unsafe { raw(libc::SYS_exit, &[code as usize]) };
    }
}

/// Yields the processor.
#[inline]
pub fn sched_yield() {
    // SAFETY: no arguments.
    unsafe { raw(libc::SYS_sched_yield, &[]) };
}
