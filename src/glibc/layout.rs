//! Offsets into glibc's `struct pthread` (the TCB, `%fs:0` points at it) on x86_64.
//!
//! The values are glibc 2.34..2.39's (measured on 2.36 and 2.39 with debug info). Those that
//! libc publishes through its `_thread_db_*` descriptors are re-read at load and must agree;
//! the others sit between published fields and are covered by checking their neighbours and
//! `sizeof(struct pthread)`.

use alloc::format;
use super::symbols::syms;

/// `header.tcb`: points to the TCB itself.
pub const TCB_SELF_PTR: usize = 0x0;
/// `header.dtv`: the dynamic thread vector, set by `_dl_allocate_tls`.
pub const DTV: usize = 0x8;
/// `header.self`: what glibc's `THREAD_SELF` (and our `pthread_self`) returns.
pub const SELF: usize = 0x10;
/// `header.multiple_threads`.
pub const MULTIPLE_THREADS: usize = 0x18;
/// `header.stack_guard`: the stack protector canary (`%fs:0x28`).
pub const STACK_GUARD: usize = 0x28;
/// `header.pointer_guard`: the key of PTR_MANGLE (setjmp, atexit).
pub const POINTER_GUARD: usize = 0x30;
/// `header.feature_1`: CET state.
pub const FEATURE_1: usize = 0x48;
/// `list`: the node linking the thread into `_dl_stack_used` / `_dl_stack_user`.
pub const LIST: usize = 0x2c0;
/// `tid`: filled and cleared by the kernel (CLONE_PARENT_SETTID / CLONE_CHILD_CLEARTID).
pub const TID: usize = 0x2d0;
/// `robust_prev`.
pub const ROBUST_PREV: usize = 0x2d8;
/// `robust_head`: the kernel robust-futex list head (`struct robust_list_head`, 24 bytes).
pub const ROBUST_HEAD: usize = 0x2e0;
/// `cleanup`: the list of `struct _pthread_cleanup_buffer` (innermost first).
pub const CLEANUP: usize = 0x2f8;
/// `cleanup_jmp_buf`: the chain of `struct pthread_unwind_buf` (innermost first).
pub const CLEANUP_JMP_BUF: usize = 0x300;
/// `flags`: attribute flags; glibc keeps "scheduling cached" bits here (`SCHED_SET`,
/// `POLICY_SET`).
pub const FLAGS: usize = 0x30c;
/// `cancelhandling`: the cancellation state word (bits in `crate::cancel`); glibc's setxid
/// protocol reads the EXITING and SETXID bits here.
pub const CANCELHANDLING: usize = 0x308;
/// `specific_1stblock`: glibc's first block of key data.
pub const SPECIFIC_1STBLOCK: usize = 0x310;
/// `specific[0]`.
pub const SPECIFIC: usize = 0x510;
/// `specific_used`: a key value was stored (glibc's clean-up looks only then).
pub const SPECIFIC_USED: usize = 0x610;
/// `user_stack`: glibc's fork() keeps a thread with this flag on `_dl_stack_user`.
pub const USER_STACK: usize = 0x612;
/// `setxid_futex`.
pub const SETXID_FUTEX: usize = 0x61c;
/// `lock`: a glibc low-level lock guarding the scheduling cache.
pub const LOCK: usize = 0x618;
/// `joinid`: the thread joining this one (glibc: itself when detached).
pub const JOINID: usize = 0x620;
/// `result`: the thread's exit value.
pub const RESULT: usize = 0x628;
/// `schedparam` (`struct sched_param`: the priority).
pub const SCHEDPARAM: usize = 0x630;
/// `schedpolicy` (published; anchors the fields around it).
pub const SCHEDPOLICY: usize = 0x634;
/// `start_routine` (published).
pub const START_ROUTINE: usize = 0x638;
/// `exc`: the `struct _Unwind_Exception` of the thread's forced unwind (32 bytes).
pub const EXC: usize = 0x670;
/// `tpp`: the priority-protect bookkeeping (`struct priority_protection_data *`, calloc'ed).
pub const TPP: usize = 0x6b0;
/// `stackblock`, `stackblock_size`, `guardsize`, `reported_guardsize`.
pub const STACKBLOCK: usize = 0x690;
/// `stackblock_size`.
pub const STACKBLOCK_SIZE: usize = 0x698;
/// `guardsize`.
pub const GUARDSIZE: usize = 0x6a0;
/// `reported_guardsize`.
pub const REPORTED_GUARDSIZE: usize = 0x6a8;
/// `res`: the thread's resolver state (`struct __res_state`).
pub const RES: usize = 0x6b8;
/// `sizeof(struct pthread)` = TLS_TCB_SIZE.
pub const SIZE: usize = 0x940;
/// Alignment of the TCB (TLS_TCB_ALIGN).
pub const ALIGN: usize = 64;
/// `futex_offset` of the robust list: `__lock` minus `__list.__next` in pthread_mutex_t.
pub const ROBUST_FUTEX_OFFSET: isize = -32;

/// glibc's internal signals: SIGCANCEL (pthread_cancel) and SIGSETXID (setuid() & co in every
/// thread). glibc's sigaction refuses them and its pthread_sigmask never blocks them.
pub const SIGCANCEL: i32 = 32;
/// See [`SIGCANCEL`].
pub const SIGSETXID: i32 = 33;

/// The internal signals as bits of the kernel's 64-bit signal set.
pub const fn internal_signal_mask() -> u64 {
    (1u64 << (SIGCANCEL - 1)) | (1u64 << (SIGSETXID - 1))
}

