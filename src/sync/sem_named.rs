//! Named semaphores: `sem_open`, `sem_close`, `sem_unlink`, with glibc 2.36's files, so that
//! processes on rpthread and on glibc open each other's semaphores.
//!
//! The semaphore `/name` is the file `/dev/shm/sem.name` (leading slashes skipped), 32 bytes
//! holding a process-shared [`Semaphore`] in glibc's layout (count, 128 in the `private`
//! field, zeros), mapped `MAP_SHARED`. A new one is written to a temporary file
//! `/dev/shm/sem.XXXXXX` (six random characters, as glibc's `mktemp`) first and then
//! `link`ed to its name, so no process ever maps a half-initialized semaphore and `O_EXCL`
//! is decided atomically by the file system. A process-wide table keyed by the file's
//! device and inode and the name as passed (glibc's key: `"/a"` and `"a"` are two mappings)
//! makes a second `sem_open` of the same semaphore return the same address; `sem_close`
//! counts down and unmaps at zero.

use alloc::vec::Vec;
use crate::lock::Locked;
use super::sem::Semaphore;
use super::model::Scope;
use crate::errno::{Errno, Result};
use core::ffi::CStr;
use core::sync::atomic::{AtomicU32, Ordering};

/// One mapped named semaphore.
struct Mapping {
    dev: u64,
    ino: u64,
    name: Vec<u8>,
    addr: usize,
    refs: usize,
}

static TABLE: Locked<Vec<Mapping>> = Locked::new(Vec::new());

const DIR_PREFIX: &[u8] = b"/dev/shm/sem.";
const SEM_SIZE: usize = core::mem::size_of::<Semaphore>();

/// The file of semaphore `name`: leading slashes skipped; the rest must be non-empty, without
/// '/', and at most `NAME_MAX` bytes (glibc's rule; the file system may still refuse a name
/// that long with the "sem." prefix: ENAMETOOLONG). None for a bad name: sem_open reports
/// it as EINVAL, sem_unlink as ENOENT (as glibc).
fn path_of(name: &CStr) -> Option<Vec<u8>> {
    let mut n = name.to_bytes();
    while let [b'/', rest @ ..] = n {
        n = rest;
    }
    if n.is_empty() || n.contains(&b'/') || n.len() > libc::NAME_MAX as usize {
        return None;
    }
    let mut p = Vec::with_capacity(DIR_PREFIX.len() + n.len() + 1);
    p.extend_from_slice(DIR_PREFIX);
    p.extend_from_slice(n);
    p.push(0);
    Some(p)
}

fn errno() -> Errno {
    crate::errno::last()
}

/// A file descriptor closed on drop.
struct Fd(i32);

impl Drop for Fd {
    fn drop(&mut self) {
        // SAFETY: we own the descriptor.
        unsafe { libc::close(self.0) };
    }
}

/// Opens an existing semaphore file; the caller's other `oflag` bits pass through, as glibc.
fn open_existing(path: &[u8], oflag: i32) -> Result<Fd> {
    let flags = (oflag & !(libc::O_CREAT | libc::O_ACCMODE)) | libc::O_NOFOLLOW | libc::O_RDWR | libc::O_CLOEXEC;
    // SAFETY: `path` is NUL-terminated.
    let fd = unsafe { libc::open(path.as_ptr().cast(), flags) };
    if fd < 0 {
        return Err(errno());
    }
    Ok(Fd(fd))
}

/// Six characters for a temporary name, from `mktemp`'s alphabet.
fn random_suffix() -> [u8; 6] {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut raw = [0u8; 6];
    // SAFETY: `raw` is 6 writable bytes.
    let n = unsafe { libc::getrandom(raw.as_mut_ptr().cast(), raw.len(), libc::GRND_NONBLOCK) };
    if n != raw.len() as isize {
        // No entropy yet: the clock and a counter still make collisions (retried) rare.
        static SERIAL: AtomicU32 = AtomicU32::new(0);
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: `ts` is writable.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
        let mut x = (ts.tv_nsec as u64) ^ ((crate::sys::getpid() as u64) << 32)
            ^ u64::from(SERIAL.fetch_add(1, Ordering::Relaxed)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        for b in raw.iter_mut() {
            *b = x as u8;
            x = x.rotate_right(8).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    raw.map(|b| ALPHABET[b as usize % ALPHABET.len()])
}

/// Attempts at a free temporary name before giving up with EAGAIN (glibc's count).
const TEMP_ATTEMPTS: usize = 50;

/// Creates the semaphore file at `path` unless one exists (then EEXIST): a temporary file
/// holding the initialized semaphore is linked to the name.
fn create(path: &[u8], mode: libc::mode_t, value: u32) -> Result<Fd> {
    let sem = Semaphore::new(value, Scope::Shared)?;
    for _ in 0..TEMP_ATTEMPTS {
        let mut tmp = Vec::with_capacity(DIR_PREFIX.len() + 7);
        tmp.extend_from_slice(DIR_PREFIX);
        tmp.extend_from_slice(&random_suffix());
        tmp.push(0);
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
    Err(Errno::EAGAIN)
}

/// Maps the semaphore open on `fd`, or finds the mapping this process has already.
fn map(fd: &Fd, name: &CStr) -> Result<*mut Semaphore> {
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
        let name = name.to_bytes();
        if let Some(m) = t.iter_mut().find(|m| m.dev == dev && m.ino == ino && m.name == name) {
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
        t.push(Mapping { dev, ino, name: name.to_vec(), addr: p as usize, refs: 1 });
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
/// `name`. Errors: EINVAL (bad name; `value` above SEM_VALUE_MAX when it creates), EEXIST (`O_CREAT|O_EXCL`
/// and it exists), ENOENT (no `O_CREAT` and it does not exist), EAGAIN (no free temporary
/// name), ENAMETOOLONG, EACCES and the other errors of open(2) and mmap(2).
pub fn open(name: &CStr, oflag: i32, mode: libc::mode_t, value: u32) -> Result<*mut Semaphore> {
    let path = path_of(name).ok_or(Errno::EINVAL)?;
    let creat = oflag & libc::O_CREAT != 0;
    let excl = creat && oflag & libc::O_EXCL != 0;
    loop {
        if !excl {
            match open_existing(&path, oflag) {
                Ok(fd) => return map(&fd, name),
                Err(Errno::ENOENT) if creat => {}
                Err(e) => return Err(e),
            }
        }
        match create(&path, mode, value) {
            Ok(fd) => return map(&fd, name),
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
/// Errors: ENOENT (also for a bad name, as glibc), EACCES, ENAMETOOLONG.
pub fn unlink(name: &CStr) -> Result<()> {
    let path = path_of(name).ok_or(Errno::ENOENT)?;
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
        assert_eq!(path_of(c"/"), None);
        assert_eq!(path_of(c"/a/b"), None);
        assert!(random_suffix().iter().all(u8::is_ascii_alphanumeric));
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
