//! Synchronization objects over futex: mutex, condition variable, rwlock, once, barrier,
//! spinlock, semaphore. Each file states its lock-word protocol once.

pub mod lock;
pub mod model;
pub mod cond;
pub mod condattr;
pub mod mutex;
pub mod mutexattr;
