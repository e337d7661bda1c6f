//! The glibc and ld.so symbols rpthread uses, found once with `dlsym` at load.
//!
//! Required ones abort the load when missing; optional ones (rseq, newer than 2.34) are null.

use alloc::format;
use alloc::string::String;
use core::ffi::{c_char, c_void, CStr};
use core::mem::MaybeUninit;

/// Resolved addresses. Function pointers are typed; data symbols are raw pointers.
pub struct Syms {
    /// `_dl_allocate_tls(tcb)`: builds the DTV and static TLS below a TCB.
    pub dl_allocate_tls: unsafe extern "C" fn(*mut c_void) -> *mut c_void,
    /// `_dl_allocate_tls_init(tcb, main_thread)`: re-initializes the TLS of a reused TCB
    /// (the second argument exists from 2.39 on; passing `false` is harmless before).
    pub dl_allocate_tls_init: unsafe extern "C" fn(*mut c_void, bool) -> *mut c_void,
    /// `_dl_deallocate_tls(tcb, dealloc_tcb)`.
    pub dl_deallocate_tls: unsafe extern "C" fn(*mut c_void, bool),
    /// `_dl_get_tls_static_info(&size, &align)`.
    pub dl_get_tls_static_info: unsafe extern "C" fn(*mut usize, *mut usize),
    /// `_rtld_global`: ld.so's global state (stack lists live in it).
    pub rtld_global: *mut u8,
    /// `__rseq_offset` (2.35+): where the rseq area is relative to the thread pointer.
    pub rseq_offset: *const isize,
    /// `__rseq_size` (2.35+): 0 when glibc has rseq disabled.
    pub rseq_size: *const u32,
    /// `__libc_stack_end`: an address inside the main thread's initial stack.
    pub libc_stack_end: *const *mut c_void,
    /// `gnu_get_libc_version()`.
    pub gnu_get_libc_version: unsafe extern "C" fn() -> *const c_char,
    /// `__call_tls_dtors()`: runs C++ `thread_local` destructors of the calling thread.
    pub call_tls_dtors: unsafe extern "C" fn(),
    /// `__ctype_init()`: points the thread's ctype tables at its locale.
    pub ctype_init: unsafe extern "C" fn(),
    /// `__resp` (TLS): address of the calling thread's `__resp` slot.
    pub resp_slot: *mut *mut c_void,
    /// `__libc_malloc`: glibc's own malloc, even when the program interposes another one
    /// (jemalloc, tcmalloc); used only to find glibc malloc's per-thread words.
    pub libc_malloc: unsafe extern "C" fn(usize) -> *mut c_void,
    /// `__libc_free`: glibc's own free, the pair of `libc_malloc`.
    pub libc_free: unsafe extern "C" fn(*mut c_void),
    /// glibc's own `pthread_create`, used only to switch glibc into multi-threaded mode.
    pub real_pthread_create: unsafe extern "C" fn(
        *mut libc::pthread_t,
        *const libc::pthread_attr_t,
        extern "C" fn(*mut c_void) -> *mut c_void,
        *mut c_void,
    ) -> i32,
    /// glibc's own `pthread_attr_init`, `pthread_attr_setstack` and `pthread_attr_destroy`:
    /// the bootstrap thread runs on a stack we lend it (glibc's attr layout is not ours).
    pub real_pthread_attr_init: unsafe extern "C" fn(*mut libc::pthread_attr_t) -> i32,
    /// See `real_pthread_attr_init`.
    pub real_pthread_attr_setstack: unsafe extern "C" fn(*mut libc::pthread_attr_t, *mut c_void, usize) -> i32,
    /// See `real_pthread_attr_init`.
    pub real_pthread_attr_destroy: unsafe extern "C" fn(*mut libc::pthread_attr_t) -> i32,
    /// glibc's own `pthread_cancel`: for a thread that cancels itself while glibc is still in
    /// single-threaded mode (`super::cancel_self_single_threaded`).
    pub real_pthread_cancel: unsafe extern "C" fn(libc::pthread_t) -> i32,
    /// glibc's own `pthread_exit`: how a thread glibc created (not the main thread) leaves
    /// when it calls our pthread_exit, so glibc frees what it allocated for it.
    pub real_pthread_exit: unsafe extern "C" fn(*mut c_void) -> !,
    /// glibc's own `pthread_join`: for the bootstrap thread, and for the threads glibc runs
    /// (their memory is glibc's), as `pthread_tryjoin_np`, `pthread_clockjoin_np` and
    /// `pthread_detach` below.
    pub real_pthread_join: unsafe extern "C" fn(libc::pthread_t, *mut *mut c_void) -> i32,
    /// glibc's own `pthread_tryjoin_np`.
    pub real_pthread_tryjoin_np: unsafe extern "C" fn(libc::pthread_t, *mut *mut c_void) -> i32,
    /// glibc's own `pthread_clockjoin_np`.
    pub real_pthread_clockjoin_np:
        unsafe extern "C" fn(libc::pthread_t, *mut *mut c_void, libc::clockid_t, *const libc::timespec) -> i32,
    /// glibc's own `pthread_detach`.
    pub real_pthread_detach: unsafe extern "C" fn(libc::pthread_t) -> i32,
    /// glibc's own `pthread_key_create`: the one glibc key whose destructor runs ours in
    /// threads glibc ends (see `crate::tsd`).
    pub real_pthread_key_create: unsafe extern "C" fn(*mut u32, Option<unsafe extern "C" fn(*mut c_void)>) -> i32,
    /// glibc's own `pthread_key_delete`, should that key not get index 0.
    pub real_pthread_key_delete: unsafe extern "C" fn(u32) -> i32,
    /// glibc's own `pthread_setspecific`, for that key.
    pub real_pthread_setspecific: unsafe extern "C" fn(u32, *const c_void) -> i32,
    /// glibc's `__register_atfork`: how our fork handlers get into glibc's fork().
    pub real_register_atfork: unsafe extern "C" fn(
        Option<unsafe extern "C" fn()>,
        Option<unsafe extern "C" fn()>,
        Option<unsafe extern "C" fn()>,
        *mut c_void,
    ) -> i32,
    /// `__cxa_thread_atexit_impl(dtor, obj, dso)`: runs `dtor(obj)` when the calling thread
    /// exits (glibc runs it from `__call_tls_dtors`, for glibc's threads and ours).
    pub cxa_thread_atexit_impl: unsafe extern "C" fn(unsafe extern "C" fn(*mut c_void), *mut c_void, *mut c_void) -> i32,
    /// `__nptl_nthreads`: glibc's count of live threads (the main thread, glibc's and ours).
    pub nptl_nthreads: *mut i32,
    /// `_thread_db_sizeof_pthread`.
    pub db_sizeof_pthread: *const u32,
    /// `_thread_db_pthread_list`.
    pub db_pthread_list: *const u32,
    /// `_thread_db_pthread_tid`.
    pub db_pthread_tid: *const u32,
    /// `_thread_db_pthread_cancelhandling`.
    pub db_pthread_cancelhandling: *const u32,
    /// `_thread_db_pthread_specific`.
    pub db_pthread_specific: *const u32,
    /// `_thread_db_pthread_schedpolicy`.
    pub db_pthread_schedpolicy: *const u32,
    /// `_thread_db_pthread_start_routine`.
    pub db_pthread_start_routine: *const u32,
    /// `_thread_db_rtld_global__dl_stack_used`.
    pub db_rtld_stack_used: *const u32,
    /// `_thread_db_rtld_global__dl_stack_user`.
    pub db_rtld_stack_user: *const u32,
    /// `_thread_db_rtld_global__dl_tls_dtv_slotinfo_list` (anchors `_dl_stack_flags`).
    pub db_rtld_slotinfo_list: *const u32,
}

