//! The C library's blocking calls as cancellation points. Under LD_PRELOAD these interpose
//! glibc's functions of the same names, so each behaves exactly as glibc's does (return value,
//! errno, EINTR) and is in addition a cancellation point that cannot miss a request: each is
//! its system call through the cancellable window (`crate::cancel::syscall_cp`).
//!
//! Each function's POSIX page: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/NAME.html>;
//! errors are those of the underlying system call, reported through `errno`.

use crate::cancel::syscall_cp;
use core::ffi::{c_char, c_int, c_long, c_uint, c_void};
use libc::{
    clockid_t, iovec, mode_t, msghdr, nfds_t, off_t, pid_t, pollfd, siginfo_t, sigset_t, size_t,
    sockaddr, socklen_t, ssize_t, timespec, timeval,
};

/// Converts a raw kernel return to the C convention: -1 with errno set on failure.
#[inline]
fn errno_ret(r: isize) -> isize {
    if (-4095..0).contains(&r) {
        // SAFETY: the calling thread's errno.
        unsafe { *libc::__errno_location() = -r as c_int };
        -1
    } else {
        r
    }
}

/// A cancellable system call with C return convention.
///
/// # Safety
/// The arguments must be valid for `nr`.
#[inline]
unsafe fn cp(nr: c_long, a: [usize; 6]) -> isize {
    // SAFETY: forwarded.
    errno_ret(unsafe { syscall_cp(nr, a, true) })
}

/// A sigset copy without SIGCANCEL, so that cancellation can reach a thread waiting on it.
fn without_sigcancel(set: *const sigset_t) -> u64 {
    // SAFETY: the caller passes a valid sigset (the kernel reads its first 8 bytes).
    let s = unsafe { *(set as *const u64) };
    s & !(1u64 << (crate::cancel::window::SIGCANCEL - 1))
}

/// read(2).
///
/// # Safety
/// `buf` must be writable for `count` bytes.
#[no_mangle]
pub unsafe extern "C" fn read(fd: c_int, buf: *mut c_void, count: size_t) -> ssize_t {
    // SAFETY: per contract.
    unsafe { cp(libc::SYS_read, [fd as usize, buf as usize, count, 0, 0, 0]) }
}

/// write(2).
///
/// # Safety
/// `buf` must be readable for `count` bytes.
#[no_mangle]
pub unsafe extern "C" fn write(fd: c_int, buf: *const c_void, count: size_t) -> ssize_t {
    // SAFETY: per contract.
    unsafe { cp(libc::SYS_write, [fd as usize, buf as usize, count, 0, 0, 0]) }
}

/// readv(2).
///
/// # Safety
/// `iov` must hold `iovcnt` valid entries.
#[no_mangle]
pub unsafe extern "C" fn readv(fd: c_int, iov: *const iovec, iovcnt: c_int) -> ssize_t {
    // SAFETY: per contract.
    unsafe { cp(libc::SYS_readv, [fd as usize, iov as usize, iovcnt as usize, 0, 0, 0]) }
}

/// writev(2).
///
/// # Safety
/// `iov` must hold `iovcnt` valid entries.
#[no_mangle]
pub unsafe extern "C" fn writev(fd: c_int, iov: *const iovec, iovcnt: c_int) -> ssize_t {
    // SAFETY: per contract.
    unsafe { cp(libc::SYS_writev, [fd as usize, iov as usize, iovcnt as usize, 0, 0, 0]) }
}

/// pread(2).
///
/// # Safety
/// `buf` must be writable for `count` bytes.
#[no_mangle]
pub unsafe extern "C" fn pread(fd: c_int, buf: *mut c_void, count: size_t, offset: off_t) -> ssize_t {
    // SAFETY: per contract.
    unsafe { cp(libc::SYS_pread64, [fd as usize, buf as usize, count, offset as usize, 0, 0]) }
}

/// pread64 (the same call: off_t is 64-bit on x86_64).
///
/// # Safety
/// As for [`pread`].
#[no_mangle]
pub unsafe extern "C" fn pread64(fd: c_int, buf: *mut c_void, count: size_t, offset: off_t) -> ssize_t {
    // SAFETY: forwarded.
    unsafe { pread(fd, buf, count, offset) }
}

/// pwrite(2).
///
/// # Safety
/// `buf` must be readable for `count` bytes.
#[no_mangle]
pub unsafe extern "C" fn pwrite(fd: c_int, buf: *const c_void, count: size_t, offset: off_t) -> ssize_t {
    // SAFETY: per contract.
    unsafe { cp(libc::SYS_pwrite64, [fd as usize, buf as usize, count, offset as usize, 0, 0]) }
}

