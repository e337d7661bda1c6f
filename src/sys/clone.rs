//! Thread creation with the raw `clone` system call (the instruction: `arch`).

use core::ffi::c_void;

/// The flags of a POSIX thread: share everything, set the thread pointer, and let the kernel
/// store the new tid into the parent's word and clear + wake it when the thread ends.
pub const THREAD_FLAGS: u64 = (libc::CLONE_VM
    | libc::CLONE_FS
    | libc::CLONE_FILES
    | libc::CLONE_SIGHAND
    | libc::CLONE_THREAD
    | libc::CLONE_SYSVSEM
    | libc::CLONE_SETTLS
    | libc::CLONE_PARENT_SETTID
    | libc::CLONE_CHILD_CLEARTID) as u64;

/// Starts a thread running `entry(arg)` on `stack_top` with thread pointer `tls`. The kernel
/// writes the new thread's id to `*tid` before returning and clears it (with a futex wake) when
/// the thread ends. Returns the tid or a negative errno.
///
/// # Safety
/// `stack_top` must be the 16-byte aligned top of a writable stack owned by the new thread;
/// `tid` must stay valid for the thread's lifetime; `tls` must be a fully built TCB; `entry`
/// must never return.
pub unsafe fn spawn(
    flags: u64,
    stack_top: *mut u8,
    tid: *mut i32,
    tls: *mut u8,
    entry: unsafe extern "C" fn(*mut c_void) -> !,
    arg: *mut c_void,
) -> isize {
    // SAFETY: `stack_top`, `tid`, `tls` and `arg` are valid as this function's `# Safety` section requires.
    unsafe { crate::arch::clone_thread(flags, stack_top, tid, tls, entry, arg) }
}
