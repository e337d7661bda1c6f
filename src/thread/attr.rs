//! Thread attributes: the Rust view of a `pthread_attr_t` (56 bytes, our own layout inside
//! glibc's size) and the process-wide defaults (`pthread_{get,set}attr_default_np`).

use alloc::boxed::Box;
use alloc::vec::Vec;
use crate::errno::{Errno, Result};
use crate::lock::Locked;

/// `PTHREAD_STACK_MIN` on x86_64 glibc.
pub const STACK_MIN: usize = 16384;
/// Default stack size when RLIMIT_STACK is unlimited (glibc's ARCH_STACK_DEFAULT_SIZE).
const STACK_DEFAULT_UNLIMITED: usize = 2 * 1024 * 1024;
/// Page size (x86_64 Linux).
pub const PAGE: usize = crate::sys::PAGE;

/// Where the thread's stack comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StackSource {
    /// The library maps (or reuses) one of `Attr::stack_size` bytes plus guard.
    Library,
    /// The caller's memory: `[top - size, top)` (`pthread_attr_setstack`), or only a top
    /// address (`pthread_attr_setstackaddr`, size taken from `stack_size`).
    User {
        /// Highest address (exclusive) of the caller's stack.
        top: usize,
    },
}

/// Attributes of a thread to create. `#[repr(C)]` and at most 56 bytes: it is stored inside
/// the caller's `pthread_attr_t`.
///
/// As glibc's, any bytes are an attr object: nothing marks one pthread_attr_init set up, and
/// every operation works on a zeroed, never-initialized or destroyed one (a zeroed one means
/// what glibc's zeroed one means: joinable, inherited scheduling, SCHED_OTHER, no guard, the
/// default stack size). So the flags are bytes (any value is valid; non-zero is set).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attr {
    /// Unused (keeps the layout explicit).
    pub _reserved: u32,
    /// PTHREAD_CREATE_DETACHED if non-zero.
    pub detached: u8,
    /// PTHREAD_EXPLICIT_SCHED if non-zero.
    pub explicit_sched: u8,
    /// Non-zero once a stack address was set (`pthread_attr_setstack`/`setstackaddr`, glibc's
    /// ATTR_FLAG_STACKADDR): the thread runs on the caller's stack, topped at `stack_top`.
    pub stack_set: u8,
    /// Spare flag byte.
    pub _spare: u8,
    /// Scheduling policy (SCHED_OTHER, SCHED_FIFO, SCHED_RR).
    pub policy: i32,
    /// Scheduling priority.
    pub priority: i32,
    /// Guard size requested (rounded up to pages at creation).
    pub guard_size: usize,
    /// Stack size requested; 0 = the process default at creation time.
    pub stack_size: usize,
    /// Stack top if the caller supplies the stack (see `stack_set`).
    pub stack_top: usize,
    /// Rarely used attributes (signal mask, CPU set), boxed as glibc does; null if none.
    pub ext: *mut AttrExt,
}

/// The attributes that do not fit in `pthread_attr_t` itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AttrExt {
    /// Signal mask for the new thread (kernel 64-bit set), if set.
    pub sigmask: Option<u64>,
    /// CPU affinity of the new thread (`cpu_set_t` bytes), if set.
    pub cpuset: Option<Vec<u8>>,
}


// SAFETY: the cpuset pointer is owned by the attr object and only read.
unsafe impl Send for Attr {}

static DEFAULTS: Locked<Option<Attr>> = Locked::new(None);

fn builtin_default_stack() -> usize {
    let mut rl = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes one rlimit.
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_STACK, &mut rl) } == 0;
    if !ok || rl.rlim_cur == libc::RLIM_INFINITY {
        return STACK_DEFAULT_UNLIMITED;
    }
    (rl.rlim_cur as usize).max(STACK_MIN).next_multiple_of(PAGE)
}

fn builtin_defaults() -> Attr {
    Attr {
        _reserved: 0,
        detached: 0,
        explicit_sched: 0,
        stack_set: 0,
        _spare: 0,
        policy: libc::SCHED_OTHER,
        priority: 0,
        guard_size: PAGE,
        stack_size: builtin_default_stack(),
        stack_top: 0,
        ext: core::ptr::null_mut(),
    }
}

impl Attr {
    /// Runs `f` on the process defaults (the attributes of `attr == NULL`), without copying
    /// their extension.
    pub fn with_defaults<R>(f: impl FnOnce(&Attr) -> R) -> R {
        DEFAULTS.with(|d| f(d.get_or_insert_with(builtin_defaults)))
    }

    /// A copy of the process defaults the caller owns (its extension too: free it with
    /// [`Attr::drop_ext`]), as glibc copies its default attribute for `attr == NULL`.
    pub fn defaults() -> Attr {
        Attr::with_defaults(Attr::deep_copy)
    }

    /// A copy with its own copy of the extension (glibc's `__pthread_attr_copy`).
    pub fn deep_copy(&self) -> Attr {
        let mut a = Attr { ext: core::ptr::null_mut(), ..*self };
        if let Some(e) = self.ext() {
            *a.ext_mut() = e.clone();
        }
        a
    }