/// pwrite64 (the same call: off_t is 64-bit on x86_64).
///
/// # Safety
/// As for [`pwrite`].
#[no_mangle]
pub unsafe extern "C" fn pwrite64(fd: c_int, buf: *const c_void, count: size_t, offset: off_t) -> ssize_t {
    // SAFETY: forwarded.
    unsafe { pwrite(fd, buf, count, offset) }
}

/// Whether `flags` make open read a mode argument (glibc's rule).
fn needs_mode(flags: c_int) -> bool {
    flags & libc::O_CREAT != 0 || flags & libc::O_TMPFILE == libc::O_TMPFILE
}

/// open(2). C declares it variadic; on x86_64 a variadic callee finds the third argument in
/// the same register, read only when O_CREAT or O_TMPFILE asks for it.
///
/// # Safety
/// `path` must be a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn open(path: *const c_char, flags: c_int, mode: mode_t) -> c_int {
    let mode = if needs_mode(flags) { mode as usize } else { 0 };
    // SAFETY: per contract.
    unsafe { cp(libc::SYS_openat, [libc::AT_FDCWD as usize, path as usize, flags as usize, mode, 0, 0]) as c_int }
}

/// open64 (the same call on x86_64).
///
/// # Safety
/// As for [`open`].
#[no_mangle]
pub unsafe extern "C" fn open64(path: *const c_char, flags: c_int, mode: mode_t) -> c_int {
    // SAFETY: forwarded.
    unsafe { open(path, flags, mode) }
}

/// openat(2) (variadic in C, as [`open`]).
///
/// # Safety
/// `path` must be a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn openat(dirfd: c_int, path: *const c_char, flags: c_int, mode: mode_t) -> c_int {
    let mode = if needs_mode(flags) { mode as usize } else { 0 };
    // SAFETY: per contract.
    unsafe { cp(libc::SYS_openat, [dirfd as usize, path as usize, flags as usize, mode, 0, 0]) as c_int }
}

/// openat64 (the same call on x86_64).
///
/// # Safety
/// As for [`openat`].
#[no_mangle]
pub unsafe extern "C" fn openat64(dirfd: c_int, path: *const c_char, flags: c_int, mode: mode_t) -> c_int {
    // SAFETY: forwarded.
    unsafe { openat(dirfd, path, flags, mode) }
}

/// close(2). An EINTR from close still closed the descriptor, so it does not act on a request
/// by itself (the next cancellation point does).
#[no_mangle]
pub extern "C" fn close(fd: c_int) -> c_int {
    // SAFETY: close takes an integer.
    errno_ret(unsafe { syscall_cp(libc::SYS_close, [fd as usize, 0, 0, 0, 0, 0], false) }) as c_int
}

/// accept(2).
///
/// # Safety
/// `addr`/`len` null or valid as accept(2) requires.
#[no_mangle]
pub unsafe extern "C" fn accept(fd: c_int, addr: *mut sockaddr, len: *mut socklen_t) -> c_int {
    // SAFETY: per contract.
    unsafe { cp(libc::SYS_accept, [fd as usize, addr as usize, len as usize, 0, 0, 0]) as c_int }
}

/// accept4(2).
///
/// # Safety
/// As for [`accept`].
#[no_mangle]
pub unsafe extern "C" fn accept4(fd: c_int, addr: *mut sockaddr, len: *mut socklen_t, flags: c_int) -> c_int {
    // SAFETY: per contract.
    unsafe { cp(libc::SYS_accept4, [fd as usize, addr as usize, len as usize, flags as usize, 0, 0]) as c_int }
}

/// connect(2).
///
/// # Safety
/// `addr` must be valid for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn connect(fd: c_int, addr: *const sockaddr, len: socklen_t) -> c_int {
    // SAFETY: per contract.
    unsafe { cp(libc::SYS_connect, [fd as usize, addr as usize, len as usize, 0, 0, 0]) as c_int }
}

/// recv(2).
///
/// # Safety
/// `buf` must be writable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn recv(fd: c_int, buf: *mut c_void, len: size_t, flags: c_int) -> ssize_t {
    // SAFETY: per contract.
    unsafe { cp(libc::SYS_recvfrom, [fd as usize, buf as usize, len, flags as usize, 0, 0]) }
}

/// recvfrom(2).
///
/// # Safety
/// As recvfrom(2) requires.
#[no_mangle]
pub unsafe extern "C" fn recvfrom(fd: c_int, buf: *mut c_void, len: size_t, flags: c_int, addr: *mut sockaddr, alen: *mut socklen_t) -> ssize_t {
    // SAFETY: per contract.
    unsafe { cp(libc::SYS_recvfrom, [fd as usize, buf as usize, len, flags as usize, addr as usize, alen as usize]) }
}

