//! Generates include/pthread.h from the crate's exports with cbindgen. The checked-in header
//! must match: `make test` fails when `git diff include/pthread.h` is not empty after a build.
//! Also compiles the two C helpers with the system C compiler: src/sync/once_unwind.c
//! (pthread_once's frame that C++ exceptions unwind through) and src/rt_unwind.c (the
//! unwinder entry points the library's frames name, forwarded to libgcc_s, which is loaded
//! only when something unwinds).

use std::path::Path;
use std::process::Command;

/// Compiles `src` into a static library `lib<name>.a` in OUT_DIR; links it unless `link` is
/// false (then the crate's `#[link]` attribute does, where it applies).
fn compile_c(dir: &str, src: &str, name: &str, link: bool) {
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let obj = Path::new(&out).join(format!("{name}.o"));
    let lib = Path::new(&out).join(format!("lib{name}.a"));
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    // -fexceptions: the function gets unwind tables and its cleanup a landing pad.
    let ok = Command::new(&cc)
        .args(["-O2", "-g", "-fPIC", "-fexceptions", "-fvisibility=hidden", "-Wall", "-Werror", "-c"])
        .arg(Path::new(dir).join(src))
        .arg("-o")
        .arg(&obj)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "{cc} failed to compile {src}");
    let _ = std::fs::remove_file(&lib);
    let ok = Command::new("ar").arg("crs").arg(&lib).arg(&obj).status().is_ok_and(|s| s.success());
    assert!(ok, "ar failed to archive {src}");
    println!("cargo:rustc-link-search=native={out}");
    if link {
        println!("cargo:rustc-link-lib=static={name}");
    }
    println!("cargo:rerun-if-changed={src}");
}

fn main() {
    // `cfg(gnu)` marks the GNU extensions (`*_np`, ...), `cfg(xopen2k)`, `cfg(xopen2k8)` and
    // `cfg(unix98)` the functions glibc's <pthread.h> declares only at those feature levels
    // (barriers, spinlocks, rwlocks, ...): always compiled and exported; the header declares
    // each inside the same `#if defined(__USE_...)` as glibc's (cbindgen.toml), so a program
    // built with `-std=c11` and no feature macro sees what it sees with glibc's header.
    for level in ["gnu", "xopen2k", "xopen2k8", "unix98"] {
        println!("cargo:rustc-cfg={level}");
        println!("cargo:rustc-check-cfg=cfg({level})");
    }
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    compile_c(&dir, "src/sync/once_unwind.c", "rpthread_once_unwind", true);
    // Linked by `cancel::unwind` outside unit tests only: a test binary has std, whose
    // rust_eh_personality and libgcc_s the helper stands in for.
    compile_c(&dir, "src/rt_unwind.c", "rpthread_rt_unwind", false);
    let config = cbindgen::Config::from_file(Path::new(&dir).join("cbindgen.toml"))
        .expect("cbindgen.toml is valid");
    let mut header = Vec::new();
    cbindgen::Builder::new()
        .with_crate(&dir)
        .with_config(config)
        .generate()
        .expect("cbindgen can parse the crate")
        .write(&mut header);
    // cbindgen ends its C++ guards with `// __cplusplus`: a C++ comment, which C89 (glibc's
    // header compiles there) warns about.
    let header = String::from_utf8(header).expect("cbindgen writes UTF-8").replace("// __cplusplus", "/* __cplusplus */");
    let header = header.into_bytes();
    let path = Path::new(&dir).join("include/pthread.h");
    // Write only on change so the header's mtime means something to make.
    if std::fs::read(&path).ok().as_deref() != Some(&header[..]) {
        std::fs::write(&path, &header).expect("include/ is writable");
    }
}
