//! How reports name things: frames (`worker+0x2a (prog)`), locks (`mutex g_lock in
//! libfoo.so`, or a heap lock by where it was made), threads (`thread 4242 "worker"`).

use super::report::{Out, Sink};
use super::stack;
use super::symbols;
use super::tables::{self, Class, Kind, FRAMES};
use core::sync::atomic::Ordering;

/// Frames of a heap lock's name stack that reports show.
const NAME_FRAMES: usize = 3;

/// Writes one frame: `function+0x1c (object)`, else `0x… (object+0x…)`, else `0x…`.
pub fn frame<S: Sink>(o: &mut S, pc: usize, module: u32) {
    let m = if module != 0 { module } else { symbols::module_of(pc.wrapping_sub(1)) };
    let Some(m) = symbols::module(m) else {
        o.put_hex(pc);
        return;
    };
    let mut buf = [0u8; 256];
    let path = symbols::path(m, &mut buf);
    let base = symbols::basename(path);
    match symbols::symbol(m, pc.wrapping_sub(1)) {
        Some(sym) => {
            o.put(sym.name);
            o.put(b"+");
            o.put_hex(sym.offset + 1);
            o.put(b" (");
            o.put(base);
            o.put(b")");
        }
        None => {
            o.put_hex(pc);
            o.put(b" (");
            o.put(base);
            o.put(b"+");
            o.put_hex(pc.wrapping_sub(m.bias.load(Ordering::Relaxed)));
            o.put(b")");
        }
    }
}

/// Writes a code address exactly (a function pointer): `function (object)`, with `+0x…`
/// only inside a function.
pub fn code(o: &mut Out, addr: usize) {
    let Some(m) = symbols::module(symbols::module_of(addr)) else {
        o.hex(addr);
        return;
    };
    let mut buf = [0u8; 256];
    let base = symbols::basename(symbols::path(m, &mut buf));
    match symbols::symbol(m, addr) {
        Some(sym) => {
            o.b(sym.name);
            if sym.offset != 0 {
                o.s("+").hex(sym.offset);
            }
            o.s(" (").b(base).s(")");
        }
        None => {
            o.hex(addr).s(" (").b(base).s(")");
        }
    }
}

/// A stack as `a <- b <- c` (at most `max` frames), or a JSON array of frame strings.
pub fn stack_inline(o: &mut Out, id: u32, max: usize) {
    let mut f = [(0usize, 0u32); FRAMES];
    let n = stack::get(id, &mut f).min(max);
    frames_inline(o, &f[..n]);
}

/// Frames as `a <- b <- c`, or a JSON array.
pub fn frames_inline(o: &mut Out, f: &[(usize, u32)]) {
    if o.json {
        o.s("[");
        for (k, &(pc, m)) in f.iter().enumerate() {
            if k > 0 {
                o.s(",");
            }
            json_frame(o, pc, m);
        }
        o.s("]");
        return;
    }
    if f.is_empty() {
        o.s("(no stack)");
    }
    for (k, &(pc, m)) in f.iter().enumerate() {
        if k > 0 {
            o.s(" <- ");
        }
        frame(o, pc, m);
    }
}

/// A frame as a JSON string.
pub fn json_frame(o: &mut Out, pc: usize, m: u32) {
    // Written through a scratch report would need a second buffer: frames are short, so they
    // are built in a stack buffer with the same formatting.
    let mut scratch = Scratch { buf: [0; 320], len: 0 };
    frame(&mut scratch, pc, m);
    let n = scratch.len;
    o.js(&scratch.buf[..n]);
}

/// A stack one frame per line, each prefixed by `indent` (text), or a JSON array.
pub fn stack_lines(o: &mut Out, pcs: &[usize], indent: &str) {
    if o.json {
        o.s("[");
        for (k, &pc) in pcs.iter().enumerate() {
            if k > 0 {
                o.s(",");
            }
            json_frame(o, pc, 0);
        }
        o.s("]");
        return;
    }
    if pcs.is_empty() {
        o.s(indent).s("(no stack)\n");
    }
    for &pc in pcs {
        o.s(indent);
        frame(o, pc, 0);
        o.s("\n");
    }
}

/// A stored stack one frame per line (text), or a JSON array.
pub fn stack_id_lines(o: &mut Out, id: u32, indent: &str) {
    let mut f = [(0usize, 0u32); FRAMES];
    let n = stack::get(id, &mut f);
    if o.json {
        frames_inline(o, &f[..n]);
        return;
    }
    if n == 0 {
        o.s(indent).s("(no stack)\n");
    }
    for &(pc, m) in &f[..n] {
        o.s(indent);
        frame(o, pc, m);
        o.s("\n");
    }
}

/// A small formatter for one frame into a fixed buffer (for JSON strings).
struct Scratch {
    buf: [u8; 320],
    len: usize,
}

impl Scratch {
    fn b(&mut self, s: &[u8]) -> &mut Self {
        let n = s.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s[..n]);
        self.len += n;
        self
    }
}

impl Sink for Scratch {
    fn put(&mut self, s: &[u8]) {
        self.b(s);
    }
}

impl Scratch {
    fn hex(&mut self, v: usize) -> &mut Self {
        self.put_hex(v);
        self
    }
}

/// The class record of id `c` (index + 1).
pub fn class(c: u32) -> Option<&'static Class> {
    tables::get().classes.get((c as usize).checked_sub(1)?)
}

/// The kind of class `c`.
pub fn kind_of(c: u32) -> Option<Kind> {
    Kind::from_u32(class(c)?.kind.load(Ordering::Relaxed))
}