/// recvmsg(2).
///
/// # Safety
/// `msg` must be a valid msghdr.
#[no_mangle]
pub unsafe extern "C" fn recvmsg(fd: c_int, msg: *mut msghdr, flags: c_int) -> ssize_t {
    // SAFETY: per contract.
    unsafe { cp(libc::SYS_recvmsg, [fd as usize, msg as usize, flags as usize, 0, 0, 0]) }
}

/// send(2).
///
/// # Safety
/// `buf` must be readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn send(fd: c_int, buf: *const c_void, len: size_t, flags: c_int) -> ssize_t {
    // SAFETY: per contract.
    unsafe { cp(libc::SYS_sendto, [fd as usize, buf as usize, len, flags as usize, 0, 0]) }
}

/// sendto(2).
///
/// # Safety
/// As sendto(2) requires.
#[no_mangle]
pub unsafe extern "C" fn sendto(fd: c_int, buf: *const c_void, len: size_t, flags: c_int, addr: *const sockaddr, alen: socklen_t) -> ssize_t {
    // SAFETY: per contract.
    unsafe { cp(libc::SYS_sendto, [fd as usize, buf as usize, len, flags as usize, addr as usize, alen as usize]) }
}

/// sendmsg(2).
///
/// # Safety
/// `msg` must be a valid msghdr.
#[no_mangle]
pub unsafe extern "C" fn sendmsg(fd: c_int, msg: *const msghdr, flags: c_int) -> ssize_t {
    // SAFETY: per contract.
    unsafe { cp(libc::SYS_sendmsg, [fd as usize, msg as usize, flags as usize, 0, 0, 0]) }
}

/// poll(2).
///
/// # Safety
/// `fds` must hold `nfds` entries.
#[no_mangle]
pub unsafe extern "C" fn poll(fds: *mut pollfd, nfds: nfds_t, timeout: c_int) -> c_int {
    // SAFETY: per contract.
    unsafe { cp(libc::SYS_poll, [fds as usize, nfds as usize, timeout as usize, 0, 0, 0]) as c_int }
}

/// ppoll(2). As glibc, the caller's timeout is not modified.
///
/// # Safety
/// `fds` must hold `nfds` entries; `timeout` and `sigmask` null or valid.
#[no_mangle]
pub unsafe extern "C" fn ppoll(fds: *mut pollfd, nfds: nfds_t, timeout: *const timespec, sigmask: *const sigset_t) -> c_int {
    // SAFETY: per contract.
    let mut t = unsafe { timeout.as_ref() }.copied();
    let tp = t.as_mut().map_or(0, |t| t as *mut timespec as usize);
    let mask = (!sigmask.is_null()).then(|| without_sigcancel(sigmask));
    let mp = mask.as_ref().map_or(0, |m| m as *const u64 as usize);
    // SAFETY: per contract; the copies live across the call.
    unsafe { cp(libc::SYS_ppoll, [fds as usize, nfds as usize, tp, mp, 8, 0]) as c_int }
}

/// select(2). As the kernel (and glibc), `timeout` is updated with the time left.
///
/// # Safety
/// The sets and `timeout` must be null or valid.
#[no_mangle]
pub unsafe extern "C" fn select(nfds: c_int, r: *mut libc::fd_set, w: *mut libc::fd_set, e: *mut libc::fd_set, timeout: *mut timeval) -> c_int {
    // SAFETY: per contract.
    unsafe { cp(libc::SYS_select, [nfds as usize, r as usize, w as usize, e as usize, timeout as usize, 0]) as c_int }
}

/// pselect(2). As glibc, the caller's timeout is not modified.
///
/// # Safety
/// The sets, `timeout` and `sigmask` must be null or valid.
#[no_mangle]
pub unsafe extern "C" fn pselect(nfds: c_int, r: *mut libc::fd_set, w: *mut libc::fd_set, e: *mut libc::fd_set, timeout: *const timespec, sigmask: *const sigset_t) -> c_int {
    // SAFETY: per contract.
    let mut t = unsafe { timeout.as_ref() }.copied();
    let tp = t.as_mut().map_or(0, |t| t as *mut timespec as usize);
    let mask = (!sigmask.is_null()).then(|| without_sigcancel(sigmask));
    // The kernel's sixth argument: { const sigset_t *ss; size_t ss_len; }.
    let data: [usize; 2] = [mask.as_ref().map_or(0, |m| m as *const u64 as usize), 8];
    let dp = if mask.is_some() { data.as_ptr() as usize } else { 0 };
    // SAFETY: per contract; the copies live across the call.
    unsafe { cp(libc::SYS_pselect6, [nfds as usize, r as usize, w as usize, e as usize, tp, dp]) as c_int }
}

