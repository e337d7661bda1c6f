//! pthread_create: memory, descriptor, and the clone into `start`.

use super::attr::Attr;
use super::{live, registry, stack, stats, state, StartFn, Thread};
use crate::errno::{Errno, Result};
use crate::glibc::{stacklist::StackListGuard, tcb};
use crate::sys;
use core::ffi::c_void;
use core::sync::atomic::Ordering;

/// Creates a thread running `start(arg)`; returns its `pthread_t`.
pub fn create(attr: &Attr, start: StartFn, arg: *mut c_void) -> Result<usize> {
    crate::glibc::ensure_multithreaded()?;
    let t = stack::obtain(attr)?;
    // SAFETY: `obtain` returns a fresh descriptor nobody else sees yet.
    let th = unsafe { &mut *t };
    th.start = Some(start);
    th.arg = arg;
    if attr.is_detached() {
        th.state.store(state::DETACHED, Ordering::Relaxed);
    }
    // The scheduling cache (glibc's, in the TCB): inherited from the creator, replaced by
    // explicit attributes (applied to the kernel by the thread itself when it starts).
    // SAFETY: the caller's live TCB; the new TCB is not shared yet.
    let mut sched = unsafe { tcb::with_sched_cache(tcb::current(), |c| *c) };
    if attr.is_explicit_sched() {
        th.start_sched = Some((attr.policy, attr.priority));
        sched = tcb::SchedCache { priority_set: true, policy_set: true, policy: attr.policy, priority: attr.priority };
    }
    // SAFETY: as above.
    unsafe { tcb::with_sched_cache(th.tcb, |c| *c = sched) };
    let ext = attr.ext();
    if let Some(set) = ext.and_then(|e| e.cpuset.as_ref()) {
        th.start_cpuset = (set.as_ptr(), set.len());
    }
    // Read everything we need from the descriptor before the clone: once the thread runs,
    // a detached one may end and recycle (even unmap) its memory before clone returns here.
    let handle = th.handle();
    let report_start = th.start_sched.is_some() || !th.start_cpuset.0.is_null();
    // SAFETY: the descriptor lives until retire() removes it.
    if unsafe { registry::insert(t) }.is_err() {
        // SAFETY: no thread ran on this memory; nobody else knows it.
        unsafe {
            tcb::tid_word(th.tcb).store(0, Ordering::Relaxed);
            stack::release(t);
        }
        return Err(Errno::EAGAIN);
    }
    crate::glibc::solo::note_thread_created();
    let n = live().fetch_add(1, Ordering::Relaxed) + 1;
    stats::note_live(n as usize);
    let tid_ptr = th.tcb.wrapping_add(crate::glibc::layout::TID).cast::<i32>();
    // On glibc's list before the clone, marked "not started": a setxid() that finds it waits
    // for the thread's start (glibc's handshake, see glibc::tcb), so none misses it. The list
    // lock is taken with signals open: a setxid() in progress holds it until every listed
    // thread answered its SIGSETXID, this one included.
    // SAFETY: the TCB is built and not yet on any list.
    unsafe {
        tcb::mark_unstarted(th.tcb);
        StackListGuard::lock().add(th.tcb, th.mapping.owned());
    }
    // The new thread starts with every signal blocked and installs its mask itself.
    let old = sys::sigprocmask(libc::SIG_SETMASK, Some(&sys::full_sigset()));
    th.start_sigmask = match ext.and_then(|e| e.sigmask) {
        Some(m) => m,
        // SAFETY: sigset_t starts with the kernel's 64-bit set.
        None => unsafe { *(&old as *const libc::sigset_t as *const u64) },
    } & !crate::glibc::layout::internal_signal_mask(); // cancellation and setxid() must reach the thread
    // SAFETY: stack top is 16-aligned inside the thread's memory; the TCB is complete;
    // `start_thread` never returns.
    let rc = unsafe {
        sys::clone::spawn(sys::clone::THREAD_FLAGS, stack::stack_top(th.tcb) as *mut u8, tid_ptr, th.tcb, start_thread, t.cast())
    };
    sys::sigprocmask(libc::SIG_SETMASK, Some(&old));
    if rc < 0 {
        // SAFETY: no thread runs on the TCB: release a setxid() waiting for its start, then
        // unlink it.
        unsafe {
            tcb::mark_started(th.tcb);
            StackListGuard::lock().remove(th.tcb);
        }
    }
    if rc < 0 {
        registry::remove(th.handle());
        live().fetch_sub(1, Ordering::Relaxed);
        // SAFETY: no thread ran; mark the tid word free so the memory can be recycled.
        unsafe {
            tcb::tid_word(th.tcb).store(0, Ordering::Relaxed);
            stack::release(t);
        }
        return Err(Errno::EAGAIN);
    }
    stats::CREATED.fetch_add(1, Ordering::Relaxed);
    if report_start {
        // The thread applies its explicit attributes first and reports; failure means it
        // ends without running `start`, and pthread_create reports the error (as glibc).
        // On success it waits for our acknowledgement before running user code, so the
        // descriptor stays valid while we read it (a detached thread frees it when it ends).
        let status = wait_start_status(th);
        if status != START_OK {
            // SAFETY: the descriptor we created for it; nobody else knows it.
            unsafe { super::join::reap_failed_start(t) };
            return Err(Errno((status - 1) as i32));
        }
        th.start_status.store(START_ACKED, Ordering::Release);
        sys::futex::wake(&th.start_status, 1, sys::futex::Scope::Private);
        // From here on `th` may be freed at any time.
    }
    Ok(handle)
}