    /// Replaces the process defaults (`pthread_setattr_default_np`), as glibc does: every
    /// attribute is taken (CPU set and signal mask included) but a stack address (EINVAL); a
    /// stack size of 0 keeps the current one, others must be at least STACK_MIN; the policy
    /// must be valid, and the priority too when it is above 0.
    pub fn set_defaults(new: &Attr) -> Result<()> {
        if ![libc::SCHED_OTHER, libc::SCHED_FIFO, libc::SCHED_RR].contains(&new.policy) {
            return Err(Errno::EINVAL);
        }
        if new.priority > 0 {
            validate_sched(new.policy, new.priority)?;
        }
        if new.stack_size != 0 && new.stack_size < STACK_MIN {
            return Err(Errno::EINVAL);
        }
        if new.stack_set != 0 {
            return Err(Errno::EINVAL);
        }
        let mut copy = new.deep_copy();
        DEFAULTS.with(|v| {
            let old = v.get_or_insert_with(builtin_defaults);
            if copy.stack_size == 0 {
                copy.stack_size = old.stack_size;
            }
            old.drop_ext();
            *old = copy;
        });
        Ok(())
    }

    /// PTHREAD_CREATE_DETACHED?
    pub fn is_detached(&self) -> bool {
        self.detached != 0
    }

    /// PTHREAD_EXPLICIT_SCHED?
    pub fn is_explicit_sched(&self) -> bool {
        self.explicit_sched != 0
    }

    /// Uses the caller's stack topped at `top` (glibc's ATTR_FLAG_STACKADDR).
    pub fn set_stack_top(&mut self, top: usize) {
        self.stack_top = top;
        self.stack_set = 1;
    }

    /// The stack size a thread created now gets (0 resolves to the process default).
    pub fn effective_stack_size(&self) -> usize {
        if self.stack_size != 0 {
            self.stack_size
        } else {
            Attr::with_defaults(|d| d.stack_size)
        }
    }

    /// What pthread_attr_init produces: zero, guard one page, stack size "default".
    pub fn initial() -> Attr {
        Attr { guard_size: PAGE, stack_size: 0, ..builtin_defaults() }.with_flags_cleared()
    }

    fn with_flags_cleared(self) -> Attr {
        Attr {
            detached: 0,
            explicit_sched: 0,
            stack_set: 0,
            policy: libc::SCHED_OTHER,
            priority: 0,
            stack_top: 0,
            ext: core::ptr::null_mut(),
            ..self
        }
    }

    /// The extension, if any attribute in it was set.
    pub fn ext(&self) -> Option<&AttrExt> {
        // SAFETY: `ext` is null or a Box owned by this attr object (freed by destroy).
        unsafe { self.ext.as_ref() }
    }

    /// The extension, created on first use.
    pub fn ext_mut(&mut self) -> &mut AttrExt {
        if self.ext.is_null() {
            self.ext = Box::into_raw(Box::default());
        }
        // SAFETY: just ensured non-null; owned by this attr object.
        unsafe { &mut *self.ext }
    }

    /// Frees the extension (pthread_attr_destroy).
    pub fn drop_ext(&mut self) {
        if !self.ext.is_null() {
            // SAFETY: created by Box::into_raw in ext_mut and not freed since.
            drop(unsafe { Box::from_raw(self.ext) });
            self.ext = core::ptr::null_mut();
        }
    }

    /// Where the stack comes from.
    pub fn stack(&self) -> StackSource {
        if self.stack_set != 0 {
            StackSource::User { top: self.stack_top }
        } else {
            StackSource::Library
        }
    }
}

/// Locks the process defaults around fork() (a thread inside pthread_create may hold the
/// lock; the child would inherit it locked and its first pthread_create would hang).
pub fn lock_for_fork() {
    DEFAULTS.lock_raw();
}

/// Releases the lock taken by [`lock_for_fork`] (parent and child).
pub fn unlock_after_fork() {
    DEFAULTS.unlock_raw();
}

/// Validates a policy and priority pair as glibc does (priority within the policy's range).
pub fn validate_sched(policy: i32, priority: i32) -> Result<()> {
    if ![libc::SCHED_OTHER, libc::SCHED_FIFO, libc::SCHED_RR].contains(&policy) {
        return Err(Errno::EINVAL);
    }
    // SAFETY: plain queries.
    let (min, max) = unsafe {
        (libc::sched_get_priority_min(policy), libc::sched_get_priority_max(policy))
    };
    if priority < min || priority > max {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_sane() {
        let d = builtin_defaults();
        assert!(d.stack_size >= STACK_MIN);
        assert_eq!(d.stack_size % PAGE, 0);
        assert_eq!(d.guard_size, PAGE);
    }

    #[test]
    fn sched_validation() {
        assert!(validate_sched(libc::SCHED_OTHER, 0).is_ok());
        assert_eq!(validate_sched(libc::SCHED_OTHER, 5), Err(Errno::EINVAL));
        assert!(validate_sched(libc::SCHED_FIFO, 1).is_ok());
        assert_eq!(validate_sched(99, 0), Err(Errno::EINVAL));
    }
}