/// wait(2).
///
/// # Safety
/// `status` must be null or writable.
#[no_mangle]
pub unsafe extern "C" fn wait(status: *mut c_int) -> pid_t {
    // SAFETY: per contract.
    unsafe { cp(libc::SYS_wait4, [usize::MAX, status as usize, 0, 0, 0, 0]) as pid_t }
}

/// waitpid(2).
///
/// # Safety
/// `status` must be null or writable.
#[no_mangle]
pub unsafe extern "C" fn waitpid(pid: pid_t, status: *mut c_int, options: c_int) -> pid_t {
    // SAFETY: per contract.
    unsafe { cp(libc::SYS_wait4, [pid as isize as usize, status as usize, options as usize, 0, 0, 0]) as pid_t }
}

/// waitid(2).
///
/// # Safety
/// `info` must be writable.
#[no_mangle]
pub unsafe extern "C" fn waitid(idtype: libc::idtype_t, id: libc::id_t, info: *mut siginfo_t, options: c_int) -> c_int {
    // SAFETY: per contract.
    unsafe { cp(libc::SYS_waitid, [idtype as usize, id as usize, info as usize, options as usize, 0, 0]) as c_int }
}

/// sigtimedwait(2). SIGCANCEL is never taken from the set.
///
/// # Safety
/// `set` valid; `info` and `timeout` null or valid.
#[no_mangle]
pub unsafe extern "C" fn sigtimedwait(set: *const sigset_t, info: *mut siginfo_t, timeout: *const timespec) -> c_int {
    let s = without_sigcancel(set);
    // SAFETY: per contract.
    unsafe { cp(libc::SYS_rt_sigtimedwait, [&s as *const u64 as usize, info as usize, timeout as usize, 8, 0, 0]) as c_int }
}

/// sigwaitinfo(2).
///
/// # Safety
/// `set` valid; `info` null or writable.
#[no_mangle]
pub unsafe extern "C" fn sigwaitinfo(set: *const sigset_t, info: *mut siginfo_t) -> c_int {
    // SAFETY: forwarded.
    unsafe { sigtimedwait(set, info, core::ptr::null()) }
}

/// sigwait(3): waits for a signal of `set`, stores it in `*sig`; returns 0 or an error number
/// (not errno). Retries when interrupted by a handler, as glibc.
///
/// # Safety
/// `set` valid; `sig` writable.
#[no_mangle]
pub unsafe extern "C" fn sigwait(set: *const sigset_t, sig: *mut c_int) -> c_int {
    let s = without_sigcancel(set);
    loop {
        // SAFETY: per contract.
        let r = unsafe { syscall_cp(libc::SYS_rt_sigtimedwait, [&s as *const u64 as usize, 0, 0, 8, 0, 0], true) };
        if r == -(libc::EINTR as isize) {
            continue;
        }
        if r < 0 {
            return -r as c_int;
        }
        // SAFETY: per contract.
        unsafe { *sig = r as c_int };
        return 0;
    }
}

/// sigsuspend(2). SIGCANCEL stays deliverable during the wait.
///
/// # Safety
/// `mask` must be valid.
#[no_mangle]
pub unsafe extern "C" fn sigsuspend(mask: *const sigset_t) -> c_int {
    let m = without_sigcancel(mask);
    // SAFETY: the kernel reads 8 bytes of `m`.
    unsafe { cp(libc::SYS_rt_sigsuspend, [&m as *const u64 as usize, 8, 0, 0, 0, 0]) as c_int }
}

/// pause(2).
#[no_mangle]
pub extern "C" fn pause() -> c_int {
    // SAFETY: no arguments.
    unsafe { cp(libc::SYS_pause, [0; 6]) as c_int }
}

/// fsync(2).
#[no_mangle]
pub extern "C" fn fsync(fd: c_int) -> c_int {
    // SAFETY: an integer argument.
    unsafe { cp(libc::SYS_fsync, [fd as usize, 0, 0, 0, 0, 0]) as c_int }
}

/// fdatasync(2).
#[no_mangle]
pub extern "C" fn fdatasync(fd: c_int) -> c_int {
    // SAFETY: an integer argument.
    unsafe { cp(libc::SYS_fdatasync, [fd as usize, 0, 0, 0, 0, 0]) as c_int }
}

/// msgrcv(2).
///
/// # Safety
/// `msgp` must be writable for `size` bytes plus the type word.
#[no_mangle]
pub unsafe extern "C" fn msgrcv(id: c_int, msgp: *mut c_void, size: size_t, typ: c_long, flags: c_int) -> ssize_t {
    // SAFETY: per contract.
    unsafe { cp(libc::SYS_msgrcv, [id as usize, msgp as usize, size, typ as usize, flags as usize, 0]) }
}

