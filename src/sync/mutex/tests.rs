//! Unit tests and loom models of the mutex.

#[cfg(all(test, not(loom)))]
mod unit {
    use super::super::*;

    #[test]
    fn normal_lock_unlock_trylock() {
        let m = Mutex::with_kind(NORMAL);
        m.lock().unwrap();
        assert_eq!(m.trylock(), Err(Errno::EBUSY));
        assert_eq!(m.destroy(), Err(Errno::EBUSY));
        m.unlock().unwrap();
        m.trylock().unwrap();
        m.unlock().unwrap();
        m.destroy().unwrap();
        assert_eq!(m.lock(), Err(Errno::EINVAL));
    }

    #[test]
    fn errorcheck_and_recursive() {
        let e = Mutex::with_kind(ERRORCHECK);
        assert_eq!(e.unlock(), Err(Errno::EPERM));
        e.lock().unwrap();
        assert_eq!(e.lock(), Err(Errno::EDEADLK));
        assert_eq!(e.trylock(), Err(Errno::EBUSY));
        e.unlock().unwrap();
        assert_eq!(e.unlock(), Err(Errno::EPERM));
        let r = Mutex::with_kind(RECURSIVE);
        r.lock().unwrap();
        r.lock().unwrap();
        r.trylock().unwrap();
        r.unlock().unwrap();
        r.unlock().unwrap();
        r.unlock().unwrap();
        assert_eq!(r.unlock(), Err(Errno::EPERM));
    }

    #[test]
    fn timed_lock_times_out_and_checks_timespec() {
        let m = Mutex::with_kind(NORMAL);
        m.lock().unwrap();
        let past = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        assert_eq!(m.timedlock(&past, Clock::Monotonic), Err(Errno::ETIMEDOUT));
        let bad = libc::timespec { tv_sec: 0, tv_nsec: 1_000_000_000 };
        assert_eq!(m.timedlock(&bad, Clock::Realtime), Err(Errno::EINVAL));
        m.unlock().unwrap();
    }

    #[test]
    fn threads_exclude_each_other() {
        use std::sync::Arc;
        struct Shared(Mutex, core::cell::UnsafeCell<u64>);
        // SAFETY: the cell is only touched under the mutex.
        unsafe impl Sync for Shared {}
        let s = Arc::new(Shared(Mutex::with_kind(NORMAL), core::cell::UnsafeCell::new(0)));
        let hs: Vec<_> = (0..4)
            .map(|_| {
                let s = s.clone();
                std::thread::spawn(move || {
                    for _ in 0..20_000 {
                        s.0.lock().unwrap();
                        // SAFETY: we hold the mutex.
                        unsafe { *s.1.get() += 1 };
                        s.0.unlock().unwrap();
                    }
                })
            })
            .collect();
        hs.into_iter().for_each(|h| h.join().unwrap());
        // SAFETY: all threads joined.
        assert_eq!(unsafe { *s.1.get() }, 80_000);
    }
}

#[cfg(loom)]
mod model {
    use super::super::*;
    use loom::cell::UnsafeCell;
    use loom::sync::Arc;

    /// Two (and three) threads: the critical sections never overlap and nobody sleeps forever.
    fn exclusion(threads: usize) -> impl Fn() + Sync + Send + 'static {
        move || {
            let m = Arc::new((Mutex::with_kind(NORMAL), UnsafeCell::new(0u32)));
            let hs: Vec<_> = (0..threads)
                .map(|_| {
                    let m = m.clone();
                    loom::thread::spawn(move || {
                        m.0.lock().unwrap();
                        // SAFETY: the cell is only touched with the mutex held (or after the joins).
                        m.1.with_mut(|p| unsafe { *p += 1 });
                        m.0.unlock().unwrap();
                    })
                })
                .collect();
            hs.into_iter().for_each(|h| h.join().unwrap());
            // SAFETY: the cell is only touched with the mutex held (or after the joins).
            m.1.with(|p| assert_eq!(unsafe { *p }, threads as u32));
        }
    }

    #[test]
    fn loom_mutex_two_threads() {
        loom::model(exclusion(2));
    }

    #[test]
    fn loom_mutex_three_threads() {
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(2);
        b.check(exclusion(3));
    }
}