// SAFETY: the addresses are immutable after `resolve` and point at process-global objects.
unsafe impl Sync for Syms {}

static mut SYMS: MaybeUninit<Syms> = MaybeUninit::uninit();

/// The resolved symbols.
#[inline]
pub fn syms() -> &'static Syms {
    // SAFETY: `resolve` runs in the library constructor before anything else of ours, and
    // SYMS is never written again.
    unsafe { (*core::ptr::addr_of!(SYMS)).assume_init_ref() }
}

fn lookup(handle: *mut c_void, name: &CStr) -> *mut c_void {
    // SAFETY: dlsym with a valid handle and a NUL-terminated name.
    unsafe { libc::dlsym(handle, name.as_ptr()) }
}

fn required(handle: *mut c_void, name: &CStr) -> *mut c_void {
    let p = lookup(handle, name);
    if p.is_null() {
        super::fatal(&format!("glibc does not provide {name:?}; refusing to run"));
    }
    p
}

/// `p` as a function pointer of type `F` (the field's type at each use).
///
/// # Safety
/// `F` is a function pointer type that describes the function at `p`.
unsafe fn fn_ptr<F: Copy>(p: *mut c_void) -> F {
    const { assert!(core::mem::size_of::<F>() == core::mem::size_of::<*mut c_void>()) };
    // SAFETY: same size (checked above); the caller vouches for the type.
    unsafe { core::mem::transmute_copy::<*mut c_void, F>(&p) }
}