/// msgsnd(2).
///
/// # Safety
/// `msgp` must be readable for `size` bytes plus the type word.
#[no_mangle]
pub unsafe extern "C" fn msgsnd(id: c_int, msgp: *const c_void, size: size_t, flags: c_int) -> c_int {
    // SAFETY: per contract.
    unsafe { cp(libc::SYS_msgsnd, [id as usize, msgp as usize, size, flags as usize, 0, 0]) as c_int }
}

/// tcdrain(3): waits until the terminal's output is transmitted (ioctl TCSBRK with 1).
#[no_mangle]
pub extern "C" fn tcdrain(fd: c_int) -> c_int {
    // SAFETY: TCSBRK takes an integer argument.
    unsafe { cp(libc::SYS_ioctl, [fd as usize, libc::TCSBRK as usize, 1, 0, 0, 0]) as c_int }
}

/// nanosleep(2).
///
/// # Safety
/// `req` valid; `rem` null or writable.
#[no_mangle]
pub unsafe extern "C" fn nanosleep(req: *const timespec, rem: *mut timespec) -> c_int {
    // SAFETY: per contract.
    unsafe { cp(libc::SYS_nanosleep, [req as usize, rem as usize, 0, 0, 0, 0]) as c_int }
}

/// clock_nanosleep(2): returns 0 or an error number (not errno). EINVAL for the calling
/// thread's CPU clock, as glibc.
///
/// # Safety
/// `req` valid; `rem` null or writable.
#[no_mangle]
pub unsafe extern "C" fn clock_nanosleep(clock: clockid_t, flags: c_int, req: *const timespec, rem: *mut timespec) -> c_int {
    if clock == libc::CLOCK_THREAD_CPUTIME_ID {
        return libc::EINVAL;
    }
    // SAFETY: per contract.
    let r = unsafe { syscall_cp(libc::SYS_clock_nanosleep, [clock as usize, flags as usize, req as usize, rem as usize, 0, 0], true) };
    if r < 0 {
        -r as c_int
    } else {
        0
    }
}

/// sleep(3): returns 0, or the whole seconds left when a signal handler interrupted the
/// sleep (as glibc: errno is preserved on success).
#[no_mangle]
pub extern "C" fn sleep(seconds: c_uint) -> c_uint {
    let mut ts = timespec { tv_sec: seconds as libc::time_t, tv_nsec: 0 };
    // SAFETY: the calling thread's errno.
    let saved = unsafe { *libc::__errno_location() };
    let p = &mut ts as *mut timespec;
    // SAFETY: `ts` is both the request and the remainder, as glibc passes it.
    if unsafe { nanosleep(p, p) } < 0 {
        return ts.tv_sec as c_uint;
    }
    // SAFETY: as above.
    unsafe { *libc::__errno_location() = saved };
    0
}

/// usleep(3): sleeps `usec` microseconds; -1 with EINTR when interrupted.
#[no_mangle]
pub extern "C" fn usleep(usec: libc::useconds_t) -> c_int {
    let ts = timespec { tv_sec: (usec / 1_000_000) as libc::time_t, tv_nsec: (usec % 1_000_000) as c_long * 1000 };
    // SAFETY: a valid request, no remainder.
    unsafe { nanosleep(&ts, core::ptr::null_mut()) }
}

/// system(3): runs `command` with `/bin/sh -c` and returns its wait status (glibc's
/// behaviour: SIGINT/SIGQUIT ignored and SIGCHLD blocked meanwhile; 127 << 8 if the shell
/// could not run; NULL asks whether a shell exists). A cancellation point: a cancelled
/// caller's child is killed and reaped.
///
/// # Safety
/// `command` must be null or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn system(command: *const c_char) -> c_int {
    // SAFETY: forwarded.
    unsafe { crate::cancel::system::system(command) }
}

extern "C" {
    /// glibc's fortify failure report ("buffer overflow detected"); aborts.
    fn __chk_fail() -> !;
}

/// `__read_chk`: read(2) for programs built with _FORTIFY_SOURCE (glibc's checked variant):
/// aborts through `__chk_fail` if `count` exceeds the buffer's known size `buflen`.
///
/// # Safety
/// As for [`read`].
#[no_mangle]
pub unsafe extern "C" fn __read_chk(fd: c_int, buf: *mut c_void, count: size_t, buflen: size_t) -> ssize_t {
    if count > buflen {
        // SAFETY: glibc's own overflow report.
        unsafe { __chk_fail() }
    }
    // SAFETY: forwarded.
    unsafe { read(fd, buf, count) }
}

