//! Typed wrappers of the signal system calls the library makes itself (glibc's wrappers
//! refuse its reserved signals, or would recurse into us).

use super::raw;
use crate::errno::{from_syscall, Result};

/// The kernel's `struct sigaction` (rt_sigaction(2)).
#[repr(C)]
pub struct KernelSigaction {
    /// `sa_handler` / `sa_sigaction`.
    pub handler: usize,
    /// `SA_*` flags (with `SA_RESTORER`).
    pub flags: u64,
    /// The `rt_sigreturn` trampoline.
    pub restorer: usize,
    /// Signals blocked during the handler (the kernel's 64-bit set).
    pub mask: u64,
}

/// `SA_RESTORER`: `restorer` is set.
pub const SA_RESTORER: u64 = 0x0400_0000;

/// rt_sigaction(2) without reading the old action.
///
/// # Safety
/// `act.handler` and `act.restorer` are functions that may run as a handler of `sig` and
/// as its return trampoline.
pub unsafe fn set_action(sig: i32, act: &KernelSigaction) -> Result<()> {
    // SAFETY: the kernel reads one KernelSigaction (8 = its sigset size); the caller vouches
    // for the code addresses in it.
    from_syscall(unsafe { raw(libc::SYS_rt_sigaction, &[sig as usize, act as *const _ as usize, 0, 8]) }).map(drop)
}

/// Unblocks the signals of the kernel set `set` (bit `n - 1` for signal `n`) in the calling
/// thread.
pub fn unblock(set: u64) {
    // SAFETY: the kernel reads 8 bytes of `set`.
    unsafe { raw(libc::SYS_rt_sigprocmask, &[libc::SIG_UNBLOCK as usize, &set as *const u64 as usize, 0, 8]) };
}

/// rt_tgsigqueueinfo(2): queues `info` for thread `tid` of process `pid`.
pub fn tgsigqueueinfo(pid: i32, tid: i32, sig: i32, info: &libc::siginfo_t) -> Result<()> {
    // SAFETY: the kernel reads one siginfo_t.
    from_syscall(unsafe {
        raw(libc::SYS_rt_tgsigqueueinfo, &[pid as usize, tid as usize, sig as usize, info as *const _ as usize])
    })
    .map(drop)
}

/// The name of system call `nr` if it is one a signal handler interrupts even with
/// SA_RESTART (signal(7)): a thread blocked in it would see EINTR if signalled.
pub fn not_restarted(nr: i64) -> Option<&'static str> {
    const CALLS: &[(i64, &str)] = &[
        (libc::SYS_poll, "poll"),
        (libc::SYS_select, "select"),
        (libc::SYS_pause, "pause"),
        (libc::SYS_nanosleep, "nanosleep"),
        (libc::SYS_rt_sigtimedwait, "rt_sigtimedwait"),
        (libc::SYS_rt_sigsuspend, "rt_sigsuspend"),
        (libc::SYS_io_getevents, "io_getevents"),
        (libc::SYS_semtimedop, "semtimedop"),
        (libc::SYS_clock_nanosleep, "clock_nanosleep"),
        (libc::SYS_epoll_wait, "epoll_wait"),
        (libc::SYS_pselect6, "pselect6"),
        (libc::SYS_ppoll, "ppoll"),
        (libc::SYS_epoll_pwait, "epoll_pwait"),
        (333, "io_pgetevents"), // SYS_io_pgetevents: not in the libc crate
        (libc::SYS_epoll_pwait2, "epoll_pwait2"),
    ];
    CALLS.iter().find(|(n, _)| *n == nr).map(|(_, name)| *name)
}
