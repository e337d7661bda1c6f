//! pthread_join with diagnostics.

use super::*;

/// pthread_join and its timed and try variants with diagnostics: the wait is announced (a
/// join can be part of a deadlock), and a successful join forgets the thread for the
/// never-joined check.
///
/// # Safety
/// `retval` null or writable.
#[inline(never)]
pub unsafe fn join(handle: libc::pthread_t, retval: *mut *mut c_void, how: crate::thread::join::Wait) -> c_int {
    use crate::thread::join::{self as j, Wait};
    let r = match (thread::current(), how) {
        (Some(rec), Wait::Forever) => {
            let tid = crate::thread::with_target(handle as usize, |t| t.tid()).unwrap_or(0);
            rec.begin_wait(wait::JOIN, handle as usize, 0, tid, now());
            let mut out = core::ptr::null_mut();
            let mut block = |d: Deadline| {
                let how = match d {
                    None => Wait::Forever,
                    Some((ts, c)) => Wait::Until(ts, c),
                };
                j::join(handle as usize, how).map(|v| out = v)
            };
            let r = wait_blocked(rec, None, &mut block).map(|()| out);
            rec.end_wait();
            r
        }
        _ => j::join(handle as usize, how),
    };
    match r {
        Ok(v) => {
            misuse::forget_joinable(handle as usize);
            if !retval.is_null() {
                // SAFETY: the caller passes a writable pointer.
                unsafe { *retval = v };
            }
            0
        }
        Err(e) => e.0,
    }
}
