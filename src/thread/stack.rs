//! Thread memory: one mapping per thread, and the cache that recycles them.
//!
//! ```text
//!  base                                                                 base + len
//!  | guard (PROT_NONE) | stack (grows down) ... | static TLS | TCB | Thread |
//!                                             ^ stack top (64-aligned)  ^ 64-aligned
//! ```
//! The descriptor sits above the TCB, so that the creator, which writes both (and the TLS
//! blocks of the modules loaded, just below the TCB), touches one fresh page of a new
//! mapping, as glibc's creator does; the thread's first stack frames fault in the next one
//! themselves. With the descriptor below the static TLS (and its surplus for dlopen), the
//! creator faulted in both top pages: 10,000 threads of 64 KiB created on 2 CPUs took
//! 170-220 ms against glibc's 145-163 ms (the same in total on one CPU: the faults moved
//! from the threads, running on the other CPU, to the creator).
//! A finished thread's mapping goes to the cache (its TCB, TLS and descriptor included) and is
//! handed to the next thread asking for the same size and guard, once the kernel has cleared
//! the old thread's tid (the thread is then fully gone). Like glibc's stack cache, the cache
//! keeps at most [`CACHE_MAX_BYTES`]; beyond that the oldest mappings are unmapped.

use alloc::vec::Vec;
use super::attr::{Attr, StackSource, PAGE};
use super::Thread;
use crate::errno::{Errno, Result};
use crate::glibc::{layout, tcb, tls};
use crate::lock::Locked;
use crate::sys;

/// glibc's default stack cache size (40 MiB).
pub const CACHE_MAX_BYTES: usize = 40 << 20;
/// The least stack a user-supplied stack must leave after TLS and descriptor (glibc's
/// MINIMAL_REST_STACK).
const MIN_REST: usize = 2048;

/// A thread's memory, if the library mapped it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mapping {
    /// Start of the mapping (guard included); 0 if the memory is not ours.
    pub base: usize,
    /// Length of the mapping (whole pages).
    pub len: usize,
    /// Guard bytes at `base`.
    pub guard: usize,
    /// Bytes in use from `base`: guard plus the requested stack size, as glibc's
    /// `stackblock_size` (the TCB sits at the top of it; `len` rounds it up to pages).
    pub used: usize,
}

impl Mapping {
    /// No mapping (user stacks).
    pub const fn none() -> Mapping {
        Mapping { base: 0, len: 0, guard: 0, used: 0 }
    }

    /// Does the library own (and unmap) this memory?
    pub fn owned(&self) -> bool {
        self.base != 0
    }
}

fn round_up(n: usize, to: usize) -> Result<usize> {
    n.checked_next_multiple_of(to).ok_or(Errno::EINVAL)
}

/// Bytes above the stack: descriptor, static TLS, TCB, and alignment slack.
fn top_reserve() -> usize {
    tls::static_size() + tls::static_align() + core::mem::size_of::<Thread>() + 128
}

/// Addresses of TCB and descriptor for a thread memory ending at `top` (64-aligned).
fn carve(top: usize) -> (*mut u8, *mut Thread) {
    let desc = (top - core::mem::size_of::<Thread>()) & !63;
    let tcb = (desc - layout::SIZE) & !(tls::static_align() - 1);
    (tcb as *mut u8, desc as *mut Thread)
}

/// The top of the stack of the thread whose TCB is `tcb` (the start of its static TLS,
/// 64-aligned down).
pub fn stack_top(tcb: *mut u8) -> usize {
    (tcb as usize + layout::SIZE - tls::static_size()) & !63
}

struct Cache {
    entries: Vec<*mut Thread>,
    bytes: usize,
}
// SAFETY: cached descriptors belong to the cache; only the lock holder touches the list.
unsafe impl Send for Cache {}

static CACHE: Locked<Cache> = Locked::new(Cache { entries: Vec::new(), bytes: 0 });

