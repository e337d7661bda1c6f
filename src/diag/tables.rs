//! The preallocated tables every mode works on: lock instances, lock classes, call stacks,
//! lock-order edges, thread records and loaded objects.
//!
//! One anonymous mapping made at start-up when diagnostics are on (about 7 MiB, in
//! transparent huge pages where the system allows: see [`map`]); nothing is allocated
//! afterwards, so the lock paths and the report paths never call malloc. Every field is an atomic: entries are
//! claimed with a CAS on their key and then filled by the claimer; readers on other threads
//! (reports, the deadlock check) may see an entry half-filled, which costs at most a less
//! complete report. Nothing is ever removed from the open-addressing tables (keys stay), so a
//! probe sequence never breaks. A full table means "not tracked": counted in [`Tables::lost`]
//! and said in the exit report.
//!
//! Orderings: keys are claimed with AcqRel CAS and looked up with Acquire loads, so whoever
//! finds a key also sees what the claimer wrote before publishing it through `ready` flags
//! (Release). Statistics are Relaxed counters: they are sums read at report time.

use core::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, AtomicUsize, Ordering};

/// Lock instances (object addresses ever used).
pub const INSTANCES: usize = 1 << 16;
/// Lock classes: a static object, or the call stack where heap objects were made.
pub const CLASSES: usize = 4096;
/// Distinct call stacks kept (names of heap locks, order edges, contention sites).
pub const STACKS: usize = 8192;
/// Lock-order edges (class pairs).
pub const EDGES: usize = 16384;
/// Thread records: threads tracked at the same time.
pub const THREADS: usize = 1024;
/// Loaded objects (executable, libraries) that frames and static locks were found in.
pub const MODULES: usize = 256;
/// Joinable threads remembered for the "never joined" check.
pub const JOINABLE: usize = 4096;
/// Frames kept per stack.
pub const FRAMES: usize = 16;
/// Locks one thread may hold at once and be tracked.
pub const HELD: usize = 32;
/// Contending call sites kept per class.
pub const SITES: usize = 4;

/// What kind of object an instance or class is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u32)]
pub enum Kind {
    /// pthread_mutex_t (also C++ std::mutex).
    Mutex = 1,
    /// pthread_rwlock_t.
    RwLock = 2,
    /// pthread_spinlock_t.
    Spin = 3,
    /// sem_t.
    Sem = 4,
    /// pthread_cond_t.
    Cond = 5,
}

impl Kind {
    /// From the stored number (0 = unknown).
    pub fn from_u32(v: u32) -> Option<Kind> {
        Some(match v {
            1 => Kind::Mutex,
            2 => Kind::RwLock,
            3 => Kind::Spin,
            4 => Kind::Sem,
            5 => Kind::Cond,
            _ => return None,
        })
    }

    /// The word reports use.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Mutex => "mutex",
            Kind::RwLock => "rwlock",
            Kind::Spin => "spinlock",
            Kind::Sem => "semaphore",
            Kind::Cond => "condvar",
        }
    }
}

/// One lock object, by address.
#[repr(C)]
pub struct Inst {
    /// The object's address (0: free entry).
    pub key: AtomicUsize,
    /// Its class id (index + 1 in `classes`; 0 = not assigned yet).
    pub class: AtomicU32,
    /// [`Kind`] | [`inst_flags`].
    pub flags: AtomicU32,
    /// The tid of the thread holding it exclusively (mutex, spinlock, rwlock writer), or 0.
    pub holder: AtomicI32,
    /// Condition variables: threads inside a wait on it.
    pub waiters: AtomicU32,
    /// Condition variables: the mutex of the current waiters.
    pub cond_mutex: AtomicUsize,
}

/// Bits of [`Inst::flags`] above the kind.
pub mod inst_flags {
    /// The kind's bits.
    pub const KIND_MASK: u32 = 0xff;
    /// pthread_*_destroy ran and no init since.
    pub const DESTROYED: u32 = 0x100;
}

/// A contending call site of a class.
#[repr(C)]
pub struct Site {
    /// Stack id (index + 1 in `stacks`), 0 = free.
    pub stack: AtomicU32,
    /// Contended acquisitions seen from it (sampled ones).
    pub count: AtomicU32,
    /// Their wait, summed (nanoseconds).
    pub wait_ns: AtomicU64,
}

