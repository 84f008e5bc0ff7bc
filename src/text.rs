//! Text built in a fixed buffer and written with one `write(2)`: what the
//! library prints, without `core::fmt` (which would triple its size) and
//! without allocating.

/// A line or a few, truncated at the buffer's end.
pub struct Text {
    bytes: [u8; 1024],
    len: usize,
}

impl Text {
    pub const fn new() -> Text {
        Text {
            bytes: [0; 1024],
            len: 0,
        }
    }

    /// Appends `s`, as much of it as fits.
    pub fn push(&mut self, s: &str) -> &mut Text {
        let room = self.bytes.len() - self.len;
        let taken = s.len().min(room);
        self.bytes[self.len..self.len + taken].copy_from_slice(&s.as_bytes()[..taken]);
        self.len += taken;
        self
    }

    /// Appends `n` in decimal.
    pub fn push_u64(&mut self, mut n: u64) -> &mut Text {
        let mut digits = [0u8; 20];
        let mut first = digits.len();
        loop {
            first -= 1;
            digits[first] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        // SAFETY: ASCII digits are UTF-8.
        self.push(unsafe { core::str::from_utf8_unchecked(&digits[first..]) })
    }

    /// Writes the text to `fd`, retrying short writes; errors are ignored
    /// (there is nobody to tell).
    pub fn write_to(&self, fd: libc::c_int) {
        let mut rest = &self.bytes[..self.len];
        while !rest.is_empty() {
            // SAFETY: `rest` is readable for its length.
            let written = unsafe { libc::write(fd, rest.as_ptr().cast(), rest.len()) };
            if written <= 0 {
                return;
            }
            rest = &rest[written as usize..];
        }
    }
}