/// Memory and a fresh descriptor for a new thread with these attributes. The TCB and TLS are
/// initialized; the descriptor's start fields are for the caller to fill.
pub fn obtain(attr: &Attr) -> Result<*mut Thread> {
    tls::free_deferred();
    match attr.stack() {
        StackSource::Library => {
            // glibc's allocate_stack: the requested size aligned down to the TLS alignment,
            // plus the guard, holds everything (TCB, static TLS and our descriptor at its
            // top), so pthread_getattr_np reports exactly the size requested; too small a
            // stack for them is EINVAL.
            let guard = round_up(attr.guard_size, PAGE)?;
            let size = attr.effective_stack_size() & !(tls::static_align() - 1);
            let used = guard.checked_add(size).ok_or(Errno::EINVAL)?;
            let least = guard.checked_add(top_reserve() + MIN_REST).ok_or(Errno::EINVAL)?;
            if used < round_up(least, PAGE)? {
                return Err(Errno::EINVAL);
            }
            let len = round_up(used, PAGE)?;
            let map = Mapping { base: 0, len, guard, used };
            match take_cached(map) {
                Some(t) => {
                    super::stats::REUSED.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
                    if crate::glibc::stacklist::stacks_executable() {
                        // Cached before a library needing an executable stack was loaded.
                        // SAFETY: the part of a cached mapping of ours above its guard.
                        unsafe {
                            let m = (*t).mapping;
                            let rwx = libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC;
                            let _ = sys::mprotect((m.base + m.guard) as *mut u8, m.len - m.guard, rwx);
                        }
                    }
                    // SAFETY: the cached thread has exited (tid == 0); its TLS is reusable.
                    unsafe { tls::reinit((*t).tcb) };
                    // SAFETY: `t` is the descriptor slot of that mapping.
                    Ok(unsafe { setup(t, (*t).tcb, (*t).mapping, false) })
                }
                None => map_new(map),
            }
        }
        StackSource::User { top } => {
            let lo = top.checked_sub(attr.effective_stack_size()).ok_or(Errno::EINVAL)?;
            let (tcb, desc) = carve(top & !63);
            if stack_top(tcb) < lo + MIN_REST {
                return Err(Errno::EINVAL);
            }
            // SAFETY: the caller lent us `[lo, top)`; the TCB/TLS area lies inside it.
            if !unsafe { tls::allocate(tcb) } {
                return Err(Errno::EAGAIN);
            }
            // SAFETY: `desc` lies inside the lent memory.
            let t = unsafe { setup(desc, tcb, Mapping::none(), false) };
            // SAFETY: just initialized.
            unsafe {
                (*t).stack_lo = lo;
                (*t).stack_hi = top;
            }
            Ok(t)
        }
    }
}

/// Maps thread memory as glibc's allocate_stack does: with a guard, the whole range is mapped
/// PROT_NONE (nothing committed) and everything above the guard made read-write, which
/// charges it to the system's commit limit. So the overcommit policy applies as it does to
/// glibc's stacks: a request beyond it fails now (EAGAIN) instead of the process being killed
/// when it touches the memory later.
fn map_new(mut map: Mapping) -> Result<*mut Thread> {
    let exec = if crate::glibc::stacklist::stacks_executable() { libc::PROT_EXEC } else { 0 };
    let rw = libc::PROT_READ | libc::PROT_WRITE | exec;
    let prot = if map.guard > 0 { libc::PROT_NONE } else { rw };
    let base = sys::mmap_anon(map.len, prot, libc::MAP_STACK).map_err(|_| Errno::EAGAIN)?;
    map.base = base as usize;
    if map.guard > 0 {
        // SAFETY: the part of our fresh mapping above the guard.
        if unsafe { sys::mprotect(base.add(map.guard), map.len - map.guard, rw) }.is_err() {
            // SAFETY: nothing uses the fresh mapping.
            let _ = unsafe { sys::munmap(base, map.len) };
            return Err(Errno::EAGAIN);
        }
    }
    let (tcb, desc) = carve(map.base + map.used);
    // SAFETY: the TCB and static TLS area lie at the top of the used part of our mapping.
    if !unsafe { tls::allocate(tcb) } {
        // SAFETY: nothing uses the fresh mapping.
        let _ = unsafe { sys::munmap(base, map.len) };
        return Err(Errno::EAGAIN);
    }
    // SAFETY: `desc` is the descriptor slot inside the mapping; the TCB is fresh from mmap.
    Ok(unsafe { setup(desc, tcb, map, true) })
}

/// Writes a fresh descriptor at `desc` and (re)builds the TCB `tcb` above it (`zeroed`: the
/// TCB is fresh from mmap, see `tcb::init_new`).
///
/// # Safety
/// `desc` and `tcb` must be the descriptor slot and TCB of thread memory whose TLS is set up.
unsafe fn setup(desc: *mut Thread, tcb: *mut u8, map: Mapping, zeroed: bool) -> *mut Thread {
    let block = tcb::StackBlock { base: map.base as *mut u8, size: map.used, guard: map.guard };
    // SAFETY: `tcb` has SIZE bytes reserved; `desc` is ours to overwrite.
    unsafe {
        tcb::init_new(tcb, &block, zeroed);
        desc.write(Thread::new(tcb, map));
        if map.owned() {
            (*desc).stack_lo = map.base + map.guard;
            (*desc).stack_hi = map.base + map.used;
            (*desc).guard = map.guard;
        }
        super::set_slot(tcb, desc);
    }
    desc
}