/// `__pread_chk`: the _FORTIFY_SOURCE variant of [`pread`].
///
/// # Safety
/// As for [`pread`].
#[no_mangle]
pub unsafe extern "C" fn __pread_chk(fd: c_int, buf: *mut c_void, count: size_t, offset: off_t, buflen: size_t) -> ssize_t {
    if count > buflen {
        // SAFETY: glibc's own overflow report.
        unsafe { __chk_fail() }
    }
    // SAFETY: forwarded.
    unsafe { pread(fd, buf, count, offset) }
}

/// `__pread64_chk`: the _FORTIFY_SOURCE variant of [`pread64`].
///
/// # Safety
/// As for [`pread`].
#[no_mangle]
pub unsafe extern "C" fn __pread64_chk(fd: c_int, buf: *mut c_void, count: size_t, offset: off_t, buflen: size_t) -> ssize_t {
    // SAFETY: forwarded.
    unsafe { __pread_chk(fd, buf, count, offset, buflen) }
}

/// `__recv_chk`: the _FORTIFY_SOURCE variant of [`recv`].
///
/// # Safety
/// As for [`recv`].
#[no_mangle]
pub unsafe extern "C" fn __recv_chk(fd: c_int, buf: *mut c_void, len: size_t, buflen: size_t, flags: c_int) -> ssize_t {
    if len > buflen {
        // SAFETY: glibc's own overflow report.
        unsafe { __chk_fail() }
    }
    // SAFETY: forwarded.
    unsafe { recv(fd, buf, len, flags) }
}

/// `__recvfrom_chk`: the _FORTIFY_SOURCE variant of [`recvfrom`].
///
/// # Safety
/// As for [`recvfrom`].
#[no_mangle]
pub unsafe extern "C" fn __recvfrom_chk(fd: c_int, buf: *mut c_void, len: size_t, buflen: size_t, flags: c_int, addr: *mut sockaddr, alen: *mut socklen_t) -> ssize_t {
    if len > buflen {
        // SAFETY: glibc's own overflow report.
        unsafe { __chk_fail() }
    }
    // SAFETY: forwarded.
    unsafe { recvfrom(fd, buf, len, flags, addr, alen) }
}

/// epoll_wait(2).
///
/// # Safety
/// `events` must be writable for `maxevents` entries.
#[no_mangle]
pub unsafe extern "C" fn epoll_wait(epfd: c_int, events: *mut libc::epoll_event, maxevents: c_int, timeout: c_int) -> c_int {
    // SAFETY: per contract.
    unsafe { cp(libc::SYS_epoll_wait, [epfd as usize, events as usize, maxevents as usize, timeout as usize, 0, 0]) as c_int }
}

/// epoll_pwait(2). SIGCANCEL stays deliverable during the wait.
///
/// # Safety
/// As for [`epoll_wait`]; `sigmask` null or valid.
#[no_mangle]
pub unsafe extern "C" fn epoll_pwait(epfd: c_int, events: *mut libc::epoll_event, maxevents: c_int, timeout: c_int, sigmask: *const sigset_t) -> c_int {
    let mask = (!sigmask.is_null()).then(|| without_sigcancel(sigmask));
    let mp = mask.as_ref().map_or(0, |m| m as *const u64 as usize);
    // SAFETY: per contract; the mask copy lives across the call.
    unsafe { cp(libc::SYS_epoll_pwait, [epfd as usize, events as usize, maxevents as usize, timeout as usize, mp, 8]) as c_int }
}

/// wait3(2).
///
/// # Safety
/// `status` and `rusage` null or writable.
#[no_mangle]
pub unsafe extern "C" fn wait3(status: *mut c_int, options: c_int, rusage: *mut libc::rusage) -> pid_t {
    // SAFETY: per contract.
    unsafe { cp(libc::SYS_wait4, [usize::MAX, status as usize, options as usize, rusage as usize, 0, 0]) as pid_t }
}

/// wait4(2).
///
/// # Safety
/// `status` and `rusage` null or writable.
#[no_mangle]
pub unsafe extern "C" fn wait4(pid: pid_t, status: *mut c_int, options: c_int, rusage: *mut libc::rusage) -> pid_t {
    // SAFETY: per contract.
    unsafe { cp(libc::SYS_wait4, [pid as isize as usize, status as usize, options as usize, rusage as usize, 0, 0]) as pid_t }
}

/// creat(2) = open(path, O_CREAT | O_WRONLY | O_TRUNC, mode).
///
/// # Safety
/// `path` must be a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn creat(path: *const c_char, mode: mode_t) -> c_int {
    // SAFETY: forwarded.
    unsafe { open(path, libc::O_CREAT | libc::O_WRONLY | libc::O_TRUNC, mode) }
}

