//! x86_64 assembly: every instruction sequence of the library is here, each routine
//! commented line by line. The rest of the crate calls these small wrappers; the naked
//! pthread_once entry points of `abi` (an export must be a Rust function) take their bodies
//! from the macros at the end of this file.
//!
//! - the `syscall` instruction and the raw `clone` that starts a thread;
//! - `%fs`-relative loads and stores (the TCB of the calling thread, glibc's and ours);
//! - this library's initial-exec TLS slot (the current thread's descriptor);
//! - the cancellable system call window and the signal restorer;
//! - the outermost setjmp buffer every thread of ours starts from.

use core::arch::{asm, global_asm};
use core::ffi::c_void;
use core::sync::atomic::AtomicI32;

// ---- system calls ----------------------------------------------------------------------

/// Performs a system call with up to six arguments and returns the kernel's raw value
/// (negative errno on failure).
///
/// # Safety
/// The arguments must be valid for system call `nr`: pointers must point where the kernel will
/// read or write, with the sizes the call expects.
#[inline(always)]
pub unsafe fn syscall6(nr: i64, a: usize, b: usize, c: usize, d: usize, e: usize, f: usize) -> isize {
    let ret: isize;
    // SAFETY: the caller guarantees the arguments are valid for `nr`; the kernel clobbers only
    // rax (return), rcx and r11 (return address and flags).
    unsafe {
        asm!(
            "syscall",
            inlateout("rax") nr as isize => ret,
            in("rdi") a, in("rsi") b, in("rdx") c, in("r10") d, in("r8") e, in("r9") f,
            lateout("rcx") _, lateout("r11") _,
            options(nostack, preserves_flags)
        );
    }
    ret
}

