//! pthread_attr_* exports: the attributes object of pthread_create.
//!
//! POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_attr_init.html>
//! and its sibling pages. As glibc's, they take any attr object as it is (a zeroed,
//! never-initialized or destroyed one too: see `thread::attr::Attr`); only a null one is
//! EINVAL (glibc would crash).

use crate::object::{init, obj, obj_mut};
use super::{nonnull_mut, ret};
use crate::errno::{Errno, Result};
use crate::thread::attr::{validate_sched, Attr, STACK_MIN};
use libc::{c_int, cpu_set_t, pthread_attr_t, sched_param};

/// The attr object behind a C pointer (EINVAL if null).
///
/// # Safety
/// `p` must be null or point to a `pthread_attr_t`.
pub(super) unsafe fn attr_ref<'a>(p: *const pthread_attr_t) -> Result<&'a Attr> {
    // SAFETY: the pointer is null or a live object (the contract above); abi::object checks
    // that our type fits the C type.
    // Every bit pattern of Attr's plain fields is valid; its extension pointer is the
    // caller's business, as on glibc.
    unsafe { obj(p) }
}

/// # Safety
/// As [`attr_ref`], with exclusive access.
pub(super) unsafe fn attr_mut<'a>(p: *mut pthread_attr_t) -> Result<&'a mut Attr> {
    // SAFETY: the pointer is null or a live object (the contract above); abi::object checks
    // that our type fits the C type.
    unsafe { obj_mut(p) }
}

/// Runs a setter on an attr object.
///
/// # Safety
/// `p` must be null or point to a `pthread_attr_t` nobody else accesses.
unsafe fn set(p: *mut pthread_attr_t, f: impl FnOnce(&mut Attr) -> Result<()>) -> c_int {
    // SAFETY: `p` is valid as this function's `# Safety` section requires.
    ret(unsafe { attr_mut(p) }.and_then(f))
}

/// Runs a getter on an attr object, storing into a non-null `out`.
///
/// # Safety
/// `p` as in [`set`]; `out` null or writable.
unsafe fn get<T>(p: *const pthread_attr_t, out: *mut T, f: impl FnOnce(&Attr) -> T) -> c_int {
    // SAFETY: `p` and `out` are valid as this function's `# Safety` section requires.
    let r = unsafe { attr_ref(p) }.and_then(|a| {
        // SAFETY: `out` is null or writable (the contract).
        *unsafe { nonnull_mut(out) }? = f(a);
        Ok(())
    });
    ret(r)
}

/// Initializes an attr object with the defaults: joinable, inherited scheduling, system
/// scope, default stack size, one page of guard.
///
/// # Safety
/// `attr` must be writable.
#[no_mangle]
pub unsafe extern "C" fn pthread_attr_init(attr: *mut pthread_attr_t) -> c_int {
    // SAFETY: `attr` is null or writable (the contract).
    if let Err(e) = unsafe { init(attr, Attr::initial()) } {
        return e.0;
    }
    0
}

/// Destroys an attr object: frees its extension (CPU set, signal mask). As on glibc the
/// other attributes stay, so using it again (or destroying it again) is not an error.
///
/// # Safety
/// `attr` must be an attr object whose extension pointer is null or its own.
#[no_mangle]
pub unsafe extern "C" fn pthread_attr_destroy(attr: *mut pthread_attr_t) -> c_int {
    // SAFETY: `attr` is valid as this function's `# Safety` section requires.
    unsafe {
        set(attr, |a| {
            a.drop_ext();
            Ok(())
        })
    }
}

/// PTHREAD_CREATE_JOINABLE (0) or PTHREAD_CREATE_DETACHED (1); anything else is EINVAL.
///
/// # Safety
/// `attr` must be an attr object.
#[no_mangle]
pub unsafe extern "C" fn pthread_attr_setdetachstate(attr: *mut pthread_attr_t, state: c_int) -> c_int {
    // SAFETY: `attr` is valid as this function's `# Safety` section requires.
    unsafe {
        set(attr, |a| match state {
            0 | 1 => {
                a.detached = state as u8;
                Ok(())
            }
            _ => Err(Errno::EINVAL),
        })
    }
}

