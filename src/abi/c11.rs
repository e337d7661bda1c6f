//! C11 threads exports (`<threads.h>`; glibc's header declares them, so cbindgen skips them).
//! `thrd_t` is a `pthread_t`: C11 threads are rpthread threads.

use alloc::boxed::Box;
use crate::c11::{self, code, Start};
use crate::thread::attr::Attr;
use crate::thread::join::{self, Wait};
use libc::{c_int, c_void, pthread_t, timespec};

/// Starts a thread running `func(arg)`; stores its id in `*thr`.
/// Returns thrd_success, thrd_nomem or thrd_error.
///
/// C11 7.26.5.1.
///
/// # Safety
/// `thr` must be writable.
/// cbindgen:ignore
#[no_mangle]
pub unsafe extern "C" fn thrd_create(thr: *mut pthread_t, func: Option<c11::StartFn>, arg: *mut c_void) -> c_int {
    super::ensure_init();
    let (Some(func), false) = (func, thr.is_null()) else { return c11::ERROR };
    let start = Box::into_raw(Box::new(Start { func, arg }));
    let mut defaults = Attr::defaults();
    let created = crate::thread::create::create(&defaults, c11::trampoline, start.cast());
    defaults.drop_ext();
    match created {
        Ok(h) => {
            // SAFETY: writable per contract.
            unsafe { *thr = h as pthread_t };
            c11::SUCCESS
        }
        Err(e) => {
            // SAFETY: the thread was not created: the box is still ours.
            drop(unsafe { Box::from_raw(start) });
            code(Err(e))
        }
    }
}

/// Waits for `thr` to end and stores its result in `*res` (if not null).
///
/// # Safety
/// `res` null or writable.
/// cbindgen:ignore
#[no_mangle]
pub unsafe extern "C" fn thrd_join(thr: pthread_t, res: *mut c_int) -> c_int {
    super::ensure_init();
    match join::join(thr as usize, Wait::Forever) {
        Ok(v) => {
            if !res.is_null() {
                // SAFETY: writable per contract.
                unsafe { *res = v as isize as c_int };
            }
            c11::SUCCESS
        }
        Err(e) => code(Err(e)),
    }
}

/// Detaches `thr`.
/// cbindgen:ignore
#[no_mangle]
pub extern "C" fn thrd_detach(thr: pthread_t) -> c_int {
    super::ensure_init();
    code(join::detach(thr as usize))
}

/// Ends the calling thread with result `res` (runs the same exit path as pthread_exit).
/// cbindgen:ignore
#[no_mangle]
pub extern "C" fn thrd_exit(res: c_int) -> ! {
    super::ensure_init();
    crate::thread::exit::exit_current(res as isize as *mut c_void)
}

/// The calling thread's id.
/// cbindgen:ignore
#[no_mangle]
pub extern "C" fn thrd_current() -> pthread_t {
    super::thread::pthread_self()
}

/// Non-zero if `a` and `b` are the same thread.
/// cbindgen:ignore
#[no_mangle]
pub extern "C" fn thrd_equal(a: pthread_t, b: pthread_t) -> c_int {
    (a == b) as c_int
}

/// Yields the processor.
/// cbindgen:ignore
#[no_mangle]
pub extern "C" fn thrd_yield() {
    crate::sys::sched_yield();
}

/// Sleeps for `duration` (CLOCK_REALTIME); 0 when done, -1 if interrupted by a signal (the
/// remaining time is stored in `*remaining` if not null), -2 on other errors.
///
/// # Safety
/// `duration` readable; `remaining` null or writable.
/// cbindgen:ignore
#[no_mangle]
pub unsafe extern "C" fn thrd_sleep(duration: *const timespec, remaining: *mut timespec) -> c_int {
    // SAFETY: `duration` is readable and `remaining` null or writable (the contract). A null
    // `duration` is the kernel's EFAULT on glibc: -2 here too.
    let (Some(d), rem) = (unsafe { duration.as_ref() }, unsafe { remaining.as_mut() }) else {
        return -2;
    };
    match crate::sys::clock_nanosleep(libc::CLOCK_REALTIME, d, rem) {
        Ok(()) => 0,
        Err(crate::errno::Errno::EINTR) => -1,
        Err(_) => -2,
    }
}

// Mutexes, condition variables, thread-specific storage and call_once: C11's objects are
// glibc's pthread objects (`mtx_t` is a `pthread_mutex_t`, `cnd_t` a `pthread_cond_t`, `tss_t`
// a key, `once_flag` a `pthread_once_t`), so each function is the POSIX one with C11's
// result codes (glibc's mapping: ENOMEM → thrd_nomem, ETIMEDOUT → thrd_timedout,
// EBUSY → thrd_busy, anything else → thrd_error).

