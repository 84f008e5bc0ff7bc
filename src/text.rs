//! Text built in a fixed buffer and written with one `write(2)`: what the
//! library prints, without `core::fmt` (which would triple its size) and
//! without allocating. Nothing here is inlined: the report is not a hot
//! path, and the library's size is.

use crate::sys;

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

    /// Breaks each line longer than `width` at its last space within it
    /// (not one of the spaces that indent it) and indents what follows by
    /// `indent` spaces; a word longer than the line stays whole.
    #[inline(never)]
    pub fn wrap(&mut self, width: usize, indent: usize) {
        let (mut line, mut space, mut at) = (0, 0, 0);
        while at < self.len {
            match self.bytes[at] {
                b'\n' => line = at + 1,
                b' ' if at > line && self.bytes[at - 1] != b' ' => space = at,
                _ => {}
            }
            // (In a full buffer the rest stays on the long line.)
            if at >= line + width && space > line && self.len + indent <= self.bytes.len() {
                self.bytes
                    .copy_within(space + 1..self.len, space + 1 + indent);
                self.bytes[space..space + 1 + indent].fill(b' ');
                self.bytes[space] = b'\n';
                self.len += indent;
                line = space + 1;
                at = line + indent;
                continue;
            }
            at += 1;
        }
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

#[cfg(test)]
mod tests {
    use super::Text;

    fn wrapped(text: &str, width: usize) -> String {
        let mut out = Text::new();
        out.push(text).wrap(width, 4);
        String::from_utf8(out.as_bytes().to_vec()).unwrap()
    }

    #[test]
    fn long_lines_break_at_their_last_space_and_continue_indented() {
        assert_eq!(
            wrapped("  label: aaa bbb ccc ddd\nshort\n", 16),
            "  label: aaa bbb\n    ccc ddd\nshort\n"
        );
        // A line of exactly `width` stays whole; a continuation wraps again.
        assert_eq!(wrapped("aaaa bbbb", 9), "aaaa bbbb");
        assert_eq!(
            wrapped("aa bb cc dd ee ff", 9),
            "aa bb cc\n    dd ee\n    ff"
        );
    }

    #[test]
    fn indentation_and_long_words_are_kept() {
        // The spaces that indent a line are no place to break it.
        assert_eq!(wrapped("      abcdefghij", 8), "      abcdefghij");
        assert_eq!(
            wrapped("x abcdefghijkl yz", 8),
            "x\n    abcdefghijkl\n    yz"
        );
    }

    #[test]
    fn a_full_buffer_is_left_as_it_is() {
        let mut out = Text::new();
        while out.as_bytes().len() < 4096 {
            out.push("word ");
        }
        let before = out.as_bytes().to_vec();
        out.wrap(80, 4);
        assert_eq!(out.as_bytes(), &before[..]);
    }
}
