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
    cache: *mut ListNode,
    cache_size: &'static AtomicUsize,
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
            cache: user.add(16).cast(),
            cache_size: &*user.add(32).cast::<AtomicUsize>(),
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

    /// Links `tcb` into glibc's list of threads (glibc's `list_add`): `_dl_stack_used` for a
    /// stack the library mapped (so glibc makes it executable with its own when a library
    /// that needs an executable stack is loaded), `_dl_stack_user` for the caller's memory,
    /// as glibc sorts its own threads.
    ///
    /// # Safety
    /// `tcb` must be a TCB built by `tcb::init_new`, not on any list.
    pub unsafe fn add(&self, tcb: *mut u8, own_stack: bool) {
        let l = &self.0;
        let list = if own_stack { l.used } else { l.user };
        // SAFETY: we hold the lock; the nodes are valid list nodes.
        unsafe {
            let elem = tcb::field::<ListNode>(tcb, L::LIST);
            l.in_flight.store(elem as usize | 1, Ordering::Relaxed);
            (*elem).next = (*list).next;
            (*elem).prev = list;
            (*(*list).next).prev = elem;
            core::sync::atomic::fence(Ordering::Release);
            (*list).next = elem;
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

/// In the child of fork(): glibc's own child handler (reclaim_stacks) moved every thread of
/// `_dl_stack_used` but the caller into its stack cache, ours included; takes `tcb` (one of
/// ours, which does not exist in the child) out of glibc's cache again, so glibc never
/// reuses or unmaps memory that is ours.
///
/// # Safety
/// Only in the fork child, single-threaded, after glibc's child handler ran.
pub unsafe fn forget_in_child(tcb: *mut u8) {
    let l = lists();
    // SAFETY: single-threaded child; the cache list is glibc's circular list of TCB nodes.
    unsafe {
        let elem = tcb::field::<ListNode>(tcb, L::LIST);
        let mut n = (*l.cache).next;
        while n != l.cache {
            if n == elem {
                (*(*elem).next).prev = (*elem).prev;
                (*(*elem).prev).next = (*elem).next;
                (*elem).next = elem;
                (*elem).prev = elem;
                let size = tcb::stack_block(tcb).size;
                l.cache_size.fetch_sub(size, Ordering::Relaxed);
                return;
            }
            n = (*n).next;
        }
    }
}

/// True once a loaded object needs an executable stack (glibc's `_dl_stack_flags` has
/// PF_X): thread stacks are then mapped executable, as glibc maps its own.
pub fn stacks_executable() -> bool {
    let s = syms();
    // SAFETY: the u32 `_dl_stack_flags` (offset checked by `layout::check`), which ld.so
    // writes under its load lock; a stale read only delays the change to the next stack.
    unsafe {
        let off = *s.db_rtld_slotinfo_list.add(2) as usize - L::RTLD_STACK_FLAGS_BEFORE_SLOTINFO;
        core::ptr::read_volatile(s.rtld_global.add(off).cast::<u32>()) & L::PF_X != 0
    }
}

impl Drop for StackListGuard {
    fn drop(&mut self) {
        lll_unlock(self.0.lock);
    }
}