use libc::{pthread_cond_t, pthread_key_t, pthread_mutex_t, pthread_mutexattr_t, pthread_once_t};

/// `mtx_recursive` and `mtx_timed` from `<threads.h>` (`mtx_plain` is 0).
const MTX_RECURSIVE: c_int = 1;
const MTX_TIMED: c_int = 2;

fn thrd(rc: c_int) -> c_int {
    code(if rc == 0 { Ok(()) } else { Err(crate::errno::Errno(rc)) })
}

/// Initializes a C11 mutex: recursive for `mtx_plain | mtx_recursive` and
/// `mtx_timed | mtx_recursive`, plain for any other `ty` (glibc's mapping: an invalid type is
/// a plain mutex, not an error; `mtx_timed` needs nothing more: every mutex can time out).
///
/// # Safety
/// `mtx` must be writable.
/// cbindgen:ignore
#[no_mangle]
pub unsafe extern "C" fn mtx_init(mtx: *mut pthread_mutex_t, ty: c_int) -> c_int {
    // SAFETY: pthread_mutexattr_t is plain data, initialized by pthread_mutexattr_init.
    let mut attr: pthread_mutexattr_t = unsafe { core::mem::zeroed() };
    // SAFETY: our own exports with valid pointers.
    unsafe {
        super::mutex::pthread_mutexattr_init(&mut attr);
        let kind = if ty == MTX_RECURSIVE || ty == MTX_TIMED | MTX_RECURSIVE {
            libc::PTHREAD_MUTEX_RECURSIVE
        } else {
            libc::PTHREAD_MUTEX_NORMAL
        };
        super::mutex::pthread_mutexattr_settype(&mut attr, kind);
        thrd(super::mutex::pthread_mutex_init(mtx, &attr))
    }
}

/// Locks a C11 mutex.
///
/// # Safety
/// `mtx` must be initialized.
/// cbindgen:ignore
#[no_mangle]
pub unsafe extern "C" fn mtx_lock(mtx: *mut pthread_mutex_t) -> c_int {
    // SAFETY: `mtx` is valid as this function's `# Safety` section requires.
    thrd(unsafe { super::mutex::pthread_mutex_lock(mtx) })
}

/// Locks a C11 mutex, giving up at the absolute CLOCK_REALTIME time `ts` (thrd_timedout).
///
/// # Safety
/// `mtx` must be initialized; `ts` readable.
/// cbindgen:ignore
#[no_mangle]
pub unsafe extern "C" fn mtx_timedlock(mtx: *mut pthread_mutex_t, ts: *const timespec) -> c_int {
    // SAFETY: `mtx` and `ts` are valid as this function's `# Safety` section requires.
    thrd(unsafe { super::mutex::pthread_mutex_timedlock(mtx, ts) })
}

/// Tries to lock a C11 mutex: thrd_busy if it is held.
///
/// # Safety
/// `mtx` must be initialized.
/// cbindgen:ignore
#[no_mangle]
pub unsafe extern "C" fn mtx_trylock(mtx: *mut pthread_mutex_t) -> c_int {
    // SAFETY: `mtx` is valid as this function's `# Safety` section requires.
    thrd(unsafe { super::mutex::pthread_mutex_trylock(mtx) })
}

/// Unlocks a C11 mutex.
///
/// # Safety
/// `mtx` must be initialized.
/// cbindgen:ignore
#[no_mangle]
pub unsafe extern "C" fn mtx_unlock(mtx: *mut pthread_mutex_t) -> c_int {
    // SAFETY: `mtx` is valid as this function's `# Safety` section requires.
    thrd(unsafe { super::mutex::pthread_mutex_unlock(mtx) })
}

/// Destroys a C11 mutex.
///
/// # Safety
/// `mtx` must be initialized and unlocked.
/// cbindgen:ignore
#[no_mangle]
pub unsafe extern "C" fn mtx_destroy(mtx: *mut pthread_mutex_t) {
    // SAFETY: forwarded; C11 gives no way to report an error.
    unsafe { super::mutex::pthread_mutex_destroy(mtx) };
}

/// Initializes a C11 condition variable.
///
/// # Safety
/// `cond` must be writable.
/// cbindgen:ignore
#[no_mangle]
pub unsafe extern "C" fn cnd_init(cond: *mut pthread_cond_t) -> c_int {
    // SAFETY: `cond` is valid as this function's `# Safety` section requires.
    thrd(unsafe { super::cond::pthread_cond_init(cond, core::ptr::null()) })
}