/// Reads the detach state.
///
/// # Safety
/// `attr` an attr object; `state` writable.
#[no_mangle]
pub unsafe extern "C" fn pthread_attr_getdetachstate(attr: *const pthread_attr_t, state: *mut c_int) -> c_int {
    // SAFETY: `attr` and `state` are valid as this function's `# Safety` section requires.
    unsafe { get(attr, state, |a| a.is_detached() as c_int) }
}

/// Sets the stack size: EINVAL below PTHREAD_STACK_MIN (16384).
///
/// # Safety
/// `attr` must be an attr object.
#[no_mangle]
pub unsafe extern "C" fn pthread_attr_setstacksize(attr: *mut pthread_attr_t, size: usize) -> c_int {
    // SAFETY: `attr` is valid as this function's `# Safety` section requires.
    unsafe {
        set(attr, |a| {
            if size < STACK_MIN {
                return Err(Errno::EINVAL);
            }
            a.stack_size = size;
            Ok(())
        })
    }
}

/// Reads the stack size (the process default if none was set).
///
/// # Safety
/// `attr` an attr object; `size` writable.
#[no_mangle]
pub unsafe extern "C" fn pthread_attr_getstacksize(attr: *const pthread_attr_t, size: *mut usize) -> c_int {
    // SAFETY: `attr` and `size` are valid as this function's `# Safety` section requires.
    unsafe { get(attr, size, Attr::effective_stack_size) }
}

/// Uses the caller's memory `[addr, addr + size)` as the stack: EINVAL if `size` is below
/// PTHREAD_STACK_MIN (nothing else is checked here, as on glibc: a range that wraps makes
/// pthread_create fail with EINVAL). The thread's TCB and TLS are placed at its top, as
/// glibc does.
///
/// # Safety
/// `attr` must be an attr object.
#[cfg(xopen2k)]
#[no_mangle]
pub unsafe extern "C" fn pthread_attr_setstack(attr: *mut pthread_attr_t, addr: *mut libc::c_void, size: usize) -> c_int {
    // SAFETY: `attr` is valid as this function's `# Safety` section requires.
    unsafe {
        set(attr, |a| {
            if size < STACK_MIN {
                return Err(Errno::EINVAL);
            }
            a.stack_size = size;
            a.set_stack_top((addr as usize).wrapping_add(size));
            Ok(())
        })
    }
}

/// Reads the stack: lowest address and size, as glibc computes them from what was set (the
/// stack top minus the stack size; both 0 if never set: no default is filled in here).
///
/// # Safety
/// `attr` an attr object; `addr` and `size` writable.
#[cfg(xopen2k)]
#[no_mangle]
pub unsafe extern "C" fn pthread_attr_getstack(
    attr: *const pthread_attr_t,
    addr: *mut *mut libc::c_void,
    size: *mut usize,
) -> c_int {
    // SAFETY: `attr`, `addr` and `size` are valid as this function's `# Safety` section requires.
    let r = unsafe { attr_ref(attr) }.and_then(|a| {
        // SAFETY: `addr` and `size` are null or writable (the contract).
        *unsafe { nonnull_mut(addr) }? = a.stack_top.wrapping_sub(a.stack_size) as *mut libc::c_void;
        // SAFETY: as above.
        *unsafe { nonnull_mut(size) }? = a.stack_size;
        Ok(())
    });
    ret(r)
}

/// Obsolete form of setstack: `addr` is the stack's top (stacks grow down), as in glibc; the
/// size is the attr's stack size.
///
/// # Safety
/// `attr` must be an attr object.
#[no_mangle]
pub unsafe extern "C" fn pthread_attr_setstackaddr(attr: *mut pthread_attr_t, addr: *mut libc::c_void) -> c_int {
    // SAFETY: `attr` and `addr` are valid as this function's `# Safety` section requires.
    unsafe {
        set(attr, |a| {
            a.set_stack_top(addr as usize);
            Ok(())
        })
    }
}

