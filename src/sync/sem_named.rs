//! Named semaphores: `sem_open`, `sem_close`, `sem_unlink`, as glibc lays them out.
//!
//! The semaphore `/name` is the file `/dev/shm/sem.name`, 32 bytes holding a process-shared
//! [`Semaphore`], mapped `MAP_SHARED`. A new one is written to a temporary file first and then
//! `link`ed to its name, so no process ever maps a half-initialized semaphore and `O_EXCL`
//! is decided atomically by the file system. A process-wide table keyed by the file's
//! device and inode makes a second `sem_open` of the same semaphore return the same address;
//! `sem_close` counts down and unmaps at zero.

use super::lock::Locked;
use super::sem::{Semaphore, VALUE_MAX};
use super::model::Scope;
use crate::errno::{Errno, Result};
use core::ffi::CStr;
use core::sync::atomic::{AtomicU32, Ordering};

/// One mapped named semaphore.
struct Mapping {
    dev: u64,
    ino: u64,
    addr: usize,
    refs: usize,
}

static TABLE: Locked<Vec<Mapping>> = Locked::new(Vec::new());

const DIR_PREFIX: &[u8] = b"/dev/shm/sem.";
const SEM_SIZE: usize = core::mem::size_of::<Semaphore>();

/// The file of semaphore `name`: leading slashes skipped; the rest must be non-empty, without
/// '/', and short enough for a file name. Errors: EINVAL, ENAMETOOLONG.
fn path_of(name: &CStr) -> Result<Vec<u8>> {
    let mut n = name.to_bytes();
    while let [b'/', rest @ ..] = n {
        n = rest;
    }
    if n.is_empty() || n.contains(&b'/') {
        return Err(Errno::EINVAL);
    }
    if n.len() + 4 > libc::NAME_MAX as usize {
        return Err(Errno::ENAMETOOLONG);
    }
    let mut p = Vec::with_capacity(DIR_PREFIX.len() + n.len() + 1);
    p.extend_from_slice(DIR_PREFIX);
    p.extend_from_slice(n);
    p.push(0);
    Ok(p)
}

fn errno() -> Errno {
    // SAFETY: __errno_location returns the calling thread's errno slot.
    Errno(unsafe { *libc::__errno_location() })
}

/// A file descriptor closed on drop.
struct Fd(i32);

impl Drop for Fd {
    fn drop(&mut self) {
        // SAFETY: we own the descriptor.
        unsafe { libc::close(self.0) };
    }
}

fn open_existing(path: &[u8]) -> Result<Fd> {
    // SAFETY: `path` is NUL-terminated.
    let fd = unsafe { libc::open(path.as_ptr().cast(), libc::O_RDWR | libc::O_NOFOLLOW | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(errno());
    }
    Ok(Fd(fd))
}

/// Creates the semaphore file at `path` unless one exists (then EEXIST): a temporary file
/// holding the initialized semaphore is linked to the name.
fn create(path: &[u8], mode: libc::mode_t, value: u32) -> Result<Fd> {
    static SERIAL: AtomicU32 = AtomicU32::new(0);
    let sem = Semaphore::new(value, Scope::Shared)?;
    loop {
        let tmp = format!(
            "/dev/shm/sem.rpthread-{}-{}\0",
            crate::sys::getpid(),
            SERIAL.fetch_add(1, Ordering::Relaxed)
        );
        // SAFETY: `tmp` is NUL-terminated.
        let fd = unsafe {
            libc::open(
                tmp.as_ptr().cast(),
                libc::O_RDWR | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC,
                mode as libc::c_uint,
            )
        };
        if fd < 0 {
            match errno() {
                Errno::EEXIST => continue,
                e => return Err(e),
            }
        }
        let fd = Fd(fd);
        let r = (|| {
            // SAFETY: `sem` is SEM_SIZE readable bytes.
            let n = unsafe { libc::write(fd.0, (&sem as *const Semaphore).cast(), SEM_SIZE) };
            if n != SEM_SIZE as isize {
                return Err(if n < 0 { errno() } else { Errno(libc::ENOSPC) });
            }
            // SAFETY: both paths are NUL-terminated.
            if unsafe { libc::link(tmp.as_ptr().cast(), path.as_ptr().cast()) } != 0 {
                return Err(errno());
            }
            Ok(())
        })();
        // SAFETY: `tmp` is NUL-terminated; the name is ours.
        unsafe { libc::unlink(tmp.as_ptr().cast()) };
        return r.map(|()| fd);
    }
}

/// Maps the semaphore open on `fd`, or finds the mapping this process has already.
fn map(fd: &Fd) -> Result<*mut Semaphore> {
    // SAFETY: an all-zero stat is a valid out-buffer.
    let mut st: libc::stat = unsafe { core::mem::zeroed() };
    // SAFETY: `st` is writable.
    if unsafe { libc::fstat(fd.0, &mut st) } != 0 {
        return Err(errno());
    }
    if (st.st_size as usize) < SEM_SIZE {
        return Err(Errno::EINVAL);
    }
    let (dev, ino) = (st.st_dev, st.st_ino);
    TABLE.with(|t| {
        if let Some(m) = t.iter_mut().find(|m| m.dev == dev && m.ino == ino) {
            m.refs += 1;
            return Ok(m.addr as *mut Semaphore);
        }
        // SAFETY: a fresh shared mapping of the file's first bytes.
        let p = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                SEM_SIZE,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.0,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(errno());
        }
        t.push(Mapping { dev, ino, addr: p as usize, refs: 1 });
        Ok(p.cast())
    })
}

