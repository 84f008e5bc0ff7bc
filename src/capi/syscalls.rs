//! The syscall wrappers: io_setup, io_destroy, io_submit, io_cancel,
//! io_getevents and io_pgetevents (current versions).

use super::{request, to_c, versioned};
use crate::abi::{io_context_t, io_event, iocb};
use crate::contexts;
use crate::reap::Wait;
use crate::runtime;
use crate::submit::submit;
use crate::sys;
use core::ffi::{c_int, c_long};
use libc::{sigset_t, timespec};

/// Creates a context able to hold at least `maxevents` in-flight requests and
/// stores its id in `*ctxp`, which must be 0. Returns 0 or -errno.
#[no_mangle]
pub unsafe extern "C" fn io_setup(maxevents: c_int, ctxp: *mut io_context_t) -> c_int {
    runtime::init();
    to_c(contexts::setup(maxevents, ctxp as usize))
}
versioned!(io_setup, "LIBAIO_0.4");

/// Destroys a context, waiting for its in-flight requests. Returns 0 or -errno.
#[no_mangle]
pub unsafe extern "C" fn io_destroy(ctx: io_context_t) -> c_int {
    to_c(contexts::destroy(ctx as usize))
}
versioned!(io_destroy, "LIBAIO_0.4");

/// Submits `nr` requests. Returns how many were queued, or -errno if none was.
#[no_mangle]
pub unsafe extern "C" fn io_submit(ctx: io_context_t, nr: c_long, ios: *mut *mut iocb) -> c_int {
    // SAFETY: the kernel reads and checks the array and the iocbs.
    to_c(unsafe { submit(ctx as usize, nr, ios as usize) })
}
versioned!(io_submit, "LIBAIO_0.1");

/// Attempts to cancel a request. On current kernels success is -EINPROGRESS
/// and the completion arrives in the ring; `evt` is not written.
#[no_mangle]
pub unsafe extern "C" fn io_cancel(
    ctx: io_context_t,
    iocb: *mut iocb,
    evt: *mut io_event,
) -> c_int {
    // SAFETY: the kernel checks both pointers.
    to_c(unsafe { sys::io_cancel(ctx as usize, iocb as usize, evt as usize) })
}
versioned!(io_cancel, "LIBAIO_0.4");

/// Reaps between `min_nr` and `nr` completions into `events`, waiting at most
/// `*timeout` (forever if NULL). Returns the count or -errno. Served from the
/// ring without a syscall whenever no wait is needed.
// Not inlined into io_queue_wait and the `LIBAIO_0.1` entry, which call it.
#[no_mangle]
#[inline(never)]
pub unsafe extern "C" fn io_getevents(
    ctx: io_context_t,
    min_nr: c_long,
    nr: c_long,
    events: *mut io_event,
    timeout: *mut timespec,
) -> c_int {
    to_c(request(ctx, min_nr, nr, events, timeout, Wait::Plain).run())
}
versioned!(io_getevents, "LIBAIO_0.4");

/// As `io_getevents`, with `sigmask` in force while the call waits.
#[no_mangle]
pub unsafe extern "C" fn io_pgetevents(
    ctx: io_context_t,
    min_nr: c_long,
    nr: c_long,
    events: *mut io_event,
    timeout: *mut timespec,
    sigmask: *mut sigset_t,
) -> c_int {
    let wait = Wait::WithSigmask(sigmask as usize);
    to_c(request(ctx, min_nr, nr, events, timeout, wait).run_outlined())
}
versioned!(io_pgetevents, "LIBAIO_0.5");