/// Reads the stack address set with setstackaddr (the top), or null.
///
/// # Safety
/// `attr` an attr object; `addr` writable.
#[no_mangle]
pub unsafe extern "C" fn pthread_attr_getstackaddr(attr: *const pthread_attr_t, addr: *mut *mut libc::c_void) -> c_int {
    // SAFETY: `attr` and `addr` are valid as this function's `# Safety` section requires.
    unsafe { get(attr, addr, |a| a.stack_top as *mut libc::c_void) }
}

/// Sets the guard size (rounded up to whole pages when the thread is created; ignored for
/// caller-supplied stacks).
///
/// # Safety
/// `attr` must be an attr object.
#[no_mangle]
pub unsafe extern "C" fn pthread_attr_setguardsize(attr: *mut pthread_attr_t, size: usize) -> c_int {
    // SAFETY: `attr` is valid as this function's `# Safety` section requires.
    unsafe {
        set(attr, |a| {
            a.guard_size = size;
            Ok(())
        })
    }
}

/// Reads the guard size.
///
/// # Safety
/// `attr` an attr object; `size` writable.
#[no_mangle]
pub unsafe extern "C" fn pthread_attr_getguardsize(attr: *const pthread_attr_t, size: *mut usize) -> c_int {
    // SAFETY: `attr` and `size` are valid as this function's `# Safety` section requires.
    unsafe { get(attr, size, |a| a.guard_size) }
}

/// PTHREAD_SCOPE_SYSTEM is the only scope Linux has: PTHREAD_SCOPE_PROCESS is ENOTSUP,
/// anything else EINVAL.
///
/// # Safety
/// `attr` must be an attr object.
#[no_mangle]
pub unsafe extern "C" fn pthread_attr_setscope(attr: *mut pthread_attr_t, scope: c_int) -> c_int {
    // SAFETY: `attr` is valid as this function's `# Safety` section requires.
    unsafe {
        set(attr, |_| match scope {
            0 => Ok(()),
            1 => Err(Errno::ENOTSUP),
            _ => Err(Errno::EINVAL),
        })
    }
}

/// Always PTHREAD_SCOPE_SYSTEM.
///
/// # Safety
/// `attr` an attr object; `scope` writable.
#[no_mangle]
pub unsafe extern "C" fn pthread_attr_getscope(attr: *const pthread_attr_t, scope: *mut c_int) -> c_int {
    // SAFETY: `attr` and `scope` are valid as this function's `# Safety` section requires.
    unsafe { get(attr, scope, |_| 0) }
}

/// PTHREAD_INHERIT_SCHED (0) or PTHREAD_EXPLICIT_SCHED (1); anything else is EINVAL.
///
/// # Safety
/// `attr` must be an attr object.
#[no_mangle]
pub unsafe extern "C" fn pthread_attr_setinheritsched(attr: *mut pthread_attr_t, inherit: c_int) -> c_int {
    // SAFETY: `attr` is valid as this function's `# Safety` section requires.
    unsafe {
        set(attr, |a| match inherit {
            0 | 1 => {
                a.explicit_sched = inherit as u8;
                Ok(())
            }
            _ => Err(Errno::EINVAL),
        })
    }
}

/// Reads the inherit-scheduler attribute.
///
/// # Safety
/// `attr` an attr object; `inherit` writable.
#[no_mangle]
pub unsafe extern "C" fn pthread_attr_getinheritsched(attr: *const pthread_attr_t, inherit: *mut c_int) -> c_int {
    // SAFETY: `attr` and `inherit` are valid as this function's `# Safety` section requires.
    unsafe { get(attr, inherit, |a| a.is_explicit_sched() as c_int) }
}