/// `Thread::start_status`: explicit attributes applied, the thread waits for the creator.
const START_OK: u32 = 1;
/// `Thread::start_status`: the creator has read the status; the thread may run user code.
const START_ACKED: u32 = u32::MAX;

fn wait_start_status(th: &Thread) -> u32 {
    loop {
        let s = th.start_status.load(Ordering::Acquire);
        if s != 0 {
            return s;
        }
        let _ = sys::futex::wait(&th.start_status, 0, None, sys::futex::Scope::Private);
    }
}

/// Applies explicit scheduling and affinity in the new thread; Err(errno) on failure.
fn apply_start_attrs(th: &Thread) -> Result<()> {
    if let Some((policy, prio)) = th.start_sched {
        sys::sched::set_scheduler(0, policy, prio)?;
    }
    let (set, size) = th.start_cpuset;
    if !set.is_null() {
        // SAFETY: the attr's cpuset bytes, valid while the creator waits for this thread
        // to start.
        let set = unsafe { core::slice::from_raw_parts(set, size) };
        sys::sched::set_affinity(0, set)?;
    }
    Ok(())
}

/// First code of every thread of ours, on its new stack with its TCB in %fs.
unsafe extern "C" fn start_thread(arg: *mut c_void) -> ! {
    // SAFETY: `arg` is the descriptor `create` prepared for this thread. Shared: the
    // creator and joiners read it concurrently (its shared fields are atomics).
    let th = unsafe { &*arg.cast::<Thread>() };
    // SAFETY: first thing in the thread, on its own TCB.
    unsafe {
        tcb::mark_started(th.tcb);
        tcb::enter_thread(th.tcb);
    }
    if th.start_sched.is_some() || !th.start_cpuset.0.is_null() {
        let status = match apply_start_attrs(th) {
            Ok(()) => START_OK,
            Err(e) => e.0 as u32 + 1,
        };
        th.start_status.store(status, Ordering::Release);
        sys::futex::wake(&th.start_status, 1, sys::futex::Scope::Private);
        if status != START_OK {
            // The creator reaps us; no user code ran. We are on glibc's list: a setxid() may
            // have marked us, so end glibc's way with only SIGSETXID let in.
            let mut only_setxid = sys::full_sigset();
            // SAFETY: sigset_t starts with the kernel's 64-bit set.
            unsafe {
                *(&mut only_setxid as *mut libc::sigset_t as *mut u64) &=
                    !(1u64 << (crate::glibc::layout::SIGSETXID - 1))
            };
            sys::sigprocmask(libc::SIG_SETMASK, Some(&only_setxid));
            // SAFETY: our own TCB, SIGSETXID open.
            unsafe { tcb::begin_exit(th.tcb) };
            sys::sigprocmask(libc::SIG_SETMASK, Some(&sys::full_sigset()));
            sys::exit_thread(0);
        }
        // Wait until the creator has read the status (it must not touch a descriptor we
        // may free by ending).
        while th.start_status.load(Ordering::Acquire) != START_ACKED {
            let _ = sys::futex::wait(&th.start_status, START_OK, None, sys::futex::Scope::Private);
        }
    }
    // SAFETY: the kernel reads the first 8 bytes; sigset_t is larger.
    let mut set: libc::sigset_t = unsafe { core::mem::zeroed() };
    // SAFETY: as above.
    unsafe { *(&mut set as *mut _ as *mut u64) = th.start_sigmask };
    sys::sigprocmask(libc::SIG_SETMASK, Some(&set));
    crate::glibc::tls::take_malloc_state();
    let start = th.start.expect("create sets the start routine");
    let mut buf = core::mem::MaybeUninit::<crate::cancel::cleanup::UnwindBuf>::uninit();
    let mut result = core::ptr::null_mut();
    // SAFETY: `buf` lives in this frame for the rest of the thread; the routine registers it
    // as the thread's outermost cancellation buffer and runs the user's start routine with
    // the user's argument.
    let unwound = unsafe {
        crate::arch::rpthread_run_start(
            buf.as_mut_ptr().cast(),
            start,
            th.arg,
            &mut result,
            crate::glibc::tcb::unwind_buf_chain(),
        )
    };
    if unwound == 0 {
        // SAFETY: only the thread itself writes its result, before it exits.
        unsafe { *tcb::result(th.tcb) = result };
    }
    // SAFETY: `arg` is this thread's descriptor pointer as created.
    unsafe { super::exit::finish(arg.cast()) }
}
