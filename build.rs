//! Generates include/pthread.h from the crate's exports with cbindgen. The checked-in header
//! must match: `make test` fails when `git diff include/pthread.h` is not empty after a build.

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let config = cbindgen::Config::from_file(Path::new(&dir).join("cbindgen.toml"))
        .expect("cbindgen.toml is valid");
    let mut header = Vec::new();
    cbindgen::Builder::new()
        .with_crate(&dir)
        .with_config(config)
        .generate()
        .expect("cbindgen can parse the crate")
        .write(&mut header);
    let path = Path::new(&dir).join("include/pthread.h");
    // Write only on change so the header's mtime means something to make.
    if std::fs::read(&path).ok().as_deref() != Some(&header[..]) {
        std::fs::write(&path, &header).expect("include/ is writable");
    }
}
