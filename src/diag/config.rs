//! The `RPTHREAD_DIAG*` environment variables, read once by [`super::init`].
//!
//! Everything here is decided before the modes are published (see `super::MODES`); afterwards
//! the configuration is read-only, so the lock paths read it without synchronization cost.

use core::ffi::CStr;
use alloc::ffi::CString;

/// Mode bits of `RPTHREAD_DIAG`.
pub mod mode {
    /// Wait and hold times per lock, sampled on the fast path.
    pub const CONTENTION: u32 = 1;
    /// The lock-order graph and its cycles.
    pub const ORDER: u32 = 2;
    /// Wait-for cycles among blocked threads.
    pub const DEADLOCK: u32 = 4;
    /// Locks held longer than `RPTHREAD_DIAG_HOLD_MS`.
    pub const HOLD: u32 = 8;
    /// API misuse glibc lets pass or hangs on.
    pub const MISUSE: u32 = 16;
    /// Thread dump on SIGQUIT (or `RPTHREAD_DIAG_SIGNAL`).
    pub const DUMP: u32 = 32;
    /// Every mode.
    pub const ALL: u32 = 63;
    /// The modes that need each thread's held-lock stack.
    pub const TRACK: u32 = ORDER | DEADLOCK | HOLD | MISUSE | DUMP;
    /// The modes that need each lock's holder (`tables::Inst::holder`); not `order`, whose
    /// fast path leaves it alone.
    pub const HOLDER: u32 = DEADLOCK | HOLD | MISUSE | DUMP;
}

/// What `RPTHREAD_DIAG_ON_CYCLE` asks for when a lock-order cycle (or a deadlock) is found.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum OnCycle {
    /// Report and go on.
    Report,
    /// Report, then abort(3) (a core file for the debugger).
    Abort,
    /// Report, and the lock call that closed the cycle returns EDEADLK instead of locking.
    Edeadlk,
}

/// The parsed configuration.
pub struct Config {
    /// [`mode`] bits.
    pub modes: u32,
    /// One acquisition in `sample` is timed on the uncontended path (`RPTHREAD_DIAG_SAMPLE`).
    pub sample: u32,
    /// Hold-time threshold in nanoseconds (`RPTHREAD_DIAG_HOLD_MS`).
    pub hold_ns: u64,
    /// `RPTHREAD_DIAG_ON_CYCLE`.
    pub on_cycle: OnCycle,
    /// `RPTHREAD_DIAG_FORMAT=json`: one JSON object per report, one per line.
    pub json: bool,
    /// `RPTHREAD_DIAG_OUT` (`%p` still in it; expanded per report), None = stderr.
    pub out: Option<CString>,
    /// `RPTHREAD_DIAG_DOT`: the lock-order graph in Graphviz form, written at exit.
    pub dot: Option<CString>,
    /// `RPTHREAD_DIAG_FOLDED`: contention as folded stacks (flame graphs), written at exit.
    pub folded: Option<CString>,
    /// The signal that asks for a report (`RPTHREAD_DIAG_SIGNAL`, default SIGQUIT).
    pub signal: i32,
    /// Whether `RPTHREAD_DIAG_SIGNAL` was given: then the signal is taken for the contention
    /// table even without `dump` (SIGQUIT is only taken over by default for a dump).
    pub signal_explicit: bool,
}

/// Default sampling period of the uncontended path. Measured (one lock/unlock loop, medians
/// of 5 alternated runs; cost against diagnostics off): spinlock pair with threads running
/// 1.08x at 64, 1.045x at 256, 1.06x with no sampling at all (noise: the hook alone is
/// ~0.3 ns); mutex pair 1.04x at 64, 1.025x at 256.
pub const DEFAULT_SAMPLE: u32 = 256;
/// Default hold threshold.
pub const DEFAULT_HOLD_MS: u64 = 100;

use crate::rt::getenv as env;

fn number(name: &CStr) -> Option<u64> {
    core::str::from_utf8(env(name)?).ok()?.trim().parse().ok()
}

fn path(name: &CStr) -> Option<CString> {
    env(name).filter(|v| !v.is_empty()).and_then(|v| CString::new(v).ok())
}

