//! Thread creation with the raw `clone` system call (x86_64).

use core::arch::asm;
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
    let ret: isize;
    // SAFETY: the kernel returns twice. In the parent only rax, rcx and r11 change. In the child
    // every register is a copy of the parent's except rax (0) and rsp (`stack_top`): the child
    // moves `arg` from r9 into rdi and calls `entry` (in r12) with a 16-byte aligned stack, and
    // never comes back into Rust code of this frame (`entry` diverges; ud2 traps if it did).
    unsafe {
        asm!(
            "syscall",
            "test rax, rax",
            "jnz 2f",
            "xor ebp, ebp",      // child: outermost frame for unwinders and debuggers
            "mov rdi, r9",       // child: entry's argument
            "call r12",          // child: never returns
            "ud2",
            "2:",                // parent: rax holds the tid or -errno
            inlateout("rax") libc::SYS_clone as isize => ret,
            in("rdi") flags,
            in("rsi") stack_top,
            in("rdx") tid,
            in("r10") tid,
            in("r8") tls,
            in("r9") arg,
            in("r12") entry,
            lateout("rcx") _, lateout("r11") _,
            options(nostack)
        );
    }
    ret
}
