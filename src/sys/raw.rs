//! One syscall, issued without touching `errno`, which is what libaio's
//! callers rely on: on x86_64 the `syscall` instruction itself; elsewhere
//! libc's `syscall()` with `errno` saved and restored around it.

use super::Errno;
use core::ffi::{c_int, c_long};

#[cfg(target_arch = "x86_64")]
unsafe fn raw_syscall(nr: c_long, args: [usize; 6]) -> isize {
    let ret: isize;
    // SAFETY: the caller upholds the syscall's own contract; the `syscall`
    // instruction clobbers only rcx and r11 besides the return register.
    unsafe {
        core::arch::asm!(
            "syscall",
            inlateout("rax") nr as isize => ret,
            in("rdi") args[0], in("rsi") args[1], in("rdx") args[2],
            in("r10") args[3], in("r8") args[4], in("r9") args[5],
            lateout("rcx") _, lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

#[cfg(not(target_arch = "x86_64"))]
unsafe fn raw_syscall(nr: c_long, args: [usize; 6]) -> isize {
    // SAFETY: errno is thread-local and always addressable.
    let errno = unsafe { libc::__errno_location() };
    // SAFETY: as above.
    let saved = unsafe { *errno };
    // SAFETY: the caller upholds the syscall's own contract.
    let ret = unsafe { libc::syscall(nr, args[0], args[1], args[2], args[3], args[4], args[5]) };
    let ret = if ret == -1 {
        -(unsafe { *errno }) as isize
    } else {
        ret as isize
    };
    // SAFETY: as above.
    unsafe { *errno = saved };
    ret
}

/// Issues syscall `nr`; a return in the kernel's error range becomes `Err`.
///
/// # Safety
/// The arguments must satisfy syscall `nr`'s contract: every pointer the
/// kernel writes through must be writable memory that Rust code does not
/// hold a reference to.
pub unsafe fn syscall(nr: c_long, args: [usize; 6]) -> Result<c_int, Errno> {
    // SAFETY: forwarded contract.
    let ret = unsafe { raw_syscall(nr, args) };
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
