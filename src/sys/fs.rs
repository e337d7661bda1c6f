//! Typed wrappers of the file system calls the library makes itself (the diagnostics read
//! /proc and ELF files and write reports with no stdio and no malloc).

use super::raw;
use crate::errno::{from_syscall, Result};
use alloc::vec::Vec;
use core::ffi::CStr;

/// open(2).
pub fn open(path: &CStr, flags: i32, mode: u32) -> Result<i32> {
    // SAFETY: `path` is NUL-terminated; the kernel only reads it.
    from_syscall(unsafe { raw(libc::SYS_open, &[path.as_ptr() as usize, flags as usize, mode as usize]) })
        .map(|fd| fd as i32)
}

/// read(2) into `buf`: the bytes read.
pub fn read(fd: i32, buf: &mut [u8]) -> Result<usize> {
    // SAFETY: the kernel writes at most `buf.len()` bytes of `buf`.
    from_syscall(unsafe { raw(libc::SYS_read, &[fd as usize, buf.as_mut_ptr() as usize, buf.len()]) })
}

/// write(2) of `buf`: the bytes written.
pub fn write(fd: i32, buf: &[u8]) -> Result<usize> {
    // SAFETY: the kernel reads at most `buf.len()` bytes of `buf`.
    from_syscall(unsafe { raw(libc::SYS_write, &[fd as usize, buf.as_ptr() as usize, buf.len()]) })
}

/// close(2); errors are of no use to the callers.
pub fn close(fd: i32) {
    // SAFETY: no pointer arguments.
    unsafe { raw(libc::SYS_close, &[fd as usize]) };
}

/// getdents64(2) into `buf`: the bytes of directory entries read (0 at the end).
pub fn getdents64(fd: i32, buf: &mut [u8]) -> Result<usize> {
    // SAFETY: the kernel writes at most `buf.len()` bytes of `buf`.
    from_syscall(unsafe { raw(libc::SYS_getdents64, &[fd as usize, buf.as_mut_ptr() as usize, buf.len()]) })
}

/// Reads the start of a small file (one read(2), as /proc files are read) into `buf`: the
/// bytes read.
pub fn read_file(path: &CStr, buf: &mut [u8]) -> Result<usize> {
    let fd = open(path, libc::O_RDONLY | libc::O_CLOEXEC, 0)?;
    let r = read(fd, buf);
    close(fd);
    r
}

/// Reads a whole file (a /proc file, whose size stat does not tell) into a new buffer.
pub fn read_all(path: &CStr) -> Result<Vec<u8>> {
    let fd = open(path, libc::O_RDONLY | libc::O_CLOEXEC, 0)?;
    let mut out = Vec::<u8>::with_capacity(4096);
    let r = loop {
        if out.capacity() - out.len() < 1024 {
            out.reserve(out.capacity());
        }
        let len = out.len();
        // SAFETY: the spare capacity is allocated; read writes at most its length, and only
        // the bytes it reports are made part of the vector.
        let spare = unsafe { core::slice::from_raw_parts_mut(out.as_mut_ptr().add(len), out.capacity() - len) };
        match read(fd, spare) {
            Ok(0) => break Ok(out),
            // SAFETY: `n` bytes past `len` were just written by the kernel.
            Ok(n) => unsafe { out.set_len(len + n) },
            Err(crate::errno::Errno::EINTR) => {}
            Err(e) => break Err(e),
        }
    };
    close(fd);
    r
}

/// Maps a whole file read-only and private: its address and length. Files shorter than
/// `min_len` are EINVAL.
pub fn map_file(path: &CStr, min_len: usize) -> Result<(*const u8, usize)> {
    let fd = open(path, libc::O_RDONLY | libc::O_CLOEXEC, 0)?;
    // SAFETY: plain data, filled by the kernel.
    let mut st: libc::stat = unsafe { core::mem::zeroed() };
    // SAFETY: the kernel writes one `struct stat` to `st`.
    let r = from_syscall(unsafe { raw(libc::SYS_fstat, &[fd as usize, &mut st as *mut _ as usize]) }).and_then(|_| {
        let len = st.st_size as usize;
        if len < min_len {
            return Err(crate::errno::Errno::EINVAL);
        }
        // SAFETY: a fresh private read-only mapping of the file; nothing else is touched.
        let a = from_syscall(unsafe {
            raw(libc::SYS_mmap, &[0, len, libc::PROT_READ as usize, libc::MAP_PRIVATE as usize, fd as usize, 0])
        })?;
        Ok((a as *const u8, len))
    });
    close(fd);
    r
}

/// nanosleep(2) for `ts` (an interruption ends it early).
pub fn nanosleep(ts: &libc::timespec) {
    // SAFETY: the kernel reads `ts`; no remainder is asked for.
    unsafe { raw(libc::SYS_nanosleep, &[ts as *const _ as usize, 0]) };
}
