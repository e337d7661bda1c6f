//! system(3) as glibc implements it, with its wait a cancellation point of ours.
//!
//! SIGINT and SIGQUIT are ignored in the caller while any system() runs (a count shared by
//! concurrent calls), SIGCHLD is blocked, and the shell is started with posix_spawn with those
//! signals reset to default and the caller's mask. If the caller is cancelled while waiting,
//! a cleanup handler kills the child (SIGKILL), reaps it and restores SIGINT/SIGQUIT.

use super::cleanup::{self, CleanupBuffer};
use crate::sync::lock::RawLock;
use core::cell::UnsafeCell;
use core::ffi::{c_char, c_int, c_void};
use core::mem::zeroed;
use core::ptr::{null, null_mut};

struct Saved {
    count: usize,
    intr: libc::sigaction,
    quit: libc::sigaction,
}

struct Shared {
    lock: RawLock,
    saved: UnsafeCell<Option<Saved>>,
}
// SAFETY: `saved` is only touched with `lock` held.
unsafe impl Sync for Shared {}

static SHARED: Shared = Shared { lock: RawLock::new(), saved: UnsafeCell::new(None) };

/// Ignores SIGINT/SIGQUIT (first concurrent caller saves the old actions).
fn enter(ignore: &libc::sigaction) {
    SHARED.lock.lock();
    // SAFETY: under the lock.
    let saved = unsafe { &mut *SHARED.saved.get() };
    match saved {
        Some(s) => s.count += 1,
        None => {
            // SAFETY: plain data; sigaction with valid pointers.
            let mut s = Saved { count: 1, intr: unsafe { zeroed() }, quit: unsafe { zeroed() } };
            // SAFETY: valid pointers to sigaction structs.
            unsafe {
                libc::sigaction(libc::SIGINT, ignore, &mut s.intr);
                libc::sigaction(libc::SIGQUIT, ignore, &mut s.quit);
            }
            *saved = Some(s);
        }
    }
    SHARED.lock.unlock();
}

/// Undoes [`enter`]; the last concurrent caller restores the old actions.
fn leave() {
    SHARED.lock.lock();
    // SAFETY: under the lock.
    let saved = unsafe { &mut *SHARED.saved.get() };
    if let Some(s) = saved {
        s.count -= 1;
        if s.count == 0 {
            // SAFETY: restoring the saved actions.
            unsafe {
                libc::sigaction(libc::SIGINT, &s.intr, null_mut());
                libc::sigaction(libc::SIGQUIT, &s.quit, null_mut());
            }
            *saved = None;
        }
    }
    SHARED.lock.unlock();
}

/// Whether the saved action of `sig` was SIG_IGN (then the child keeps ignoring it).
fn was_ignored(sig: c_int) -> bool {
    SHARED.lock.lock();
    // SAFETY: under the lock.
    let r = unsafe { &*SHARED.saved.get() }.as_ref().is_some_and(|s| {
        let a = if sig == libc::SIGINT { &s.intr } else { &s.quit };
        a.sa_sigaction == libc::SIG_IGN
    });
    SHARED.lock.unlock();
    r
}

/// The cleanup handler run if the waiting caller is cancelled: kill and reap the child.
unsafe extern "C" fn on_cancel(arg: *mut c_void) {
    let pid = arg as usize as libc::pid_t;
    // SAFETY: plain system calls (not cancellation points).
    unsafe {
        crate::sys::raw(libc::SYS_kill, &[pid as usize, libc::SIGKILL as usize]);
        while crate::sys::raw(libc::SYS_wait4, &[pid as usize, 0, 0, 0]) == -(libc::EINTR as isize) {}
    }
    leave();
}

