//! Raw Linux system calls: no glibc function is called from here.
//!
//! Everything is x86_64; the per-architecture asm lives in `syscall.rs` and `clone.rs`.

pub mod clone;
pub mod fs;
pub mod futex;
pub mod sched;
pub mod signal;
pub mod syscall;

pub use syscall::*;

/// The page size (x86_64 Linux).
pub const PAGE: usize = 4096;
