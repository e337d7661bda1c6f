//! Unit tests and loom models of the rwlock.

#[cfg(all(test, not(loom)))]
mod unit {
    use super::super::*;

    fn lock(kind: i32) -> RwLock {
        RwLock::new(&RwLockAttr { kind, pshared: 0 })
    }

    #[test]
    fn read_read_write_errors() {
        let l = lock(PREFER_READER);
        l.read(None).unwrap();
        l.read(None).unwrap();
        assert_eq!(l.readers.load(Ordering::Relaxed), 2 * ONE_READER);
        assert_eq!(l.try_write(), Err(Errno::EBUSY));
        l.unlock().unwrap();
        l.unlock().unwrap();
        assert_eq!(l.unlock(), Err(Errno::EPERM));
        l.write(None).unwrap();
        assert_eq!(l.readers.load(Ordering::Relaxed), WRPHASE | WRLOCKED);
        assert_eq!(l.write(None), Err(Errno::EDEADLK));
        assert_eq!(l.read(None), Err(Errno::EDEADLK));
        assert_eq!(l.try_read(), Err(Errno::EBUSY));
        assert_eq!(l.try_write(), Err(Errno::EBUSY));
        l.unlock().unwrap();
        // Idle in a write phase (glibc's state #5); the next reader starts a read phase.
        assert_eq!(l.readers.load(Ordering::Relaxed), WRPHASE);
        l.read(None).unwrap();
        assert_eq!(l.readers.load(Ordering::Relaxed), ONE_READER);
        l.unlock().unwrap();
    }

    #[test]
    fn reader_overflow_is_eagain() {
        let l = lock(PREFER_READER);
        l.readers.store(READER_OVERFLOW - ONE_READER, Ordering::Relaxed);
        assert_eq!(l.read(None), Err(Errno::EAGAIN));
        assert_eq!(l.try_read(), Err(Errno::EAGAIN));
        assert_eq!(l.readers.load(Ordering::Relaxed), READER_OVERFLOW - ONE_READER);
    }

    #[test]
    fn only_nonrecursive_writer_preference_holds_readers_back() {
        for kind in [PREFER_READER, PREFER_WRITER] {
            let l = lock(kind);
            l.read(None).unwrap();
            // A primary writer waits for the readers: simulate its bit.
            l.readers.fetch_or(WRLOCKED, Ordering::Relaxed);
            l.try_read().unwrap();
            l.readers.fetch_sub(ONE_READER, Ordering::Relaxed);
        }
        let n = lock(PREFER_WRITER_NONRECURSIVE);
        n.read(None).unwrap();
        n.readers.fetch_or(WRLOCKED, Ordering::Relaxed);
        assert_eq!(n.try_read(), Err(Errno::EBUSY));
        let ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        assert_eq!(n.read(Some((&ts, crate::sync::model::Clock::Monotonic))), Err(Errno::ETIMEDOUT));
    }
}

/// The protocol has short busy-waits (a thread that registered waits for the phase value the
/// other side stores right after its CAS). A model with two threads that may spin at once
/// lets loom explore schedules in which they take turns forever while the third thread
/// never runs (yields are not preemptions), so the three-thread models keep to roles where
/// at most one thread spins at a time.
#[cfg(loom)]
mod model {
    use super::super::*;
    use loom::sync::Arc;
    use loom::thread;

    fn lock(kind: i32) -> Arc<(RwLock, AtomicU32)> {
        Arc::new((RwLock::new(&RwLockAttr { kind, pshared: 0 }), AtomicU32::new(0)))
    }

    /// `inside` counts writers as 1000 and readers as 1: a writer must see 0, a reader < 1000.
    fn reader(l: &(RwLock, AtomicU32)) {
        l.0.read(None).unwrap();
        let v = l.1.fetch_add(1, Ordering::SeqCst);
        assert!(v < 1000);
        l.1.fetch_sub(1, Ordering::SeqCst);
        l.0.unlock().unwrap();
    }

    fn writer(l: &(RwLock, AtomicU32)) {
        l.0.write(None).unwrap();
        assert_eq!(l.1.fetch_add(1000, Ordering::SeqCst), 0);
        l.1.fetch_sub(1000, Ordering::SeqCst);
        l.0.unlock().unwrap();
    }

    fn model(kind: i32, roles: &'static [bool]) {
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(if roles.len() > 2 { 2 } else { 3 });
        b.check(move || {
            let l = lock(kind);
            let hs: Vec<_> = roles[1..]
                .iter()
                .map(|&w| {
                    let l = l.clone();
                    thread::spawn(move || if w { writer(&l) } else { reader(&l) })
                })
                .collect();
            if roles[0] { writer(&l) } else { reader(&l) }
            for h in hs {
                h.join().unwrap();
            }
            assert_eq!(l.0.readers.load(Ordering::SeqCst) & !(WRPHASE), 0);
        });
    }

    #[test]
    fn loom_rwlock_reader_writer_reader_pref() {
        model(PREFER_READER, &[false, true]);
    }

    #[test]
    fn loom_rwlock_two_writers() {
        model(PREFER_READER, &[true, true]);
    }

    #[test]
    fn loom_rwlock_writer_pref_progress() {
        model(PREFER_WRITER_NONRECURSIVE, &[false, true, false]);
    }

    /// Writer preference: the releasing writer hands WRLOCKED to the registered one.
    #[test]
    fn loom_rwlock_writer_pref_handover() {
        model(PREFER_WRITER, &[true, true]);
    }

    #[test]
    fn loom_rwlock_writer_pref_reader_writer() {
        model(PREFER_WRITER, &[false, true]);
    }

    /// A writer that gives up (timeout) must not leave readers queued behind it asleep, nor
    /// the lock held.
    #[test]
    fn loom_rwlock_timed_writer_gives_up() {
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(2);
        b.check(|| {
            let l = lock(PREFER_WRITER_NONRECURSIVE);
            let lw = l.clone();
            let w = thread::spawn(move || {
                let ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
                if lw.0.write(Some((&ts, crate::sync::model::Clock::Monotonic))).is_ok() {
                    assert_eq!(lw.1.fetch_add(1000, Ordering::SeqCst), 0);
                    lw.1.fetch_sub(1000, Ordering::SeqCst);
                    lw.0.unlock().unwrap();
                }
            });
            let lr = l.clone();
            let r = thread::spawn(move || reader(&lr));
            reader(&l);
            w.join().unwrap();
            r.join().unwrap();
            assert_eq!(l.0.readers.load(Ordering::SeqCst) & !(WRPHASE), 0);
        });
    }

    /// Writer preference: a writer that times out while registered must take a pending
    /// hand-over (or nobody would release WRLOCKED).
    #[test]
    fn loom_rwlock_timed_writer_handover() {
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(2);
        b.check(|| {
            let l = lock(PREFER_WRITER);
            let lw = l.clone();
            let w = thread::spawn(move || {
                let ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
                if lw.0.write(Some((&ts, crate::sync::model::Clock::Monotonic))).is_ok() {
                    assert_eq!(lw.1.fetch_add(1000, Ordering::SeqCst), 0);
                    lw.1.fetch_sub(1000, Ordering::SeqCst);
                    lw.0.unlock().unwrap();
                }
            });
            writer(&l);
            w.join().unwrap();
            reader(&l);
            assert_eq!(l.0.readers.load(Ordering::SeqCst) & !(WRPHASE), 0);
        });
    }
}