/// Runs `/bin/sh -c -- line` and returns its wait status, 127 << 8 if the shell could not be
/// started (errno set), -1 if waiting failed (errno set).
///
/// # Safety
/// `line` must be a NUL-terminated string.
pub unsafe fn run(line: *const c_char) -> c_int {
    // SAFETY: plain data.
    let mut ignore: libc::sigaction = unsafe { zeroed() };
    ignore.sa_sigaction = libc::SIG_IGN;
    // SAFETY: valid sigset.
    unsafe {
        libc::sigemptyset(&mut ignore.sa_mask);
        libc::sigaddset(&mut ignore.sa_mask, libc::SIGCHLD);
    }
    enter(&ignore);
    // SAFETY: plain data.
    let mut omask: libc::sigset_t = unsafe { zeroed() };
    // SAFETY: valid sigsets.
    unsafe { libc::sigprocmask(libc::SIG_BLOCK, &ignore.sa_mask, &mut omask) };

    // SAFETY: plain data, initialized by posix_spawnattr_init.
    let mut attr: libc::posix_spawnattr_t = unsafe { zeroed() };
    // SAFETY: plain data.
    let mut reset: libc::sigset_t = unsafe { zeroed() };
    let mut pid: libc::pid_t = 0;
    let sh = c"/bin/sh";
    let argv: [*const c_char; 5] = [c"sh".as_ptr(), c"-c".as_ptr(), c"--".as_ptr(), line, null()];
    // SAFETY: valid objects throughout; `environ` is the process environment.
    let ret = unsafe {
        libc::sigemptyset(&mut reset);
        if !was_ignored(libc::SIGINT) {
            libc::sigaddset(&mut reset, libc::SIGINT);
        }
        if !was_ignored(libc::SIGQUIT) {
            libc::sigaddset(&mut reset, libc::SIGQUIT);
        }
        libc::posix_spawnattr_init(&mut attr);
        libc::posix_spawnattr_setsigmask(&mut attr, &omask);
        libc::posix_spawnattr_setsigdefault(&mut attr, &reset);
        libc::posix_spawnattr_setflags(&mut attr, (libc::POSIX_SPAWN_SETSIGDEF | libc::POSIX_SPAWN_SETSIGMASK) as _);
        extern "C" {
            static environ: *const *mut c_char;
        }
        let r = libc::posix_spawn(&mut pid, sh.as_ptr(), null(), &attr, argv.as_ptr() as *const *mut c_char, environ);
        libc::posix_spawnattr_destroy(&mut attr);
        r
    };
    let mut status: c_int = 0;
    let mut err = 0;
    if ret == 0 {
        // SAFETY: plain data; the buffer lives in this frame until popped below, and the
        // forced unwind of a cancellation runs it when it passes this frame.
        let mut buf: CleanupBuffer = unsafe { zeroed() };
        // SAFETY: as above.
        unsafe { cleanup::push(&mut buf, Some(on_cancel), pid as usize as *mut c_void) };
        loop {
            // SAFETY: wait4 on our child with a valid status pointer; a cancellation point.
            let r = unsafe {
                super::syscall_cp(libc::SYS_wait4, [pid as usize, &mut status as *mut c_int as usize, 0, 0, 0, 0], true)
            };
            if r == -(libc::EINTR as isize) {
                continue;
            }
            if r != pid as isize {
                status = -1;
                err = -r as c_int;
            }
            break;
        }
        // SAFETY: the buffer pushed above.
        unsafe { cleanup::pop(&mut buf, false) };
    } else {
        status = 127 << 8;
        err = ret;
    }
    leave();
    // SAFETY: restores the caller's mask.
    unsafe { libc::sigprocmask(libc::SIG_SETMASK, &omask, null_mut()) };
    if err != 0 {
        // SAFETY: the calling thread's errno.
        unsafe { *libc::__errno_location() = err };
    }
    status
}

/// system(3): NULL asks whether a shell is available (non-zero if so).
///
/// # Safety
/// `line` must be null or a NUL-terminated string.
pub unsafe fn system(line: *const c_char) -> c_int {
    if line.is_null() {
        // SAFETY: a static command.
        return (unsafe { run(c"exit 0".as_ptr()) } == 0) as c_int;
    }
    // SAFETY: per contract.
    unsafe { run(line) }
}

/// Holds the lock across fork(), so a child never inherits it held by a thread that does not
/// exist there (its own system() would wait forever).
pub fn lock_for_fork() {
    SHARED.lock.lock();
}

/// Releases the lock taken by [`lock_for_fork`] (parent and child).
pub fn unlock_after_fork() {
    SHARED.lock.unlock();
}
