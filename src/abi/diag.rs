//! rpthread's own diagnostic API (not POSIX): reports on demand, for programs that want the
//! contention table or a thread dump at a moment of their choosing (see `crate::diag`).

use libc::c_int;

/// Writes the contention table so far (with `RPTHREAD_DIAG=contention`; the other modes
/// report as things happen, and at exit). Returns 0, or ENOTSUP when `RPTHREAD_DIAG` enables
/// no mode. Async-signal-safe: it allocates nothing and uses no stdio.
#[no_mangle]
pub extern "C" fn rpthread_diag_report() -> c_int {
    if !crate::diag::enabled() {
        return libc::ENOTSUP;
    }
    crate::diag::report_now();
    0
}

/// Writes a thread dump now: every thread's name, state, wait, held locks and stack, as on
/// the dump signal. Returns 0, or ENOTSUP when `RPTHREAD_DIAG` enables no mode.
/// Async-signal-safe.
#[no_mangle]
pub extern "C" fn rpthread_diag_dump() -> c_int {
    if !crate::diag::enabled() {
        return libc::ENOTSUP;
    }
    crate::diag::dump::dump_all(false, "rpthread_diag_dump()");
    0
}
