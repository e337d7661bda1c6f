//! One-time initialization (`pthread_once_t`, an `int`; 0 = `PTHREAD_ONCE_INIT`).
//!
//! Word: 0 = not run; `DONE` (1) = ran; otherwise `tid << 3 | RUNNING` (2), plus `WAITERS` (4)
//! when a caller sleeps on the word: the tid of the thread running the routine.
//!
//! If the running thread ends inside the routine (pthread_exit, cancellation), the once must
//! go back to 0 so that another caller runs it. Each running call records its control on a
//! per-thread stack; the thread-exit path calls [`abandon_running`], which resets every
//! control on the stack still running by this thread and wakes its sleepers. As a second line
//! of defence (the child of fork(), where the runner does not exist), a caller about to sleep
//! checks that the runner's tid is still a thread of this process and takes over if not.
//!
//! A C++ exception thrown by the routine must pass through pthread_once (std::call_once
//! relies on it), but no unwinding may cross a Rust frame (the library is built with
//! panic=abort). So the exported pthread_once runs the routine from a small C function
//! compiled with exceptions (`once_unwind.c`, see `abi::once`), whose cleanup calls
//! [`Once::unwound`] as the exception passes: the control is reset, as glibc does.

use super::caller::tid;
use super::model::{futex_wait, futex_wake, AtomicU32, Ordering, Scope};
use crate::errno::{Errno, Result};

/// The control word of a once whose routine has run (the naked fast path in `abi::once` tests it).
pub const DONE: u32 = 1;
const RUNNING: u32 = 2;
const WAITERS: u32 = 4;
const TID_SHIFT: u32 = 3;

/// A once-control word.
#[repr(transparent)]
pub struct Once(AtomicU32);

impl Once {
    /// `PTHREAD_ONCE_INIT`.
    pub fn new() -> Once {
        Once(AtomicU32::new(0))
    }

    /// Runs `init` if no call ran it to completion yet; returns once it has run.
    /// Errors: EDEADLK when `init` itself calls back into the same once (glibc hangs).
    #[inline]
    pub fn call(&self, init: impl FnOnce()) -> Result<()> {
        // Acquire: pairs with the Release store of DONE, so the caller sees what init wrote.
        if self.0.load(Ordering::Acquire) == DONE {
            return Ok(());
        }
        self.call_slow(init)
    }

    #[cold]
    fn call_slow(&self, init: impl FnOnce()) -> Result<()> {
        if self.begin()? {
            init();
            self.finish();
        }
        Ok(())
    }

    /// Claims the routine for the caller: `Ok(true)` if the caller must run it now (and then
    /// call [`Once::finish`], or [`Once::unwound`] if it does not return), `Ok(false)` once a
    /// call ran it to completion (after waiting for a running one).
    /// Errors: EDEADLK when the caller is the one running it (a recursive call).
    pub fn begin(&self) -> Result<bool> {
        let me = tid() as u32;
        let mine = (me << TID_SHIFT) | RUNNING;
        loop {
            let s = self.0.load(Ordering::Acquire);
            if s == DONE {
                return Ok(false);
            }
            if s == 0 {
                if self.0.compare_exchange(0, mine, Ordering::Acquire, Ordering::Acquire).is_ok() {
                    running::push(self);
                    return Ok(true);
                }
                continue;
            }
            let owner = s >> TID_SHIFT;
            if owner == me {
                return Err(Errno::EDEADLK);
            }
            if !runner_alive(owner as i32) {
                // The runner is gone without finishing (fork child): start over.
                let _ = self.0.compare_exchange(s, 0, Ordering::Relaxed, Ordering::Relaxed);
                continue;
            }
            if s & WAITERS == 0
                && self.0.compare_exchange(s, s | WAITERS, Ordering::Relaxed, Ordering::Relaxed).is_err()
            {
                continue;
            }
            let _ = futex_wait(&self.0, s | WAITERS, None, Scope::Private);
        }
    }

    /// The routine claimed by [`Once::begin`] returned: the once is done.
    pub fn finish(&self) {
        running::pop();
        // Release: publishes init's writes to every caller that sees DONE.
        if self.0.swap(DONE, Ordering::Release) & WAITERS != 0 {
            futex_wake(&self.0, i32::MAX, Scope::Private);
        }
    }

    /// The routine claimed by [`Once::begin`] is being left by unwinding (a C++ exception,
    /// pthread_exit or cancellation): the once goes back to "not run" and its sleepers wake,
    /// so that the next call runs the routine (glibc's behaviour, which std::call_once
    /// relies on to retry after an exception).
    pub fn unwound(&self) {
        running::pop();
        self.abandon();
    }

    /// Puts the once back to "not run" and wakes its sleepers, if the caller is its runner
    /// (the caller is ending).
    fn abandon(&self) {
        let running = ((tid() as u32) << TID_SHIFT) | RUNNING;
        let s = self.0.load(Ordering::Relaxed);
        if s & !WAITERS != running {
            return;
        }
        // Only the runner changes a running control, apart from waiters adding WAITERS.
        match self.0.compare_exchange(s, 0, Ordering::Release, Ordering::Relaxed) {
            Ok(_) if s & WAITERS == 0 => {}
            Ok(_) => {
                futex_wake(&self.0, i32::MAX, Scope::Private);
            }
            Err(_) => {
                // WAITERS was just added.
                self.0.store(0, Ordering::Release);
                futex_wake(&self.0, i32::MAX, Scope::Private);
            }
        }
    }
}