/// creat64 (the same call on x86_64).
///
/// # Safety
/// As for [`creat`].
#[no_mangle]
pub unsafe extern "C" fn creat64(path: *const c_char, mode: mode_t) -> c_int {
    // SAFETY: forwarded.
    unsafe { creat(path, mode) }
}

/// msync(2).
///
/// # Safety
/// The range must be a mapping of the caller.
#[no_mangle]
pub unsafe extern "C" fn msync(addr: *mut c_void, len: size_t, flags: c_int) -> c_int {
    // SAFETY: per contract.
    unsafe { cp(libc::SYS_msync, [addr as usize, len, flags as usize, 0, 0, 0]) as c_int }
}

/// preadv(2) (the kernel takes the offset as low and high halves).
///
/// # Safety
/// `iov` must hold `iovcnt` valid entries.
#[no_mangle]
pub unsafe extern "C" fn preadv(fd: c_int, iov: *const iovec, iovcnt: c_int, offset: off_t) -> ssize_t {
    let o = offset as u64;
    // SAFETY: per contract.
    unsafe { cp(libc::SYS_preadv, [fd as usize, iov as usize, iovcnt as usize, o as usize, (o >> 32) as usize, 0]) }
}

/// preadv64 (the same call on x86_64).
///
/// # Safety
/// As for [`preadv`].
#[no_mangle]
pub unsafe extern "C" fn preadv64(fd: c_int, iov: *const iovec, iovcnt: c_int, offset: off_t) -> ssize_t {
    // SAFETY: forwarded.
    unsafe { preadv(fd, iov, iovcnt, offset) }
}

/// pwritev(2).
///
/// # Safety
/// `iov` must hold `iovcnt` valid entries.
#[no_mangle]
pub unsafe extern "C" fn pwritev(fd: c_int, iov: *const iovec, iovcnt: c_int, offset: off_t) -> ssize_t {
    let o = offset as u64;
    // SAFETY: per contract.
    unsafe { cp(libc::SYS_pwritev, [fd as usize, iov as usize, iovcnt as usize, o as usize, (o >> 32) as usize, 0]) }
}

/// pwritev64 (the same call on x86_64).
///
/// # Safety
/// As for [`pwritev`].
#[no_mangle]
pub unsafe extern "C" fn pwritev64(fd: c_int, iov: *const iovec, iovcnt: c_int, offset: off_t) -> ssize_t {
    // SAFETY: forwarded.
    unsafe { pwritev(fd, iov, iovcnt, offset) }
}

/// mq_timedsend(3).
///
/// # Safety
/// `msg` readable for `len` bytes; `timeout` null or valid.
#[no_mangle]
pub unsafe extern "C" fn mq_timedsend(mq: libc::mqd_t, msg: *const c_char, len: size_t, prio: c_uint, timeout: *const timespec) -> c_int {
    // SAFETY: per contract.
    unsafe { cp(libc::SYS_mq_timedsend, [mq as usize, msg as usize, len, prio as usize, timeout as usize, 0]) as c_int }
}

/// mq_send(3).
///
/// # Safety
/// `msg` readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn mq_send(mq: libc::mqd_t, msg: *const c_char, len: size_t, prio: c_uint) -> c_int {
    // SAFETY: forwarded.
    unsafe { mq_timedsend(mq, msg, len, prio, core::ptr::null()) }
}

/// mq_timedreceive(3).
///
/// # Safety
/// `msg` writable for `len` bytes; `prio` and `timeout` null or valid.
#[no_mangle]
pub unsafe extern "C" fn mq_timedreceive(mq: libc::mqd_t, msg: *mut c_char, len: size_t, prio: *mut c_uint, timeout: *const timespec) -> ssize_t {
    // SAFETY: per contract.
    unsafe { cp(libc::SYS_mq_timedreceive, [mq as usize, msg as usize, len, prio as usize, timeout as usize, 0]) }
}

/// mq_receive(3).
///
/// # Safety
/// `msg` writable for `len` bytes; `prio` null or writable.
#[no_mangle]
pub unsafe extern "C" fn mq_receive(mq: libc::mqd_t, msg: *mut c_char, len: size_t, prio: *mut c_uint) -> ssize_t {
    // SAFETY: forwarded.
    unsafe { mq_timedreceive(mq, msg, len, prio, core::ptr::null()) }
}

