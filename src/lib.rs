//! rpthread: POSIX threads for x86_64 Linux over raw `clone` and `futex`, a drop-in for
//! glibc's pthreads (see DESIGN.md for the architecture).
//!
//! The flow: `abi` (C types in, thin) → domain modules (`thread`, `sync`, ...) → `sys` (raw
//! system calls) and `glibc` (the one module that knows glibc's internals).
//!
//! `no_std` outside the unit tests: `core` + `alloc` over libc's malloc (see [`rt`]).
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

extern crate alloc;

#[cfg(not(any(target_arch = "x86_64")))]
compile_error!("rpthread supports x86_64 Linux only");

pub mod arch;
pub mod c11;
pub mod cancel;
pub mod diag;
pub mod errno;
pub mod fork;
pub mod glibc;
pub mod lock;
pub mod rt;
#[cfg(not(loom))]
pub mod object;
pub mod sched;
pub mod signal;
pub mod stats;
pub mod sync;
pub mod sys;
pub mod thread;
pub mod tsd;

#[cfg(not(test))]
mod abi;