/// glibc's `cancelhandling` bits (nptl/descr.h): the cancellation protocol every thread
/// follows, glibc's own code (its cancellable system calls, its SIGCANCEL handler) and ours.
pub mod cancel_bits {
    /// Cancelability disabled (PTHREAD_CANCEL_DISABLE).
    pub const CANCELSTATE: i32 = 1 << 0;
    /// Asynchronous cancel type (PTHREAD_CANCEL_ASYNCHRONOUS, also set by glibc around its
    /// cancellable system calls).
    pub const CANCELTYPE: i32 = 1 << 1;
    /// A request is being delivered by signal.
    pub const CANCELING: i32 = 1 << 2;
    /// A request is pending.
    pub const CANCELED: i32 = 1 << 3;
    /// The thread is ending (no more cancellation).
    pub const EXITING: i32 = 1 << 4;
    /// The thread's memory was released (glibc's own threads).
    pub const TERMINATED: i32 = 1 << 5;
    /// A setxid() call waits for this thread's reply.
    pub const SETXID: i32 = 1 << 6;
}

/// `flags` bit: `schedparam` holds the thread's priority (ATTR_FLAG_SCHED_SET).
pub const ATTR_FLAG_SCHED_SET: i32 = 0x20;
/// `flags` bit: `schedpolicy` holds the thread's policy (ATTR_FLAG_POLICY_SET).
pub const ATTR_FLAG_POLICY_SET: i32 = 0x40;

/// glibc's cancelhandling bits used by its setxid protocol.
pub const EXITING_BITMASK: i32 = cancel_bits::EXITING;
/// Set while a setxid() call waits for this thread's reply.
pub const SETXID_BITMASK: i32 = cancel_bits::SETXID;

/// Distance from `_dl_stack_flags` to `_dl_tls_dtv_slotinfo_list` in `_rtld_global`.
pub const RTLD_STACK_FLAGS_BEFORE_SLOTINFO: usize = 16;
/// ELF segment flags in `_dl_stack_flags`.
pub const PF_X: u32 = 1;
/// See [`PF_X`].
pub const PF_W: u32 = 2;
/// See [`PF_X`].
pub const PF_R: u32 = 4;

/// Reads one `_thread_db_*` field descriptor (`uint32_t[3]`: bits, count, offset).
fn db_offset(desc: *const u32) -> usize {
    // SAFETY: the descriptor is a 3-element u32 array in libc's read-only data.
    unsafe { *desc.add(2) as usize }
}

/// Checks glibc's published layout against ours; aborts with a message on any difference.
///
/// # Safety
/// [`super::symbols::resolve`] must have run.
pub unsafe fn check() {
    let s = syms();
    let version = s.version();
    let (major, minor) = parse_version(&version);
    if major != 2 || minor < 34 {
        super::fatal(&format!("glibc {version} is not supported (need 2.34 or later)"));
    }
    // SAFETY: `sizeof_pthread` is a u32 in libc's read-only data.
    let size = unsafe { *s.db_sizeof_pthread } as usize;
    let checks = [
        ("sizeof(struct pthread)", size, SIZE),
        ("pthread.list", db_offset(s.db_pthread_list), LIST),
        ("pthread.tid", db_offset(s.db_pthread_tid), TID),
        ("pthread.cancelhandling", db_offset(s.db_pthread_cancelhandling), CANCELHANDLING),
        ("pthread.specific", db_offset(s.db_pthread_specific), SPECIFIC),
        ("pthread.schedpolicy", db_offset(s.db_pthread_schedpolicy), SCHEDPOLICY),
        ("pthread.start_routine", db_offset(s.db_pthread_start_routine), START_ROUTINE),
    ];
    for (name, found, expected) in checks {
        if found != expected {
            super::fatal(&format!(
                "glibc {version}: {name} is at {found:#x}, rpthread knows {expected:#x}; refusing to run"
            ));
        }
    }
    let used = db_offset(s.db_rtld_stack_used);
    let user = db_offset(s.db_rtld_stack_user);
    if user != used + 16 {
        super::fatal(&format!("glibc {version}: unknown _rtld_global stack list layout"));
    }
    // `_dl_stack_flags` (u32) lies RTLD_STACK_FLAGS_BEFORE_SLOTINFO bytes before the published
    // `_dl_tls_dtv_slotinfo_list`, which lies 56 bytes before `_dl_stack_used` (2.34..2.39).
    let slotinfo = db_offset(s.db_rtld_slotinfo_list);
    if slotinfo + 56 != used {
        super::fatal(&format!("glibc {version}: unknown _rtld_global TLS/stack layout"));
    }
    // SAFETY: a u32 inside `_rtld_global` at the offset just checked.
    let flags = unsafe { *s.rtld_global.add(slotinfo - RTLD_STACK_FLAGS_BEFORE_SLOTINFO).cast::<u32>() };
    if flags & !PF_X != PF_R | PF_W {
        super::fatal(&format!("glibc {version}: _dl_stack_flags reads {flags:#x}, not stack permissions"));
    }
}

/// Parses "2.36" (or "2.36.9000") into (2, 36).
pub fn parse_version(v: &str) -> (u32, u32) {
    let mut it = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    (it.next().unwrap_or(0), it.next().unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse() {
        assert_eq!(parse_version("2.36"), (2, 36));
        assert_eq!(parse_version("2.39.9000"), (2, 39));
        assert_eq!(parse_version("junk"), (0, 0));
    }

    #[test]
    fn layout_matches_this_glibc() {
        // SAFETY: resolving symbols and reading libc's descriptors has no side effects.
        unsafe {
            super::super::symbols::resolve();
            check();
        }
    }
}
