//! One-time initialization (`pthread_once_t`, an `int`; 0 = `PTHREAD_ONCE_INIT`).
//!
//! Word: 0 = not run; `DONE` (1) = ran; otherwise `tid << 3 | RUNNING` (2), plus `WAITERS` (4)
//! when a caller sleeps on the word: the tid of the thread running the routine.
//!
//! If the running thread ends inside the routine (pthread_exit, cancellation), the once must
//! go back to 0 so that another caller runs it. Each running call is linked, from its own
//! stack frame, on a per-thread list; the thread-exit path calls [`abandon_running`], which
//! resets every once on the list and wakes its sleepers. As a second line of defence (the
//! child of fork(), where the runner does not exist), a caller about to sleep checks that the
//! runner's tid is still a thread of this process and takes over if it is not.

use super::caller::tid;
use super::model::{futex_wait, futex_wake, AtomicU32, Ordering, Scope};
use crate::errno::{Errno, Result};

const DONE: u32 = 1;
const RUNNING: u32 = 2;
const WAITERS: u32 = 4;
const TID_SHIFT: u32 = 3;

/// A once-control word.
#[repr(transparent)]
pub struct Once(AtomicU32);

#[cfg(not(loom))]
const _: () = assert!(core::mem::size_of::<Once>() == core::mem::size_of::<libc::pthread_once_t>());

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
        let me = tid() as u32;
        let mine = (me << TID_SHIFT) | RUNNING;
        loop {
            let s = self.0.load(Ordering::Acquire);
            if s == DONE {
                return Ok(());
            }
            if s == 0 {
                if self.0.compare_exchange(0, mine, Ordering::Acquire, Ordering::Acquire).is_ok() {
                    self.run(init);
                    return Ok(());
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

    fn run(&self, init: impl FnOnce()) {
        let node = running::Node::new(self);
        running::push(&node);
        init();
        running::pop(&node);
        // Release: publishes init's writes to every caller that sees DONE.
        if self.0.swap(DONE, Ordering::Release) & WAITERS != 0 {
            futex_wake(&self.0, i32::MAX, Scope::Private);
        }
    }

    /// Puts the once back to "not run" and wakes its sleepers: its runner is gone.
    fn abandon(&self) {
        if self.0.swap(0, Ordering::Release) & WAITERS != 0 {
            futex_wake(&self.0, i32::MAX, Scope::Private);
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

/// The per-thread list of once routines running (nested calls stack up).
mod running {
    use super::Once;
    use std::cell::Cell;

    /// A list node living in the frame of the running call.
    pub struct Node {
        once: *const Once,
        prev: Cell<*const Node>,
    }

    #[cfg(not(loom))]
    std::thread_local!(static HEAD: Cell<*const Node> = const { Cell::new(core::ptr::null()) });
    #[cfg(loom)]
    loom::thread_local!(static HEAD: Cell<*const Node> = Cell::new(core::ptr::null()));

    impl Node {
        /// A node for `once`, not linked yet.
        pub fn new(once: &Once) -> Node {
            Node { once, prev: Cell::new(core::ptr::null()) }
        }
    }

    /// Links `node` as the newest running call. It must stay in place until [`pop`].
    pub fn push(node: &Node) {
        node.prev.set(HEAD.with(|h| h.replace(node)));
    }

    /// Unlinks the newest node, which must be `node`.
    pub fn pop(node: &Node) {
        HEAD.with(|h| {
            debug_assert!(core::ptr::eq(h.get(), node));
            h.set(node.prev.get())
        });
    }

    /// Unlinks every node, calling `f` on its once (newest first).
    pub fn drain(f: impl Fn(&Once)) {
        let mut p = HEAD.with(|h| h.replace(core::ptr::null()));
        while !p.is_null() {
            // SAFETY: nodes on the list are owned by frames of this thread that have not
            // returned (a returning call pops its node first); the thread is ending, so
            // those frames will never run again and the nodes are leaked, not freed.
            let n = unsafe { &*p };
            // SAFETY: the once outlives the call that is running its routine.
            f(unsafe { &*n.once });
            p = n.prev.get();
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
        let node = running::Node::new(&o);
        running::push(&node);
        o.0.store((tid() as u32) << TID_SHIFT | RUNNING, Ordering::Relaxed);
        abandon_running();
        drop(node);
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
