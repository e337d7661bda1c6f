//! Scheduling, affinity, naming and miscellaneous thread exports.

use super::{ensure_init, nonnull_mut, ret};
use libc::{c_char, c_int, clockid_t, cpu_set_t, pthread_t, sched_param};

/// Sets `thread`'s scheduling policy and priority.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_setschedparam.html>.
/// Errors: ESRCH, EINVAL (bad policy or priority), EPERM (not permitted).
///
/// # Safety
/// `param` must be readable.
#[no_mangle]
pub unsafe extern "C" fn pthread_setschedparam(thread: pthread_t, policy: c_int, param: *const sched_param) -> c_int {
    ensure_init();
    // SAFETY: null or readable per contract.
    let Some(p) = (unsafe { param.as_ref() }) else { return libc::EINVAL };
    ret(crate::sched::set_param(thread as usize, policy, p.sched_priority))
}

/// Reads `thread`'s scheduling policy and priority.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_getschedparam.html>.
/// Errors: ESRCH.
///
/// # Safety
/// `policy` and `param` must be writable.
#[no_mangle]
pub unsafe extern "C" fn pthread_getschedparam(thread: pthread_t, policy: *mut c_int, param: *mut sched_param) -> c_int {
    ensure_init();
    let r = crate::sched::get_param(thread as usize).and_then(|(pol, prio)| {
        // SAFETY: writable per contract.
        *unsafe { nonnull_mut(policy) }? = pol;
        // SAFETY: writable per contract.
        unsafe { nonnull_mut(param) }?.sched_priority = prio;
        Ok(())
    });
    ret(r)
}

/// Sets only `thread`'s priority.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_setschedprio.html>.
/// Errors: ESRCH, EINVAL, EPERM.
#[no_mangle]
pub extern "C" fn pthread_setschedprio(thread: pthread_t, prio: c_int) -> c_int {
    ensure_init();
    ret(crate::sched::set_priority(thread as usize, prio))
}

/// Binds `thread` to the CPUs in `cpuset` (GNU). Errors: ESRCH, EINVAL, EFAULT.
///
/// # Safety
/// `cpuset` must be readable for `cpusetsize` bytes.
#[cfg(gnu)]
#[no_mangle]
pub unsafe extern "C" fn pthread_setaffinity_np(thread: pthread_t, cpusetsize: usize, cpuset: *const cpu_set_t) -> c_int {
    ensure_init();
    if cpuset.is_null() {
        return libc::EFAULT;
    }
    // SAFETY: readable for cpusetsize bytes per contract.
    let set = unsafe { core::slice::from_raw_parts(cpuset.cast::<u8>(), cpusetsize) };
    ret(crate::sched::set_affinity(thread as usize, set))
}

/// Reads `thread`'s CPU set (GNU). Errors: ESRCH, EINVAL (set too small for the kernel's
/// mask), EFAULT.
///
/// # Safety
/// `cpuset` must be writable for `cpusetsize` bytes.
#[cfg(gnu)]
#[no_mangle]
pub unsafe extern "C" fn pthread_getaffinity_np(thread: pthread_t, cpusetsize: usize, cpuset: *mut cpu_set_t) -> c_int {
    ensure_init();
    if cpuset.is_null() {
        return libc::EFAULT;
    }
    // SAFETY: writable for cpusetsize bytes per contract.
    let set = unsafe { core::slice::from_raw_parts_mut(cpuset.cast::<u8>(), cpusetsize) };
    ret(crate::sched::get_affinity(thread as usize, set))
}

/// Names `thread` (GNU); visible in /proc/self/task/<tid>/comm. Errors: ERANGE (longer than
/// 15 bytes), ESRCH.
///
/// # Safety
/// `name` must be a NUL-terminated string.
#[cfg(gnu)]
#[no_mangle]
pub unsafe extern "C" fn pthread_setname_np(thread: pthread_t, name: *const c_char) -> c_int {
    ensure_init();
    if name.is_null() {
        return libc::EINVAL;
    }
    // SAFETY: NUL-terminated per contract.
    let bytes = unsafe { core::ffi::CStr::from_ptr(name) }.to_bytes();
    ret(crate::sched::set_name(thread as usize, bytes))
}

/// Reads `thread`'s name (GNU). Errors: ERANGE (`len` < 16), ESRCH.
///
/// # Safety
/// `buf` must be writable for `len` bytes.
#[cfg(gnu)]
#[no_mangle]
pub unsafe extern "C" fn pthread_getname_np(thread: pthread_t, buf: *mut c_char, len: usize) -> c_int {
    ensure_init();
    if buf.is_null() {
        return libc::EINVAL;
    }
    // SAFETY: writable for len bytes per contract.
    let out = unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), len) };
    ret(crate::sched::get_name(thread as usize, out))
}

/// The CPU-time clock of `thread`, for clock_gettime.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_getcpuclockid.html>.
/// Errors: ESRCH.
///
/// # Safety
/// `clock_id` must be writable.
#[cfg(xopen2k)]
#[no_mangle]
pub unsafe extern "C" fn pthread_getcpuclockid(thread: pthread_t, clock_id: *mut clockid_t) -> c_int {
    ensure_init();
    let r = crate::sched::cpu_clock(thread as usize).and_then(|c| {
        // SAFETY: writable per contract.
        *unsafe { nonnull_mut(clock_id) }? = c;
        Ok(())
    });
    ret(r)
}

/// Yields the processor (GNU; same as sched_yield). Always 0.
#[cfg(gnu)]
#[no_mangle]
pub extern "C" fn pthread_yield() -> c_int {
    crate::sys::sched_yield();
    0
}

/// Records a concurrency hint (threads are 1:1 with kernel threads, so it changes nothing).
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_setconcurrency.html>.
/// Errors: EINVAL (negative).
#[cfg(unix98)]
#[no_mangle]
pub extern "C" fn pthread_setconcurrency(level: c_int) -> c_int {
    ret(crate::sched::set_concurrency(level))
}

/// The last value given to pthread_setconcurrency (0 at start).
#[cfg(unix98)]
#[no_mangle]
pub extern "C" fn pthread_getconcurrency() -> c_int {
    crate::sched::concurrency()
}

/// Does nothing, as in glibc: LinuxThreads needed it before exec; NPTL-style threads end with
/// exec on their own.
#[cfg(gnu)]
#[no_mangle]
pub extern "C" fn pthread_kill_other_threads_np() {}
