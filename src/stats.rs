//! `RPTHREAD_STATS=1`: a one-line summary on stderr at exit, to check rpthread is active.

use crate::thread::stats::{CREATED, PEAK, REUSED};
use core::sync::atomic::Ordering;

extern "C" fn report() {
    let line = format!(
        "rpthread: threads created {}, peak concurrent {}, stacks reused {}\n",
        CREATED.load(Ordering::Relaxed),
        PEAK.load(Ordering::Relaxed),
        REUSED.load(Ordering::Relaxed)
    );
    // SAFETY: write(2) of a valid buffer.
    unsafe { libc::write(2, line.as_ptr().cast(), line.len()) };
}

/// Registers the exit report if `RPTHREAD_STATS` is set to a non-empty value other than 0.
pub fn init() {
    match std::env::var_os("RPTHREAD_STATS") {
        Some(v) if !v.is_empty() && v != "0" => {
            // SAFETY: atexit with a static function.
            unsafe { libc::atexit(report) };
        }
        _ => {}
    }
}
