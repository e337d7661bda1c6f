//! The mutex attributes object (`pthread_mutexattr_t`, 4 bytes): type, process-shared,
//! robustness, protocol and priority ceiling, packed in one `u32`.
//!
//! Encoding (ours; glibc never initializes these objects statically, so only the size is ABI):
//! bits 0-1 type (0 normal, 1 recursive, 2 errorcheck, 3 adaptive), bit 4 robust, bit 7
//! process-shared, bits 8-9 protocol (0 none, 1 inherit, 2 protect), bits 16-23 priority
//! ceiling. All-zero is the default attribute (what `pthread_mutexattr_init` writes), so a
//! zeroed object behaves like an initialized default one, as on glibc.

use crate::errno::{Errno, Result};

/// Mutex type: `PTHREAD_MUTEX_NORMAL` (glibc's `PTHREAD_MUTEX_TIMED_NP`).
pub const TYPE_NORMAL: u32 = 0;
/// `PTHREAD_MUTEX_RECURSIVE`.
pub const TYPE_RECURSIVE: u32 = 1;
/// `PTHREAD_MUTEX_ERRORCHECK`.
pub const TYPE_ERRORCHECK: u32 = 2;
/// `PTHREAD_MUTEX_ADAPTIVE_NP`: a normal mutex that spins before sleeping (all of ours do).
pub const TYPE_ADAPTIVE: u32 = 3;

/// `PTHREAD_PRIO_NONE`.
pub const PRIO_NONE: u32 = 0;
/// `PTHREAD_PRIO_INHERIT`: kernel priority-inheritance futex.
pub const PRIO_INHERIT: u32 = 1;
/// `PTHREAD_PRIO_PROTECT`: priority ceiling.
pub const PRIO_PROTECT: u32 = 2;

const TYPE_MASK: u32 = 3;
const ROBUST: u32 = 1 << 4;
const SHARED: u32 = 1 << 7;
const PROTO_SHIFT: u32 = 8;
const PROTO_MASK: u32 = 3 << PROTO_SHIFT;
const CEIL_SHIFT: u32 = 16;
const CEIL_MASK: u32 = 0xff << CEIL_SHIFT;

/// A mutex attributes object, as stored in the caller's `pthread_mutexattr_t`.
#[repr(transparent)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MutexAttr(pub u32);

const _: () = assert!(core::mem::size_of::<MutexAttr>() == core::mem::size_of::<libc::pthread_mutexattr_t>());

impl MutexAttr {
    /// The default attributes: normal, private, stalled (not robust), no protocol.
    pub const DEFAULT: MutexAttr = MutexAttr(0);

    /// The mutex type (`TYPE_*`).
    pub fn kind(self) -> u32 {
        self.0 & TYPE_MASK
    }

    /// Sets the type: the four glibc kinds (0-3) are valid, anything else is EINVAL.
    pub fn set_kind(&mut self, kind: i32) -> Result<()> {
        if !(0..=3).contains(&kind) {
            return Err(Errno::EINVAL);
        }
        self.0 = (self.0 & !TYPE_MASK) | kind as u32;
        Ok(())
    }

    /// Whether the mutex is process-shared.
    pub fn shared(self) -> bool {
        self.0 & SHARED != 0
    }

    /// `PTHREAD_PROCESS_PRIVATE` (0) or `PTHREAD_PROCESS_SHARED` (1); else EINVAL.
    pub fn set_shared(&mut self, pshared: i32) -> Result<()> {
        self.0 = match super::caller::scope_of(pshared)? {
            super::model::Scope::Private => self.0 & !SHARED,
            super::model::Scope::Shared => self.0 | SHARED,
        };
        Ok(())
    }

    /// Whether the mutex is robust.
    pub fn robust(self) -> bool {
        self.0 & ROBUST != 0
    }

    /// `PTHREAD_MUTEX_STALLED` (0) or `PTHREAD_MUTEX_ROBUST` (1); else EINVAL.
    pub fn set_robust(&mut self, robust: i32) -> Result<()> {
        self.0 = match robust {
            0 => self.0 & !ROBUST,
            1 => self.0 | ROBUST,
            _ => return Err(Errno::EINVAL),
        };
        Ok(())
    }

    /// The protocol (`PRIO_*`).
    pub fn protocol(self) -> u32 {
        (self.0 & PROTO_MASK) >> PROTO_SHIFT
    }

    /// `PTHREAD_PRIO_NONE`, `_INHERIT` or `_PROTECT`; else EINVAL.
    pub fn set_protocol(&mut self, protocol: i32) -> Result<()> {
        if !(0..=2).contains(&protocol) {
            return Err(Errno::EINVAL);
        }
        self.0 = (self.0 & !PROTO_MASK) | ((protocol as u32) << PROTO_SHIFT);
        Ok(())
    }

    /// The priority ceiling (0 = not set: the mutex then uses the lowest SCHED_FIFO priority).
    pub fn prioceiling(self) -> i32 {
        ((self.0 & CEIL_MASK) >> CEIL_SHIFT) as i32
    }

    /// Sets the ceiling: a SCHED_FIFO priority (EINVAL outside its range).
    pub fn set_prioceiling(&mut self, ceiling: i32) -> Result<()> {
        check_ceiling(ceiling)?;
        self.0 = (self.0 & !CEIL_MASK) | ((ceiling as u32) << CEIL_SHIFT);
        Ok(())
    }
}

/// Checks that `ceiling` is a valid SCHED_FIFO priority (what a ceiling raises a thread to).
pub fn check_ceiling(ceiling: i32) -> Result<()> {
    let (min, max) = fifo_range();
    if ceiling < min || ceiling > max {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// The SCHED_FIFO priority range (1..=99 on Linux; asked of the kernel).
pub fn fifo_range() -> (i32, i32) {
    // SAFETY: plain syscalls without pointers.
    let (min, max) = unsafe {
        (
            crate::sys::raw(libc::SYS_sched_get_priority_min, &[libc::SCHED_FIFO as usize]),
            crate::sys::raw(libc::SYS_sched_get_priority_max, &[libc::SCHED_FIFO as usize]),
        )
    };
    (min as i32, max as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip_and_reject_bad_values() {
        let mut a = MutexAttr::DEFAULT;
        assert_eq!((a.kind(), a.shared(), a.robust(), a.protocol()), (0, false, false, 0));
        a.set_kind(2).unwrap();
        a.set_shared(1).unwrap();
        a.set_robust(1).unwrap();
        a.set_protocol(2).unwrap();
        a.set_prioceiling(42).unwrap();
        assert_eq!((a.kind(), a.shared(), a.robust(), a.protocol(), a.prioceiling()), (2, true, true, 2, 42));
        assert_eq!(a.set_kind(4), Err(Errno::EINVAL));
        assert_eq!(a.set_kind(-1), Err(Errno::EINVAL));
        assert_eq!(a.set_shared(2), Err(Errno::EINVAL));
        assert_eq!(a.set_robust(2), Err(Errno::EINVAL));
        assert_eq!(a.set_protocol(3), Err(Errno::EINVAL));
        assert_eq!(a.set_prioceiling(0), Err(Errno::EINVAL));
        assert_eq!(a.set_prioceiling(100), Err(Errno::EINVAL));
        assert_eq!(a.kind(), 2);
    }
}