/// A lock class: what reports name and what the order graph connects.
#[repr(C)]
pub struct Class {
    /// [`class_key`]; 0 = free entry.
    pub key: AtomicU64,
    /// [`Kind`] as u32.
    pub kind: AtomicU32,
    /// Heap objects: the stack id of where the first object of the class was initialized or
    /// first locked.
    pub name_stack: AtomicU32,
    /// Static objects: the address; heap objects: the first object's address.
    pub addr: AtomicUsize,
    /// Static objects: the module they live in (index + 1).
    pub module: AtomicU32,
    /// 1 once `kind`, `name_stack`, `addr`, `module` are written.
    pub ready: AtomicU32,
    /// Heap objects: 1 if the name stack is the init's, 0 if it is the first lock's.
    pub from_init: AtomicU32,
    /// First out-edge of the order graph (edge index + 1).
    pub first_out: AtomicU32,
    /// Sampled acquisitions (each one stands for `sample` acquisitions).
    pub sampled: AtomicU64,
    /// Acquisitions that had to wait (condvars: waits).
    pub contended: AtomicU64,
    /// Total wait, nanoseconds.
    pub wait_ns: AtomicU64,
    /// Longest wait.
    pub wait_max: AtomicU64,
    /// Sampled hold times, summed.
    pub hold_ns: AtomicU64,
    /// Hold times measured.
    pub holds: AtomicU64,
    /// Longest hold measured.
    pub hold_max: AtomicU64,
    /// Top contending call sites.
    pub sites: [Site; SITES],
}

/// The class key of a static object (its address) or of heap objects (a stack hash).
pub fn class_key(static_addr: Option<usize>, stack_hash: u64) -> u64 {
    match static_addr {
        Some(a) => a as u64 & !(1 << 63),
        None => stack_hash | (1 << 63),
    }
}

/// A captured call stack.
#[repr(C)]
pub struct Stack {
    /// Hash of the frames (0: free entry).
    pub hash: AtomicU64,
    /// 1 once the frames are written.
    pub ready: AtomicU32,
    /// Frames used.
    pub n: AtomicU32,
    /// Return addresses, innermost first.
    pub frames: [AtomicUsize; FRAMES],
    /// The module of each frame (index + 1, 0 = unknown).
    pub modules: [AtomicU32; FRAMES],
}

/// A lock-order edge: a lock of class `from` was held while one of class `to` was taken.
#[repr(C)]
pub struct Edge {
    /// `from << 32 | to` (both nonzero class ids); 0 = free entry.
    pub key: AtomicU64,
    /// [`edge_flags`].
    pub flags: AtomicU32,
    /// Next edge with the same `from` (index + 1).
    pub next_out: AtomicU32,
    /// Where `to` was taken the first time (stack id).
    pub stack: AtomicU32,
    /// The thread that did it.
    pub tid: AtomicI32,
    /// Its name (comm, 16 bytes).
    pub name: [AtomicU64; 2],
}

/// Bits of [`Edge::flags`].
pub mod edge_flags {
    /// Fully written and linked into the graph.
    pub const LINKED: u32 = 1;
    /// Closed a cycle under `RPTHREAD_DIAG_ON_CYCLE=edeadlk`: refused, not part of the graph.
    pub const REFUSED: u32 = 2;
}

/// A loaded object that frames or locks were found in. Its name is copied when it is first
/// seen, so reports still name it after a dlclose.
#[repr(C)]
pub struct Module {
    /// Start of its mapping (0: free entry).
    pub start: AtomicUsize,
    /// End of its mapping.
    pub end: AtomicUsize,
    /// Load bias (link_map's l_addr): file address = runtime address - bias.
    pub bias: AtomicUsize,
    /// 1 once filled.
    pub ready: AtomicU32,
    /// Length of `path`.
    pub len: AtomicU32,
    /// Its file (NUL-terminated), as ld.so names it.
    pub path: [AtomicU64; 32],
    /// Report time: the file mapped for its symbols (address, length); 1 = not available.
    pub elf: AtomicUsize,
    /// See `elf`.
    pub elf_len: AtomicUsize,
    /// Report time: its symbols sorted by address (an anonymous mapping of
    /// `symbols::IndexEntry`), and how many; 1 = none.
    pub index: AtomicUsize,
    /// See `index`.
    pub index_len: AtomicUsize,
}

