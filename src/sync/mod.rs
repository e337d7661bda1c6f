//! Synchronization objects over futex: mutex, condition variable, rwlock, once, barrier,
//! spinlock, semaphore. Each file states its lock-word protocol once.

pub mod barrier;
pub mod caller;
pub mod cond;
pub mod cond_private;
pub mod cond_shared;
pub mod condattr;
pub mod model;
pub mod mutex;
pub mod mutexattr;
pub mod once;
pub mod rwlock;
pub mod sem;
pub mod sem_named;
pub mod spin;
