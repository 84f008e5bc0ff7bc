//! The header's inline helpers as real functions (version node
//! LIBAIO_RS_0.3.113), for callers that cannot use C inline functions.
//! The header keeps its own inline copies; cbindgen leaves these out.

use super::versioned;
use crate::abi::{io_callback_t, io_context_t, io_iocb_cmd, iocb, iovec};
use core::ffi::{c_int, c_longlong, c_void};

/// Runs `f` on `*cb` unless it is NULL (there is no error to report).
unsafe fn with_iocb(cb: *mut iocb, f: impl FnOnce(&mut iocb)) {
    // SAFETY: a non-NULL iocb pointer must be valid (C contract).
    if let Some(cb) = unsafe { cb.as_mut() } {
        f(cb);
    }
}

/// Prepares a read of `count` bytes at `offset` into `buf`.
#[no_mangle]
pub unsafe extern "C" fn io_prep_pread(
    cb: *mut iocb,
    fd: c_int,
    buf: *mut c_void,
    count: usize,
    offset: c_longlong,
) {
    // SAFETY: forwarded contract.
    unsafe {
        with_iocb(cb, |cb| {
            cb.prep_rw(io_iocb_cmd::IO_CMD_PREAD, fd, buf, count, offset)
        })
    }
}
versioned!(io_prep_pread, "LIBAIO_RS_0.3.113");

/// Prepares a write of `count` bytes at `offset` from `buf`.
#[no_mangle]
pub unsafe extern "C" fn io_prep_pwrite(
    cb: *mut iocb,
    fd: c_int,
    buf: *mut c_void,
    count: usize,
    offset: c_longlong,
) {
    // SAFETY: forwarded contract.
    unsafe {
        with_iocb(cb, |cb| {
            cb.prep_rw(io_iocb_cmd::IO_CMD_PWRITE, fd, buf, count, offset)
        })
    }
}
versioned!(io_prep_pwrite, "LIBAIO_RS_0.3.113");

/// Prepares a vectored read.
#[no_mangle]
pub unsafe extern "C" fn io_prep_preadv(
    cb: *mut iocb,
    fd: c_int,
    iov: *const iovec,
    iovcnt: c_int,
    offset: c_longlong,
) {
    // SAFETY: forwarded contract.
    unsafe {
        with_iocb(cb, |cb| {
            cb.prep_rwv(io_iocb_cmd::IO_CMD_PREADV, fd, iov, iovcnt, offset, 0)
        })
    }
}
versioned!(io_prep_preadv, "LIBAIO_RS_0.3.113");

/// Prepares a vectored write.
#[no_mangle]
pub unsafe extern "C" fn io_prep_pwritev(
    cb: *mut iocb,
    fd: c_int,
    iov: *const iovec,
    iovcnt: c_int,
    offset: c_longlong,
) {
    // SAFETY: forwarded contract.
    unsafe {
        with_iocb(cb, |cb| {
            cb.prep_rwv(io_iocb_cmd::IO_CMD_PWRITEV, fd, iov, iovcnt, offset, 0)
        })
    }
}
versioned!(io_prep_pwritev, "LIBAIO_RS_0.3.113");

/// Prepares a vectored read with RWF_* `flags`.
#[no_mangle]
pub unsafe extern "C" fn io_prep_preadv2(
    cb: *mut iocb,
    fd: c_int,
    iov: *const iovec,
    iovcnt: c_int,
    offset: c_longlong,
    flags: c_int,
) {
    // SAFETY: forwarded contract.
    unsafe {
        with_iocb(cb, |cb| {
            cb.prep_rwv(io_iocb_cmd::IO_CMD_PREADV, fd, iov, iovcnt, offset, flags)
        })
    }
}
versioned!(io_prep_preadv2, "LIBAIO_RS_0.3.113");

/// Prepares a vectored write with RWF_* `flags`.
#[no_mangle]
pub unsafe extern "C" fn io_prep_pwritev2(
    cb: *mut iocb,
    fd: c_int,
    iov: *const iovec,
    iovcnt: c_int,
    offset: c_longlong,
    flags: c_int,
) {
    // SAFETY: forwarded contract.
    unsafe {
        with_iocb(cb, |cb| {
            cb.prep_rwv(io_iocb_cmd::IO_CMD_PWRITEV, fd, iov, iovcnt, offset, flags)
        })
    }
}
versioned!(io_prep_pwritev2, "LIBAIO_RS_0.3.113");

