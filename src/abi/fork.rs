//! Fork handler registration: pthread_atfork and glibc's `__register_atfork`.

use crate::fork::register;
use libc::c_int;

/// Registers handlers run around fork(): `prepare` before (reverse registration order),
/// `parent` and `child` after (registration order). Any may be null.
///
/// POSIX: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/pthread_atfork.html>.
/// Errors: ENOMEM.
#[no_mangle]
pub extern "C" fn pthread_atfork(
    prepare: Option<unsafe extern "C" fn()>,
    parent: Option<unsafe extern "C" fn()>,
    child: Option<unsafe extern "C" fn()>,
) -> c_int {
    super::ensure_init();
    // SAFETY: no DSO handle.
    unsafe { register(prepare, parent, child, core::ptr::null_mut()) }
}

/// glibc's registration entry point: glibc-built programs link a static pthread_atfork that
/// calls it with their `__dso_handle` (handlers are dropped when that object is unloaded).
///
/// # Safety
/// `dso_handle` must be null or the `__dso_handle` of a loaded object.
#[no_mangle]
pub unsafe extern "C" fn __register_atfork(
    prepare: Option<unsafe extern "C" fn()>,
    parent: Option<unsafe extern "C" fn()>,
    child: Option<unsafe extern "C" fn()>,
    dso_handle: *mut core::ffi::c_void,
) -> c_int {
    super::ensure_init();
    // SAFETY: `dso_handle` is valid as this function's `# Safety` section requires.
    unsafe { register(prepare, parent, child, dso_handle) }
}
