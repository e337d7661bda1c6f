//! Thread-specific data exports: pthread_key_create/delete, pthread_getspecific/setspecific
//! and glibc's `__pthread_*` aliases (imported by programs and by libstdc++).

use super::{nonnull_mut, ret};
use crate::tsd;
use core::ffi::c_void;
use libc::{c_int, pthread_key_t};

/// Creates a key with an optional destructor, storing it in `*key`. The destructor runs at
/// thread exit for each thread whose value for the key is not NULL.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_key_create.html>.
/// Errors: EAGAIN (PTHREAD_KEYS_MAX = 1024 keys exist), EINVAL (null `key`).
///
/// # Safety
/// `key` must be writable.
#[no_mangle]
pub unsafe extern "C" fn pthread_key_create(
    key: *mut pthread_key_t,
    destructor: Option<unsafe extern "C" fn(*mut c_void)>,
) -> c_int {
    // Keys live in glibc's table, reached through glibc's symbols (a malloc the program
    // interposes may make its key before our constructor ran).
    super::ensure_resolved();
    ret((|| {
        // SAFETY: the caller passes a writable key.
        let out = unsafe { nonnull_mut(key) }?;
        *out = tsd::create(destructor)?;
        Ok(())
    })())
}

/// Deletes a key. Values stay with the threads; no destructor runs.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_key_delete.html>.
/// Errors: EINVAL (not a key).
#[no_mangle]
pub extern "C" fn pthread_key_delete(key: pthread_key_t) -> c_int {
    super::ensure_resolved();
    ret(tsd::delete(key))
}

/// The calling thread's value for `key` (NULL if none was set or the key does not exist).
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_getspecific.html>.
#[no_mangle]
pub extern "C" fn pthread_getspecific(key: pthread_key_t) -> *mut c_void {
    tsd::get(key)
}

/// Sets the calling thread's value for `key`.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_setspecific.html>.
/// Errors: EINVAL (not a key), ENOMEM (no memory for the value's slot).
#[no_mangle]
pub extern "C" fn pthread_setspecific(key: pthread_key_t, value: *const c_void) -> c_int {
    ret(tsd::set(key, value as *mut c_void))
}

super::glibc_aliases! {
    __pthread_key_create = pthread_key_create(key: *mut pthread_key_t, destructor: Option<unsafe extern "C" fn(*mut c_void)>) -> c_int;
    __pthread_getspecific = pthread_getspecific(key: pthread_key_t) -> *mut c_void;
    __pthread_setspecific = pthread_setspecific(key: pthread_key_t, value: *const c_void) -> c_int;
}
