//! The diagnostics' precise clock: nanoseconds on CLOCK_MONOTONIC's scale, read from the
//! CPU's time-stamp counter where the kernel itself keeps time with it.
//!
//! Every contended wait is timed by two reads, one of them inside the critical section the
//! wait ends in. Through the vDSO, CLOCK_MONOTONIC costs 16 ns here (2-vCPU KVM guest, TSC
//! clocksource) against 7.5 ns for `rdtsc` itself (10 million reads each); with the vDSO's
//! reads a mutex handed between two threads every ~20 ns ran 1.23x slower under
//! `contention` than with diagnostics off, with the coarse clock instead 1.08x
//! (`bench/sync_mutex.c` contended_tiny_2t, 7 alternated runs).
//!
//! The counter is used only when it is the kernel's clocksource (so it is invariant and
//! synchronized across CPUs, as the kernel checked before choosing it) and the CPU says it is
//! invariant; it is converted with a rate measured against CLOCK_MONOTONIC over 2 ms at
//! set-up, and anchored to a CLOCK_MONOTONIC reading then, so its readings compare with
//! CLOCK_MONOTONIC's to within the rate's error (its two ends are read to ~20 ns: ~10 ppm,
//! some 40 ms after an hour; waits are compared with readings of this clock, so only the
//! times printed drift). Elsewhere
//! CLOCK_MONOTONIC itself is read. Differences of two readings taken on different CPUs are
//! taken with `saturating_sub`: the kernel allows the counters a small skew.

use core::sync::atomic::{AtomicU64, Ordering};

/// The conversion, set once by [`init`] before any mode is on (Relaxed loads: the modes'
/// Release publication orders it; a reader that saw zeros would read CLOCK_MONOTONIC, whose
/// values are on the same scale).
static MULT: AtomicU64 = AtomicU64::new(0);
static BASE_TSC: AtomicU64 = AtomicU64::new(0);
static BASE_NS: AtomicU64 = AtomicU64::new(0);

/// How long the rate is measured for at set-up (ns).
const CALIBRATION_NS: u64 = 2_000_000;

/// Nanoseconds on CLOCK_MONOTONIC's scale (see the module comment).
#[inline]
pub fn now() -> u64 {
    let mult = MULT.load(Ordering::Relaxed);
    if mult == 0 {
        return monotonic();
    }
    let ticks = tsc().saturating_sub(BASE_TSC.load(Ordering::Relaxed));
    BASE_NS.load(Ordering::Relaxed) + ((ticks as u128 * mult as u128) >> 32) as u64
}

/// Nanoseconds on CLOCK_MONOTONIC (the vDSO: no system call, no lock).
#[inline]
pub fn monotonic() -> u64 {
    read(libc::CLOCK_MONOTONIC)
}

/// Nanoseconds on CLOCK_MONOTONIC_COARSE: the clock tick's resolution (1-4 ms), at a
/// fraction of the precise clock's cost.
#[inline]
pub fn coarse() -> u64 {
    read(libc::CLOCK_MONOTONIC_COARSE)
}

#[inline(always)]
fn read(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime with a valid out-pointer; async-signal-safe.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

#[inline(always)]
fn tsc() -> u64 {
    // SAFETY: rdtsc has no preconditions on x86_64 (user mode may read it unless the kernel
    // set CR4.TSD, which it does not where the TSC is the clocksource: the vDSO reads it too).
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// Chooses the clock (see the module comment); called once by the diagnostics' set-up, before
/// any mode is on. Takes ~2 ms when the counter is used.
pub fn init() {
    if !tsc_is_the_clocksource() || !invariant_tsc() {
        return;
    }
    let (ns0, t0) = pair();
    let (ns1, t1) = loop {
        let (ns, t) = pair();
        if ns.saturating_sub(ns0) >= CALIBRATION_NS {
            break (ns, t);
        }
    };
    if t1 <= t0 {
        return;
    }
    let mult = (((ns1 - ns0) as u128) << 32) / (t1 - t0) as u128;
    if mult == 0 || mult > u64::MAX as u128 {
        return;
    }
    BASE_TSC.store(t1, Ordering::Relaxed);
    BASE_NS.store(ns1, Ordering::Relaxed);
    MULT.store(mult as u64, Ordering::Relaxed);
}

/// A CLOCK_MONOTONIC reading and the counter at the same moment: the counter read on both
/// sides of the clock, the tightest of a few tries, its midpoint.
fn pair() -> (u64, u64) {
    let mut best = (u64::MAX, 0, 0);
    for _ in 0..5 {
        let a = tsc();
        let ns = monotonic();
        let b = tsc();
        if b >= a && b - a < best.0 {
            best = (b - a, ns, a + (b - a) / 2);
        }
    }
    (best.1, best.2)
}

/// Whether the kernel keeps time with the TSC (it checked the counters' stability and
/// synchronization before choosing it).
fn tsc_is_the_clocksource() -> bool {
    let mut buf = [0u8; 32];
    let path = c"/sys/devices/system/clocksource/clocksource0/current_clocksource";
    matches!(crate::sys::fs::read_file(path, &mut buf), Ok(n) if buf[..n].trim_ascii_end() == b"tsc")
}

/// CPUID's invariant-TSC bit (leaf 0x8000_0007, EDX bit 8): the counter ticks at a constant
/// rate in every power state.
fn invariant_tsc() -> bool {
    // cpuid is available on every x86_64 CPU; leaf 0x8000_0000 gives the highest extended
    // leaf, checked before 0x8000_0007 is asked for.
    let max = core::arch::x86_64::__cpuid(0x8000_0000).eax;
    max >= 0x8000_0007 && core::arch::x86_64::__cpuid(0x8000_0007).edx & (1 << 8) != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_counter_keeps_monotonic_time() {
        init();
        // Whichever clock was chosen, it runs at CLOCK_MONOTONIC's rate and from its origin.
        let (a, m0) = (now(), monotonic());
        assert!(a.abs_diff(m0) < 1_000_000, "readings 1 ms apart or more: {a} vs {m0}");
        crate::sys::fs::nanosleep(&libc::timespec { tv_sec: 0, tv_nsec: 50_000_000 });
        let (b, m1) = (now(), monotonic());
        let (d, dm) = (b - a, m1 - m0);
        assert!(d.abs_diff(dm) < dm / 100, "50 ms measured as {d} ns by now(), {dm} ns by CLOCK_MONOTONIC");
    }
}