/// SCHED_OTHER, SCHED_FIFO or SCHED_RR; anything else is EINVAL. Takes effect only with
/// PTHREAD_EXPLICIT_SCHED.
///
/// # Safety
/// `attr` must be an attr object.
#[no_mangle]
pub unsafe extern "C" fn pthread_attr_setschedpolicy(attr: *mut pthread_attr_t, policy: c_int) -> c_int {
    // SAFETY: `attr` is valid as this function's `# Safety` section requires.
    unsafe {
        set(attr, |a| {
            if ![libc::SCHED_OTHER, libc::SCHED_FIFO, libc::SCHED_RR].contains(&policy) {
                return Err(Errno::EINVAL);
            }
            a.policy = policy;
            Ok(())
        })
    }
}

/// Reads the scheduling policy.
///
/// # Safety
/// `attr` an attr object; `policy` writable.
#[no_mangle]
pub unsafe extern "C" fn pthread_attr_getschedpolicy(attr: *const pthread_attr_t, policy: *mut c_int) -> c_int {
    // SAFETY: `attr` and `policy` are valid as this function's `# Safety` section requires.
    unsafe { get(attr, policy, |a| a.policy) }
}

/// Sets the priority: EINVAL if outside the range of the attr's policy.
///
/// # Safety
/// `attr` an attr object; `param` readable.
#[no_mangle]
pub unsafe extern "C" fn pthread_attr_setschedparam(attr: *mut pthread_attr_t, param: *const sched_param) -> c_int {
    // SAFETY: `attr` and `param` are valid as this function's `# Safety` section requires.
    unsafe {
        set(attr, |a| {
            let p = param.as_ref().ok_or(Errno::EINVAL)?;
            validate_sched(a.policy, p.sched_priority)?;
            a.priority = p.sched_priority;
            Ok(())
        })
    }
}

/// Reads the priority.
///
/// # Safety
/// `attr` an attr object; `param` writable.
#[no_mangle]
pub unsafe extern "C" fn pthread_attr_getschedparam(attr: *const pthread_attr_t, param: *mut sched_param) -> c_int {
    // SAFETY: `attr` and `param` are valid as this function's `# Safety` section requires.
    unsafe { get(attr, param, |a| sched_param { sched_priority: a.priority }) }
}

// ---- GNU extensions: the new thread's CPU set and signal mask ---------------------------

/// Sets the CPU set a thread created with `attr` starts with (GNU); a null set or size 0
/// clears it. The thread applies it before running its start routine; pthread_create fails
/// with the error if it cannot (as glibc).
///
/// # Safety
/// `attr` an attr object; `cpuset` readable for `cpusetsize` bytes.
#[cfg(gnu)]
#[no_mangle]
pub unsafe extern "C" fn pthread_attr_setaffinity_np(attr: *mut pthread_attr_t, cpusetsize: usize, cpuset: *const cpu_set_t) -> c_int {
    // SAFETY: `attr` and `cpuset` are valid as this function's `# Safety` section requires.
    let r = unsafe { attr_mut(attr) }.map(|a| {
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
#[cfg(gnu)]
#[no_mangle]
pub unsafe extern "C" fn pthread_attr_getaffinity_np(attr: *const pthread_attr_t, cpusetsize: usize, cpuset: *mut cpu_set_t) -> c_int {
    // SAFETY: `attr` and `cpuset` are valid as this function's `# Safety` section requires.
    let r = unsafe { attr_ref(attr) }.and_then(|a: &Attr| {
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
#[cfg(gnu)]
#[no_mangle]
pub unsafe extern "C" fn pthread_attr_setsigmask_np(attr: *mut pthread_attr_t, sigmask: *const libc::sigset_t) -> c_int {
    // SAFETY: `attr` and `sigmask` are valid as this function's `# Safety` section requires.
    let r = unsafe { attr_mut(attr) }.map(|a| {
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
#[cfg(gnu)]
#[no_mangle]
pub unsafe extern "C" fn pthread_attr_getsigmask_np(attr: *const pthread_attr_t, sigmask: *mut libc::sigset_t) -> c_int {
    // SAFETY: `attr` is valid as this function's `# Safety` section requires.
    let a = match unsafe { attr_ref(attr) } {
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