/// Parses a mode list (`contention,order`, `all`); unknown words are reported on stderr and
/// ignored. Returns the mode bits.
pub fn parse_modes(v: &[u8]) -> u32 {
    let mut m = 0;
    for word in v.split(|&c| c == b',' || c == b' ' || c == b'+') {
        m |= match word {
            b"" | b"0" | b"off" | b"none" => 0,
            b"contention" => mode::CONTENTION,
            b"order" => mode::ORDER,
            b"deadlock" => mode::DEADLOCK,
            b"hold" => mode::HOLD,
            b"misuse" => mode::MISUSE,
            b"dump" => mode::DUMP,
            b"all" | b"1" => mode::ALL,
            other => {
                super::report::warn_raw(b"rpthread-diag: unknown mode in RPTHREAD_DIAG: ", other);
                0
            }
        };
    }
    m
}

fn signal_number(v: &[u8]) -> Option<i32> {
    let v = v.strip_prefix(b"SIG").unwrap_or(v);
    let named = match v {
        b"QUIT" => libc::SIGQUIT,
        b"USR1" => libc::SIGUSR1,
        b"USR2" => libc::SIGUSR2,
        b"HUP" => libc::SIGHUP,
        b"TTIN" => libc::SIGTTIN,
        b"WINCH" => libc::SIGWINCH,
        b"PWR" => libc::SIGPWR,
        _ => 0,
    };
    if named != 0 {
        return Some(named);
    }
    let n: i32 = core::str::from_utf8(v).ok()?.parse().ok()?;
    // Not the signals glibc and rpthread keep for themselves, nor uncatchable ones.
    (1..=64).contains(&n).then_some(n).filter(|&n| !matches!(n, 9 | 19 | 32 | 33))
}

/// Reads the environment. `None` when `RPTHREAD_DIAG` is unset or names no mode.
pub fn read() -> Option<Config> {
    let modes = parse_modes(env(c"RPTHREAD_DIAG")?);
    if modes == 0 {
        return None;
    }
    let on_cycle = match env(c"RPTHREAD_DIAG_ON_CYCLE") {
        Some(b"abort") => OnCycle::Abort,
        Some(b"edeadlk") | Some(b"EDEADLK") => OnCycle::Edeadlk,
        _ => OnCycle::Report,
    };
    Some(Config {
        modes,
        sample: number(c"RPTHREAD_DIAG_SAMPLE").map_or(DEFAULT_SAMPLE, |n| n.clamp(1, 1 << 20) as u32),
        hold_ns: number(c"RPTHREAD_DIAG_HOLD_MS").unwrap_or(DEFAULT_HOLD_MS).saturating_mul(1_000_000),
        on_cycle,
        json: env(c"RPTHREAD_DIAG_FORMAT") == Some(b"json"),
        out: path(c"RPTHREAD_DIAG_OUT"),
        dot: path(c"RPTHREAD_DIAG_DOT"),
        folded: path(c"RPTHREAD_DIAG_FOLDED"),
        signal: env(c"RPTHREAD_DIAG_SIGNAL").and_then(signal_number).unwrap_or(libc::SIGQUIT),
        signal_explicit: env(c"RPTHREAD_DIAG_SIGNAL").and_then(signal_number).is_some(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse() {
        assert_eq!(parse_modes(b"contention"), mode::CONTENTION);
        assert_eq!(parse_modes(b"order,misuse"), mode::ORDER | mode::MISUSE);
        assert_eq!(parse_modes(b"all"), mode::ALL);
        assert_eq!(parse_modes(b""), 0);
        assert_eq!(parse_modes(b"0"), 0);
    }

    #[test]
    fn signals_parse() {
        assert_eq!(signal_number(b"SIGUSR2"), Some(libc::SIGUSR2));
        assert_eq!(signal_number(b"QUIT"), Some(libc::SIGQUIT));
        assert_eq!(signal_number(b"40"), Some(40));
        assert_eq!(signal_number(b"32"), None);
        assert_eq!(signal_number(b"9"), None);
    }
}