fn take_cached(want: Mapping) -> Option<*mut Thread> {
    CACHE.with(|c| {
        // Room for every live thread's memory to come back without the cache growing: the
        // push in `release` then never allocates, and an ending thread that never used
        // malloc must not (see `tls::may_free_here`).
        c.entries.reserve(super::live().load(core::sync::atomic::Ordering::Relaxed) as usize + 1);
        // Newest first: its pages are the most likely to be resident.
        let i = c.entries.iter().rposition(|&t| {
            // SAFETY: cached descriptors stay valid while in the cache.
            let t = unsafe { &*t };
            let m = t.mapping;
            m.len == want.len && m.guard == want.guard && m.used == want.used && t.tid() == 0
        })?;
        let t = c.entries.swap_remove(i);
        // SAFETY: as above.
        c.bytes -= unsafe { (*t).mapping.len };
        Some(t)
    })
}

/// Returns a finished thread's memory: to the cache for library mappings, to the user for
/// user stacks (after releasing the DTV). The thread may still be running its last
/// instructions (detached self-release); the cache only reuses it once its tid is 0.
///
/// # Safety
/// The thread must have finished running user code and must be out of the registry; for
/// user stacks it must have fully ended (tid == 0).
pub unsafe fn release(t: *mut Thread) {
    // SAFETY: per contract the descriptor is valid.
    let map = unsafe { (*t).mapping };
    if !map.owned() {
        // SAFETY: the thread is gone; its DTV can go.
        unsafe { tls::deallocate((*t).tcb) };
        return;
    }
    // Evicted entries are chained through `next_cached`: no allocation here (this may be an
    // ending thread that must not call malloc, see `tls::may_free_here`).
    // Room is made before this memory enters the cache, and the evicted stacks are unmapped
    // outside the lock (freeing their DTVs may take malloc's locks, which a fork's prepare
    // handlers hold before ours take this lock): while it unmaps, this thread is not in the
    // cache, so other releases never find it "in flight" (released, not yet ended, so not
    // evictable). Measured: unmapping after entering the cache left 1-50 stacks over the limit
    // after 20,000 detached threads ending together, in about 1 run of 20 (VmSize up to
    // 413 MB vs glibc's 35 MB).
    // SAFETY: the evicted entries have ended and left the cache.
    unsafe { unmap_chain(CACHE.with(|c| evict_over(c, CACHE_MAX_BYTES.saturating_sub(map.len)))) };
    let evicted = CACHE.with(|c| {
        c.entries.push(t);
        c.bytes += map.len;
        // Others may have entered meanwhile: the limit holds again.
        evict_over(c, CACHE_MAX_BYTES)
    });
    // SAFETY: as above.
    unsafe { unmap_chain(evicted) };
}

/// Takes the oldest ended entries out of the cache until it holds at most `limit` bytes (or
/// only entries still running), chained through `next_cached`: no allocation here (this may
/// be an ending thread that must not call malloc, see `tls::may_free_here`).
fn evict_over(c: &mut Cache, limit: usize) -> *mut Thread {
    let mut evicted: *mut Thread = core::ptr::null_mut();
    let mut i = 0;
    while c.bytes > limit && i < c.entries.len() {
        // SAFETY: cached descriptors are valid while in the cache (we hold its lock).
        let e = unsafe { &mut *c.entries[i] };
        if e.tid() == 0 {
            c.bytes -= e.mapping.len;
            c.entries.remove(i);
            e.next_cached = evicted;
            evicted = e;
        } else {
            i += 1;
        }
    }
    evicted
}

/// Frees the DTVs and unmaps the memory of a chain of evicted entries.
///
/// # Safety
/// Every entry of the chain has ended (tid 0), left the cache and is referenced by nobody.
unsafe fn unmap_chain(mut evicted: *mut Thread) {
    while !evicted.is_null() {
        // SAFETY: per contract.
        unsafe {
            let e = evicted;
            let m = (*e).mapping;
            evicted = (*e).next_cached;
            tls::deallocate((*e).tcb);
            let _ = sys::munmap(m.base as *mut u8, m.len);
        }
    }
}

/// Lets the kernel drop the pages of the exiting thread's stack below its current frame,
/// keeping the last STACK_MIN bytes (as glibc's `advise_stack_range`).
///
/// # Safety
/// Call from the exiting thread itself, with no live data below its stack pointer.
pub unsafe fn advise_unused(t: &Thread) {
    if !t.mapping.owned() {
        return;
    }
    let sp = &t as *const _ as usize; // an address in the current frame
    let free = (sp - t.mapping.base) & !(PAGE - 1);
    if free > super::attr::STACK_MIN {
        // SAFETY: below sp nothing is live; the range is inside our mapping.
        unsafe { sys::madvise_dontneed(t.mapping.base as *mut u8, free - super::attr::STACK_MIN) };
    }
}

/// Locks the cache around fork().
pub fn lock_for_fork() {
    CACHE.lock_raw();
}

/// Releases the cache lock after fork().
pub fn unlock_after_fork() {
    CACHE.unlock_raw();
}
