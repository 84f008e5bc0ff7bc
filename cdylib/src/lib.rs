//! libaio.so.1 and libaio.a: the core crate's C entry points, with nothing of
//! Rust's standard library. A panic aborts the process without formatting
//! anything (the profiles also set `panic = "abort"`).
#![no_std]

// Links the core, whose `#[no_mangle]` entry points are what this library exports.
extern crate aio;

#[panic_handler]
fn abort_on_panic(_: &core::panic::PanicInfo) -> ! {
    // SAFETY: abort has no preconditions and never returns.
    unsafe { libc::abort() }
}
