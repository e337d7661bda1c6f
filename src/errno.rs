//! The error type every domain module returns: a POSIX error number.
//!
//! Exported functions return `0` or the number itself (pthread style) or set `errno` and
//! return `-1` (sem_* style); domain code never touches `errno` and never returns a bare int.
//! The C `errno` itself is read and written here only ([`last`], [`set`]).

/// A POSIX error number (`EINVAL`, `EBUSY`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Errno(pub i32);

macro_rules! errnos {
    ($($name:ident),*) => {
        impl Errno {
            $(
                #[doc = concat!("`", stringify!($name), "`")]
                pub const $name: Errno = Errno(libc::$name);
            )*
        }
    };
}
errnos!(
    EPERM, ESRCH, EINTR, EAGAIN, ENOMEM, EBUSY, EINVAL, EDEADLK, ETIMEDOUT, ENOTSUP, EOWNERDEAD,
    ENOTRECOVERABLE, EOVERFLOW, ENOSYS, EFAULT, ENOENT, EEXIST, ENAMETOOLONG, ERANGE, ECANCELED
);

/// Results of domain operations.
pub type Result<T> = core::result::Result<T, Errno>;

/// Converts a domain result into the pthread convention: 0 or the error number.
#[inline]
pub fn code(r: Result<()>) -> i32 {
    match r {
        Ok(()) => 0,
        Err(e) => e.0,
    }
}

/// The calling thread's C `errno` (async-signal-safe: one load through %fs).
#[inline]
pub fn last() -> Errno {
    // SAFETY: __errno_location returns the calling thread's errno slot, live as long as the
    // thread.
    Errno(unsafe { *libc::__errno_location() })
}

/// Sets the calling thread's C `errno` (async-signal-safe).
#[inline]
pub fn set(e: Errno) {
    // SAFETY: as in `last`.
    unsafe { *libc::__errno_location() = e.0 };
}

/// Converts a raw syscall return (negative errno on failure) into a `Result`.
#[inline]
pub fn from_syscall(ret: isize) -> Result<usize> {
    if (-4095..0).contains(&ret) {
        Err(Errno(-ret as i32))
    } else {
        Ok(ret as usize)
    }
}