/// Looks every symbol up. Aborts if a required one is missing.
///
/// # Safety
/// Call once, before any other function of this module, with no thread of ours running.
pub unsafe fn resolve() {
    let d = libc::RTLD_DEFAULT;
    let n = libc::RTLD_NEXT;
    macro_rules! f {
        ($h:expr, $name:literal) => {
            // SAFETY: the symbol is the glibc function of that name, whose C signature the
            // field's type spells out.
            unsafe { fn_ptr(required($h, $name)) }
        };
    }
    let s = Syms {
        dl_allocate_tls: f!(d, c"_dl_allocate_tls"),
        dl_allocate_tls_init: f!(d, c"_dl_allocate_tls_init"),
        dl_deallocate_tls: f!(d, c"_dl_deallocate_tls"),
        dl_get_tls_static_info: f!(d, c"_dl_get_tls_static_info"),
        rtld_global: required(d, c"_rtld_global").cast(),
        rseq_offset: lookup(d, c"__rseq_offset").cast(),
        rseq_size: lookup(d, c"__rseq_size").cast(),
        libc_stack_end: required(d, c"__libc_stack_end").cast(),
        gnu_get_libc_version: f!(d, c"gnu_get_libc_version"),
        call_tls_dtors: f!(d, c"__call_tls_dtors"),
        ctype_init: f!(d, c"__ctype_init"),
        resp_slot: required(d, c"__resp").cast(),
        libc_malloc: f!(d, c"__libc_malloc"),
        libc_free: f!(d, c"__libc_free"),
        real_pthread_create: f!(n, c"pthread_create"),
        real_pthread_join: f!(n, c"pthread_join"),
        real_pthread_tryjoin_np: f!(n, c"pthread_tryjoin_np"),
        real_pthread_clockjoin_np: f!(n, c"pthread_clockjoin_np"),
        real_pthread_detach: f!(n, c"pthread_detach"),
        real_pthread_attr_init: f!(n, c"pthread_attr_init"),
        real_pthread_attr_setstack: f!(n, c"pthread_attr_setstack"),
        real_pthread_attr_destroy: f!(n, c"pthread_attr_destroy"),
        real_pthread_exit: f!(n, c"pthread_exit"),
        real_pthread_cancel: f!(n, c"pthread_cancel"),
        real_pthread_key_create: f!(n, c"pthread_key_create"),
        real_pthread_key_delete: f!(n, c"pthread_key_delete"),
        real_pthread_setspecific: f!(n, c"pthread_setspecific"),
        real_register_atfork: f!(n, c"__register_atfork"),
        cxa_thread_atexit_impl: f!(d, c"__cxa_thread_atexit_impl"),
        nptl_nthreads: required(d, c"__nptl_nthreads").cast(),
        db_sizeof_pthread: required(d, c"_thread_db_sizeof_pthread").cast(),
        db_pthread_list: required(d, c"_thread_db_pthread_list").cast(),
        db_pthread_tid: required(d, c"_thread_db_pthread_tid").cast(),
        db_pthread_cancelhandling: required(d, c"_thread_db_pthread_cancelhandling").cast(),
        db_pthread_specific: required(d, c"_thread_db_pthread_specific").cast(),
        db_pthread_schedpolicy: required(d, c"_thread_db_pthread_schedpolicy").cast(),
        db_pthread_start_routine: required(d, c"_thread_db_pthread_start_routine").cast(),
        db_rtld_stack_used: required(d, c"_thread_db_rtld_global__dl_stack_used").cast(),
        db_rtld_stack_user: required(d, c"_thread_db_rtld_global__dl_stack_user").cast(),
        db_rtld_slotinfo_list: required(d, c"_thread_db_rtld_global__dl_tls_dtv_slotinfo_list").cast(),
    };
    // SAFETY: single-threaded initialization (see the function's contract).
    unsafe { (*core::ptr::addr_of_mut!(SYMS)).write(s) };
}

impl Syms {
    /// glibc's version string, e.g. "2.36".
    pub fn version(&self) -> String {
        // SAFETY: gnu_get_libc_version returns a static NUL-terminated string.
        unsafe { CStr::from_ptr((self.gnu_get_libc_version)()) }.to_string_lossy().into_owned()
    }
}
