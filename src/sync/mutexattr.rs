//! The mutex attributes object (`pthread_mutexattr_t`, 4 bytes): type, process-shared,
//! robustness, protocol and priority ceiling, packed in one `u32` with glibc's encoding
//! (`mutexkind` of glibc's `struct pthread_mutexattr`), so that an object's bytes mean what
//! they mean to glibc, a zeroed or never-initialized one included.
//!
//! Encoding: bit 31 process-shared, bit 30 robust, bits 28-29 protocol (0 none, 1 inherit,
//! 2 protect), bits 12-23 priority ceiling; the rest is the kind a mutex initialized with it
//! gets (bits 0-1 the type, 0 normal, 1 recursive, 2 errorcheck, 3 adaptive; bit 9 glibc's
//! no-elision flag, which setting the type PTHREAD_MUTEX_NORMAL adds). All-zero is the
//! default attribute (what `pthread_mutexattr_init` writes).

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

/// glibc's `PTHREAD_MUTEX_NO_ELISION_NP`.
const NO_ELISION: u32 = 512;
const SHARED: u32 = 0x8000_0000;
const ROBUST: u32 = 0x4000_0000;
const PROTO_SHIFT: u32 = 28;
const PROTO_MASK: u32 = 0x3000_0000;
const CEIL_SHIFT: u32 = 12;
const CEIL_MASK: u32 = 0x00ff_f000;
/// glibc's `PTHREAD_MUTEXATTR_FLAG_BITS`: everything that is not the kind.
const FLAG_BITS: u32 = SHARED | ROBUST | PROTO_MASK | CEIL_MASK;

/// A mutex attributes object, as stored in the caller's `pthread_mutexattr_t`.
#[repr(transparent)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MutexAttr(pub u32);


impl MutexAttr {
    /// The default attributes: normal, private, stalled (not robust), no protocol.
    pub const DEFAULT: MutexAttr = MutexAttr(0);

    /// The type as pthread_mutexattr_gettype reports it (glibc: the kind bits without the
    /// no-elision flag).
    pub fn kind(self) -> u32 {
        self.0 & !FLAG_BITS & !NO_ELISION
    }

    /// The kind bits a mutex initialized with these attributes starts from (glibc copies
    /// them as they are, no-elision flag included).
    pub fn mutex_kind(self) -> i32 {
        (self.0 & !FLAG_BITS) as i32
    }

    /// Sets the type: the four glibc kinds (0-3) are valid, anything else is EINVAL. As
    /// glibc, PTHREAD_MUTEX_NORMAL set explicitly carries the no-elision flag.
    pub fn set_kind(&mut self, kind: i32) -> Result<()> {
        if !(0..=3).contains(&kind) {
            return Err(Errno::EINVAL);
        }
        let mut k = kind as u32;
        if k == TYPE_NORMAL {
            k |= NO_ELISION;
        }
        self.0 = (self.0 & FLAG_BITS) | k;
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

    /// The protocol (`PRIO_*`; 3 in an object never set up is none of them).
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
    // SCHED_FIFO always exists on Linux.
    crate::sys::sched::priority_range(libc::SCHED_FIFO).unwrap_or((1, 99))
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
        // glibc's encoding: the bytes mean what they mean to glibc.
        assert_eq!(a.0, 0x8000_0000 | 0x4000_0000 | (2 << 28) | (42 << 12) | 2);
        a.set_kind(0).unwrap();
        assert_eq!((a.kind(), a.mutex_kind()), (0, 512));
        assert_eq!(a.set_kind(4), Err(Errno::EINVAL));
        assert_eq!(a.set_kind(-1), Err(Errno::EINVAL));
        assert_eq!(a.set_shared(2), Err(Errno::EINVAL));
        assert_eq!(a.set_robust(2), Err(Errno::EINVAL));
        assert_eq!(a.set_protocol(3), Err(Errno::EINVAL));
        assert_eq!(a.set_prioceiling(0), Err(Errno::EINVAL));
        assert_eq!(a.set_prioceiling(100), Err(Errno::EINVAL));
        assert_eq!(a.kind(), 0);
    }
}
