//! Thread lifecycle exports: create, exit, join, detach, self, equal, getattr_np.

use libc::c_int;
use super::{ensure_init, nonnull_mut, ret};
use crate::errno::{Errno, Result};
use crate::sys::futex::Clock;
use crate::thread::attr::Attr;
use crate::thread::join::{self, Wait};
use crate::thread as th;
use core::ffi::c_void;
use libc::{clockid_t, pthread_attr_t, pthread_t, timespec};

/// Creates a thread running `start_routine(arg)` and stores its id in `*thread`.
/// `attr` may be null (process defaults).
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_create.html>.
/// Errors: EAGAIN (no memory for the thread or the system limit), EINVAL (bad attributes,
/// null `thread` or `start_routine`), EPERM (explicit scheduling not permitted).
///
/// # Safety
/// `thread` must be writable; `attr` null or an attr object.
#[no_mangle]
pub unsafe extern "C" fn pthread_create(
    thread: *mut pthread_t,
    attr: *const pthread_attr_t,
    start_routine: Option<unsafe extern "C" fn(*mut c_void) -> *mut c_void>,
    arg: *mut c_void,
) -> c_int {
    ensure_init();
    let r = (|| -> Result<pthread_t> {
        // SAFETY: `thread` is null or writable (the contract).
        let out = unsafe { nonnull_mut(thread) }?;
        let start = start_routine.ok_or(Errno::EINVAL)?;
        if attr.is_null() {
            // A copy of the process defaults, as glibc makes one (the defaults may change
            // meanwhile).
            let mut a = Attr::defaults();
            let r = th::create::create(&a, start, arg);
            a.drop_ext();
            *out = r? as pthread_t;
        } else {
            // SAFETY: the caller passes an attr object.
            let a = unsafe { super::attr::attr_ref(attr) }?;
            *out = th::create::create(a, start, arg)? as pthread_t;
        }
        Ok(*out)
    })();
    if let Ok(handle) = r {
        crate::diag::after_create(handle);
    }
    ret(r.map(drop))
}

/// Ends the calling thread, making `retval` available to a joiner. Runs cleanup handlers,
/// key destructors and C++ `thread_local` destructors. The last thread to exit ends the
/// process with status 0.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_exit.html>.
#[no_mangle]
pub extern "C" fn pthread_exit(retval: *mut c_void) -> ! {
    ensure_init();
    th::exit::exit_current(retval)
}

/// The calling thread's id (its TCB address, as under glibc).
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_self.html>.
#[no_mangle]
pub extern "C" fn pthread_self() -> pthread_t {
    crate::glibc::tcb::current() as pthread_t
}

/// Non-zero if `t1` and `t2` name the same thread.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_equal.html>.
#[no_mangle]
pub extern "C" fn pthread_equal(t1: pthread_t, t2: pthread_t) -> c_int {
    (t1 == t2) as c_int
}

/// Joins with `thread`: waits for it to end, stores its exit value in `*retval` (if not null)
/// and frees it. A cancellation point.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_join.html>.
/// Errors: ESRCH (no such thread), EINVAL (detached, or already being joined), EDEADLK
/// (joining itself, or a thread that is joining the caller).
///
/// # Safety
/// `retval` must be null or writable.
#[no_mangle]
pub unsafe extern "C" fn pthread_join(thread: pthread_t, retval: *mut *mut c_void) -> c_int {
    // SAFETY: `retval` is valid as this function's `# Safety` section requires.
    unsafe { join_with(thread, retval, Wait::Forever) }
}

/// Like pthread_join but returns EBUSY at once if the thread is still running (GNU).
///
/// # Safety
/// `retval` must be null or writable.
#[cfg(gnu)]
#[no_mangle]
pub unsafe extern "C" fn pthread_tryjoin_np(thread: pthread_t, retval: *mut *mut c_void) -> c_int {
    // SAFETY: `retval` is valid as this function's `# Safety` section requires.
    unsafe { join_with(thread, retval, Wait::Try) }
}

