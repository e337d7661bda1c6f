//! Unit tests and loom models of the process-shared condvar.

#[cfg(all(test, not(loom)))]
mod unit {
    use super::super::*;
    use std::sync::Arc;

    struct Shared {
        m: Mutex,
        c: SharedCond,
        v: core::cell::UnsafeCell<u32>,
    }
    // SAFETY: `v` is only touched under `m`.
    unsafe impl Sync for Shared {}
    // SAFETY: as above.
    unsafe impl Send for Shared {}

    fn signals(c: &SharedCond) -> [u32; 2] {
        [c.g_signals[0].load(Ordering::Relaxed), c.g_signals[1].load(Ordering::Relaxed)]
    }

    #[test]
    fn timed_wait_times_out_with_mutex_held_and_leaves_no_trace() {
        let m = Mutex::with_kind(0);
        let c = SharedCond::new_for_test();
        m.lock().unwrap();
        let ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        assert_eq!(c.wait(&m, Some((&ts, Clock::Monotonic))), Err(Errno::ETIMEDOUT));
        assert_eq!(m.trylock(), Err(Errno::EBUSY));
        m.unlock().unwrap();
        // One position used in G2 (slot 0, which shrank by one), nobody inside any more.
        assert_eq!(c.wseq.load(Ordering::Relaxed), 2);
        assert_eq!(c.g_size[0].load(Ordering::Relaxed), u32::MAX);
        assert_eq!(c.wrefs.load(Ordering::Relaxed), 0);
        // Nobody waits: signal and broadcast store no signal.
        c.signal();
        c.broadcast();
        assert_eq!(signals(&c), [0, 0]);
        c.destroy().unwrap();
    }

    #[test]
    fn errorcheck_wait_without_owning_is_eperm() {
        let m = Mutex::with_kind(2);
        let c = SharedCond::new_for_test();
        assert_eq!(c.wait(&m, None), Err(Errno::EPERM));
        assert_eq!(c.wrefs.load(Ordering::Relaxed), 0);
        c.signal();
        c.destroy().unwrap();
    }

    #[test]
    fn broadcast_wakes_all() {
        let s = Arc::new(Shared { m: Mutex::with_kind(0), c: SharedCond::new_for_test(), v: 0.into() });
        let hs: Vec<_> = (0..8)
            .map(|_| {
                let s = s.clone();
                std::thread::spawn(move || {
                    s.m.lock().unwrap();
                    // SAFETY: under the mutex.
                    while unsafe { *s.v.get() } == 0 {
                        s.c.wait(&s.m, None).unwrap();
                    }
                    s.m.unlock().unwrap();
                })
            })
            .collect();
        std::thread::sleep(std::time::Duration::from_millis(20));
        s.m.lock().unwrap();
        // SAFETY: under the mutex.
        unsafe { *s.v.get() = 1 };
        s.c.broadcast();
        s.m.unlock().unwrap();
        hs.into_iter().for_each(|h| h.join().unwrap());
        s.c.destroy().unwrap();
        assert_eq!(s.c.wrefs.load(Ordering::Relaxed), DESTROYING);
    }
}

#[cfg(loom)]
mod model {
    use super::super::*;
    use loom::cell::UnsafeCell;
    use loom::sync::Arc;

    struct Shared {
        m: Mutex,
        c: SharedCond,
        v: UnsafeCell<u32>,
    }

    /// Waiters that check a predicate under the mutex, and one thread that sets it and
    /// signals (or broadcasts): nobody may sleep forever (loom reports a deadlock if a
    /// wake-up is lost).
    fn model(waiters: usize, broadcast: bool) {
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(2);
        b.check(move || {
            let s = Arc::new(Shared { m: Mutex::with_kind(0), c: SharedCond::new_for_test(), v: UnsafeCell::new(0) });
            let hs: Vec<_> = (0..waiters)
                .map(|_| {
                    let s = s.clone();
                    loom::thread::spawn(move || {
                        s.m.lock().unwrap();
                        // SAFETY: the cell is only touched with the mutex held (or after the joins).
                        while s.v.with(|p| unsafe { *p }) == 0 {
                            s.c.wait(&s.m, None).unwrap();
                        }
                        if !broadcast {
                            // SAFETY: the cell is only touched with the mutex held (or after the joins).
                            s.v.with_mut(|p| unsafe { *p -= 1 });
                        }
                        s.m.unlock().unwrap();
                    })
                })
                .collect();
            if broadcast {
                s.m.lock().unwrap();
                // SAFETY: the cell is only touched with the mutex held (or after the joins).
                s.v.with_mut(|p| unsafe { *p = 1 });
                s.c.broadcast();
                s.m.unlock().unwrap();
            } else {
                for _ in 0..waiters {
                    s.m.lock().unwrap();
                    // SAFETY: the cell is only touched with the mutex held (or after the joins).
                    s.v.with_mut(|p| unsafe { *p += 1 });
                    s.c.signal();
                    s.m.unlock().unwrap();
                }
            }
            hs.into_iter().for_each(|h| h.join().unwrap());
        });
    }