/// Holds the table across fork() (prepare handler), so the child never inherits it locked by
/// a thread that does not exist there.
pub fn lock_for_fork() {
    TABLE.lock_raw();
}

/// Releases the table after fork(), in the parent and in the child.
pub fn unlock_after_fork() {
    TABLE.unlock_raw();
}

/// `sem_open`: opens (and with `O_CREAT` creates, with `mode` and `value`) the semaphore
/// `name`. Errors: EINVAL (bad name, value above SEM_VALUE_MAX), ENAMETOOLONG, EEXIST
/// (`O_CREAT|O_EXCL` and it exists), ENOENT (no `O_CREAT` and it does not exist), EACCES
/// and the other errors of open(2) and mmap(2).
pub fn open(name: &CStr, oflag: i32, mode: libc::mode_t, value: u32) -> Result<*mut Semaphore> {
    let path = path_of(name)?;
    let creat = oflag & libc::O_CREAT != 0;
    let excl = creat && oflag & libc::O_EXCL != 0;
    if creat && value > VALUE_MAX {
        return Err(Errno::EINVAL);
    }
    loop {
        if !excl {
            match open_existing(&path) {
                Ok(fd) => return map(&fd),
                Err(Errno::ENOENT) if creat => {}
                Err(e) => return Err(e),
            }
        }
        match create(&path, mode, value) {
            Ok(fd) => return map(&fd),
            // Someone created it between our open and our link: open theirs.
            Err(Errno::EEXIST) if !excl => continue,
            Err(e) => return Err(e),
        }
    }
}

/// `sem_close`: drops one reference to a semaphore from [`open`]; the last unmaps it.
/// Errors: EINVAL when `sem` is not an open named semaphore.
pub fn close(sem: *mut Semaphore) -> Result<()> {
    TABLE.with(|t| {
        let i = t.iter().position(|m| m.addr == sem as usize).ok_or(Errno::EINVAL)?;
        t[i].refs -= 1;
        if t[i].refs == 0 {
            let m = t.swap_remove(i);
            // SAFETY: the mapping is ours and nobody in this process holds it any more.
            unsafe { libc::munmap(m.addr as *mut libc::c_void, SEM_SIZE) };
        }
        Ok(())
    })
}

/// `sem_unlink`: removes the name; processes that have it open keep using it.
/// Errors: ENOENT, EACCES, EINVAL, ENAMETOOLONG.
pub fn unlink(name: &CStr) -> Result<()> {
    let path = path_of(name)?;
    // SAFETY: `path` is NUL-terminated.
    if unsafe { libc::unlink(path.as_ptr().cast()) } != 0 {
        return Err(match errno() {
            Errno::EPERM => Errno(libc::EACCES),
            e => e,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(path_of(c"/abc").unwrap(), b"/dev/shm/sem.abc\0");
        assert_eq!(path_of(c"//abc").unwrap(), b"/dev/shm/sem.abc\0");
        assert_eq!(path_of(c"/"), Err(Errno::EINVAL));
        assert_eq!(path_of(c"/a/b"), Err(Errno::EINVAL));
    }

    #[test]
    fn open_twice_same_address_and_refcounted_close() {
        let name = format!("/rpthread-unit-{}\0", std::process::id());
        let name = CStr::from_bytes_with_nul(name.as_bytes()).unwrap();
        let _ = unlink(name);
        assert_eq!(open(name, 0, 0, 0).err(), Some(Errno::ENOENT));
        let a = open(name, libc::O_CREAT | libc::O_EXCL, 0o600, 2).unwrap();
        assert_eq!(open(name, libc::O_CREAT | libc::O_EXCL, 0o600, 2).err(), Some(Errno::EEXIST));
        let b = open(name, libc::O_CREAT, 0o600, 5).unwrap();
        assert_eq!(a, b);
        // SAFETY: a live mapping.
        assert_eq!(unsafe { &*a }.value(), 2);
        close(a).unwrap();
        // SAFETY: still mapped (one reference left).
        unsafe { &*b }.post().unwrap();
        close(b).unwrap();
        assert_eq!(close(b), Err(Errno::EINVAL));
        unlink(name).unwrap();
        assert_eq!(unlink(name), Err(Errno::ENOENT));
    }
}
