//! libaio-rs: a drop-in `libaio.so.1` (ABI of libaio 0.3.113) that reaps
//! completions from the kernel's ring in user space when it can.
//!
//! `capi` holds the C entry points only; everything below it is safe Rust
//! around small, commented `unsafe` blocks.
//!
//! # Safety contract of the C API
//! As with upstream libaio: pointers the kernel reads or writes are passed to
//! it and checked by it; pointers the library itself reads (a timeout, the
//! events array on the fast path) must be valid when they are neither NULL
//! nor obviously outside user space, which is refused with -EFAULT.

// Only `core` (and the libc crate's declarations) in what ships; the tests
// have std. The panic handler is the C library's (cdylib/src/lib.rs). The
// shipped profiles set panic = "abort"; test builds unwind, and even there
// an unwind reaching an `extern "C"` entry point aborts (Rust >= 1.81).
#![cfg_attr(not(test), no_std)]

// Only what the integration tests use is public. Statics that other crates
// could reach through the rlib keep external linkage, and the cdylib then
// loads their addresses from the GOT on every call.
pub mod abi;
mod capi;
mod contexts;
mod hazard;
mod prep;
mod reap;
mod report;
pub mod ring;
mod runtime;
mod submit;
mod switches;
mod sync;
mod sys;
mod text;

#[cfg(loom)]
mod model;