/// Prepares a one-shot poll of `fd` for `events` (POLLIN, ...).
#[no_mangle]
pub unsafe extern "C" fn io_prep_poll(cb: *mut iocb, fd: c_int, events: c_int) {
    // SAFETY: forwarded contract.
    unsafe { with_iocb(cb, |cb| cb.prep_poll(fd, events)) }
}
versioned!(io_prep_poll, "LIBAIO_RS_0.3.113");

/// Prepares an fsync.
#[no_mangle]
pub unsafe extern "C" fn io_prep_fsync(cb: *mut iocb, fd: c_int) {
    // SAFETY: forwarded contract.
    unsafe { with_iocb(cb, |cb| cb.prep_sync(io_iocb_cmd::IO_CMD_FSYNC, fd)) }
}
versioned!(io_prep_fsync, "LIBAIO_RS_0.3.113");

/// Prepares an fdatasync.
#[no_mangle]
pub unsafe extern "C" fn io_prep_fdsync(cb: *mut iocb, fd: c_int) {
    // SAFETY: forwarded contract.
    unsafe { with_iocb(cb, |cb| cb.prep_sync(io_iocb_cmd::IO_CMD_FDSYNC, fd)) }
}
versioned!(io_prep_fdsync, "LIBAIO_RS_0.3.113");

/// Stores the callback that `io_queue_run` will call for this request.
#[no_mangle]
pub unsafe extern "C" fn io_set_callback(cb: *mut iocb, callback: io_callback_t) {
    // SAFETY: forwarded contract.
    unsafe { with_iocb(cb, |cb| cb.set_callback(callback)) }
}
versioned!(io_set_callback, "LIBAIO_RS_0.3.113");

/// Asks for `eventfd` to be signalled on completion; call after `io_prep_*`.
#[no_mangle]
pub unsafe extern "C" fn io_set_eventfd(cb: *mut iocb, eventfd: c_int) {
    // SAFETY: forwarded contract.
    unsafe { with_iocb(cb, |cb| cb.set_eventfd(eventfd)) }
}
versioned!(io_set_eventfd, "LIBAIO_RS_0.3.113");

/// Prepares `cb` with `prep` and the callback, then submits it alone.
unsafe fn submit_one(
    ctx: io_context_t,
    mut cb: *mut iocb,
    callback: io_callback_t,
    prep: impl FnOnce(&mut iocb),
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe {
        with_iocb(cb, |cb| {
            prep(cb);
            cb.set_callback(callback);
        });
        super::syscalls::io_submit(ctx, 1, &mut cb)
    }
}

/// `io_prep_poll` + `io_set_callback` + `io_submit` of that one iocb.
#[no_mangle]
pub unsafe extern "C" fn io_poll(
    ctx: io_context_t,
    cb: *mut iocb,
    callback: io_callback_t,
    fd: c_int,
    events: c_int,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { submit_one(ctx, cb, callback, |cb| cb.prep_poll(fd, events)) }
}
versioned!(io_poll, "LIBAIO_RS_0.3.113");

/// `io_prep_fsync` + `io_set_callback` + `io_submit` of that one iocb.
#[no_mangle]
pub unsafe extern "C" fn io_fsync(
    ctx: io_context_t,
    cb: *mut iocb,
    callback: io_callback_t,
    fd: c_int,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe {
        submit_one(ctx, cb, callback, |cb| {
            cb.prep_sync(io_iocb_cmd::IO_CMD_FSYNC, fd)
        })
    }
}
versioned!(io_fsync, "LIBAIO_RS_0.3.113");

/// `io_prep_fdsync` + `io_set_callback` + `io_submit` of that one iocb.
#[no_mangle]
pub unsafe extern "C" fn io_fdsync(
    ctx: io_context_t,
    cb: *mut iocb,
    callback: io_callback_t,
    fd: c_int,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe {
        submit_one(ctx, cb, callback, |cb| {
            cb.prep_sync(io_iocb_cmd::IO_CMD_FDSYNC, fd)
        })
    }
}
versioned!(io_fdsync, "LIBAIO_RS_0.3.113");
