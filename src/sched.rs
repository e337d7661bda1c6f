//! Per-thread scheduling, CPU affinity, names and CPU-time clocks.

use crate::errno::{Errno, Result};
use crate::sys;
use crate::glibc::tcb;
use crate::thread::with_target;

/// Kernel tid of a live thread (ESRCH if unknown or ended).
fn live_tid(handle: usize) -> Result<i32> {
    match tid_of(handle)? {
        0 => Err(Errno::ESRCH),
        tid => Ok(tid),
    }
}

/// Kernel tid of thread `handle`: 0 once it has ended (not joined yet). ESRCH if unknown.
/// The functions glibc does not check a thread's end in pass that 0 to the kernel, as
/// glibc's do: the kernel then acts on the calling thread (affinity) or finds no
/// `/proc/self/task/0` (names: ENOENT).
fn tid_of(handle: usize) -> Result<i32> {
    with_target(handle, |t| t.tid())
}


/// Runs `f(tid, tcb, cache)` on thread `handle`'s scheduling cache, under its TCB lock as
/// glibc's functions do. ESRCH for a thread that has ended, as glibc's check of its tid says.
fn with_cache<R>(handle: usize, f: impl FnOnce(i32, *mut u8, &mut tcb::SchedCache) -> Result<R>) -> Result<R> {
    with_target(handle, |t| {
        let tid = t.tid();
        if tid <= 0 {
            return Err(Errno::ESRCH);
        }
        // SAFETY: the target's TCB stays valid inside with_target.
        unsafe { tcb::with_sched_cache(t.tcb(), |c| f(tid, t.tcb(), c)) }
    })?
}

/// The priority a thread holding priority-protect mutexes keeps at least: their highest
/// ceiling (glibc's rule), or none.
///
/// # Safety
/// `tcb` is a live TCB (inside [`with_cache`]).
unsafe fn boost(tcb: *mut u8) -> i32 {
    // SAFETY: per contract.
    unsafe { crate::sync::mutex::pp::prio::priomax(tcb) }.unwrap_or(i32::MIN)
}

/// Sets policy and priority of thread `handle` (pthread_setschedparam) and, once the kernel
/// accepted them, records them in the thread's scheduling cache (glibc's protocol: the cache
/// is what pthread_getschedparam and pthread_getattr_np report, and what a new thread
/// inherits). The kernel gets the priority raised to the priority-protect ceilings held; the
/// cache records what was asked.
pub fn set_param(handle: usize, policy: i32, priority: i32) -> Result<()> {
    with_cache(handle, |tid, tcb, c| {
        // SAFETY: with_cache passes the target's live TCB.
        sys::sched::set_scheduler(tid, policy, priority.max(unsafe { boost(tcb) }))?;
        *c = tcb::SchedCache { priority_set: true, policy_set: true, policy, priority };
        Ok(())
    })
}

/// Policy and priority of thread `handle` (pthread_getschedparam): from its scheduling cache,
/// filled from the kernel where it is not set yet (as glibc does).
pub fn get_param(handle: usize) -> Result<(i32, i32)> {
    with_cache(handle, |tid, _, c| {
        c.fill(tid)?;
        Ok((c.policy, c.priority))
    })
}

/// Sets only the priority (pthread_setschedprio), raised as in [`set_param`], and records it
/// in the cache.
pub fn set_priority(handle: usize, priority: i32) -> Result<()> {
    with_cache(handle, |tid, tcb, c| {
        // SAFETY: as in set_param.
        sys::sched::set_param(tid, priority.max(unsafe { boost(tcb) }))?;
        c.priority = priority;
        c.priority_set = true;
        Ok(())
    })
}

/// Binds thread `handle` to the CPUs in `set`. A thread that has ended is tid 0 to the
/// kernel, which then binds the caller: glibc does exactly that (and returns 0).
pub fn set_affinity(handle: usize, set: &[u8]) -> Result<()> {
    let tid = tid_of(handle)?;
    sys::sched::set_affinity(tid, set)
}

/// Reads thread `handle`'s CPU set into `set` (bytes beyond the kernel's mask are zeroed).
/// A thread that has ended reads as the caller's set, as on glibc (see [`set_affinity`]).
pub fn get_affinity(handle: usize, set: &mut [u8]) -> Result<()> {
    let tid = tid_of(handle)?;
    // The kernel takes an int size: glibc passes at most INT_MAX (so does the wrapper).
    let n = sys::sched::get_affinity(tid, set)?;
    set[n..].fill(0);
    Ok(())
}

/// Longest thread name the kernel keeps, without the NUL.
pub const NAME_MAX: usize = 15;

/// `/proc/self/task/<tid>/comm`, NUL-terminated.
fn comm_path(tid: i32) -> alloc::ffi::CString {
    // A decimal tid has no NUL byte.
    alloc::ffi::CString::new(alloc::format!("/proc/self/task/{tid}/comm")).expect("no NUL in a path of digits")
}

/// Names thread `handle` (ERANGE if longer than 15 bytes; ENOENT, as on glibc, once it has
/// ended).
pub fn set_name(handle: usize, name: &[u8]) -> Result<()> {
    if name.len() > NAME_MAX {
        return Err(Errno::ERANGE);
    }
    let tid = tid_of(handle)?;
    if tid == sys::gettid() {
        return sys::sched::set_own_name(name);
    }
    let fd = sys::fs::open(&comm_path(tid), libc::O_WRONLY | libc::O_CLOEXEC, 0)?;
    let r = sys::fs::write(fd, name);
    sys::fs::close(fd);
    // A short write is EIO, as glibc's.
    match r? {
        n if n == name.len() => Ok(()),
        _ => Err(Errno(libc::EIO)),
    }
}

/// Reads thread `handle`'s name into `buf` with a NUL (ERANGE if `buf` is shorter than 16;
/// ENOENT, as on glibc, once the thread has ended).
pub fn get_name(handle: usize, buf: &mut [u8]) -> Result<()> {
    if buf.len() < NAME_MAX + 1 {
        return Err(Errno::ERANGE);
    }
    let tid = tid_of(handle)?;
    let name = if tid == sys::gettid() {
        sys::sched::own_name()?
    } else {
        let mut s = sys::fs::read_all(&comm_path(tid))?;
        if s.last() == Some(&b'\n') {
            s.pop();
        }
        s
    };
    let n = name.len().min(NAME_MAX);
    buf[..n].copy_from_slice(&name[..n]);
    buf[n] = 0;
    Ok(())
}

/// The CPU-time clock of thread `handle` (the kernel's per-thread CPUCLOCK_SCHED encoding).
pub fn cpu_clock(handle: usize) -> Result<libc::clockid_t> {
    let tid = live_tid(handle)?;
    Ok((!tid << 3) | 6)
}

static CONCURRENCY: core::sync::atomic::AtomicI32 = core::sync::atomic::AtomicI32::new(0);

/// pthread_setconcurrency: only remembered (1:1 threads need no hint); EINVAL if negative.
pub fn set_concurrency(level: i32) -> Result<()> {
    if level < 0 {
        return Err(Errno::EINVAL);
    }
    CONCURRENCY.store(level, core::sync::atomic::Ordering::Relaxed);
    Ok(())
}

/// The level last set by pthread_setconcurrency (0 initially).
pub fn concurrency() -> i32 {
    CONCURRENCY.load(core::sync::atomic::Ordering::Relaxed)
}
