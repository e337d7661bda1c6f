//! C objects (`pthread_mutex_t`, `sem_t`, ...) as our types: one table of which Rust type
//! lives in which C type, with the layout checks, and the three ways the exports (`abi`)
//! and the diagnostics' hooks (`diag`) reach them.
//!
//! The sizes match the C types exactly where our type is the whole object, so that an
//! object copied, zeroed or placed in shared memory by C code keeps every byte we use;
//! `pthread_attr_t` holds a smaller `Attr`. Alignment is never stricter than C's. Field
//! offsets that a protocol fixes (glibc's `__kind` at 16 in a mutex, the condvar's `wrefs`,
//! the semaphore's `private`, ...) are checked next to the fields, in `sync`.

use crate::errno::{Errno, Result};
use crate::sync::barrier::Barrier;
use crate::sync::cond::Cond;
use crate::sync::condattr::CondAttr;
use crate::sync::mutex::Mutex;
use crate::sync::mutexattr::MutexAttr;
use crate::sync::once::Once;
use crate::sync::rwlock::{RwLock, RwLockAttr};
use crate::sync::sem::Semaphore;
use crate::sync::spin::SpinLock;
use crate::thread::attr::Attr;
use core::mem::{align_of, size_of};
use libc::c_int;

/// `Self` is the Rust type stored in the bytes of C type `C`.
///
/// # Safety
/// `Self` fits in `C` and is no more aligned than `C` (the table checks both at compile time).
pub unsafe trait CObject<C> {}

macro_rules! c_objects {
    ($($rust:ty => $c:ty, $size:ident;)*) => {$(
        const _: () = {
            assert!(c_objects!(@size $size, size_of::<$rust>(), size_of::<$c>()));
            assert!(align_of::<$rust>() <= align_of::<$c>());
        };
        // SAFETY: size and alignment checked just above.
        unsafe impl CObject<$c> for $rust {}
    )*};
    (@size exact, $r:expr, $c:expr) => { $r == $c };
    (@size within, $r:expr, $c:expr) => { $r <= $c };
}

c_objects! {
    Mutex => libc::pthread_mutex_t, exact;
    MutexAttr => libc::pthread_mutexattr_t, exact;
    Cond => libc::pthread_cond_t, exact;
    CondAttr => libc::pthread_condattr_t, exact;
    RwLock => libc::pthread_rwlock_t, exact;
    RwLockAttr => libc::pthread_rwlockattr_t, exact;
    Barrier => libc::pthread_barrier_t, exact;
    c_int => libc::pthread_barrierattr_t, exact;
    SpinLock => libc::pthread_spinlock_t, exact;
    Semaphore => libc::sem_t, exact;
    Once => libc::pthread_once_t, exact;
    Attr => libc::pthread_attr_t, within;
}

/// The object behind a C pointer, shared; EINVAL for null.
///
/// # Safety
/// `p` is null or points to a live C object holding an `R` (initialized by us, or the
/// all-zero static initializer where `R` allows it), for `'a`; all mutation of `R` through
/// a shared reference is by atomics or interior mutability.
#[inline(always)]
pub unsafe fn obj<'a, R: CObject<C>, C>(p: *const C) -> Result<&'a R> {
    // SAFETY: `R` fits in `C` with no stricter alignment (CObject); the caller vouches that
    // the object is live and holds an `R`.
    unsafe { p.cast::<R>().as_ref() }.ok_or(Errno::EINVAL)
}

/// The object behind a C pointer, exclusive (attribute objects); EINVAL for null.
///
/// # Safety
/// As for [`obj`], and nothing else uses the object during `'a` (the C caller's duty for
/// attribute objects, which POSIX does not make thread-safe).
#[inline]
pub unsafe fn obj_mut<'a, R: CObject<C>, C>(p: *mut C) -> Result<&'a mut R> {
    // SAFETY: as in `obj`; exclusive by the caller's contract.
    unsafe { p.cast::<R>().as_mut() }.ok_or(Errno::EINVAL)
}

/// Stores a fresh `R` in the C object at `p` (the `*_init` functions); EINVAL for null.
///
/// # Safety
/// `p` is null or points to writable memory of C type `C` that no other thread uses during
/// the call (POSIX: initializing an object in use is undefined).
#[inline]
pub unsafe fn init<R: CObject<C>, C>(p: *mut C, value: R) -> Result<()> {
    if p.is_null() {
        return Err(Errno::EINVAL);
    }
    // SAFETY: non-null, writable and unshared (the contract); `R` fits in `C` (CObject). The
    // old bytes are overwritten, not dropped: they are plain C data.
    unsafe { p.cast::<R>().write(value) };
    Ok(())
}
