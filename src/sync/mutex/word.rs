//! The 3-state lock word of the plain kinds (see the module comment of `sync::mutex`).

use super::*;
use super::super::model::futex_wake;

/// One CAS: takes a free lock.
#[inline(always)]
pub fn try_lock(w: &AtomicU32) -> bool {
    // Acquire: the critical section sees the previous holder's writes.
    w.compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed).is_ok()
}

/// [`try_lock`] for a process-private word: while the caller is the only thread, a plain
/// load and store do (glibc's single-threaded optimization); no other thread can exist
/// to race with them, and one created later starts after this store (clone orders it).
#[inline(always)]
pub fn try_lock_private(w: &AtomicU32) -> bool {
    if crate::glibc::solo::alone() {
        if w.load(Ordering::Relaxed) != 0 {
            return false;
        }
        w.store(1, Ordering::Relaxed);
        return true;
    }
    try_lock(w)
}

/// [`unlock`] for a process-private word, with the same single-threaded shortcut (a word
/// of 2 still takes the full path: a sleeper may have been left by a thread now gone).
#[inline(always)]
pub fn unlock_private(w: &AtomicU32) {
    if crate::glibc::solo::alone() && w.load(Ordering::Relaxed) == 1 {
        w.store(0, Ordering::Relaxed);
        return;
    }
    unlock(w, Scope::Private)
}

/// The contended path: a bounded spin that only reads the word (no cache-line ping-pong)
/// and tries when it sees the lock free, as long as nobody sleeps yet; then sleep with
/// the contended state.
#[cold]
#[inline(never)]
pub fn lock_slow(w: &AtomicU32, scope: Scope, deadline: Deadline) -> Result<()> {
    crate::glibc::solo::note_wait();
    let mut v = w.load(Ordering::Relaxed);
    // SPINS is 0 outside loom (see its doc): the loop is kept for multi-core measurement.
    #[allow(clippy::reversed_empty_ranges)]
    for _ in 0..SPINS {
        v = w.load(Ordering::Relaxed);
        if v == 0 && try_lock(w) {
            return Ok(());
        }
        // Sleepers queued already: the lock is busy enough that spinning would only
        // race the thread the next unlock wakes. Queue behind them instead.
        if v == 2 {
            break;
        }
        spin_hint();
    }
    // With sleepers known, sleep first rather than write the word (a swap would pull
    // the cache line away from the holder, who needs it to unlock).
    // A deadline is first looked at here, as glibc's futex wait does: ETIMEDOUT for a
    // negative `tv_sec`, then the kernel's EINVAL for a bad `tv_nsec`.
    if v == 2 {
        if let Err(e @ (Errno::ETIMEDOUT | Errno::EINVAL)) = futex_wait(w, 2, deadline, scope) {
            return Err(e);
        }
    }
    loop {
        if w.swap(2, Ordering::Acquire) == 0 {
            return Ok(());
        }
        if let Err(e @ (Errno::ETIMEDOUT | Errno::EINVAL)) = futex_wait(w, 2, deadline, scope) {
            return Err(e);
        }
    }
}

/// Locks with the contended state from the start: for threads that slept on this word
/// or may have been requeued onto it by a condition variable, so that whoever unlocks
/// next wakes the sleepers still behind them.
pub fn lock_contended(w: &AtomicU32, scope: Scope) {
    while w.swap(2, Ordering::Acquire) != 0 {
        let _ = futex_wait(w, 2, None, scope);
    }
}

/// Locks for a condition waiter that left with a broadcast, i.e. that may have been
/// requeued onto this word with others still asleep behind it. Spins briefly (taking a
/// free lock as contended, 0→2), else sleeps as [`lock_contended`]. Once it holds the lock
/// it wakes the next sleeper at once, so that one is awake and spinning when this thread
/// unlocks: a broadcast's waiters then pass the mutex on without paying a wake-up latency
/// per hand-over. If a sleeper was woken, it becomes the one responsible for the sleepers
/// behind it (it will lock the same way, or sleep with the word at 2), so the word goes
/// back to 1 first and our unlock needs no system call.
pub fn lock_requeued(w: &AtomicU32, scope: Scope) {
    let mut got = false;
    for _ in 0..HANDOVER_SPINS {
        if w.load(Ordering::Relaxed) == 0
            && w.compare_exchange(0, 2, Ordering::Acquire, Ordering::Relaxed).is_ok()
        {
            got = true;
            break;
        }
        spin_hint();
    }
    if !got {
        lock_contended(w, scope);
    }
    // First 2→1, then the wake: whoever slept before the CAS is still asleep at the wake,
    // so either the wake reaches one of them, and that thread (awake now) will lock the
    // same way or sleep with the word at 2 again, or there was no sleeper to answer for.
    // Anyone who goes to sleep after the CAS sets 2 itself. (The other order loses a
    // wake-up: the woken thread may sleep again, with 2, before a late 2→1.)
    let _ = w.compare_exchange(2, 1, Ordering::Relaxed, Ordering::Relaxed);
    futex_wake(w, 1, scope);
}

/// Releases the lock; wakes one sleeper if there may be any. Release: publishes the
/// critical section to the next holder.
#[inline(always)]
pub fn unlock(w: &AtomicU32, scope: Scope) {
    if w.swap(0, Ordering::Release) == 2 {
        futex_wake(w, 1, scope);
    }
}
