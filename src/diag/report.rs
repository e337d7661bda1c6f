//! Writing reports: a preallocated buffer, raw write(2), no malloc and no stdio, so a report
//! can be written while another thread holds the malloc or the stdout lock, or from a signal
//! handler.
//!
//! Reports are serialized by one lock (the holder's tid in a word). A thread that already
//! holds it (a signal handler interrupting a report of its own thread) writes through a second
//! buffer; one that cannot get it within two seconds (its holder is stuck) writes through a
//! third, so a report never waits forever. Output goes to `RPTHREAD_DIAG_OUT` (opened in
//! append mode for each report, `%p` replaced by the pid, so children and forks have their
//! own files) or to stderr.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicI32, AtomicU32, Ordering};

const BUF: usize = 16 * 1024;

/// One report buffer (in the diagnostic tables: `tables::Tables::report_buffers`).
pub(crate) struct Buffer(UnsafeCell<[u8; BUF]>);
// SAFETY: each buffer is used by one writer at a time: the report lock's holder, its own
// nested handler (BUSY flag), or one forced writer (BUSY flag).
unsafe impl Sync for Buffer {}

static BUSY: [AtomicU32; 3] = [const { AtomicU32::new(0) }; 3];
/// Tid of the thread holding the report lock, 0 when free.
static LOCK: AtomicI32 = AtomicI32::new(0);

/// Where a report goes.
#[derive(Clone, Copy)]
pub enum Target<'a> {
    /// `RPTHREAD_DIAG_OUT` or stderr.
    Main,
    /// A file (a path with `%p` to expand), replaced.
    File(&'a [u8]),
}

/// A report being written.
pub struct Out {
    level: usize,
    len: usize,
    fd: i32,
    close: bool,
    /// JSON output (`RPTHREAD_DIAG_FORMAT=json`).
    pub json: bool,
}

fn sleep_ms(ms: u64) {
    let ts = libc::timespec { tv_sec: (ms / 1000) as i64, tv_nsec: ((ms % 1000) * 1_000_000) as i64 };
    crate::sys::fs::nanosleep(&ts);
}

/// Expands `%p` in `path` into `out` (NUL-terminated); false if it does not fit.
fn expand(path: &[u8], out: &mut [u8; 512]) -> bool {
    let mut n = 0;
    let mut i = 0;
    let mut push = |c: u8, n: &mut usize| -> bool {
        if *n + 1 >= out.len() {
            return false;
        }
        out[*n] = c;
        *n += 1;
        true
    };
    while i < path.len() {
        if path[i] == b'%' && path.get(i + 1) == Some(&b'p') {
            let mut d = [0u8; 20];
            let mut k = d.len();
            let mut pid = crate::sys::getpid() as u64;
            loop {
                k -= 1;
                d[k] = b'0' + (pid % 10) as u8;
                pid /= 10;
                if pid == 0 {
                    break;
                }
            }
            for &c in &d[k..] {
                if !push(c, &mut n) {
                    return false;
                }
            }
            i += 2;
        } else {
            if !push(path[i], &mut n) {
                return false;
            }
            i += 1;
        }
    }
    out[n] = 0;
    true
}

fn open(path: &[u8], append: bool) -> i32 {
    let mut p = [0u8; 512];
    if !expand(path, &mut p) {
        return -1;
    }
    let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_CLOEXEC | if append { libc::O_APPEND } else { libc::O_TRUNC };
    // `expand` NUL-terminated it.
    let Ok(path) = core::ffi::CStr::from_bytes_until_nul(&p) else { return -1 };
    crate::sys::fs::open(path, flags, 0o644).unwrap_or(-1)
}

/// Starts a report. None only if every buffer is taken (a report is dropped then).
pub fn begin(target: Target) -> Option<Out> {
    let me = crate::sys::gettid();
    let level = 'l: {
        for _ in 0..2000 {
            match LOCK.compare_exchange(0, me, Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => break 'l 0,
                Err(owner) if owner == me => break 'l 1,
                Err(_) => sleep_ms(1),
            }
        }
        2
    };
    if level > 0 && BUSY[level].swap(1, Ordering::Acquire) != 0 {
        return None;
    }
    let cfg = super::config();
    let (fd, close) = match target {
        // A file that cannot be opened: stderr rather than nothing.
        Target::Main => match cfg.out.as_ref().map(|p| open(p.as_bytes(), true)) {
            Some(fd) if fd >= 0 => (fd, true),
            _ => (2, false),
        },
        Target::File(p) => (open(p, false), true),
    };
    Some(Out { level, len: 0, fd, close, json: cfg.json })
}

impl Out {
    // Not inlined: the writer's methods are called from every report, and inlining this
    // into each (through `b`, `s`, `u`, ...) grew the library's code by 56 KiB.
    #[inline(never)]
    fn buf(&mut self) -> &mut [u8; BUF] {
        // SAFETY: this writer owns buffer `level` (see `Buffer`).
        unsafe { &mut *super::tables::get().report_buffers[self.level].0.get() }
    }

