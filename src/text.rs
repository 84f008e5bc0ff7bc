//! Text built in a fixed buffer and written with one `write(2)`: what the
//! library prints, without `core::fmt` (which would triple its size) and
//! without allocating. Nothing here is inlined: the report is not a hot
//! path, and the library's size is.

use crate::sys;

/// `items`, hidden from the optimiser so that a loop over them is not
/// unrolled: for the cold loops over fixed tables, whose unrolled copies
/// would be most of the library's size.
#[inline(always)]
pub fn unrolled_never<T>(items: &[T]) -> &[T] {
    core::hint::black_box(items)
}

/// A few lines, truncated at the buffer's end.
pub struct Text {
    bytes: [u8; 4096],
    len: usize,
}

impl Text {
    pub const fn new() -> Text {
        Text {
            bytes: [0; 4096],
            len: 0,
        }
    }

    #[inline(never)]
    pub fn clear(&mut self) {
        self.len = 0;
    }

    #[inline(never)]
    pub fn push_byte(&mut self, byte: u8) -> &mut Text {
        if let Some(free) = self.bytes.get_mut(self.len) {
            *free = byte;
            self.len += 1;
        }
        self
    }

    /// Appends `s`, as much of it as fits.
    #[inline(never)]
    pub fn push(&mut self, s: &str) -> &mut Text {
        self.push_bytes(s.as_bytes())
    }

    /// Appends `bytes`, as many as fit.
    #[inline(never)]
    pub fn push_bytes(&mut self, bytes: &[u8]) -> &mut Text {
        let taken = bytes.len().min(self.bytes.len() - self.len);
        self.bytes[self.len..self.len + taken].copy_from_slice(&bytes[..taken]);
        self.len += taken;
        self
    }

    /// Appends `n` in decimal.
    #[inline(never)]
    pub fn push_u64(&mut self, n: u64) -> &mut Text {
        if n >= 10 {
            self.push_u64(n / 10);
        }
        self.push_byte(b'0' + (n % 10) as u8)
    }

    /// Appends `n` in decimal, with its sign.
    #[inline(never)]
    pub fn push_i64(&mut self, n: i64) -> &mut Text {
        if n < 0 {
            self.push_byte(b'-');
        }
        self.push_u64(n.unsigned_abs())
    }

    /// Appends `n` as 0x and hexadecimal digits.
    #[inline(never)]
    pub fn push_hex(&mut self, n: usize) -> &mut Text {
        self.push("0x");
        let digits = (usize::BITS - n.leading_zeros()).div_ceil(4).max(1);
        for shift in (0..digits).rev() {
            self.push_byte(b"0123456789abcdef"[(n >> (shift * 4)) & 0xf]);
        }
        self
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// Writes the text to `fd`.
    pub fn write_to(&self, fd: libc::c_int) {
        write_all(fd, self.as_bytes());
    }
}

/// Writes `bytes` to `fd`, retrying short writes; errors are ignored (there
/// is nobody to tell), and `errno` is left alone.
#[inline(never)]
pub fn write_all(fd: libc::c_int, mut bytes: &[u8]) {
    while let Ok(written @ 1..) = sys::write(fd, bytes) {
        bytes = &bytes[(written as usize).min(bytes.len())..];
    }
}

/// Appends `bytes` to the file at `path` (NUL-terminated), created if
/// needed, with one write: lines from several processes do not mix.
#[inline(never)]
pub fn append_to_file(path: &[u8], bytes: &[u8]) {
    if let Ok(fd) = sys::open_for_append(path) {
        write_all(fd, bytes);
        sys::close(fd);
    }
}