/// A thread created joinable.
#[repr(C)]
pub struct Joinable {
    /// Its pthread_t (0: free entry).
    pub handle: AtomicUsize,
    /// 1 while neither joined nor detached.
    pub pending: AtomicU32,
    /// Its start routine.
    pub start: AtomicUsize,
}

/// All tables.
#[repr(C)]
pub struct Tables {
    /// Lock instances.
    pub instances: [Inst; INSTANCES],
    /// Lock classes.
    pub classes: [Class; CLASSES],
    /// Call stacks.
    pub stacks: [Stack; STACKS],
    /// Lock-order edges.
    pub edges: [Edge; EDGES],
    /// Thread records.
    pub threads: [super::thread::Record; THREADS],
    /// Loaded objects.
    pub modules: [Module; MODULES],
    /// Threads created joinable, by handle (handles are reused with their stacks, so the
    /// set stays as small as the stack cache).
    pub joinable: [Joinable; JOINABLE],
    /// Things that did not fit: instances, classes, stacks, edges, threads, held locks.
    pub lost: [AtomicU64; 6],
    /// The report writer's buffers (`report::Out`). Scratch memory lives in this mapping,
    /// not in the library's .bss, so that a process without diagnostics does not map it.
    pub(crate) report_buffers: [super::report::Buffer; 3],
    /// The order graph's search scratch (`order`).
    pub(crate) order_search: super::order::Search,
    /// The contention table's sort order (`contention`).
    pub(crate) contention_order: super::contention::Order,
}

/// Indexes of [`Tables::lost`].
pub mod lost {
    /// Lock instances.
    pub const INSTANCES: usize = 0;
    /// Lock classes.
    pub const CLASSES: usize = 1;
    /// Stacks.
    pub const STACKS: usize = 2;
    /// Order edges.
    pub const EDGES: usize = 3;
    /// Thread records.
    pub const THREADS: usize = 4;
    /// Held locks beyond [`super::HELD`].
    pub const HELD: usize = 5;
}

static TABLES: AtomicUsize = AtomicUsize::new(0);

/// Maps the tables (all zero: every entry free). Returns false when the memory is not there.
///
/// The mapping is aligned to 2 MiB and advised for transparent huge pages: entries are
/// spread over the tables by hashing, so with 4 KiB pages nearly every new lock touched a new
/// page (measured: node's start-up under `order` took ~4,000 extra page faults, +40% wall
/// time); with huge pages the whole set is a handful of faults (RSS: the tables' size,
/// about 7 MiB, once touched).
pub fn map() -> bool {
    const HUGE: usize = 2 << 20;
    let len = core::mem::size_of::<Tables>().next_multiple_of(HUGE);
    let Ok(p) = crate::sys::mmap_anon(len + HUGE, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_NORESERVE) else {
        return false;
    };
    let base = (p as usize).next_multiple_of(HUGE);
    // SAFETY: our fresh mapping: the unaligned head and the unused tail are given back; the
    // advice only changes how the kernel backs the rest.
    unsafe {
        if base > p as usize {
            let _ = crate::sys::munmap(p, base - p as usize);
        }
        let tail = base + len;
        let end = p as usize + len + HUGE;
        if end > tail {
            let _ = crate::sys::munmap(tail as *mut u8, end - tail);
        }
        crate::sys::madvise_hugepage(base as *mut u8, len);
    }
    // Release: the mapping is fresh; publishing the address needs nothing more, but this
    // keeps the pairing with `get` simple to state.
    TABLES.store(base, Ordering::Release);
    true
}

/// The tables. Only called once diagnostics are on (after [`map`] succeeded).
#[inline]
pub fn get() -> &'static Tables {
    let p = TABLES.load(Ordering::Acquire);
    debug_assert!(p != 0);
    // SAFETY: mapped once by `map` before any mode was published and never unmapped; all-zero
    // bytes are valid for every field (atomics and arrays of atomics).
    unsafe { &*(p as *const Tables) }
}

/// Counts something that did not fit.
pub fn note_lost(what: usize) {
    get().lost[what].fetch_add(1, Ordering::Relaxed);
}

