//! The futex system call: the only blocking primitive of the library.
//!
//! Private futexes (`FUTEX_PRIVATE_FLAG`) are used for process-private objects; process-shared
//! objects and the kernel-cleared thread-id word use shared ones.

use crate::errno::{from_syscall, Errno, Result};
use core::sync::atomic::AtomicU32;

const FUTEX_WAIT: usize = 0;
const FUTEX_WAKE: usize = 1;
const FUTEX_REQUEUE: usize = 3;
const FUTEX_CMP_REQUEUE: usize = 4;
const FUTEX_LOCK_PI: usize = 6;
const FUTEX_UNLOCK_PI: usize = 7;
const FUTEX_TRYLOCK_PI: usize = 8;
const FUTEX_WAIT_BITSET: usize = 9;
const FUTEX_PRIVATE_FLAG: usize = 128;
const FUTEX_CLOCK_REALTIME: usize = 256;
const FUTEX_BITSET_MATCH_ANY: usize = 0xffff_ffff;

/// Whether a futex word is private to this process or may live in shared memory.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Scope {
    /// Only threads of this process use the word (faster kernel lookup).
    Private,
    /// The word may be in memory shared between processes.
    Shared,
}

impl Scope {
    #[inline]
    fn flag(self) -> usize {
        match self {
            Scope::Private => FUTEX_PRIVATE_FLAG,
            Scope::Shared => 0,
        }
    }
}

/// The clock an absolute deadline is measured against.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Clock {
    /// `CLOCK_REALTIME`: follows changes to the system time.
    Realtime,
    /// `CLOCK_MONOTONIC`.
    Monotonic,
}

impl Clock {
    /// Maps a `clockid_t` to a clock a futex can wait on; other clocks are `EINVAL`.
    pub fn from_clockid(id: libc::clockid_t) -> Result<Clock> {
        match id {
            libc::CLOCK_REALTIME => Ok(Clock::Realtime),
            libc::CLOCK_MONOTONIC => Ok(Clock::Monotonic),
            _ => Err(Errno::EINVAL),
        }
    }

    /// The `clockid_t`.
    pub fn clockid(self) -> libc::clockid_t {
        match self {
            Clock::Realtime => libc::CLOCK_REALTIME,
            Clock::Monotonic => libc::CLOCK_MONOTONIC,
        }
    }
}

/// Checks that a timespec is a valid deadline: `0 <= tv_nsec < 1e9`. A negative `tv_sec`
/// is valid and simply lies in the past.
pub fn valid_timespec(ts: &libc::timespec) -> bool {
    (0..1_000_000_000).contains(&ts.tv_nsec)
}

#[inline]
fn addr(word: &AtomicU32) -> usize {
    word as *const AtomicU32 as usize
}

/// A prepared futex wait: the system call number and its six arguments, for [`wait`] and
/// for callers that make the call themselves (the cancellable wait of `cancel`).
pub struct WaitCall {
    /// System call number (`SYS_futex`).
    pub nr: i64,
    /// The arguments.
    pub args: [usize; 6],
}

/// The futex wait for `*word == expected` until the absolute `deadline` (a `tv_sec` that is
/// not negative: such a deadline has passed, and the caller returns ETIMEDOUT instead).
/// The pointers in the arguments borrow `word` and the deadline's timespec.
pub fn wait_call(word: &AtomicU32, expected: u32, deadline: Option<(&libc::timespec, Clock)>, scope: Scope) -> WaitCall {
    let args = match deadline {
        // A null timeout means "forever".
        None => [addr(word), FUTEX_WAIT | scope.flag(), expected as usize, 0, 0, 0],
        Some((ts, clock)) => {
            let clk = if clock == Clock::Realtime { FUTEX_CLOCK_REALTIME } else { 0 };
            [
                addr(word),
                FUTEX_WAIT_BITSET | scope.flag() | clk,
                expected as usize,
                ts as *const _ as usize,
                0,
                FUTEX_BITSET_MATCH_ANY,
            ]
        }
    };
    WaitCall { nr: libc::SYS_futex, args }
}

/// Sleeps while `*word == expected`, until woken or until the absolute `deadline` on `clock`.
///
/// Returns `Ok` when woken (possibly spuriously), `EAGAIN` if the word did not hold `expected`,
/// `EINTR` on a signal, `ETIMEDOUT` when the deadline passed. A deadline with a negative
/// `tv_sec` has passed already.
pub fn wait(
    word: &AtomicU32,
    expected: u32,
    deadline: Option<(&libc::timespec, Clock)>,
    scope: Scope,
) -> Result<()> {
    if matches!(deadline, Some((ts, _)) if ts.tv_sec < 0) {
        return Err(Errno::ETIMEDOUT);
    }
    let c = wait_call(word, expected, deadline, scope);
    // SAFETY: `word` is a live u32 and the deadline, if any, a timespec the kernel only
    // reads; both outlive the call.
    from_syscall(unsafe { crate::sys::raw(c.nr, &c.args) }).map(drop)
}

