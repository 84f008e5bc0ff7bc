//! The LIBAIO_0.1 compat entries, with their pre-2003 meanings. They are
//! non-default versions (`name@LIBAIO_0.1`): only old binaries and
//! `dlvsym(..., "LIBAIO_0.1")` reach them, and they are not in the header.

use super::queue::io_queue_wait;
use super::syscalls::io_getevents;
use super::to_c;
use crate::abi::{io_context_t, io_event, iocb};
use crate::sys;
use core::ffi::{c_int, c_long};
use libc::timespec;

/// Gives the private function `$f` the compat version `$name@LIBAIO_0.1`.
macro_rules! compat_version {
    ($f:ident, $name:literal) => {
        core::arch::global_asm!(
            ".globl {f}",
            concat!(".symver {f}, ", $name, "@LIBAIO_0.1"),
            f = sym $f,
        );
    };
}

/// Old `io_getevents(ctx, nr, events, timeout)`: waits for at least one event.
unsafe extern "C" fn io_getevents_0_1(
    ctx: io_context_t,
    nr: c_long,
    events: *mut io_event,
    timeout: *const timespec,
) -> c_int {
    // SAFETY: the current entry point, with the same contract.
    unsafe { io_getevents(ctx, 1, nr, events, timeout.cast_mut()) }
}
compat_version!(io_getevents_0_1, "io_getevents");

/// Old `io_cancel(ctx, iocb)`: the event argument did not exist yet.
unsafe extern "C" fn io_cancel_0_1(ctx: io_context_t, iocb: *mut iocb) -> c_int {
    let mut discarded = core::mem::MaybeUninit::<io_event>::uninit();
    // SAFETY: the kernel checks iocb; `discarded` is writable and ours.
    to_c(unsafe { sys::io_cancel(ctx as usize, iocb as usize, discarded.as_mut_ptr() as usize) })
}
compat_version!(io_cancel_0_1, "io_cancel");

/// Old `io_queue_wait(ctx, timeout)`: the same as the current one.
unsafe extern "C" fn io_queue_wait_0_1(ctx: io_context_t, timeout: *const timespec) -> c_int {
    // SAFETY: the current entry point, with the same contract.
    unsafe { io_queue_wait(ctx, timeout.cast_mut()) }
}
compat_version!(io_queue_wait_0_1, "io_queue_wait");
