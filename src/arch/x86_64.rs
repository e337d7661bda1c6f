//! x86_64 assembly, each routine commented line by line.

use core::arch::global_asm;
use core::ffi::c_void;

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
