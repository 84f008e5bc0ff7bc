//! `io_submit`: the kernel's, timed for the report when it is on.

use crate::sys::{self, Errno};
use crate::{contexts, report};
use core::ffi::{c_int, c_long};

/// `io_submit(ctx, nr, iocbpp)`.
///
/// # Safety
/// As for [`sys::io_submit`]: the kernel reads and checks the array and
/// the iocbs.
#[inline]
pub unsafe fn submit(ctx: usize, nr: c_long, iocbpp: usize) -> Result<c_int, Errno> {
    if report::on() {
        // SAFETY: forwarded contract.
        return unsafe { submit_reported(ctx, nr, iocbpp) };
    }
    // SAFETY: forwarded contract.
    unsafe { sys::io_submit(ctx, nr, iocbpp) }
}

/// # Safety
/// As for [`submit`].
#[cold]
unsafe fn submit_reported(ctx: usize, nr: c_long, iocbpp: usize) -> Result<c_int, Errno> {
    let start = report::now();
    // SAFETY: forwarded contract.
    let result = unsafe { sys::io_submit(ctx, nr, iocbpp) };
    let ns = report::now().saturating_sub(start);
    report::submitted(contexts::record_of(ctx), nr, iocbpp, result, ns);
    result
}
