//! Typed wrappers of the scheduling, affinity and thread-name system calls. `tid` 0 is the
//! calling thread, as for the kernel.

use alloc::vec::Vec;
use alloc::vec;
use super::raw;
use crate::errno::{from_syscall, Errno, Result};

/// sched_setscheduler(2): policy and priority of kernel thread `tid`.
pub fn set_scheduler(tid: i32, policy: i32, priority: i32) -> Result<()> {
    let p = libc::sched_param { sched_priority: priority };
    // SAFETY: the kernel reads one sched_param from `p`, which outlives the call.
    from_syscall(unsafe { raw(libc::SYS_sched_setscheduler, &[tid as usize, policy as usize, &p as *const _ as usize]) })
        .map(drop)
}

/// sched_setparam(2): priority of kernel thread `tid`, policy unchanged.
pub fn set_param(tid: i32, priority: i32) -> Result<()> {
    let p = libc::sched_param { sched_priority: priority };
    // SAFETY: the kernel reads one sched_param from `p`, which outlives the call.
    from_syscall(unsafe { raw(libc::SYS_sched_setparam, &[tid as usize, &p as *const _ as usize]) }).map(drop)
}

/// sched_getparam(2): priority of kernel thread `tid`.
pub fn get_param(tid: i32) -> Result<i32> {
    let mut p = libc::sched_param { sched_priority: 0 };
    // SAFETY: the kernel writes one sched_param to `p`, which outlives the call.
    from_syscall(unsafe { raw(libc::SYS_sched_getparam, &[tid as usize, &mut p as *mut _ as usize]) })?;
    Ok(p.sched_priority)
}

/// sched_getscheduler(2): policy of kernel thread `tid`.
pub fn get_scheduler(tid: i32) -> Result<i32> {
    // SAFETY: no pointer arguments.
    from_syscall(unsafe { raw(libc::SYS_sched_getscheduler, &[tid as usize]) }).map(|p| p as i32)
}

/// sched_get_priority_min(2) and sched_get_priority_max(2) of `policy`.
pub fn priority_range(policy: i32) -> Result<(i32, i32)> {
    // SAFETY: no pointer arguments.
    let min = from_syscall(unsafe { raw(libc::SYS_sched_get_priority_min, &[policy as usize]) })?;
    // SAFETY: as above.
    let max = from_syscall(unsafe { raw(libc::SYS_sched_get_priority_max, &[policy as usize]) })?;
    Ok((min as i32, max as i32))
}

/// sched_setaffinity(2): binds kernel thread `tid` to the CPUs of `set`.
pub fn set_affinity(tid: i32, set: &[u8]) -> Result<()> {
    // SAFETY: the kernel reads `set.len()` bytes of `set`.
    from_syscall(unsafe { raw(libc::SYS_sched_setaffinity, &[tid as usize, set.len(), set.as_ptr() as usize]) })
        .map(drop)
}

/// sched_getaffinity(2): writes kernel thread `tid`'s CPU mask into `set` (at most
/// `i32::MAX` bytes of it, the kernel's limit) and returns the bytes written.
pub fn get_affinity(tid: i32, set: &mut [u8]) -> Result<usize> {
    let len = set.len().min(i32::MAX as usize);
    // SAFETY: the kernel writes at most `len` bytes of `set`.
    from_syscall(unsafe { raw(libc::SYS_sched_getaffinity, &[tid as usize, len, set.as_mut_ptr() as usize]) })
}

/// The CPU affinity of kernel thread `tid`, in a buffer grown as glibc's
/// pthread_getattr_np does until the kernel's mask fits.
pub fn affinity_of_tid(tid: i32) -> Result<Vec<u8>> {
    let mut size = 32;
    loop {
        let mut set = vec![0u8; size];
        match get_affinity(tid, &mut set) {
            Ok(_) => return Ok(set),
            Err(Errno::EINVAL) if size < 1024 * 1024 => size *= 2,
            Err(e) => return Err(e),
        }
    }
}

/// prctl(PR_SET_NAME): names the calling thread (`name` at most 15 bytes; longer is cut by
/// the kernel).
pub fn set_own_name(name: &[u8]) -> Result<()> {
    let mut buf = [0u8; 16];
    let n = name.len().min(15);
    buf[..n].copy_from_slice(&name[..n]);
    // SAFETY: PR_SET_NAME reads a NUL-terminated string of at most 16 bytes from `buf`.
    from_syscall(unsafe { raw(libc::SYS_prctl, &[libc::PR_SET_NAME as usize, buf.as_ptr() as usize]) }).map(drop)
}

/// prctl(PR_GET_NAME): the calling thread's name, without the NUL.
pub fn own_name() -> Result<Vec<u8>> {
    let mut b = [0u8; 16];
    // SAFETY: PR_GET_NAME writes at most 16 bytes to `b`.
    from_syscall(unsafe { raw(libc::SYS_prctl, &[libc::PR_GET_NAME as usize, b.as_mut_ptr() as usize]) })?;
    let n = b.iter().position(|&c| c == 0).unwrap_or(16);
    Ok(b[..n].to_vec())
}
