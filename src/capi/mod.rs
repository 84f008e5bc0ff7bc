//! The C entry points, and nothing else: each converts its arguments, calls
//! the safe core and maps `Result` to libaio's convention with [`to_c`].
//!
//! Symbol versions: every exported name gets its node from a `.symver`
//! directive placed next to the function (see [`versioned!`]); `build.rs`
//! passes `libaio.map`, which declares the nodes. rust-lld leaves plain
//! `#[no_mangle]` names unversioned otherwise.

use crate::sys::Errno;
use core::ffi::c_int;

mod compat;
mod helpers;
mod queue;
mod syscalls;

/// libaio's convention: a count or 0 on success, `-errno` on failure, and
/// the caller's `errno` untouched.
fn to_c(result: Result<c_int, Errno>) -> c_int {
    result.unwrap_or_else(|Errno(errno)| -errno)
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
