//! The `io_prep_*` / `io_set_*` helpers: what upstream's header does inline,
//! as safe methods on `iocb`. The header's inline copies write the same bytes.

use crate::abi::{io_callback_t, io_iocb_cmd, iocb, iovec};
use core::ffi::{c_int, c_longlong, c_ulong, c_void};

/// `IOCB_FLAG_RESFD`: signal `resfd` (an eventfd) on completion.
const IOCB_FLAG_RESFD: u32 = 1 << 0;

impl iocb {
    /// All zero but the fd and opcode, as every `io_prep_*` starts.
    fn reset(&mut self, fd: c_int, opcode: io_iocb_cmd) {
        // SAFETY: iocb is plain old data; all-zero is a valid value.
        *self = unsafe { core::mem::zeroed() };
        self.aio_fildes = fd;
        self.aio_lio_opcode = opcode as i16;
    }

    fn set_common(&mut self, buf: *mut c_void, nbytes: c_ulong, offset: c_longlong) {
        // SAFETY: writing a Copy field of a union of plain-old-data structs.
        let common = unsafe { &mut self.u.c };
        common.buf = buf;
        common.nbytes = nbytes;
        common.offset = offset;
    }

    /// `io_prep_pread` / `io_prep_pwrite`.
    pub fn prep_rw(
        &mut self,
        opcode: io_iocb_cmd,
        fd: c_int,
        buf: *mut c_void,
        count: usize,
        offset: c_longlong,
    ) {
        self.reset(fd, opcode);
        self.set_common(buf, count as c_ulong, offset);
    }

    /// `io_prep_preadv[2]` / `io_prep_pwritev[2]`: the vector goes in `u.c`, as upstream.
    pub fn prep_rwv(
        &mut self,
        opcode: io_iocb_cmd,
        fd: c_int,
        iov: *const iovec,
        iovcnt: c_int,
        offset: c_longlong,
        rw_flags: c_int,
    ) {
        self.reset(fd, opcode);
        self.aio_rw_flags = rw_flags as u32;
        // A negative count is sign-extended, as C's int-to-unsigned-long conversion does.
        self.set_common(iov as *mut c_void, iovcnt as c_ulong, offset);
    }

    /// `io_prep_poll`.
    pub fn prep_poll(&mut self, fd: c_int, events: c_int) {
        self.reset(fd, io_iocb_cmd::IO_CMD_POLL);
        self.u.poll.events = events;
    }

    /// `io_prep_fsync` / `io_prep_fdsync`.
    pub fn prep_sync(&mut self, opcode: io_iocb_cmd, fd: c_int) {
        self.reset(fd, opcode);
    }

    /// `io_set_callback`: the callback travels in `data`, which `io_queue_run` reads back.
    pub fn set_callback(&mut self, cb: io_callback_t) {
        self.data = cb.map_or(core::ptr::null_mut(), |f| f as *mut c_void);
    }

    /// `io_set_eventfd`: call after `io_prep_*`, which clears the flags.
    pub fn set_eventfd(&mut self, eventfd: c_int) {
        // SAFETY: as in set_common.
        let common = unsafe { &mut self.u.c };
        common.flags |= IOCB_FLAG_RESFD;
        common.resfd = eventfd as u32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::io_iocb_cmd::*;

    fn bytes(cb: &iocb) -> [u8; 64] {
        // SAFETY: iocb is 64 bytes of plain data.
        unsafe { core::mem::transmute_copy(cb) }
    }

    #[test]
    fn prep_clears_everything_it_does_not_set() {
        // SAFETY: all-0xff is a valid iocb bit pattern (plain data).
        let mut cb: iocb = unsafe { core::mem::transmute([0xffu8; 64]) };
        cb.prep_rw(IO_CMD_PREAD, 3, 0x1000 as *mut c_void, 512, 4096);
        let b = bytes(&cb);
        assert_eq!(&b[0..16], &[0; 16]);
        assert_eq!(i16::from_ne_bytes([b[16], b[17]]), 0);
        assert_eq!(i32::from_ne_bytes(b[20..24].try_into().unwrap()), 3);
        assert_eq!(u64::from_ne_bytes(b[24..32].try_into().unwrap()), 0x1000);
        assert_eq!(u64::from_ne_bytes(b[32..40].try_into().unwrap()), 512);
        assert_eq!(u64::from_ne_bytes(b[40..48].try_into().unwrap()), 4096);
        assert_eq!(&b[48..64], &[0; 16]);
    }

    #[test]
    fn vectored_prep_keeps_rw_flags_and_count() {
        // SAFETY: all-zero is a valid iocb.
        let mut cb: iocb = unsafe { core::mem::zeroed() };
        cb.prep_rwv(IO_CMD_PWRITEV, 4, 0x2000 as *const iovec, 10, 8, 0x8);
        assert_eq!((cb.aio_lio_opcode, cb.aio_rw_flags), (8, 0x8));
        // SAFETY: reading the union view that prep wrote.
        assert_eq!(unsafe { (cb.u.c.nbytes, cb.u.v.nr) }, (10, 10));
    }

    #[test]
    fn eventfd_is_added_after_prep() {
        // SAFETY: all-zero is a valid iocb.
        let mut cb: iocb = unsafe { core::mem::zeroed() };
        cb.prep_sync(IO_CMD_FDSYNC, 5);
        cb.set_eventfd(9);
        // SAFETY: reading the union view that was written.
        assert_eq!(unsafe { (cb.u.c.flags, cb.u.c.resfd) }, (1, 9));
        assert_eq!(cb.aio_lio_opcode, 3);
    }
}
