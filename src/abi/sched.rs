//! Scheduling, affinity, naming and miscellaneous thread exports.

use super::{ensure_init, nonnull_mut, ret};
use crate::errno::Errno;
use crate::thread::attr::Attr;
use libc::{c_char, c_int, clockid_t, cpu_set_t, pthread_attr_t, pthread_t, sched_param};

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
#[cfg(feature = "gnu")]
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
#[cfg(feature = "gnu")]
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

/// Sets the CPU set a thread created with `attr` starts with (GNU); a null set or size 0
/// clears it. The thread applies it before running its start routine; pthread_create fails
/// with the error if it cannot (as glibc).
///
/// # Safety
/// `attr` an attr object; `cpuset` readable for `cpusetsize` bytes.
#[cfg(feature = "gnu")]
#[no_mangle]
pub unsafe extern "C" fn pthread_attr_setaffinity_np(attr: *mut pthread_attr_t, cpusetsize: usize, cpuset: *const cpu_set_t) -> c_int {
    // SAFETY: `attr` and `cpuset` are valid as this function's `# Safety` section requires.
    let r = unsafe { super::attr::attr_mut(attr) }.map(|a| {
        a.ext_mut().cpuset = if cpuset.is_null() || cpusetsize == 0 {
            None
        } else {
            // SAFETY: readable per contract.
            Some(unsafe { core::slice::from_raw_parts(cpuset.cast::<u8>(), cpusetsize) }.to_vec())
        };
    });
    ret(r)
}

/// Reads the CPU set stored in `attr` (GNU): all CPUs if none was set; EINVAL if the stored
/// set has CPUs beyond `cpusetsize`.
///
/// # Safety
/// `attr` an attr object; `cpuset` writable for `cpusetsize` bytes.
#[cfg(feature = "gnu")]
#[no_mangle]
pub unsafe extern "C" fn pthread_attr_getaffinity_np(attr: *const pthread_attr_t, cpusetsize: usize, cpuset: *mut cpu_set_t) -> c_int {
    // SAFETY: `attr` and `cpuset` are valid as this function's `# Safety` section requires.
    let r = unsafe { super::attr::attr_ref(attr) }.and_then(|a: &Attr| {
        if cpuset.is_null() {
            return Err(Errno::EINVAL);
        }
        // SAFETY: writable per contract.
        let out = unsafe { core::slice::from_raw_parts_mut(cpuset.cast::<u8>(), cpusetsize) };
        match a.ext().and_then(|e| e.cpuset.as_ref()) {
            None => out.fill(0xff),
            Some(set) => {
                if set.iter().skip(cpusetsize).any(|&b| b != 0) {
                    return Err(Errno::EINVAL);
                }
                let n = set.len().min(cpusetsize);
                out[..n].copy_from_slice(&set[..n]);
                out[n..].fill(0);
            }
        }
        Ok(())
    });
    ret(r)
}

/// Sets the signal mask a thread created with `attr` starts with (GNU); null clears it (the
/// thread then inherits the creator's mask).
///
/// # Safety
/// `attr` an attr object; `sigmask` null or readable.
#[no_mangle]
pub unsafe extern "C" fn pthread_attr_setsigmask_np(attr: *mut pthread_attr_t, sigmask: *const libc::sigset_t) -> c_int {
    // SAFETY: `attr` and `sigmask` are valid as this function's `# Safety` section requires.
    let r = unsafe { super::attr::attr_mut(attr) }.map(|a| {
        // SAFETY: null or readable per contract; the kernel's set is the first 8 bytes.
        a.ext_mut().sigmask = unsafe { sigmask.cast::<u64>().as_ref() }.copied();
    });
    ret(r)
}

/// Reads the signal mask stored in `attr` (GNU). Returns PTHREAD_ATTR_NO_SIGMASK_NP (-1)
/// and an empty set if none was set.
///
/// # Safety
/// `attr` an attr object; `sigmask` writable.
#[no_mangle]
pub unsafe extern "C" fn pthread_attr_getsigmask_np(attr: *const pthread_attr_t, sigmask: *mut libc::sigset_t) -> c_int {
    // SAFETY: `attr` is valid as this function's `# Safety` section requires.
    let a = match unsafe { super::attr::attr_ref(attr) } {
        Ok(a) => a,
        Err(e) => return e.0,
    };
    if sigmask.is_null() {
        return libc::EINVAL;
    }
    // SAFETY: writable per contract; zeroed sigset_t is the empty set.
    unsafe { sigmask.write(core::mem::zeroed()) };
    match a.ext().and_then(|e| e.sigmask) {
        Some(m) => {
            // SAFETY: as above.
            unsafe { *sigmask.cast::<u64>() = m };
            0
        }
        None => -1,
    }
}

/// Names `thread` (GNU); visible in /proc/self/task/<tid>/comm. Errors: ERANGE (longer than
/// 15 bytes), ESRCH.
///
/// # Safety
/// `name` must be a NUL-terminated string.
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
#[no_mangle]
pub extern "C" fn pthread_yield() -> c_int {
    crate::sys::sched_yield();
    0
}

/// Records a concurrency hint (threads are 1:1 with kernel threads, so it changes nothing).
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_setconcurrency.html>.
/// Errors: EINVAL (negative).
#[no_mangle]
pub extern "C" fn pthread_setconcurrency(level: c_int) -> c_int {
    ret(crate::sched::set_concurrency(level))
}

/// The last value given to pthread_setconcurrency (0 at start).
#[no_mangle]
pub extern "C" fn pthread_getconcurrency() -> c_int {
    crate::sched::concurrency()
}

/// Does nothing, as in glibc: LinuxThreads needed it before exec; NPTL-style threads end with
/// exec on their own.
#[no_mangle]
pub extern "C" fn pthread_kill_other_threads_np() {}