/// Like pthread_join with an absolute CLOCK_REALTIME deadline: ETIMEDOUT when it passes
/// (GNU). A null `abstime` waits forever. As on glibc the deadline only matters while the
/// thread runs: one that has ended is joined whatever `abstime` holds; otherwise a negative
/// `tv_sec` is ETIMEDOUT and a `tv_nsec` outside [0, 1e9) waits until the thread ends.
///
/// # Safety
/// `retval` must be null or writable; `abstime` null or readable.
#[cfg(gnu)]
#[no_mangle]
pub unsafe extern "C" fn pthread_timedjoin_np(
    thread: pthread_t,
    retval: *mut *mut c_void,
    abstime: *const timespec,
) -> c_int {
    // SAFETY: `retval` and `abstime` are valid as this function's `# Safety` section requires.
    unsafe { pthread_clockjoin_np(thread, retval, libc::CLOCK_REALTIME, abstime) }
}

/// Like pthread_timedjoin_np with a choice of clock (CLOCK_REALTIME or CLOCK_MONOTONIC;
/// others are EINVAL) (GNU).
///
/// # Safety
/// `retval` must be null or writable; `abstime` null or readable.
#[cfg(gnu)]
#[no_mangle]
pub unsafe extern "C" fn pthread_clockjoin_np(
    thread: pthread_t,
    retval: *mut *mut c_void,
    clockid: clockid_t,
    abstime: *const timespec,
) -> c_int {
    let clock = match Clock::from_clockid(clockid) {
        Ok(c) => c,
        Err(e) => return e.0,
    };
    // SAFETY: the caller passes null or a readable timespec.
    let how = match unsafe { abstime.as_ref() } {
        None => Wait::Forever,
        Some(ts) => Wait::Until(ts, clock),
    };
    // SAFETY: `retval` is valid as this function's `# Safety` section requires.
    unsafe { join_with(thread, retval, how) }
}

/// # Safety
/// `retval` must be null or writable.
unsafe fn join_with(thread: pthread_t, retval: *mut *mut c_void, how: Wait) -> c_int {
    ensure_init();
    // SAFETY: the export's own contract, forwarded.
    if crate::diag::hooked() { return unsafe { crate::diag::hooks::join(thread, retval, how) }; }
    match join::join(thread as usize, how) {
        Ok(v) => {
            if !retval.is_null() {
                // SAFETY: the caller passes a writable pointer.
                unsafe { *retval = v };
            }
            0
        }
        Err(e) => e.0,
    }
}

/// Marks `thread` detached: its resources are freed when it ends.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_detach.html>.
/// Errors: ESRCH (no such thread), EINVAL (already detached or being joined).
#[no_mangle]
pub extern "C" fn pthread_detach(thread: pthread_t) -> c_int {
    ensure_init();
    let rc = ret(join::detach(thread as usize));
    crate::diag::after_detach(rc, thread);
    rc
}

/// Fills `*attr` (which it initializes) with the attributes of the running `thread`: detach
/// state, stack address and size, guard size, scheduling policy and parameters (GNU). Works for
/// every thread, including the main thread and threads rpthread did not create.
///
/// Errors: ESRCH (no such thread), ENOMEM.
///
/// # Safety
/// `attr` must be writable; the caller destroys it with pthread_attr_destroy.
#[cfg(gnu)]
#[no_mangle]
pub unsafe extern "C" fn pthread_getattr_np(thread: pthread_t, attr: *mut pthread_attr_t) -> c_int {
    ensure_init();
    let r = (|| -> Result<()> {
        if attr.is_null() {
            return Err(Errno::EINVAL);
        }
        let a = th::info::attributes(thread as usize)?;
        // SAFETY: `attr` is writable storage for an attribute object (the contract).
        unsafe { crate::object::init(attr, a) }
    })();
    ret(r)
}

/// Copies the process-wide default attributes (used for `attr == NULL`) into `*attr` (GNU).
///
/// # Safety
/// `attr` must be writable.
#[cfg(gnu)]
#[no_mangle]
pub unsafe extern "C" fn pthread_getattr_default_np(attr: *mut pthread_attr_t) -> c_int {
    // SAFETY: `attr` is null or writable storage for an attribute object (the contract).
    ret(unsafe { crate::object::init(attr, Attr::defaults()) })
}

/// Sets the process-wide default attributes (GNU). EINVAL if `attr` has a stack address, a
/// CPU set, a stack size below PTHREAD_STACK_MIN or invalid scheduling values.
///
/// # Safety
/// `attr` must be an attr object.
#[cfg(gnu)]
#[no_mangle]
pub unsafe extern "C" fn pthread_setattr_default_np(attr: *const pthread_attr_t) -> c_int {
    // SAFETY: `attr` is valid as this function's `# Safety` section requires.
    let r = unsafe { super::attr::attr_ref(attr) }.and_then(Attr::set_defaults);
    ret(r)
}