/// A 64-bit mix of a word (splitmix64's finalizer).
#[inline]
pub const fn mix(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Open addressing: finds `key` (nonzero) among `n` slots whose key `key_of(i)` gives, or
/// claims a free slot for it. Returns (index, newly claimed), or None when the table is full
/// (after a bounded probe).
#[inline]
pub fn find_or_claim<K: KeySlot>(n: usize, key: K::Word, slot: impl Fn(usize) -> K) -> Option<(usize, bool)> {
    let mask = n - 1;
    let mut i = (mix(K::to_u64(key)) as usize) & mask;
    for _ in 0..n.min(4096) {
        let s = slot(i);
        let cur = s.load();
        if cur == key {
            return Some((i, false));
        }
        if K::is_zero(cur) {
            match s.claim(key) {
                Ok(()) => return Some((i, true)),
                Err(now) if now == key => return Some((i, false)),
                Err(_) => {}
            }
        }
        i = (i + 1) & mask;
    }
    None
}

/// Finds `key` without claiming anything.
#[inline]
pub fn find<K: KeySlot>(n: usize, key: K::Word, slot: impl Fn(usize) -> K) -> Option<usize> {
    let mask = n - 1;
    let mut i = (mix(K::to_u64(key)) as usize) & mask;
    for _ in 0..n.min(4096) {
        let cur = slot(i).load();
        if cur == key {
            return Some(i);
        }
        if K::is_zero(cur) {
            return None;
        }
        i = (i + 1) & mask;
    }
    None
}

/// A key field of a table entry.
pub trait KeySlot {
    /// The key's type.
    type Word: Copy + PartialEq;
    /// Acquire load.
    fn load(&self) -> Self::Word;
    /// CAS from zero (AcqRel); Err with the current value.
    fn claim(&self, key: Self::Word) -> Result<(), Self::Word>;
    /// Whether a key is the empty one.
    fn is_zero(w: Self::Word) -> bool;
    /// For hashing.
    fn to_u64(w: Self::Word) -> u64;
}

impl KeySlot for &AtomicUsize {
    type Word = usize;
    fn load(&self) -> usize {
        AtomicUsize::load(self, Ordering::Acquire)
    }
    fn claim(&self, key: usize) -> Result<(), usize> {
        self.compare_exchange(0, key, Ordering::AcqRel, Ordering::Acquire).map(drop)
    }
    fn is_zero(w: usize) -> bool {
        w == 0
    }
    fn to_u64(w: usize) -> u64 {
        w as u64
    }
}

impl KeySlot for &AtomicU64 {
    type Word = u64;
    fn load(&self) -> u64 {
        AtomicU64::load(self, Ordering::Acquire)
    }
    fn claim(&self, key: u64) -> Result<(), u64> {
        self.compare_exchange(0, key, Ordering::AcqRel, Ordering::Acquire).map(drop)
    }
    fn is_zero(w: u64) -> bool {
        w == 0
    }
    fn to_u64(w: u64) -> u64 {
        w
    }
}

/// Raises `max` to `v` if `v` is larger.
#[inline]
pub fn raise(max: &AtomicU64, v: u64) {
    if v > max.load(Ordering::Relaxed) {
        max.fetch_max(v, Ordering::Relaxed);
    }
}

/// Copies up to 8·N bytes (NUL-padded) into an array of words.
pub fn store_bytes(dst: &[AtomicU64], src: &[u8]) -> usize {
    let n = src.len().min(dst.len() * 8 - 1);
    for (i, w) in dst.iter().enumerate() {
        let mut b = [0u8; 8];
        for (j, byte) in b.iter_mut().enumerate() {
            let k = i * 8 + j;
            if k < n {
                *byte = src[k];
            }
        }
        w.store(u64::from_le_bytes(b), Ordering::Relaxed);
    }
    n
}

/// Reads bytes stored by [`store_bytes`] into `out` (up to `len`); returns the slice used.
pub fn load_bytes<'a>(src: &[AtomicU64], len: usize, out: &'a mut [u8]) -> &'a [u8] {
    let n = len.min(out.len()).min(src.len() * 8);
    for i in 0..n {
        out[i] = src[i / 8].load(Ordering::Relaxed).to_le_bytes()[i % 8];
    }
    let end = out[..n].iter().position(|&c| c == 0).unwrap_or(n);
    &out[..end]
}
