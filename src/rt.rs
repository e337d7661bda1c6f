//! What Rust's std gave the library and `core` + `alloc` do not: the global allocator, the
//! panic handler and a cell set once at start-up.
//!
//! The library is `no_std` (outside its unit tests) so that its image carries no std
//! runtime: std's panic hook reaches a backtrace symbolizer (gimli, addr2line, miniz_oxide,
//! rustc_demangle: ~180 KiB of code) and std makes libgcc_s a load-time dependency (128 KiB
//! mapped in every process). glibc loads libgcc_s only when a thread is cancelled or exits
//! by unwinding; so does rpthread now (`cancel::unwind`).

use core::cell::UnsafeCell;
use core::ffi::CStr;
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicBool, Ordering};

/// The value of environment variable `name`, as bytes. Read at start-up, before any thread
/// of the program can change the environment: the string is not freed while the environment
/// is not modified, and callers copy what they keep.
pub fn getenv(name: &CStr) -> Option<&'static [u8]> {
    // SAFETY: getenv with a NUL-terminated name (see above for the lifetime).
    let p = unsafe { libc::getenv(name.as_ptr()) };
    if p.is_null() {
        return None;
    }
    // SAFETY: getenv returns a NUL-terminated string.
    Some(unsafe { CStr::from_ptr(p) }.to_bytes())
}

/// A value written once, before the program's threads can read it (library start-up), and
/// read-only afterwards: what std's `OnceLock` was used for, without its waiting.
pub struct SetOnce<T> {
    set: AtomicBool,
    value: UnsafeCell<MaybeUninit<T>>,
}

// SAFETY: the value is written once, by `set`, before `set` is published with Release; readers
// see it only after an Acquire load of `set` and never write it. `T: Sync` for the shared
// reads, `T: Send` because the writer's thread hands it over.
unsafe impl<T: Send + Sync> Sync for SetOnce<T> {}

impl<T> SetOnce<T> {
    /// An empty cell.
    pub const fn new() -> SetOnce<T> {
        SetOnce { set: AtomicBool::new(false), value: UnsafeCell::new(MaybeUninit::uninit()) }
    }

    /// Stores `v`. Only the first call stores; later ones return `v` back.
    ///
    /// # Safety
    /// Calls must not race each other (they run in the library's constructor, or under one
    /// `pthread_once`-like guard); readers may run concurrently.
    pub unsafe fn set(&self, v: T) -> Result<(), T> {
        if self.set.load(Ordering::Relaxed) {
            return Err(v);
        }
        // SAFETY: no reader dereferences `value` before `set` is true (published below), and
        // the caller guarantees no other writer.
        unsafe { (*self.value.get()).write(v) };
        // Release: a reader's Acquire load that sees true sees the value written above.
        self.set.store(true, Ordering::Release);
        Ok(())
    }

    /// The value, once set.
    pub fn get(&self) -> Option<&T> {
        if self.set.load(Ordering::Acquire) {
            // SAFETY: set is true only after the value was written (Release/Acquire pair),
            // and it is never written again.
            Some(unsafe { (*self.value.get()).assume_init_ref() })
        } else {
            None
        }
    }
}

impl<T> Default for SetOnce<T> {
    fn default() -> SetOnce<T> {
        SetOnce::new()
    }
}

/// The global allocator: libc's malloc, as std's `System` allocator is on Linux, so that Rust
/// allocations and the program's share one heap (and an interposed malloc sees both).
#[cfg(not(test))]
struct Malloc;

/// The alignment malloc guarantees on x86_64 glibc.
#[cfg(not(test))]
const MALLOC_ALIGN: usize = 16;

#[cfg(not(test))]
// SAFETY: every block comes from malloc or posix_memalign and goes back to free (realloc
// keeps the malloc family); alignments above malloc's own use posix_memalign, whose blocks
// free accepts.
unsafe impl core::alloc::GlobalAlloc for Malloc {
    unsafe fn alloc(&self, layout: core::alloc::Layout) -> *mut u8 {
        if layout.align() <= MALLOC_ALIGN && layout.align() <= layout.size() {
            // SAFETY: malloc has no preconditions.
            unsafe { libc::malloc(layout.size()).cast() }
        } else {
            let mut p = core::ptr::null_mut();
            let align = layout.align().max(core::mem::size_of::<usize>());
            // SAFETY: `align` is a power of two and a multiple of sizeof(void *).
            let r = unsafe { libc::posix_memalign(&mut p, align, layout.size()) };
            if r == 0 {
                p.cast()
            } else {
                core::ptr::null_mut()
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: core::alloc::Layout) {
        // SAFETY: `ptr` came from `alloc` or `realloc` above (GlobalAlloc's contract).
        unsafe { libc::free(ptr.cast()) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: core::alloc::Layout, new: usize) -> *mut u8 {
        if layout.align() <= MALLOC_ALIGN && layout.align() <= new {
            // SAFETY: `ptr` is a live block of this allocator; realloc keeps malloc's alignment.
            unsafe { libc::realloc(ptr.cast(), new).cast() }
        } else {
            // SAFETY: the layout is valid (GlobalAlloc's contract), as is `new` with its align.
            unsafe {
                let to = core::alloc::Layout::from_size_align_unchecked(new, layout.align());
                let q = self.alloc(to);
                if !q.is_null() {
                    core::ptr::copy_nonoverlapping(ptr, q, layout.size().min(new));
                    self.dealloc(ptr, layout);
                }
                q
            }
        }
    }
}

#[cfg(not(test))]
#[global_allocator]
static ALLOCATOR: Malloc = Malloc;

/// Standard error, unbuffered: what the panic handler writes to, without allocating.
#[cfg(not(test))]
struct Stderr;

#[cfg(not(test))]
impl core::fmt::Write for Stderr {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        // A failed or short write loses part of a message about to end in abort.
        let _ = crate::sys::fs::write(2, s.as_bytes());
        Ok(())
    }
}

/// A panic is a bug in rpthread: say where, without allocating, and abort (the build is
/// `panic = "abort"`; nothing unwinds through C frames).
#[cfg(not(test))]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    use core::fmt::Write;
    let _ = write!(Stderr, "rpthread: panic: {}", info.message());
    if let Some(at) = info.location() {
        let _ = write!(Stderr, " at {}:{}", at.file(), at.line());
    }
    let _ = Stderr.write_str("\n");
    // SAFETY: abort has no preconditions and never returns.
    unsafe { libc::abort() }
}
