//! `RPTHREAD_STATS=1`: a one-line summary on stderr at exit, to check rpthread is active.
//!
//! `RPTHREAD_STATS=/abs/path` appends the line, prefixed with the process id, to that file
//! instead: for programs that close stderr before exiting (xz, GNU sort) or whose test suites
//! check that a child process wrote nothing on stderr (CPython's). Every process that inherits
//! the variable (forked or executed children) appends its own line.

use crate::thread::stats::{CREATED, PEAK, REUSED};
use core::sync::atomic::Ordering;
use crate::rt::SetOnce;
use alloc::ffi::CString;
use alloc::format;

/// The file named by `RPTHREAD_STATS` when it is a path; `None` means stderr.
static PATH: SetOnce<Option<CString>> = SetOnce::new();

extern "C" fn report() {
    let counts = format!(
        "rpthread: threads created {}, peak concurrent {}, stacks reused {}\n",
        CREATED.load(Ordering::Relaxed),
        PEAK.load(Ordering::Relaxed),
        REUSED.load(Ordering::Relaxed)
    );
    match PATH.get() {
        Some(Some(path)) => {
            // SAFETY: getpid has no preconditions.
            let line = format!("pid {}: {}", unsafe { libc::getpid() }, counts);
            let flags = libc::O_WRONLY | libc::O_APPEND | libc::O_CREAT | libc::O_CLOEXEC;
            // SAFETY: `path` is a NUL-terminated string; the flags and mode are valid.
            let fd = unsafe { libc::open(path.as_ptr(), flags, 0o644) };
            if fd >= 0 {
                // SAFETY: write(2) of a valid buffer to the descriptor we opened; O_APPEND
                // writes of one short line are not interleaved with other processes' lines.
                unsafe {
                    libc::write(fd, line.as_ptr().cast(), line.len());
                    libc::close(fd);
                }
            }
        }
        // SAFETY: write(2) of a valid buffer.
        _ => unsafe {
            libc::write(2, counts.as_ptr().cast(), counts.len());
        },
    }
}

/// Registers the exit report if `RPTHREAD_STATS` is set to a non-empty value other than 0.
/// Called once, by the library's constructor.
pub fn init() {
    match crate::rt::getenv(c"RPTHREAD_STATS") {
        Some(bytes) if !bytes.is_empty() && bytes != b"0" => {
            let path = if bytes.starts_with(b"/") { CString::new(bytes).ok() } else { None };
            // SAFETY: called once, from the library's constructor.
            let _ = unsafe { PATH.set(path) };
            // SAFETY: atexit with a static function.
            unsafe { libc::atexit(report) };
        }
        _ => {}
    }
}
