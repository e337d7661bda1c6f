//! Addresses to names, without malloc and without ld.so's locks.
//!
//! At capture time (lock paths, signal handlers) an address is only tied to the loaded object
//! it lies in, with glibc's `_dl_find_object` (2.35+: lock-free and async-signal-safe; dladdr1
//! before that), and the object's name and load bias are copied into the module table. At
//! report time the object's file is mapped read-only and its `.symtab` (else `.dynsym`) is
//! searched: that names static variables of executables too (`g_lock`), which dladdr cannot
//! (they are not dynamic symbols), and it keeps working after the object was dlclose'd.
//! No DWARF: reports give `function+offset (object)`, which addr2line turns into a line.

use super::tables::{self, Module, MODULES};
use core::ffi::c_void;
use core::sync::atomic::{AtomicUsize, Ordering};

/// glibc's `struct dl_find_object`.
#[repr(C)]
struct DlFindObject {
    flags: u64,
    map_start: *mut c_void,
    map_end: *mut c_void,
    link_map: *mut LinkMap,
    eh_frame: *mut c_void,
    reserved: [u64; 7],
}

/// The public head of glibc's `struct link_map`.
#[repr(C)]
struct LinkMap {
    l_addr: usize,
    l_name: *const u8,
}

type FindObjectFn = unsafe extern "C" fn(*mut c_void, *mut DlFindObject) -> i32;

#[allow(unused_doc_comments)]
/// cbindgen:ignore
extern "C" {
    fn dladdr1(addr: *const c_void, info: *mut libc::Dl_info, extra: *mut *mut c_void, flags: i32) -> i32;
}
const RTLD_DL_LINKMAP: i32 = 2;

static FIND_OBJECT: AtomicUsize = AtomicUsize::new(0);
/// The executable's path (link_map names it "").
static EXE: [AtomicUsize; 32] = [const { AtomicUsize::new(0) }; 32];
static EXE_LEN: AtomicUsize = AtomicUsize::new(0);
/// Our own mapping, whose frames stacks leave out.
static SELF_START: AtomicUsize = AtomicUsize::new(0);
static SELF_END: AtomicUsize = AtomicUsize::new(0);

/// Looks up what it needs; at start-up, where dlsym and readlink may allocate.
pub fn init() {
    // SAFETY: dlsym with a NUL-terminated name.
    let f = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"_dl_find_object".as_ptr()) };
    FIND_OBJECT.store(f as usize, Ordering::Relaxed);
    let mut buf = [0u8; 255];
    // SAFETY: readlink into a buffer of the given size.
    let n = unsafe { libc::readlink(c"/proc/self/exe".as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    if n > 0 {
        for (i, w) in EXE.iter().enumerate() {
            let mut b = [0u8; 8];
            for (j, c) in b.iter_mut().enumerate() {
                *c = *buf.get(i * 8 + j).unwrap_or(&0);
            }
            w.store(usize::from_le_bytes(b), Ordering::Relaxed);
        }
        EXE_LEN.store(n as usize, Ordering::Relaxed);
    }
    if let Some((s, e, _, _)) = find_object(init as *const () as usize) {
        SELF_START.store(s, Ordering::Relaxed);
        SELF_END.store(e, Ordering::Relaxed);
    }
}

/// Whether `pc` is code of this library.
pub fn is_ours(pc: usize) -> bool {
    (SELF_START.load(Ordering::Relaxed)..SELF_END.load(Ordering::Relaxed)).contains(&pc)
}

/// (map start, map end, load bias, name) of the object `addr` lies in.
fn find_object(addr: usize) -> Option<(usize, usize, usize, *const u8)> {
    let f = FIND_OBJECT.load(Ordering::Relaxed);
    if f != 0 {
        // SAFETY: the symbol is glibc's _dl_find_object, with this signature.
        let f: FindObjectFn = unsafe { core::mem::transmute::<usize, FindObjectFn>(f) };
        // SAFETY: plain data, filled by the call.
        let mut r: DlFindObject = unsafe { core::mem::zeroed() };
        // SAFETY: any address may be asked about; `r` is writable.
        if unsafe { f(addr as *mut c_void, &mut r) } != 0 || r.link_map.is_null() {
            return None;
        }
        // SAFETY: a link map of a loaded object (loaded now: we are asking about it).
        let lm = unsafe { &*r.link_map };
        return Some((r.map_start as usize, r.map_end as usize, lm.l_addr, lm.l_name));
    }
    // SAFETY: plain data, filled by the call.
    let mut info: libc::Dl_info = unsafe { core::mem::zeroed() };
    let mut lm: *mut c_void = core::ptr::null_mut();
    // SAFETY: any address may be asked about; both outputs are writable.
    if unsafe { dladdr1(addr as *const c_void, &mut info, &mut lm, RTLD_DL_LINKMAP) } == 0 || lm.is_null() {
        return None;
    }
    // SAFETY: as above.
    let lm = unsafe { &*(lm as *const LinkMap) };
    Some((info.dli_fbase as usize, usize::MAX, lm.l_addr, lm.l_name))
}

/// The module (index + 1) `addr` lies in, recording it on first sight; 0 if it lies in no
/// loaded object (heap, stacks, anonymous memory).
pub fn module_of(addr: usize) -> u32 {
    let Some((start, end, bias, name)) = find_object(addr) else { return 0 };
    let t = tables::get();
    let Some((i, new)) = tables::find_or_claim(MODULES, start, |i| &t.modules[i].start) else { return 0 };
    let m = &t.modules[i];
    if new {
        m.end.store(end, Ordering::Relaxed);
        m.bias.store(bias, Ordering::Relaxed);
        let mut buf = [0u8; 255];
        let mut n = 0;
        // SAFETY: l_name is a NUL-terminated string of ld.so's, alive while the object is.
        unsafe {
            while !name.is_null() && n < buf.len() && *name.add(n) != 0 {
                buf[n] = *name.add(n);
                n += 1;
            }
        }
        if n == 0 {
            n = exe_path(&mut buf).len();
        }
        let len = tables::store_bytes(&m.path, &buf[..n]);
        m.len.store(len as u32, Ordering::Relaxed);
        // Release: the fields above are visible to whoever sees ready.
        m.ready.store(1, Ordering::Release);
    }
    i as u32 + 1
}

/// Whether `addr` lies in a loaded object (a static or global variable).
pub fn is_static(addr: usize) -> bool {
    find_object(addr).is_some()
}

fn exe_path(buf: &mut [u8]) -> &[u8] {
    let n = EXE_LEN.load(Ordering::Relaxed).min(buf.len());
    for i in 0..n {
        buf[i] = EXE[i / 8].load(Ordering::Relaxed).to_le_bytes()[i % 8];
    }
    &buf[..n]
}

/// The module record of `m` (index + 1), once filled.
pub fn module(m: u32) -> Option<&'static Module> {
    let m = tables::get().modules.get((m as usize).checked_sub(1)?)?;
    (m.ready.load(Ordering::Acquire) == 1).then_some(m)
}

