//! One syscall, issued without touching `errno` (which is what libaio's
//! callers rely on: see arch.rs for how each architecture makes it), and the
//! few syscalls the report makes.

use super::arch::syscall6;
use super::Errno;
use core::ffi::{c_int, c_long};

/// Issues syscall `nr`; a return in the kernel's error range becomes `Err`.
///
/// # Safety
/// The arguments must satisfy syscall `nr`'s contract: every pointer the
/// kernel writes through must be writable memory that Rust code does not
/// hold a reference to.
pub unsafe fn syscall(nr: c_long, args: [usize; 6]) -> Result<c_int, Errno> {
    // SAFETY: forwarded contract.
    let ret = unsafe { syscall6(nr, args) };
    if (-4095..0).contains(&ret) {
        Err(Errno(-ret as c_int))
    } else {
        // The C API returns int: the kernel's long is truncated, as upstream does.
        Ok(ret as c_int)
    }
}

/// `write(fd, bytes)`: how many bytes were written.
pub fn write(fd: c_int, bytes: &[u8]) -> Result<c_int, Errno> {
    let args = [fd as usize, bytes.as_ptr() as usize, bytes.len(), 0, 0, 0];
    // SAFETY: the kernel only reads `bytes`.
    unsafe { syscall(libc::SYS_write, args) }
}

/// `read(fd, buffer)`: how many bytes were read.
pub fn read(fd: c_int, buffer: &mut [u8]) -> Result<usize, Errno> {
    let args = [
        fd as usize,
        buffer.as_mut_ptr() as usize,
        buffer.len(),
        0,
        0,
        0,
    ];
    // SAFETY: the kernel writes at most `buffer.len()` bytes into `buffer`.
    unsafe { syscall(libc::SYS_read, args) }.map(|read| read as usize)
}

/// `open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)`; `path`
/// ends with a NUL.
pub fn open_for_append(path: &[u8]) -> Result<c_int, Errno> {
    open(path, libc::O_WRONLY | libc::O_APPEND | libc::O_CREAT)
}

/// `open(path, O_RDONLY | O_CLOEXEC)`; `path` ends with a NUL.
pub fn open_for_read(path: &[u8]) -> Result<c_int, Errno> {
    open(path, libc::O_RDONLY)
}

/// `open(path, flags | O_CLOEXEC, 0644)`; `path` ends with a NUL.
fn open(path: &[u8], flags: c_int) -> Result<c_int, Errno> {
    debug_assert_eq!(path.last(), Some(&0));
    let args = [
        libc::AT_FDCWD as usize,
        path.as_ptr() as usize,
        (flags | libc::O_CLOEXEC) as usize,
        0o644,
        0,
        0,
    ];
    // SAFETY: the kernel only reads the NUL-terminated path.
    unsafe { syscall(libc::SYS_openat, args) }
}

/// `close(fd)`.
pub fn close(fd: c_int) {
    // SAFETY: close takes no pointer.
    let _ = unsafe { syscall(libc::SYS_close, [fd as usize, 0, 0, 0, 0, 0]) };
}

/// `getpid()`.
pub fn getpid() -> u64 {
    // SAFETY: getpid takes no argument and cannot fail.
    unsafe { syscall(libc::SYS_getpid, [0; 6]) }.unwrap_or(0) as u64
}

/// `fcntl(fd, F_GETFL)`: the file's status flags.
pub fn fcntl_getfl(fd: c_int) -> Result<c_int, Errno> {
    // SAFETY: F_GETFL takes no pointer.
    unsafe {
        syscall(
            libc::SYS_fcntl,
            [fd as usize, libc::F_GETFL as usize, 0, 0, 0, 0],
        )
    }
}
