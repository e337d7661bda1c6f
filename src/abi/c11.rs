//! C11 threads exports (`<threads.h>`; glibc's header declares them, so cbindgen skips them).
//! `thrd_t` is a `pthread_t`: C11 threads are rpthread threads.

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
    match crate::thread::create::create(&Attr::defaults(), c11::trampoline, start.cast()) {
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
    // SAFETY: the kernel reads `duration` and writes `remaining` (null allowed).
    let r = unsafe {
        crate::sys::raw(
            libc::SYS_clock_nanosleep,
            &[libc::CLOCK_REALTIME as usize, 0, duration as usize, remaining as usize],
        )
    };
    match r {
        0 => 0,
        r if r == -(libc::EINTR as isize) => -1,
        _ => -2,
    }
}
