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

/// The library is linked without the C start files (`-nostartfiles`, as
/// upstream's is): they would add code, four imported symbols and an
/// `.init` and `.fini` for C++'s transactional memory and static
/// constructors, which it has none of. Of theirs it needs only this: the
/// handle that names it to glibc's `atexit` and `pthread_atfork` (glibc's
/// libc_nonshared.a passes the value, which is the handle's own address)...
#[repr(transparent)]
pub struct DsoHandle(*const DsoHandle);
// SAFETY: never written; glibc only compares the value.
unsafe impl Sync for DsoHandle {}

#[no_mangle]
static __dso_handle: DsoHandle = DsoHandle(&__dso_handle);

extern "C" {
    fn __cxa_finalize(dso_handle: *const DsoHandle);
}

/// ...and, when dlclose unmaps it, the run of the exit handlers it
/// registered (the report's) and the removal of its fork handler, so that
/// nothing calls into the unmapped library afterwards.
#[used]
#[link_section = ".fini_array"]
static FINALIZE: extern "C" fn() = finalize;

extern "C" fn finalize() {
    // SAFETY: glibc's, for exactly this; it runs each handler once.
    unsafe { __cxa_finalize(&__dso_handle) }
}