/// The module's path.
pub fn path<'a>(m: &Module, buf: &'a mut [u8; 256]) -> &'a [u8] {
    tables::load_bytes(&m.path, m.len.load(Ordering::Relaxed) as usize, buf)
}

/// The last component of a path.
pub fn basename(p: &[u8]) -> &[u8] {
    match p.iter().rposition(|&c| c == b'/') {
        Some(i) => &p[i + 1..],
        None => p,
    }
}

/// A symbol found for an address: its name (in the mapped file) and the offset into it.
pub struct Symbol {
    /// The name, NUL excluded.
    pub name: &'static [u8],
    /// `address - symbol start`.
    pub offset: usize,
}

/// The symbol that contains `addr` in module `m`.
pub fn symbol(m: &Module, addr: usize) -> Option<Symbol> {
    let (base, len) = elf_of(m)?;
    // SAFETY: a read-only private mapping of `len` bytes that is never unmapped.
    let file = unsafe { core::slice::from_raw_parts(base as *const u8, len) };
    let vaddr = addr.wrapping_sub(m.bias.load(Ordering::Relaxed)) as u64;
    let index = index_of(m, file)?;
    // The innermost symbol that contains the address, among those starting just below it.
    let i = index.partition_point(|e| e.value <= vaddr);
    let best = index[..i]
        .iter()
        .rev()
        .take(16)
        .filter(|e| vaddr < e.value + e.size.max(1))
        .min_by_key(|e| e.size)?;
    let start = best.name as usize;
    let n = file.get(start..)?.iter().position(|&c| c == 0)?;
    (n > 0).then(|| Symbol { name: &file[start..start + n], offset: (vaddr - best.value) as usize })
}

/// One symbol of a module's index: start, size, name (offset in the file).
#[derive(Clone, Copy)]
#[repr(C)]
pub struct IndexEntry {
    value: u64,
    size: u64,
    name: u64,
}