    /// Writes out what is buffered.
    pub fn flush(&mut self) {
        let mut off = 0;
        let len = self.len;
        while off < len && self.fd >= 0 {
            let r = match crate::sys::fs::write(self.fd, &self.buf()[off..len]) {
                Err(crate::errno::Errno::EINTR) => continue,
                Err(_) | Ok(0) => break,
                Ok(r) => r,
            };
            off += r;
        }
        self.len = 0;
    }

    /// Raw bytes.
    pub fn b(&mut self, s: &[u8]) -> &mut Self {
        for chunk in s.chunks(BUF) {
            if self.len + chunk.len() > BUF {
                self.flush();
            }
            let l = self.len;
            self.buf()[l..l + chunk.len()].copy_from_slice(chunk);
            self.len += chunk.len();
        }
        self
    }

    /// Text.
    pub fn s(&mut self, s: &str) -> &mut Self {
        self.b(s.as_bytes())
    }

    /// An unsigned decimal.
    pub fn u(&mut self, mut v: u64) -> &mut Self {
        let mut d = [0u8; 20];
        let mut k = d.len();
        loop {
            k -= 1;
            d[k] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        let tmp = d;
        self.b(&tmp[k..])
    }

    /// A signed decimal.
    pub fn i(&mut self, v: i64) -> &mut Self {
        if v < 0 {
            self.s("-");
        }
        self.u(v.unsigned_abs())
    }

    /// `0x…`.
    pub fn hex(&mut self, v: usize) -> &mut Self {
        self.put_hex(v);
        self
    }

    /// `v` with `dec` decimals out of a fixed-point value scaled by 10^dec.
    fn fixed(&mut self, v: u64, dec: u32) -> &mut Self {
        let p = 10u64.pow(dec);
        self.u(v / p).s(".");
        let frac = v % p;
        let mut d = p / 10;
        while d > 0 {
            self.b(&[b'0' + ((frac / d) % 10) as u8]);
            d /= 10;
        }
        self
    }

    /// A duration for people: `850 ns`, `12.3 us`, `4.56 ms`, `1.234 s`.
    pub fn dur(&mut self, ns: u64) -> &mut Self {
        if ns < 1_000 {
            self.u(ns).s(" ns")
        } else if ns < 1_000_000 {
            self.fixed(ns / 100, 1).s(" us")
        } else if ns < 1_000_000_000 {
            self.fixed(ns / 10_000, 2).s(" ms")
        } else {
            self.fixed(ns / 1_000_000, 3).s(" s")
        }
    }

    /// `num / den` as a percentage with one decimal.
    pub fn pct(&mut self, num: u64, den: u64) -> &mut Self {
        let v = if den == 0 { 0 } else { (num.min(den) as u128 * 1000 / den as u128) as u64 };
        self.fixed(v, 1).s("%")
    }

    /// A JSON string (quoted, escaped; bytes outside ASCII become `\u00XX`).
    pub fn js(&mut self, s: &[u8]) -> &mut Self {
        self.s("\"");
        for &c in s {
            match c {
                b'"' => self.s("\\\""),
                b'\\' => self.s("\\\\"),
                0x20..=0x7e => self.b(&[c]),
                _ => {
                    let h = b"0123456789abcdef";
                    self.b(&[b'\\', b'u', b'0', b'0', h[(c >> 4) as usize], h[(c & 15) as usize]])
                }
            };
        }
        self.s("\"")
    }

    /// A JSON key (`"key":`), preceded by a comma unless `first`.
    pub fn key(&mut self, k: &str, first: bool) -> &mut Self {
        if !first {
            self.s(",");
        }
        self.js(k.as_bytes()).s(":")
    }
}

impl Drop for Out {
    fn drop(&mut self) {
        self.flush();
        if self.close && self.fd >= 0 {
            crate::sys::fs::close(self.fd);
        }
        if self.level == 0 {
            // Release: the next report starts after this one's writes.
            LOCK.store(0, Ordering::Release);
        } else {
            BUSY[self.level].store(0, Ordering::Release);
        }
    }
}

/// A warning written straight to stderr (configuration problems, before anything is set up).
pub fn warn_raw(msg: &[u8], detail: &[u8]) {
    for part in [msg, detail, b"\n"] {
        crate::sys::write_stderr(part);
    }
}

/// In a fork child: a report in progress belonged to a thread that is gone.
pub fn after_fork() {
    LOCK.store(0, Ordering::Release);
    for b in &BUSY {
        b.store(0, Ordering::Release);
    }
}

/// What frames are written to: the report writer, or a fixed scratch buffer (JSON strings).
pub trait Sink {
    /// Appends bytes.
    fn put(&mut self, s: &[u8]);

    /// Appends `0x` and `v` in hexadecimal.
    fn put_hex(&mut self, mut v: usize) {
        let mut d = [0u8; 18];
        let mut k = d.len();
        loop {
            k -= 1;
            d[k] = b"0123456789abcdef"[v & 15];
            v >>= 4;
            if v == 0 {
                break;
            }
        }
        k -= 2;
        d[k] = b'0';
        d[k + 1] = b'x';
        self.put(&d[k..]);
    }
}

impl Sink for Out {
    fn put(&mut self, s: &[u8]) {
        self.b(s);
    }
}
