//! The condition-variable attributes object (`pthread_condattr_t`, 4 bytes): the clock of
//! timed waits and the process-shared flag.
//!
//! Encoding (glibc's): bit 0 = process-shared, bit 1 = the clock id (0 CLOCK_REALTIME, 1
//! CLOCK_MONOTONIC). All-zero is the default (what `pthread_condattr_init` writes).

use crate::errno::Result;
use crate::sys::futex::Clock;

const SHARED: u32 = 1;
const MONOTONIC: u32 = 2;

/// A condition attributes object as stored in the caller's `pthread_condattr_t`.
#[repr(transparent)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CondAttr(pub u32);


impl CondAttr {
    /// CLOCK_REALTIME, process-private.
    pub const DEFAULT: CondAttr = CondAttr(0);

    /// The clock timed waits measure their deadline on.
    pub fn clock(self) -> Clock {
        if self.0 & MONOTONIC != 0 {
            Clock::Monotonic
        } else {
            Clock::Realtime
        }
    }

    /// Sets the clock: CLOCK_REALTIME or CLOCK_MONOTONIC; other clocks (including the CPU-time
    /// clocks) are EINVAL, as on glibc.
    pub fn set_clock(&mut self, id: libc::clockid_t) -> Result<()> {
        self.0 = match Clock::from_clockid(id)? {
            Clock::Monotonic => self.0 | MONOTONIC,
            Clock::Realtime => self.0 & !MONOTONIC,
        };
        Ok(())
    }

    /// Whether the condition variable is process-shared.
    pub fn shared(self) -> bool {
        self.0 & SHARED != 0
    }

    /// `PTHREAD_PROCESS_PRIVATE` or `PTHREAD_PROCESS_SHARED`; else EINVAL.
    pub fn set_shared(&mut self, pshared: i32) -> Result<()> {
        self.0 = match super::caller::scope_of(pshared)? {
            super::model::Scope::Private => self.0 & !SHARED,
            super::model::Scope::Shared => self.0 | SHARED,
        };
        Ok(())
    }
}

/// The `clockid_t` of a clock.
pub fn clockid(c: Clock) -> libc::clockid_t {
    match c {
        Clock::Realtime => libc::CLOCK_REALTIME,
        Clock::Monotonic => libc::CLOCK_MONOTONIC,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errno::Errno;

    #[test]
    fn clock_and_pshared() {
        let mut a = CondAttr::DEFAULT;
        assert_eq!(a.clock(), Clock::Realtime);
        a.set_clock(libc::CLOCK_MONOTONIC).unwrap();
        assert_eq!(a.clock(), Clock::Monotonic);
        assert_eq!(a.set_clock(libc::CLOCK_PROCESS_CPUTIME_ID), Err(Errno::EINVAL));
        assert_eq!(a.clock(), Clock::Monotonic);
        assert_eq!(a.0, 2);
        a.set_shared(1).unwrap();
        assert!(a.shared());
        assert_eq!(a.0, 3);
        assert_eq!(a.set_shared(7), Err(Errno::EINVAL));
    }
}
