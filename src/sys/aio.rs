//! The kernel's AIO syscalls and the futex, as the library makes them,
//! returning `Result` instead of touching `errno`.

use super::arch::SYS_IO_PGETEVENTS;
use super::raw::syscall;
use super::{Errno, KERNEL_SIGSET_BYTES};
use core::ffi::{c_int, c_long};
use core::sync::atomic::AtomicU32;

/// Sleeps while `*word == expected`, until a wake, a signal, or `micros`
/// microseconds (forever with `None`).
pub fn futex_wait(word: &AtomicU32, expected: u32, micros: Option<u32>) {
    let timeout = micros.map(|micros| libc::timespec {
        tv_sec: (micros / 1_000_000) as _,
        tv_nsec: (micros % 1_000_000 * 1000) as _,
    });
    let args = [
        word.as_ptr() as usize,
        (libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG) as usize,
        expected as usize,
        timeout
            .as_ref()
            .map_or(0, |t| t as *const libc::timespec as usize),
        0,
        0,
    ];
    // SAFETY: the kernel only reads `word`, a live atomic, and the timeout,
    // which outlives the call.
    let _ = unsafe { syscall(libc::SYS_futex, args) };
}

/// Wakes every thread sleeping in `futex_wait` on `word`.
pub fn futex_wake_all(word: &AtomicU32) {
    let args = [
        word.as_ptr() as usize,
        (libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG) as usize,
        i32::MAX as usize,
        0,
        0,
        0,
    ];
    // SAFETY: FUTEX_WAKE reads nothing through its pointer but the address.
    let _ = unsafe { syscall(libc::SYS_futex, args) };
}

/// `io_setup(nr_events, ctxp)`.
///
/// # Safety
/// `ctxp` is handed to the kernel, which checks it.
pub unsafe fn io_setup(nr_events: c_int, ctxp: usize) -> Result<c_int, Errno> {
    // SAFETY: the kernel validates ctxp and writes only the context id there.
    unsafe { syscall(libc::SYS_io_setup, [nr_events as usize, ctxp, 0, 0, 0, 0]) }
}

/// `io_destroy(ctx)`: the kernel unmaps the ring before it returns.
pub fn io_destroy(ctx: usize) -> Result<c_int, Errno> {
    // SAFETY: io_destroy takes no pointers the kernel writes through.
    unsafe { syscall(libc::SYS_io_destroy, [ctx, 0, 0, 0, 0, 0]) }
}

/// `io_submit(ctx, nr, iocbpp)`.
///
/// # Safety
/// The kernel reads the iocbs; the buffers they name are the caller's to own.
pub unsafe fn io_submit(ctx: usize, nr: c_long, iocbpp: usize) -> Result<c_int, Errno> {
    // SAFETY: forwarded contract.
    unsafe { syscall(libc::SYS_io_submit, [ctx, nr as usize, iocbpp, 0, 0, 0]) }
}

/// `io_cancel(ctx, iocb, result)`.
///
/// # Safety
/// `result` is handed to the kernel, which checks it.
pub unsafe fn io_cancel(ctx: usize, iocb: usize, result: usize) -> Result<c_int, Errno> {
    // SAFETY: forwarded contract.
    unsafe { syscall(libc::SYS_io_cancel, [ctx, iocb, result, 0, 0, 0]) }
}

/// `io_getevents(ctx, min_nr, nr, events, timeout)`.
///
/// # Safety
/// `events` must be writable for `nr` events or be rejected by the kernel.
pub unsafe fn io_getevents(
    ctx: usize,
    min_nr: c_long,
    nr: c_long,
    events: usize,
    timeout: usize,
) -> Result<c_int, Errno> {
    let args = [ctx, min_nr as usize, nr as usize, events, timeout, 0];
    // SAFETY: forwarded contract.
    unsafe { syscall(libc::SYS_io_getevents, args) }
}

/// `io_pgetevents(ctx, min_nr, nr, events, timeout, &{sigmask, _NSIG/8})`.
///
/// # Safety
/// As for [`io_getevents`]; `sigmask` is read by the kernel, which checks it.
pub unsafe fn io_pgetevents(
    ctx: usize,
    min_nr: c_long,
    nr: c_long,
    events: usize,
    timeout: usize,
    sigmask: usize,
) -> Result<c_int, Errno> {
    let sigset = crate::abi::io_sigset {
        ss: sigmask as _,
        ss_len: KERNEL_SIGSET_BYTES as _,
    };
    let args = [
        ctx,
        min_nr as usize,
        nr as usize,
        events,
        timeout,
        &sigset as *const _ as usize,
    ];
    // SAFETY: forwarded contract; `sigset` outlives the call.
    unsafe { syscall(SYS_IO_PGETEVENTS, args) }
}