/// Wakes one waiter.
///
/// # Safety
/// `cond` must be initialized.
/// cbindgen:ignore
#[no_mangle]
pub unsafe extern "C" fn cnd_signal(cond: *mut pthread_cond_t) -> c_int {
    // SAFETY: `cond` is valid as this function's `# Safety` section requires.
    thrd(unsafe { super::cond::pthread_cond_signal(cond) })
}

/// Wakes every waiter.
///
/// # Safety
/// `cond` must be initialized.
/// cbindgen:ignore
#[no_mangle]
pub unsafe extern "C" fn cnd_broadcast(cond: *mut pthread_cond_t) -> c_int {
    // SAFETY: `cond` is valid as this function's `# Safety` section requires.
    thrd(unsafe { super::cond::pthread_cond_broadcast(cond) })
}

/// Waits on `cond`, releasing `mtx` meanwhile.
///
/// # Safety
/// `cond` initialized; `mtx` initialized and held by the caller.
/// cbindgen:ignore
#[no_mangle]
pub unsafe extern "C" fn cnd_wait(cond: *mut pthread_cond_t, mtx: *mut pthread_mutex_t) -> c_int {
    // SAFETY: `cond` and `mtx` are valid as this function's `# Safety` section requires.
    thrd(unsafe { super::cond::pthread_cond_wait(cond, mtx) })
}

/// Waits on `cond` until the absolute CLOCK_REALTIME time `ts` (thrd_timedout).
///
/// # Safety
/// As [`cnd_wait`]; `ts` readable.
/// cbindgen:ignore
#[no_mangle]
pub unsafe extern "C" fn cnd_timedwait(cond: *mut pthread_cond_t, mtx: *mut pthread_mutex_t, ts: *const timespec) -> c_int {
    // SAFETY: `cond`, `mtx` and `ts` are valid as this function's `# Safety` section requires.
    thrd(unsafe { super::cond::pthread_cond_timedwait(cond, mtx, ts) })
}

/// Destroys a C11 condition variable.
///
/// # Safety
/// `cond` must be initialized with no waiters.
/// cbindgen:ignore
#[no_mangle]
pub unsafe extern "C" fn cnd_destroy(cond: *mut pthread_cond_t) {
    // SAFETY: forwarded; C11 gives no way to report an error.
    unsafe { super::cond::pthread_cond_destroy(cond) };
}

/// Creates a thread-specific storage key with optional destructor.
///
/// # Safety
/// `key` must be writable.
/// cbindgen:ignore
#[no_mangle]
pub unsafe extern "C" fn tss_create(key: *mut pthread_key_t, dtor: Option<unsafe extern "C" fn(*mut c_void)>) -> c_int {
    super::ensure_resolved();
    if key.is_null() {
        return c11::ERROR;
    }
    match crate::tsd::create(dtor) {
        Ok(k) => {
            // SAFETY: writable per contract.
            unsafe { *key = k };
            c11::SUCCESS
        }
        Err(e) => code(Err(e)),
    }
}

/// The calling thread's value for `key` (null if none or if `key` is invalid).
/// cbindgen:ignore
#[no_mangle]
pub extern "C" fn tss_get(key: pthread_key_t) -> *mut c_void {
    crate::tsd::get(key)
}

/// Sets the calling thread's value for `key`.
/// cbindgen:ignore
#[no_mangle]
pub extern "C" fn tss_set(key: pthread_key_t, value: *mut c_void) -> c_int {
    code(crate::tsd::set(key, value))
}

/// Deletes `key` (its destructor is not called).
/// cbindgen:ignore
#[no_mangle]
pub extern "C" fn tss_delete(key: pthread_key_t) {
    super::ensure_resolved();
    let _ = crate::tsd::delete(key);
}

/// Runs `func` exactly once for `flag`, however many threads call it. Naked, like
/// pthread_once, so that an exception thrown by `func` passes through to the caller.
///
/// # Safety
/// `flag` must be a `once_flag` initialized with ONCE_FLAG_INIT.
/// cbindgen:ignore
#[unsafe(naked)]
#[no_mangle]
pub unsafe extern "C" fn call_once(flag: *mut pthread_once_t, func: Option<unsafe extern "C" fn()>) {
    // C11 gives no way to report an error: pthread_once's return value is dropped.
    crate::naked_jump!(super::once::pthread_once)
}