/// Names a lock: its class (static symbol, or where heap ones are made) and, for a heap lock
/// whose address is known, the address. JSON: an object with kind, name, addr and (heap) the
/// stack where it was made.
pub fn lock(o: &mut Out, addr: usize, c: u32) {
    let cl = class(c).filter(|cl| cl.ready.load(Ordering::Acquire) == 1);
    let kind = cl.and_then(|cl| Kind::from_u32(cl.kind.load(Ordering::Relaxed)));
    let kname = kind.map_or("lock", Kind::name);
    if o.json {
        o.s("{").key("kind", true).js(kname.as_bytes()).key("addr", false);
        let mut tmp = Scratch { buf: [0; 320], len: 0 };
        tmp.hex(addr);
        let n = tmp.len;
        o.js(&tmp.buf[..n]);
    } else {
        o.s(kname).s(" ");
    }
    let Some(cl) = cl else {
        if o.json {
            o.s("}");
        } else {
            o.hex(addr);
        }
        return;
    };
    let key = cl.key.load(Ordering::Relaxed);
    if key >> 63 == 0 {
        // A static object: its symbol and object file.
        let a = cl.addr.load(Ordering::Relaxed);
        let m = symbols::module(cl.module.load(Ordering::Relaxed));
        let mut pbuf = [0u8; 256];
        let mut name = Scratch { buf: [0; 320], len: 0 };
        match m {
            Some(m) => {
                let base = symbols::basename(symbols::path(m, &mut pbuf));
                match symbols::symbol(m, a) {
                    Some(sym) => {
                        name.b(sym.name);
                        if sym.offset != 0 {
                            name.b(b"+").hex(sym.offset);
                        }
                    }
                    None => {
                        name.hex(a.wrapping_sub(m.bias.load(Ordering::Relaxed)));
                    }
                }
                name.b(b" in ").b(base);
            }
            None => {
                name.hex(a);
            }
        }
        let n = name.len;
        if o.json {
            o.key("name", false).js(&name.buf[..n]).key("static", false).s("true}");
        } else {
            o.b(&name.buf[..n]);
        }
        return;
    }
    // A heap (or stack) object: named by where its class was made.
    let how = if cl.from_init.load(Ordering::Relaxed) == 1 { "initialized at" } else { "first locked at" };
    let ns = cl.name_stack.load(Ordering::Relaxed);
    if o.json {
        o.key("name", false);
        let mut tmp = Scratch { buf: [0; 320], len: 0 };
        tmp.b(b"heap ").b(kname.as_bytes()).b(b" ").b(how.as_bytes()).b(b" ");
        let mut f = [(0usize, 0u32); FRAMES];
        let n = stack::get(ns, &mut f);
        if n > 0 {
            frame(&mut tmp, f[0].0, f[0].1);
        }
        let l = tmp.len;
        o.js(&tmp.buf[..l]).key("static", false).s("false").key("made_at", false);
        stack_inline(o, ns, FRAMES);
        o.s("}");
    } else {
        o.hex(addr).s(" (heap, ").s(how).s(" ");
        stack_inline(o, ns, NAME_FRAMES);
        o.s(")");
    }
}

/// Names a class without an instance (contention table rows, graph nodes).
pub fn class_name(o: &mut Out, c: u32) {
    let addr = class(c).map_or(0, |cl| cl.addr.load(Ordering::Relaxed));
    lock(o, addr, c)
}

/// Names a class in one short line (no JSON): the static symbol, or `heap <kind> made at
/// <first frame>` (for the Graphviz graph and folded stacks).
pub fn class_short(o: &mut Out, c: u32) {
    let json = o.json;
    o.json = false;
    let Some(cl) = class(c) else {
        o.s("?");
        o.json = json;
        return;
    };
    if cl.key.load(Ordering::Relaxed) >> 63 == 0 {
        let mut discard_kind = true;
        // The static name without the kind word.
        let a = cl.addr.load(Ordering::Relaxed);
        if let Some(m) = symbols::module(cl.module.load(Ordering::Relaxed)) {
            let mut pbuf = [0u8; 256];
            let base = symbols::basename(symbols::path(m, &mut pbuf));
            if let Some(sym) = symbols::symbol(m, a) {
                o.b(sym.name);
                if sym.offset != 0 {
                    o.s("+").hex(sym.offset);
                }
                o.s(" in ").b(base);
                discard_kind = false;
            }
        }
        if discard_kind {
            o.hex(a);
        }
    } else {
        let kname = Kind::from_u32(cl.kind.load(Ordering::Relaxed)).map_or("lock", Kind::name);
        o.s("heap ").s(kname).s(" made at ");
        stack_inline(o, cl.name_stack.load(Ordering::Relaxed), 1);
    }
    o.json = json;
}

/// `thread 4242 "name"` (text) or `"tid":4242,"thread":"name"` (JSON, no braces).
pub fn thread(o: &mut Out, tid: i32) {
    let mut buf = [0u8; 32];
    let name = comm(tid, &mut buf);
    if o.json {
        o.key("tid", true).i(tid as i64).key("thread", false).js(name);
    } else {
        o.s("thread ").i(tid as i64).s(" \"").b(name).s("\"");
    }
}

/// The kernel's name of thread `tid` of this process (`/proc/self/task/<tid>/comm`).
pub fn comm(tid: i32, buf: &mut [u8; 32]) -> &[u8] {
    let len = super::dump::read_task_file(tid, b"/comm", buf);
    let mut len = len;
    while len > 0 && (buf[len - 1] == b'\n' || buf[len - 1] == 0) {
        len -= 1;
    }
    &buf[..len]
}