/// `clone(flags, stack_top, tid, tid, tls)` whose child runs `entry(arg)` on `stack_top`.
/// Returns the child's tid or a negative errno, in the parent only.
///
/// # Safety
/// `stack_top` must be the 16-byte aligned top of a writable stack owned by the new thread;
/// `tid` must stay valid for the thread's lifetime; `tls` must be a fully built TCB; `entry`
/// must never return; `flags` must make a thread (CLONE_VM and friends).
pub unsafe fn clone_thread(
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

// ---- the calling thread's TCB through %fs ---------------------------------------------

/// The word at offset `off` of the calling thread's TCB (`%fs:off`).
///
/// # Safety
/// `off` must be the offset of an aligned 8-byte field inside the TCB.
#[inline(always)]
pub unsafe fn fs_read_word(off: usize) -> usize {
    let v: usize;
    // SAFETY: %fs points at the calling thread's TCB; `off` is inside it (caller).
    unsafe { asm!("mov {v}, qword ptr fs:[{off}]", off = in(reg) off, v = lateout(reg) v, options(nostack, readonly, preserves_flags)) };
    v
}

/// Writes the word at offset `off` of the calling thread's TCB.
///
/// # Safety
/// As for [`fs_read_word`], and the field must be the caller's to change.
#[inline(always)]
pub unsafe fn fs_write_word(off: usize, v: usize) {
    // SAFETY: as for `fs_read_word`.
    unsafe { asm!("mov qword ptr fs:[{off}], {v}", off = in(reg) off, v = in(reg) v, options(nostack, preserves_flags)) };
}

/// The byte at the constant offset `OFF` of the calling thread's TCB (an immediate operand).
///
/// # Safety
/// `OFF` must be the offset of a byte field inside the TCB.
#[inline(always)]
pub unsafe fn fs_read_byte<const OFF: usize>() -> u8 {
    let v: u8;
    // SAFETY: as for `fs_read_word`.
    unsafe { asm!("mov {v}, byte ptr fs:[{off}]", off = const OFF, v = lateout(reg_byte) v, options(nostack, readonly, preserves_flags)) };
    v
}

/// Writes the byte at the constant offset `OFF` of the calling thread's TCB.
///
/// # Safety
/// As for [`fs_read_byte`], and the field must be the caller's to change.
#[inline(always)]
pub unsafe fn fs_write_byte<const OFF: usize>(v: u8) {
    // SAFETY: as for `fs_read_word`.
    unsafe { asm!("mov byte ptr fs:[{off}], {v}", off = const OFF, v = in(reg_byte) v, options(nostack, preserves_flags)) };
}

/// The 4-byte field at the constant offset `OFF` of the calling thread's TCB.
///
/// # Safety
/// `OFF` must be the offset of an aligned 4-byte field inside the TCB.
#[inline(always)]
pub unsafe fn fs_read_u32<const OFF: usize>() -> u32 {
    let v: u32;
    // SAFETY: as for `fs_read_word`.
    unsafe { asm!("mov {v:e}, dword ptr fs:[{off}]", off = const OFF, v = lateout(reg) v, options(nostack, readonly, preserves_flags)) };
    v
}

/// The word at the constant offset `OFF` of the calling thread's TCB, for a field that never
/// changes while the thread runs (the compiler may merge repeated reads).
///
/// # Safety
/// `OFF` must be the offset of an aligned 8-byte field inside the TCB that stays constant.
#[inline(always)]
pub unsafe fn fs_read_const_word<const OFF: usize>() -> usize {
    let v: usize;
    // SAFETY: as for `fs_read_word`.
    unsafe { asm!("mov {v}, qword ptr fs:[{off}]", off = const OFF, v = lateout(reg) v, options(nostack, readonly, pure, preserves_flags)) };
    v
}

// ---- this library's TLS slot -----------------------------------------------------------

// The current thread's descriptor: one word of initial-exec TLS in this library. Initial-exec
// (the library is loaded at start-up, by LD_PRELOAD or as a dependency) makes reading it two
// instructions, and the slot's offset from the thread pointer lets a creator fill it in for
// the new thread before the thread runs.
global_asm!(
    ".section .tbss,\"awT\",@nobits",
    ".p2align 3",
    "rpthread_current_thread:",
    ".zero 8",
    ".previous",
);

/// Offset of the current-thread slot from the thread pointer.
#[inline(always)]
pub fn tls_slot_offset() -> isize {
    let off: isize;
    // SAFETY: reads the GOT entry ld.so filled with the slot's TP offset (R_X86_64_TPOFF64).
    unsafe {
        asm!("mov {}, qword ptr [rip + rpthread_current_thread@GOTTPOFF]", out(reg) off,
             options(nostack, readonly, pure, preserves_flags))
    };
    off
}

/// The calling thread's TLS slot value.
#[inline(always)]
pub fn tls_slot() -> *mut c_void {
    let p: *mut c_void;
    // SAFETY: %fs-relative load of our static TLS slot at its GOT-given offset.
    unsafe {
        asm!("mov {0}, qword ptr [rip + rpthread_current_thread@GOTTPOFF]",
             "mov {0}, qword ptr fs:[{0}]", out(reg) p, options(nostack, readonly, preserves_flags))
    };
    p
}

// ---- the cancellable system call window ------------------------------------------------

// rpthread_syscall_cp_asm(word, nr, a..f) checks the thread's cancellation word, then executes
// `syscall`. The instructions from `rpthread_cp_begin` up to (not including) `rpthread_cp_end`
// form the window the SIGCANCEL handler redirects out of (see `cancel::window`).
// Register use: rdi = word, rsi = nr, rdx, rcx, r8, r9 = a..d, stack = e, f.
// No stack adjustment anywhere, so the CFA is rsp + 8 at every instruction and the handler
// can move the PC to `rpthread_cp_cancel` without touching rsp.
global_asm!(
    ".text",
    ".p2align 4",
    ".globl rpthread_syscall_cp_asm",
    ".hidden rpthread_syscall_cp_asm",
    ".type rpthread_syscall_cp_asm,@function",
    "rpthread_syscall_cp_asm:",
    ".cfi_startproc",
    ".globl rpthread_cp_begin",
    ".hidden rpthread_cp_begin",
    "rpthread_cp_begin:",
    // Acting requires CANCELED (8) set and CANCELSTATE (1), EXITING (16), TERMINATED (32)
    // clear (glibc's cancel_enabled_and_canceled).
    "mov eax, dword ptr [rdi]",
    "and eax, 0x39",
    "cmp eax, 8",
    "je rpthread_cp_cancel",
    // Shift the arguments into the kernel's registers.
    "mov rax, rsi",
    "mov rdi, rdx",
    "mov rsi, rcx",
    "mov rdx, r8",
    "mov r10, r9",
    "mov r8, qword ptr [rsp + 8]",
    "mov r9, qword ptr [rsp + 16]",
    "syscall",
    ".globl rpthread_cp_end",
    ".hidden rpthread_cp_end",
    "rpthread_cp_end:",
    "ret",
    ".globl rpthread_cp_cancel",
    ".hidden rpthread_cp_cancel",
    "rpthread_cp_cancel:",
    "mov rax, -125", // -ECANCELED
    "ret",
    ".cfi_endproc",
    ".size rpthread_syscall_cp_asm, .-rpthread_syscall_cp_asm",
);

// The signal restorer. Its bytes are exactly `mov rax, 15; syscall` (rt_sigreturn) and no FDE
// covers it: libgcc's unwinder recognizes that pattern as a signal frame, which is how a
// forced unwind started inside the handler (asynchronous cancellation) reaches the
// interrupted code. The `nop` before it keeps `pc - 1` out of any other function's FDE.
global_asm!(
    ".text",
    ".p2align 4",
    "nop",
    ".globl rpthread_sigreturn",
    ".hidden rpthread_sigreturn",
    "rpthread_sigreturn:",
    ".byte 0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00", // mov rax, 15
    ".byte 0x0f, 0x05",                               // syscall
    "hlt",
);

#[allow(unused_doc_comments)]
/// cbindgen:ignore
extern "C" {
    /// See the window's comment above.
    pub fn rpthread_syscall_cp_asm(word: *const AtomicI32, nr: i64, a: usize, b: usize, c: usize, d: usize, e: usize, f: usize) -> isize;
}

/// Addresses of the window's labels: (begin, end, cancel exit).
pub fn cancel_window_labels() -> (usize, usize, usize) {
    let (b, e, c): (usize, usize, usize);
    // SAFETY: address computations only.
    unsafe {
        asm!("lea {0}, [rip + rpthread_cp_begin]",
             "lea {1}, [rip + rpthread_cp_end]",
             "lea {2}, [rip + rpthread_cp_cancel]",
             out(reg) b, out(reg) e, out(reg) c, options(nostack, nomem, pure, preserves_flags));
    }
    (b, e, c)
}

/// Address of the signal restorer.
pub fn sigreturn_restorer() -> usize {
    let r: usize;
    // SAFETY: address computation only.
    unsafe { asm!("lea {0}, [rip + rpthread_sigreturn]", out(reg) r, options(nostack, nomem, pure, preserves_flags)) };
    r
}

// ---- the outermost cancellation buffer -------------------------------------------------

// rpthread_run_start(buf, start, arg, result, chain) -> 0 or 1
//
// A thread's outermost cancellation buffer, as glibc's start_thread sets it up: `buf` (a
// `struct pthread_unwind_buf`) is filled by `_setjmp` in this frame and registered as the
// thread's innermost buffer (`*chain = buf`); then `start(arg)` runs from this same frame,
// with the stack pointer `_setjmp` saved, so that a forced unwind (pthread_exit,
// cancellation) runs every frame of the user's code and longjmps back here, which returns 1.
// A normal return stores start's value in `*result` and returns 0.
global_asm!(
    ".text",
    ".p2align 4",
    ".globl rpthread_run_start",
    ".hidden rpthread_run_start",
    ".type rpthread_run_start,@function",
    "rpthread_run_start:",
    ".cfi_startproc",
    // Keep the five arguments in callee-saved registers: `_setjmp` saves them, so they
    // survive the longjmp too. Five pushes also align the stack to 16 for the calls.
    "push rbx",
    ".cfi_adjust_cfa_offset 8",
    ".cfi_rel_offset rbx, 0",
    "push r12",
    ".cfi_adjust_cfa_offset 8",
    ".cfi_rel_offset r12, 0",
    "push r13",
    ".cfi_adjust_cfa_offset 8",
    ".cfi_rel_offset r13, 0",
    "push r14",
    ".cfi_adjust_cfa_offset 8",
    ".cfi_rel_offset r14, 0",
    "push r15",
    ".cfi_adjust_cfa_offset 8",
    ".cfi_rel_offset r15, 0",
    "mov rbx, rdi", // buf
    "mov r12, rsi", // start
    "mov r13, rdx", // arg
    "mov r14, rcx", // result
    "mov r15, r8",  // chain
    // _setjmp(buf): 0 now, 1 when the unwind jumps back.
    "call _setjmp@PLT",
    // priv.data.prev = priv.data.cleanup = NULL, after the setjmp (glibc: the private part
    // may overlap what setjmp stores), both times.
    "mov qword ptr [rbx + 72], 0",
    "mov qword ptr [rbx + 80], 0",
    "test eax, eax",
    "jnz 2f",
    // *chain = buf; *result = start(arg); return 0.
    "mov qword ptr [r15], rbx",
    "mov rdi, r13",
    "call r12",
    "mov qword ptr [r14], rax",
    "xor eax, eax",
    "jmp 3f",
    "2:",
    "mov eax, 1",
    "3:",
    "pop r15",
    ".cfi_adjust_cfa_offset -8",
    "pop r14",
    ".cfi_adjust_cfa_offset -8",
    "pop r13",
    ".cfi_adjust_cfa_offset -8",
    "pop r12",
    ".cfi_adjust_cfa_offset -8",
    "pop rbx",
    ".cfi_adjust_cfa_offset -8",
    "ret",
    ".cfi_endproc",
    ".size rpthread_run_start, .-rpthread_run_start",
);

#[allow(unused_doc_comments)]
/// cbindgen:ignore
extern "C" {
    /// See the routine's comment above.
    pub fn rpthread_run_start(
        buf: *mut c_void,
        start: unsafe extern "C" fn(*mut c_void) -> *mut c_void,
        arg: *mut c_void,
        result: *mut *mut c_void,
        chain: *mut *mut c_void,
    ) -> i32;
}

// ---- bodies of naked exports -------------------------------------------------------------

/// The body of the naked `pthread_once(control, init)`: no frame of its own, so that a C++
/// exception thrown by `init` passes through to the caller. Fast path: null control is
/// EINVAL (22); a control that holds 1 (done) returns 0 at once, its plain load acquiring
/// by x86 ordering (it pairs with the Release store of "done"). Otherwise a tail call of
/// `$slow(control, init, &$ops)`.
#[macro_export]
#[doc(hidden)]
macro_rules! naked_once_body {
    ($ops:path, $slow:path) => {
        core::arch::naked_asm!(
            "test rdi, rdi",
            "jz 2f",
            "cmp dword ptr [rdi], 1",
            "jne 3f",
            "xor eax, eax",
            "ret",
            "2:",
            "mov eax, 22",
            "ret",
            "3:",
            "lea rdx, [rip + {ops}]",
            "jmp {slow}",
            ops = sym $ops,
            slow = sym $slow,
        )
    };
}

/// The body of a naked alias: a tail jump to `$target`, arguments and return untouched.
#[macro_export]
#[doc(hidden)]
macro_rules! naked_jump {
    ($target:path) => {
        core::arch::naked_asm!("jmp {t}", t = sym $target)
    };
}
