//! Architecture-specific code: x86_64 only (see `lib.rs`).

pub mod x86_64;
pub use x86_64::*;