/// The module's symbols (`.symtab`, else `.dynsym`: functions, objects and untyped ones
/// defined in a section) sorted by address, made on first use: a big program's table
/// (node: 110,000 symbols) is searched by bisection, not scanned for every frame. The index
/// lives in an anonymous mapping (no malloc) that is kept.
fn index_of(m: &Module, file: &'static [u8]) -> Option<&'static [IndexEntry]> {
    let cur = m.index.load(Ordering::Acquire);
    if cur == 1 {
        return None;
    }
    if cur != 0 {
        // SAFETY: published below: `index_len` entries, initialized, never unmapped.
        return Some(unsafe { core::slice::from_raw_parts(cur as *const IndexEntry, m.index_len.load(Ordering::Relaxed)) });
    }
    let built = symtab(file, 2).or_else(|| symtab(file, 11)).and_then(|(off, count, stroff)| {
        let bytes = (count.max(1) * core::mem::size_of::<IndexEntry>()).next_multiple_of(4096);
        let p = crate::sys::mmap_anon(bytes, libc::PROT_READ | libc::PROT_WRITE, 0).ok()?;
        // SAFETY: a fresh anonymous mapping of `bytes` bytes, zeroed: valid IndexEntry values.
        let all = unsafe { core::slice::from_raw_parts_mut(p.cast::<IndexEntry>(), count) };
        let mut n = 0;
        for k in 0..count {
            let s = off + k * 24;
            let (Some(&info), Some(shndx), Some(value), Some(size), Some(name)) =
                (file.get(s + 4), u16_at(file, s + 6), u64_at(file, s + 8), u64_at(file, s + 16), u32_at(file, s))
            else {
                break;
            };
            let ty = info & 0xf;
            if shndx != 0 && (ty == 0 || ty == 1 || ty == 2) && value != 0 {
                all[n] = IndexEntry { value, size, name: (stroff + name as usize) as u64 };
                n += 1;
            }
        }
        let used = &mut all[..n];
        used.sort_unstable_by_key(|e| e.value);
        Some((p as usize, n, bytes))
    });
    let (addr, n) = match built {
        Some((a, n, _)) => (a, n),
        None => (1, 0),
    };
    m.index_len.store(n, Ordering::Relaxed);
    // Release: the entries and the length are visible to whoever sees the address. A racing
    // builder's copy stays mapped unused (reports are rare).
    let _ = m.index.compare_exchange(0, addr, Ordering::AcqRel, Ordering::Acquire);
    index_of(m, file)
}

/// The first section of type `sh_type` (SYMTAB 2, DYNSYM 11) of an ELF64 file: (offset of
/// its entries, how many, offset of its string table).
fn symtab(f: &[u8], sh_type: u32) -> Option<(usize, usize, usize)> {
    if f.get(..4)? != b"\x7fELF" || *f.get(4)? != 2 {
        return None;
    }
    let shoff = u64_at(f, 40)? as usize;
    let shentsize = u16_at(f, 58)? as usize;
    let shnum = u16_at(f, 60)? as usize;
    let sh = |i: usize| shoff + i * shentsize;
    let sec = (0..shnum).find(|&i| u32_at(f, sh(i) + 4) == Some(sh_type))?;
    let off = u64_at(f, sh(sec) + 24)? as usize;
    let size = u64_at(f, sh(sec) + 32)? as usize;
    let link = u32_at(f, sh(sec) + 40)? as usize;
    let stroff = u64_at(f, sh(link) + 24)? as usize;
    Some((off, size / 24, stroff))
}

/// Maps the module's file on first use; (address, length), None if it cannot be read.
fn elf_of(m: &Module) -> Option<(usize, usize)> {
    let cur = m.elf.load(Ordering::Acquire);
    if cur == 1 {
        return None;
    }
    if cur != 0 {
        return Some((cur, m.elf_len.load(Ordering::Relaxed)));
    }
    let mut buf = [0u8; 256];
    let p = path(m, &mut buf);
    let mut cpath = [0u8; 257];
    let is_exe = {
        let mut e = [0u8; 256];
        let exe = exe_path(&mut e);
        !exe.is_empty() && p == exe
    };
    // The executable through /proc/self/exe: right even if the file was replaced since.
    let src: &[u8] = if is_exe { b"/proc/self/exe" } else { p };
    cpath[..src.len()].copy_from_slice(src);
    let mapped = map_file(&cpath);
    let (addr, len) = mapped.unwrap_or((1, 0));
    m.elf_len.store(len, Ordering::Relaxed);
    // Release: elf_len is visible to whoever sees the address. A racing mapper's copy stays
    // mapped unused (reports are rare; both copies are read-only).
    if m.elf.compare_exchange(0, addr, Ordering::AcqRel, Ordering::Acquire).is_err() {
        return elf_of(m);
    }
    mapped
}

fn map_file(path: &[u8]) -> Option<(usize, usize)> {
    let path = core::ffi::CStr::from_bytes_until_nul(path).ok()?;
    // An ELF file is at least its 64-byte header.
    crate::sys::fs::map_file(path, 64).ok().map(|(a, len)| (a as usize, len))
}

fn rd<const N: usize>(f: &[u8], off: usize) -> Option<[u8; N]> {
    f.get(off..off.checked_add(N)?)?.try_into().ok()
}
fn u16_at(f: &[u8], off: usize) -> Option<u16> {
    rd::<2>(f, off).map(u16::from_le_bytes)
}
fn u32_at(f: &[u8], off: usize) -> Option<u32> {
    rd::<4>(f, off).map(u32::from_le_bytes)
}
fn u64_at(f: &[u8], off: usize) -> Option<u64> {
    rd::<8>(f, off).map(u64::from_le_bytes)
}