impl Default for Once {
    fn default() -> Self {
        Self::new()
    }
}

/// Resets every once whose routine the calling thread is running. The thread-exit path
/// (pthread_exit and cancellation) calls it before the thread's frames are discarded.
pub fn abandon_running() {
    running::drain(|once| once.abandon());
}

#[cfg(not(loom))]
fn runner_alive(tid: i32) -> bool {
    crate::sys::tgkill(tid, 0) != Err(Errno::ESRCH)
}

#[cfg(loom)]
fn runner_alive(_tid: i32) -> bool {
    true
}

/// The per-thread stack of once controls whose routines are running (nested calls stack up).
/// It holds the controls only, never pointers into frames: a routine left by longjmp leaves
/// a stale entry, which is harmless (its control still says "running by us", and is reset at
/// exit as it should be). Nesting deeper than `MAX` is not tracked.
mod running {
    use super::Once;

    const MAX: usize = 16;

    /// The calling thread's stack: word 0 the depth, words 1..=MAX the controls' addresses,
    /// in initial-exec TLS (a fresh thread reads zeros). Plain loads and stores: only the
    /// thread itself touches them.
    #[cfg(not(loom))]
    mod words {
        use core::arch::{asm, global_asm};

        global_asm!(
            ".section .tbss,\"awT\",@nobits",
            ".p2align 3",
            "rpthread_once_running:",
            ".zero 136",
            ".previous",
        );
        const _: () = assert!((super::MAX + 1) * 8 == 136);

        fn base() -> *mut usize {
            let p: usize;
            // SAFETY: reads the thread pointer (%fs:0 holds its own address on x86_64) and
            // adds this block's initial-exec offset; nothing is written.
            unsafe {
                asm!("mov {0}, qword ptr fs:0",
                     "add {0}, qword ptr [rip + rpthread_once_running@GOTTPOFF]",
                     out(reg) p, options(nostack, readonly))
            };
            p as *mut usize
        }

        /// Word `i` (0..=MAX) of the calling thread.
        pub fn get(i: usize) -> usize {
            debug_assert!(i <= super::MAX);
            // SAFETY: inside the calling thread's 136-byte block.
            unsafe { *base().add(i) }
        }

        /// Sets word `i` (0..=MAX) of the calling thread.
        pub fn set(i: usize, v: usize) {
            debug_assert!(i <= super::MAX);
            // SAFETY: inside the calling thread's 136-byte block.
            unsafe { *base().add(i) = v }
        }
    }

    #[cfg(loom)]
    mod words {
        use core::cell::Cell;

        loom::thread_local! {
            static WORDS: [Cell<usize>; super::MAX + 1] = [(); super::MAX + 1].map(|_| Cell::new(0));
        }

        pub fn get(i: usize) -> usize {
            WORDS.with(|w| w[i].get())
        }

        pub fn set(i: usize, v: usize) {
            WORDS.with(|w| w[i].set(v))
        }
    }

    /// Records that this thread starts running `once`'s routine.
    pub fn push(once: &Once) {
        let d = words::get(0);
        words::set(0, d + 1);
        if d < MAX {
            words::set(1 + d, once as *const Once as usize);
        }
    }

    /// Records that the newest routine returned.
    pub fn pop() {
        words::set(0, words::get(0).saturating_sub(1));
    }

    /// Empties the stack, calling `f` on each control (newest first).
    pub fn drain(f: impl Fn(&Once)) {
        let d = words::get(0).min(MAX);
        words::set(0, 0);
        for i in (0..d).rev() {
            let p = words::get(1 + i) as *const Once;
            // SAFETY: the control of a routine that did not return normally is still live:
            // POSIX forbids freeing a once control while its routine runs.
            f(unsafe { &*p });
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn runs_once_and_detects_recursion() {
        let o = Once::new();
        let mut n = 0;
        o.call(|| {
            n += 1;
            assert_eq!(o.call(|| {}), Err(Errno::EDEADLK));
        })
        .unwrap();
        o.call(|| n += 1).unwrap();
        assert_eq!(n, 1);
    }

    #[test]
    fn abandoned_once_runs_again() {
        let o = Once::new();
        // Simulate a routine that never returns: push, then abandon as thread exit would.
        running::push(&o);
        o.0.store((tid() as u32) << TID_SHIFT | RUNNING, Ordering::Relaxed);
        abandon_running();
        let mut n = 0;
        o.call(|| n += 1).unwrap();
        assert_eq!(n, 1);
    }
}

#[cfg(loom)]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;

    fn racing(threads: usize) {
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(3);
        b.check(move || {
            let o = Arc::new((Once::new(), AtomicU32::new(0)));
            let hs: Vec<_> = (1..threads)
                .map(|_| {
                    let o = o.clone();
                    loom::thread::spawn(move || {
                        o.0.call(|| {
                            o.1.fetch_add(1, Ordering::Relaxed);
                        })
                        .unwrap();
                        assert_eq!(o.1.load(Ordering::Relaxed), 1);
                    })
                })
                .collect();
            o.0.call(|| {
                o.1.fetch_add(1, Ordering::Relaxed);
            })
            .unwrap();
            assert_eq!(o.1.load(Ordering::Relaxed), 1);
            for h in hs {
                h.join().unwrap();
            }
        });
    }

    #[test]
    fn loom_once_two_threads() {
        racing(2);
    }

    #[test]
    fn loom_once_three_threads() {
        racing(3);
    }
}
