//! The kernel interface: errors as the kernel reports them, the check of
//! user pointers the library itself dereferences, and the syscalls: the AIO
//! ones and the futex (aio.rs; under the model check, the model kernel's),
//! and the few the report makes (raw.rs); what differs per architecture
//! (arch.rs).

#[cfg(not(loom))]
mod aio;
mod arch;
mod raw;

#[cfg(loom)]
pub use crate::model::kernel::{
    io_cancel, io_destroy, io_getevents, io_pgetevents, io_setup, io_submit,
};
#[cfg(not(loom))]
pub use aio::*;
pub use arch::thread_pointer;
pub use raw::{close, fcntl_getfl, getpid, open_for_append, open_for_read, read, write};

use core::ffi::c_int;

/// A positive errno value, as the kernel reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Errno(pub c_int);

impl Errno {
    pub const EINVAL: Errno = Errno(libc::EINVAL);
    pub const EFAULT: Errno = Errno(libc::EFAULT);
    pub const EINTR: Errno = Errno(libc::EINTR);
}

/// Lowest and highest address the kernel accepts as a user pointer.
const FIRST_USER_ADDRESS: usize = 4096;
const LAST_USER_ADDRESS: usize = isize::MAX as usize;

/// Whether `len` bytes at `addr` could be user memory. What the library
/// itself would dereference is checked with this first, so that NULL, the
/// first page and kernel addresses get the kernel's -EFAULT, not a SIGSEGV.
#[inline]
pub fn plausible(addr: usize, len: usize) -> bool {
    const SPAN: usize = LAST_USER_ADDRESS - FIRST_USER_ADDRESS;
    // An address below the first page wraps around to a huge value.
    len <= SPAN && addr.wrapping_sub(FIRST_USER_ADDRESS) <= SPAN - len
}

/// glibc's `sigset_t` is 128 bytes; the kernel's (upstream's `_NSIG / 8`) is 8.
pub const KERNEL_SIGSET_BYTES: usize = 8;
