//! Build script of the C library (`cdylib/Cargo.toml` points here): gives
//! libaio.so upstream's SONAME and symbol-version nodes.
fn main() {
    let map = format!(
        "{}/../libaio.map",
        std::env::var("CARGO_MANIFEST_DIR").unwrap()
    );
    println!("cargo:rerun-if-changed=../libaio.map");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libaio.so.1");
    println!("cargo:rustc-cdylib-link-arg=-Wl,--version-script={map}");
}