/// fcntl(2). C declares it variadic; on x86_64 the third argument (int or pointer) is read
/// from its register as a machine word. As glibc: F_SETLKW and F_OFD_SETLKW are
/// cancellation points, and F_GETOWN is answered through F_GETOWN_EX so that a process
/// group owner is reported as a negative number.
///
/// # Safety
/// `arg` must be what `cmd` expects.
#[no_mangle]
pub unsafe extern "C" fn fcntl(fd: c_int, cmd: c_int, arg: usize) -> c_int {
    if cmd == libc::F_SETLKW || cmd == libc::F_OFD_SETLKW {
        // SAFETY: per contract.
        return unsafe { cp(libc::SYS_fcntl, [fd as usize, cmd as usize, arg, 0, 0, 0]) as c_int };
    }
    if cmd == libc::F_GETOWN {
        #[repr(C)]
        struct FOwnerEx {
            kind: c_int,
            pid: pid_t,
        }
        const F_GETOWN_EX: usize = 16;
        const F_OWNER_PGRP: c_int = 2;
        let mut ex = FOwnerEx { kind: 0, pid: 0 };
        // SAFETY: F_GETOWN_EX writes an f_owner_ex.
        let r = unsafe { crate::sys::raw(libc::SYS_fcntl, &[fd as usize, F_GETOWN_EX, &mut ex as *mut FOwnerEx as usize]) };
        if r < 0 {
            return errno_ret(r) as c_int;
        }
        return if ex.kind == F_OWNER_PGRP { -ex.pid } else { ex.pid };
    }
    // SAFETY: per contract.
    errno_ret(unsafe { crate::sys::raw(libc::SYS_fcntl, &[fd as usize, cmd as usize, arg]) }) as c_int
}

/// fcntl64 (the same call on x86_64).
///
/// # Safety
/// As for [`fcntl`].
#[no_mangle]
pub unsafe extern "C" fn fcntl64(fd: c_int, cmd: c_int, arg: usize) -> c_int {
    // SAFETY: forwarded.
    unsafe { fcntl(fd, cmd, arg) }
}

/// lockf(3), as glibc builds it on fcntl locks over `[current offset, + len)`: F_LOCK waits
/// (a cancellation point), F_TLOCK/F_ULOCK do not, F_TEST reports EACCES when another
/// process holds a lock. EINVAL for other commands.
#[no_mangle]
pub extern "C" fn lockf(fd: c_int, cmd: c_int, len: off_t) -> c_int {
    let (ltype, fcmd) = match cmd {
        libc::F_TEST => (libc::F_RDLCK, libc::F_GETLK),
        libc::F_ULOCK => (libc::F_UNLCK, libc::F_SETLK),
        libc::F_LOCK => (libc::F_WRLCK, libc::F_SETLKW),
        libc::F_TLOCK => (libc::F_WRLCK, libc::F_SETLK),
        _ => {
            // SAFETY: the calling thread's errno.
            unsafe { *libc::__errno_location() = libc::EINVAL };
            return -1;
        }
    };
    // SAFETY: plain data.
    let mut fl: libc::flock = unsafe { core::mem::zeroed() };
    fl.l_type = ltype as libc::c_short;
    fl.l_whence = libc::SEEK_CUR as libc::c_short;
    fl.l_start = 0;
    fl.l_len = len;
    // SAFETY: fcntl with a valid flock for a lock command.
    let r = unsafe { fcntl(fd, fcmd, &mut fl as *mut libc::flock as usize) };
    if r < 0 || cmd != libc::F_TEST {
        return r;
    }
    if fl.l_type == libc::F_UNLCK as libc::c_short || fl.l_pid == crate::sys::getpid() {
        return 0;
    }
    // SAFETY: the calling thread's errno.
    unsafe { *libc::__errno_location() = libc::EACCES };
    -1
}

/// lockf64 (the same call on x86_64).
#[no_mangle]
pub extern "C" fn lockf64(fd: c_int, cmd: c_int, len: off_t) -> c_int {
    lockf(fd, cmd, len)
}

/// recvmmsg(2).
///
/// # Safety
/// `msgs` must hold `n` valid entries; `timeout` null or valid.
#[no_mangle]
pub unsafe extern "C" fn recvmmsg(fd: c_int, msgs: *mut libc::mmsghdr, n: c_uint, flags: c_int, timeout: *mut timespec) -> c_int {
    // SAFETY: per contract.
    unsafe { cp(libc::SYS_recvmmsg, [fd as usize, msgs as usize, n as usize, flags as usize, timeout as usize, 0]) as c_int }
}

/// sendmmsg(2).
///
/// # Safety
/// `msgs` must hold `n` valid entries.
#[no_mangle]
pub unsafe extern "C" fn sendmmsg(fd: c_int, msgs: *mut libc::mmsghdr, n: c_uint, flags: c_int) -> c_int {
    // SAFETY: per contract.
    unsafe { cp(libc::SYS_sendmmsg, [fd as usize, msgs as usize, n as usize, flags as usize, 0, 0]) as c_int }
}
