//! The C entry points, and nothing else: each converts its arguments, calls
//! the safe core and maps `Result` to libaio's convention with [`to_c`].
//!
//! Symbol versions: every exported name gets its node from a `.symver`
//! directive placed next to the function (see [`versioned!`]); `build.rs`
//! passes `libaio.map`, which declares the nodes. rust-lld leaves plain
//! `#[no_mangle]` names unversioned otherwise.

use crate::abi::{io_context_t, io_event};
use crate::reap::{Request, Wait};
use crate::sys::Errno;
use core::ffi::{c_int, c_long};
use libc::timespec;

mod compat;
mod helpers;
mod queue;
mod syscalls;

/// libaio's convention: a count or 0 on success, `-errno` on failure, and
/// the caller's `errno` untouched.
fn to_c(result: Result<c_int, Errno>) -> c_int {
    result.unwrap_or_else(|Errno(errno)| -errno)
}

/// The request of every `io_getevents`-style entry point.
#[inline(always)]
fn request(
    ctx: io_context_t,
    min_nr: c_long,
    nr: c_long,
    events: *mut io_event,
    timeout: *const timespec,
    wait: Wait,
) -> Request {
    Request {
        ctx: ctx as usize,
        min_nr,
        nr,
        events: events as usize,
        timeout: timeout as usize,
        wait,
    }
}

/// Gives the `#[no_mangle]` function `$name` (defined in the same module) the
/// default version `$node`: `name@@node`. `@@@` renames instead of aliasing.
macro_rules! versioned {
    ($name:ident, $node:literal) => {
        core::arch::global_asm!(concat!(
            ".symver ",
            stringify!($name),
            ", ",
            stringify!($name),
            "@@@",
            $node
        ));
    };
}
use versioned;
