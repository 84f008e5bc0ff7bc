//! The C types of `libaio.h`, laid out as upstream lays them out on 64-bit
//! targets, little-endian (x86_64, aarch64, riscv64, ppc64le) and big-endian
//! (s390x): the kernel's 64-bit slots hold plain pointers and longs, and the
//! two 32-bit halves of a slot shared by two fields swap places with the byte
//! order (upstream's PADDED macros, the kernel's `linux/aio_abi.h`).
//! cbindgen turns this file into the type part of `include/libaio.h`.
#![allow(non_camel_case_types)]

use core::ffi::{c_int, c_long, c_longlong, c_short, c_uint, c_ulong, c_void};

/// The opaque handle: its value is the address of the kernel's completion ring.
pub struct io_context {
    _private: [u8; 0],
}

/// The context handle that `io_setup` and `io_queue_init` fill in: a pointer to
/// a `struct io_context` that is never defined.
pub type io_context_t = *mut io_context;

/// `struct sockaddr`, only ever used through a pointer.
pub struct sockaddr {
    _private: [u8; 0],
}

/// `struct iovec`, only ever used through a pointer.
pub struct iovec {
    _private: [u8; 0],
}

/// The iocb opcodes; the values are the kernel's `IOCB_CMD_*`.
#[repr(C)]
pub enum io_iocb_cmd {
    IO_CMD_PREAD = 0,
    IO_CMD_PWRITE = 1,
    IO_CMD_FSYNC = 2,
    IO_CMD_FDSYNC = 3,
    IO_CMD_POLL = 5,
    IO_CMD_NOOP = 6,
    IO_CMD_PREADV = 7,
    IO_CMD_PWRITEV = 8,
}

/// The opcode type; `iocb.aio_lio_opcode` holds one of its values.
pub type io_iocb_cmd_t = io_iocb_cmd;

/// `u.poll`: result code is the set of result flags or a negative errno.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct io_iocb_poll {
    #[cfg(target_endian = "big")]
    pub __pad1: c_uint,
    pub events: c_int,
    #[cfg(target_endian = "little")]
    pub __pad1: c_int,
}

/// `u.saddr`: result code is the length of the sockaddr, or a negative errno.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct io_iocb_sockaddr {
    pub addr: *mut sockaddr,
    pub len: c_ulong,
}

/// `u.c`: result code is the amount read or a negative errno.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct io_iocb_common {
    pub buf: *mut c_void,
    pub nbytes: c_ulong,
    pub offset: c_longlong,
    pub __pad3: c_longlong,
    pub flags: c_uint,
    pub resfd: c_uint,
}

/// `u.v`: result code is the amount read or a negative errno.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct io_iocb_vector {
    pub vec: *const iovec,
    pub nr: c_ulong,
    pub offset: c_longlong,
}

/// The per-opcode part of `struct iocb`.
#[repr(C)]
#[derive(Clone, Copy)]
pub union iocb_u {
    pub c: io_iocb_common,
    pub v: io_iocb_vector,
    pub poll: io_iocb_poll,
    pub saddr: io_iocb_sockaddr,
}

/// One I/O request; byte for byte the kernel's `struct iocb`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct iocb {
    /// Returned in the completion event.
    pub data: *mut c_void,
    /// RWF_* flags (such as RWF_NOWAIT).
    #[cfg(target_endian = "big")]
    pub aio_rw_flags: c_uint,
    /// For use in identifying io requests; the kernel writes 0 here on submit.
    pub key: c_uint,
    /// RWF_* flags (such as RWF_NOWAIT).
    #[cfg(target_endian = "little")]
    pub aio_rw_flags: c_uint,
    pub aio_lio_opcode: c_short,
    pub aio_reqprio: c_short,
    pub aio_fildes: c_int,
    pub u: iocb_u,
}

/// One completion; byte for byte the kernel's `struct io_event`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct io_event {
    pub data: *mut c_void,
    pub obj: *mut iocb,
    pub res: c_ulong,
    pub res2: c_ulong,
}

/// The sigset argument of the `io_pgetevents` syscall (Debian's public addition).
#[repr(C)]
pub struct io_sigset {
    pub ss: c_ulong,
    pub ss_len: c_ulong,
}

/// The same for a 32-bit caller of a 64-bit kernel; identical to `io_sigset` on LP64.
#[repr(C)]
pub struct io_sigset_compat {
    pub ss: c_ulong,
    pub ss_len: c_ulong,
}

/// The completion callback that `io_queue_run` calls, stored in `iocb.data`.
pub type io_callback_t =
    Option<unsafe extern "C" fn(ctx: io_context_t, iocb: *mut iocb, res: c_long, res2: c_long)>;

#[cfg(not(target_pointer_width = "64"))]
compile_error!(
    "libaio.h's 32-bit layouts pad pointers and longs: this crate gives only the 64-bit ones"
);

const _: () = {
    use core::mem::{align_of, offset_of, size_of};
    assert!(size_of::<iocb>() == 64 && align_of::<iocb>() == 8);
    // The kernel's aio_key and aio_rw_flags share the second 64-bit slot.
    let (key, rw_flags) = if cfg!(target_endian = "little") {
        (8, 12)
    } else {
        (12, 8)
    };
    assert!(offset_of!(iocb, key) == key && offset_of!(iocb, aio_rw_flags) == rw_flags);
    let events = if cfg!(target_endian = "little") { 0 } else { 4 };
    assert!(offset_of!(io_iocb_poll, events) == events && size_of::<io_iocb_poll>() == 8);
    assert!(offset_of!(iocb, aio_lio_opcode) == 16 && offset_of!(iocb, aio_fildes) == 20);
    assert!(offset_of!(iocb, u) == 24 && size_of::<iocb_u>() == 40);
    assert!(offset_of!(io_iocb_common, offset) == 16 && offset_of!(io_iocb_common, flags) == 32);
    // upstream's struct_offsets.c: the vector and sockaddr views alias the common one.
    assert!(offset_of!(io_iocb_vector, nr) == offset_of!(io_iocb_common, nbytes));
    assert!(offset_of!(io_iocb_vector, offset) == offset_of!(io_iocb_common, offset));
    assert!(offset_of!(io_iocb_sockaddr, len) == offset_of!(io_iocb_common, nbytes));
    assert!(size_of::<io_event>() == 32 && offset_of!(io_event, res2) == 24);
    assert!(size_of::<io_sigset>() == 16 && size_of::<io_sigset_compat>() == 16);
};
