//! Registration of our threads on glibc's `_dl_stack_user` list.
//!
//! glibc walks `_dl_stack_used` and `_dl_stack_user` to signal every thread in setuid() and
//! friends (SIGSETXID), and to initialize static TLS of a library dlopen'ed later. A thread
//! missing from the lists keeps the old credentials: a security bug. The lists are guarded by
//! `_dl_stack_cache_lock`, a glibc low-level lock (0 free, 1 locked, 2 contended, private
//! futex), and `_dl_in_flight_stack` records a half-done operation for fork().
//!
//! Orderings: the lock is Acquire on lock and Release on unlock, like glibc's lll_lock; inside
//! it the list is plain memory, and `_dl_in_flight_stack` is Relaxed (only fork's child reads
//! it, in a copy of memory taken while no other thread runs).

use super::{layout as L, symbols::syms, tcb};
use super::tcb::{lll_lock, lll_unlock};
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

#[repr(C)]
struct ListNode {
    next: *mut ListNode,
    prev: *mut ListNode,
}

struct Lists {
    used: *mut ListNode,
    user: *mut ListNode,
    lock: &'static AtomicU32,
    in_flight: &'static AtomicUsize,
}

fn lists() -> Lists {
    let s = syms();
    // SAFETY: the descriptor gives `_dl_stack_user`'s offset in `_rtld_global`; glibc 2.34+
    // lays out, after it: _dl_stack_cache (16), _dl_stack_cache_actsize (8),
    // _dl_in_flight_stack (8), _dl_stack_cache_lock (int). `layout::check` verified the
    // neighbouring `_dl_stack_used` offset.
    unsafe {
        let user = s.rtld_global.add(*s.db_rtld_stack_user.add(2) as usize);
        Lists {
            used: user.sub(16).cast(),
            user: user.cast(),
            lock: &*user.add(48).cast::<AtomicU32>(),
            in_flight: &*user.add(40).cast::<AtomicUsize>(),
        }
    }
}

/// Holds `_dl_stack_cache_lock`: no setxid() can be in progress while held. Used around
/// clone so a new thread is on the list (with its tid set) before anyone can miss it.
pub struct StackListGuard(Lists);

impl StackListGuard {
    /// Takes glibc's stack list lock.
    pub fn lock() -> Self {
        let l = lists();
        lll_lock(l.lock);
        StackListGuard(l)
    }

    /// Links `tcb` into `_dl_stack_user` (glibc's `list_add`).
    ///
    /// # Safety
    /// `tcb` must be a TCB built by `tcb::init_new`, not on any list.
    pub unsafe fn add(&self, tcb: *mut u8) {
        let l = &self.0;
        // SAFETY: we hold the lock; the nodes are valid list nodes.
        unsafe {
            let elem = tcb::field::<ListNode>(tcb, L::LIST);
            l.in_flight.store(elem as usize | 1, Ordering::Relaxed);
            (*elem).next = (*l.user).next;
            (*elem).prev = l.user;
            (*(*l.user).next).prev = elem;
            core::sync::atomic::fence(Ordering::Release);
            (*l.user).next = elem;
            l.in_flight.store(0, Ordering::Relaxed);
        }
    }

    /// Unlinks `tcb` (glibc's `list_del`).
    ///
    /// # Safety
    /// `tcb` must be on the list.
    pub unsafe fn remove(&self, tcb: *mut u8) {
        let l = &self.0;
        // SAFETY: we hold the lock and `tcb` is linked.
        unsafe {
            let elem = tcb::field::<ListNode>(tcb, L::LIST);
            l.in_flight.store(elem as usize, Ordering::Relaxed);
            (*(*elem).next).prev = (*elem).prev;
            (*(*elem).prev).next = (*elem).next;
            (*elem).next = elem;
            (*elem).prev = elem;
            l.in_flight.store(0, Ordering::Relaxed);
        }
    }
}

impl StackListGuard {
    /// True if `handle` is the TCB of a thread on one of glibc's lists: a thread glibc
    /// created (`_dl_stack_used`), the main thread, one on a user stack, or one of ours
    /// (`_dl_stack_user`) — alive, or ended and not yet joined.
    pub fn is_listed(&self, handle: usize) -> bool {
        let l = &self.0;
        for head in [l.used, l.user] {
            // SAFETY: we hold the lock; the lists are glibc's circular lists of TCB nodes.
            unsafe {
                let mut n = (*head).next;
                while n != head {
                    if (n as usize).wrapping_sub(L::LIST) == handle {
                        return true;
                    }
                    n = (*n).next;
                }
            }
        }
        false
    }
}

impl Drop for StackListGuard {
    fn drop(&mut self) {
        lll_unlock(self.0.lock);
    }
}
