//! The queue helpers: io_queue_init, io_queue_release, io_queue_run and the
//! current io_queue_wait.

use super::syscalls::io_getevents;
use super::{to_c, versioned};
use crate::abi::{io_callback_t, io_context_t};
use crate::contexts;
use crate::reap;
use crate::runtime;
use core::ffi::{c_int, c_long};
use libc::timespec;

/// Clears `*ctxp` and creates a context for `maxevents` requests.
/// Returns -EINVAL without a syscall if `maxevents <= 0`.
#[no_mangle]
pub unsafe extern "C" fn io_queue_init(maxevents: c_int, ctxp: *mut io_context_t) -> c_int {
    runtime::init();
    to_c(contexts::queue_init(maxevents, ctxp as usize))
}
versioned!(io_queue_init, "LIBAIO_0.1");

/// Same as `io_destroy`.
#[no_mangle]
pub unsafe extern "C" fn io_queue_release(ctx: io_context_t) -> c_int {
    to_c(contexts::destroy(ctx as usize))
}
versioned!(io_queue_release, "LIBAIO_0.1");

/// Calls the `io_callback_t` stored in each ready event's `data` (see
/// `io_set_callback`) until the ring is empty. Returns 0 or -errno.
/// Events whose callback is NULL are consumed without a call.
#[no_mangle]
pub unsafe extern "C" fn io_queue_run(ctx: io_context_t) -> c_int {
    to_c(reap::run_callbacks(ctx as usize, |event| {
        // SAFETY: io_set_callback stored an io_callback_t in data; NULL is None.
        let callback: io_callback_t = unsafe { core::mem::transmute(event.data) };
        if let Some(callback) = callback {
            // SAFETY: calling the caller's own callback with its own iocb.
            unsafe { callback(ctx, event.obj, event.res as c_long, event.res2 as c_long) };
        }
    }))
}
versioned!(io_queue_run, "LIBAIO_0.1");

/// `io_getevents(ctx, 0, 0, NULL, timeout)`: checks the context and timeout.
/// Not declared in the header, as upstream.
#[no_mangle]
pub unsafe extern "C" fn io_queue_wait(ctx: io_context_t, timeout: *mut timespec) -> c_int {
    // SAFETY: the same contract.
    unsafe { io_getevents(ctx, 0, 0, core::ptr::null_mut(), timeout) }
}
versioned!(io_queue_wait, "LIBAIO_0.4");