    #[test]
    fn loom_cond_signal_one_waiter() {
        model(1, false);
    }

    #[test]
    fn loom_cond_signal_two_waiters() {
        model(2, false);
    }

    #[test]
    fn loom_cond_broadcast_two_waiters() {
        model(2, true);
    }

    #[test]
    fn loom_cond_broadcast_three_waiters() {
        model(3, true);
    }

    /// A timed-out wait (the model's deadlines expire at once) must not swallow or owe a
    /// wake-up: one waiter times out first and then waits plainly, another waits plainly,
    /// two signals must release both.
    #[test]
    fn loom_cond_timeout_then_signals() {
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(2);
        b.check(|| {
            let s = Arc::new(Shared { m: Mutex::with_kind(0), c: SharedCond::new_for_test(), v: UnsafeCell::new(0) });
            let hs: Vec<_> = (0..2)
                .map(|i| {
                    let s = s.clone();
                    loom::thread::spawn(move || {
                        let ts = libc::timespec { tv_sec: 1, tv_nsec: 0 };
                        s.m.lock().unwrap();
                        // SAFETY: the cell is only touched with the mutex held (or after the joins).
                        if i == 0 && s.v.with(|p| unsafe { *p }) == 0 {
                            let r = s.c.wait(&s.m, Some((&ts, Clock::Monotonic)));
                            assert!(r == Ok(()) || r == Err(Errno::ETIMEDOUT));
                        }
                        // SAFETY: the cell is only touched with the mutex held (or after the joins).
                        while s.v.with(|p| unsafe { *p }) == 0 {
                            s.c.wait(&s.m, None).unwrap();
                        }
                        // SAFETY: the cell is only touched with the mutex held (or after the joins).
                        s.v.with_mut(|p| unsafe { *p -= 1 });
                        s.m.unlock().unwrap();
                    })
                })
                .collect();
            for _ in 0..2 {
                s.m.lock().unwrap();
                // SAFETY: the cell is only touched with the mutex held (or after the joins).
                s.v.with_mut(|p| unsafe { *p += 1 });
                s.c.signal();
                s.m.unlock().unwrap();
            }
            hs.into_iter().for_each(|h| h.join().unwrap());
        });
    }

    /// Two consumers take two tokens each from a producer that signals each one: waits span
    /// several group switches, and a waiter can take a signal from the newer group in its
    /// slot (then gives one back). Every token must be consumed.
    #[test]
    fn loom_cond_group_switches() {
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(2);
        b.check(|| {
            let s = Arc::new(Shared { m: Mutex::with_kind(0), c: SharedCond::new_for_test(), v: UnsafeCell::new(0) });
            let hs: Vec<_> = (0..2)
                .map(|_| {
                    let s = s.clone();
                    loom::thread::spawn(move || {
                        for _ in 0..2 {
                            s.m.lock().unwrap();
                            // SAFETY: the cell is only touched with the mutex held.
                            while s.v.with(|p| unsafe { *p }) == 0 {
                                s.c.wait(&s.m, None).unwrap();
                            }
                            // SAFETY: the cell is only touched with the mutex held.
                            s.v.with_mut(|p| unsafe { *p -= 1 });
                            s.m.unlock().unwrap();
                        }
                    })
                })
                .collect();
            for _ in 0..4 {
                s.m.lock().unwrap();
                // SAFETY: the cell is only touched with the mutex held.
                s.v.with_mut(|p| unsafe { *p += 1 });
                s.c.signal();
                s.m.unlock().unwrap();
            }
            hs.into_iter().for_each(|h| h.join().unwrap());
            s.c.destroy().unwrap();
        });
    }

    /// Broadcast with a plain locker of the same mutex in the mix.
    #[test]
    fn loom_cond_broadcast_with_plain_locker() {
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(2);
        b.check(|| {
            let s = Arc::new(Shared { m: Mutex::with_kind(0), c: SharedCond::new_for_test(), v: UnsafeCell::new(0) });
            let mut hs: Vec<_> = (0..2)
                .map(|_| {
                    let s = s.clone();
                    loom::thread::spawn(move || {
                        s.m.lock().unwrap();
                        // SAFETY: the cell is only touched with the mutex held (or after the joins).
                        while s.v.with(|p| unsafe { *p }) == 0 {
                            s.c.wait(&s.m, None).unwrap();
                        }
                        s.m.unlock().unwrap();
                    })
                })
                .collect();
            let p = s.clone();
            hs.push(loom::thread::spawn(move || {
                p.m.lock().unwrap();
                p.m.unlock().unwrap();
            }));
            s.m.lock().unwrap();
            // SAFETY: the cell is only touched with the mutex held (or after the joins).
            s.v.with_mut(|p| unsafe { *p = 1 });
            s.c.broadcast();
            s.m.unlock().unwrap();
            hs.into_iter().for_each(|h| h.join().unwrap());
        });
    }
}