/// Sleeps while `*word == expected`, at most for the relative time `timeout`; the result as
/// for [`wait`].
pub fn wait_relative(word: &AtomicU32, expected: u32, timeout: &libc::timespec, scope: Scope) -> Result<()> {
    // SAFETY: `word` is a live u32 and `timeout` a timespec the kernel only reads.
    let r = unsafe {
        crate::sys::raw(libc::SYS_futex, &[addr(word), FUTEX_WAIT | scope.flag(), expected as usize, timeout as *const _ as usize])
    };
    from_syscall(r).map(drop)
}

/// Wakes up to `n` threads sleeping on `word`; returns how many were woken.
pub fn wake(word: &AtomicU32, n: i32, scope: Scope) -> usize {
    // SAFETY: FUTEX_WAKE only uses the address as a key.
    let r = unsafe {
        crate::sys::raw(libc::SYS_futex, &[addr(word), FUTEX_WAKE | scope.flag(), n as usize])
    };
    from_syscall(r).unwrap_or(0)
}

/// Wakes `n_wake` waiters of `from` and moves up to `n_move` others to wait on `to`,
/// provided `*from == expected` (else `EAGAIN`). Both words must have the same scope.
pub fn cmp_requeue(
    from: &AtomicU32,
    n_wake: i32,
    n_move: i32,
    to: &AtomicU32,
    expected: u32,
    scope: Scope,
) -> Result<usize> {
    // SAFETY: both words are live u32s; the kernel uses the addresses as keys only.
    let r = unsafe {
        crate::sys::raw(
            libc::SYS_futex,
            &[
                addr(from),
                FUTEX_CMP_REQUEUE | scope.flag(),
                n_wake as usize,
                n_move as usize,
                addr(to),
                expected as usize,
            ],
        )
    };
    from_syscall(r)
}

/// Unconditional requeue (`FUTEX_REQUEUE`): wake `n_wake`, move up to `n_move` to `to`.
pub fn requeue(from: &AtomicU32, n_wake: i32, n_move: i32, to: &AtomicU32, scope: Scope) -> usize {
    // SAFETY: as for `cmp_requeue`.
    let r = unsafe {
        crate::sys::raw(
            libc::SYS_futex,
            &[addr(from), FUTEX_REQUEUE | scope.flag(), n_wake as usize, n_move as usize, addr(to)],
        )
    };
    from_syscall(r).unwrap_or(0)
}

/// `FUTEX_LOCK_PI`: the kernel acquires the priority-inheritance lock word for the caller,
/// sleeping if needed. The deadline is always `CLOCK_REALTIME` (a kernel rule for LOCK_PI).
pub fn lock_pi(word: &AtomicU32, deadline: Option<&libc::timespec>, scope: Scope) -> Result<()> {
    let ts = deadline.map_or(0, |t| t as *const _ as usize);
    // SAFETY: the word is live; `ts` is null or a valid timespec.
    let r = unsafe {
        crate::sys::raw(libc::SYS_futex, &[addr(word), FUTEX_LOCK_PI | scope.flag(), 0, ts])
    };
    from_syscall(r).map(drop)
}

/// `FUTEX_LOCK_PI2`: as [`lock_pi`], with a `CLOCK_MONOTONIC` deadline (Linux 5.14+).
pub fn lock_pi2(word: &AtomicU32, deadline: &libc::timespec, scope: Scope) -> Result<()> {
    const FUTEX_LOCK_PI2: usize = 13;
    // SAFETY: the word is live; `deadline` a valid timespec the kernel only reads.
    let r = unsafe {
        crate::sys::raw(libc::SYS_futex, &[addr(word), FUTEX_LOCK_PI2 | scope.flag(), 0, deadline as *const _ as usize])
    };
    from_syscall(r).map(drop)
}

/// `FUTEX_TRYLOCK_PI`.
pub fn trylock_pi(word: &AtomicU32, scope: Scope) -> Result<()> {
    // SAFETY: the word is live.
    let r = unsafe {
        crate::sys::raw(libc::SYS_futex, &[addr(word), FUTEX_TRYLOCK_PI | scope.flag()])
    };
    from_syscall(r).map(drop)
}

/// `FUTEX_UNLOCK_PI`: hands the lock to the highest-priority waiter.
pub fn unlock_pi(word: &AtomicU32, scope: Scope) -> Result<()> {
    // SAFETY: the word is live.
    let r = unsafe {
        crate::sys::raw(libc::SYS_futex, &[addr(word), FUTEX_UNLOCK_PI | scope.flag()])
    };
    from_syscall(r).map(drop)
}
