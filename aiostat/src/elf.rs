//! Which libaio a mapped file is, by the version nodes it defines (its ELF
//! DT_VERDEF, found the way the loader finds it: through the dynamic
//! segment, so that a library without section headers is read too).
//! Upstream's libaio.so.1 defines LIBAIO_0.1, LIBAIO_0.4 and LIBAIO_0.5;
//! libaio-rs adds LIBAIO_RS_<version>.

use std::fs::File;
use std::os::unix::fs::FileExt;

const OURS_PREFIX: &str = "LIBAIO_RS_";
const UPSTREAM_NODES: [&str; 3] = ["LIBAIO_0.1", "LIBAIO_0.4", "LIBAIO_0.5"];

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Libaio {
    Upstream,
    /// libaio-rs, with the version its node names.
    Ours(String),
    /// Named libaio, but not readable here (deleted and not root, another
    /// mount namespace, not ELF).
    Unknown,
    /// Named libaio, readable, but defines no libaio version node.
    Other,
}

/// Identifies the first of `paths` that opens.
pub fn identify(paths: &[String]) -> Libaio {
    let Some(file) = paths.iter().find_map(|path| File::open(path).ok()) else {
        return Libaio::Unknown;
    };
    match version_nodes(&file) {
        None => Libaio::Unknown,
        Some(nodes) => {
            if let Some(version) = nodes.iter().find_map(|node| node.strip_prefix(OURS_PREFIX)) {
                Libaio::Ours(version.to_string())
            } else if nodes
                .iter()
                .any(|node| UPSTREAM_NODES.contains(&node.as_str()))
            {
                Libaio::Upstream
            } else {
                Libaio::Other
            }
        }
    }
}

/// The names of the version nodes `file` defines; None if it is not an ELF
/// file we can read.
fn version_nodes(file: &File) -> Option<Vec<String>> {
    let elf = Elf::open(file)?;
    let mut dynamic = None;
    let mut loads = Vec::new();
    for index in 0..elf.header_field(56, 44, 2)? {
        let at =
            elf.header_field(32, 28, elf.word_bytes())? + index * elf.header_field(54, 42, 2)?;
        let kind = elf.read(at, 4)?;
        let field = |wide: u64, narrow: u64| {
            elf.read(at + if elf.wide { wide } else { narrow }, elf.word_bytes())
        };
        // p_offset, p_vaddr, p_filesz
        let segment = (field(8, 4)?, field(16, 8)?, field(32, 16)?);
        match kind {
            1 => loads.push(segment),     // PT_LOAD
            2 => dynamic = Some(segment), // PT_DYNAMIC
            _ => {}
        }
    }
    let (dynamic_offset, _, dynamic_bytes) = dynamic?;
    let to_offset = |address: u64| {
        loads.iter().find_map(|&(offset, start, bytes)| {
            (start <= address && address < start + bytes).then(|| offset + address - start)
        })
    };
    let (mut strings, mut definitions, mut count) = (None, None, 0);
    let entry_bytes = 2 * elf.word_bytes();
    for at in (dynamic_offset..dynamic_offset + dynamic_bytes).step_by(entry_bytes as usize) {
        let value = elf.read(at + elf.word_bytes(), elf.word_bytes())?;
        match elf.read(at, elf.word_bytes())? {
            0 => break,                                    // DT_NULL
            5 => strings = to_offset(value),               // DT_STRTAB
            0x6fff_fffc => definitions = to_offset(value), // DT_VERDEF
            0x6fff_fffd => count = value,                  // DT_VERDEFNUM
            _ => {}
        }
    }
    let (Some(strings), Some(mut definition)) = (strings, definitions) else {
        return Some(Vec::new());
    };
    let mut names = Vec::new();
    // Elf_Verdef: version, flags, ndx, cnt (2 bytes each), hash, aux, next;
    // its first Elf_Verdaux (name, next) names the node.
    for _ in 0..count.min(1024) {
        let auxiliary = definition + elf.read(definition + 12, 4)?;
        names.push(elf.string(strings + elf.read(auxiliary, 4)?)?);
        match elf.read(definition + 16, 4)? {
            0 => break,
            next => definition += next,
        }
    }
    Some(names)
}

struct Elf<'a> {
    file: &'a File,
    wide: bool,
    little_endian: bool,
}

impl<'a> Elf<'a> {
    fn open(file: &'a File) -> Option<Elf<'a>> {
        let mut ident = [0u8; 6];
        file.read_exact_at(&mut ident, 0).ok()?;
        if ident[..4] != *b"\x7fELF" || !(1..=2).contains(&ident[4]) || !(1..=2).contains(&ident[5])
        {
            return None;
        }
        Some(Elf {
            file,
            wide: ident[4] == 2,
            little_endian: ident[5] == 1,
        })
    }

    fn word_bytes(&self) -> u64 {
        if self.wide {
            8
        } else {
            4
        }
    }

    /// A field of the ELF header, at `wide` or `narrow` by class.
    fn header_field(&self, wide: u64, narrow: u64, bytes: u64) -> Option<u64> {
        self.read(if self.wide { wide } else { narrow }, bytes)
    }

    /// An unsigned number of `bytes` bytes at `offset`, in the file's order.
    fn read(&self, offset: u64, bytes: u64) -> Option<u64> {
        let mut buffer = [0u8; 8];
        let field = &mut buffer[..bytes as usize];
        self.file.read_exact_at(field, offset).ok()?;
        if !self.little_endian {
            field.reverse();
        }
        Some(u64::from_le_bytes(buffer))
    }

    fn string(&self, offset: u64) -> Option<String> {
        let mut buffer = [0u8; 64];
        let read = self.file.read_at(&mut buffer, offset).ok()?;
        let end = buffer[..read].iter().position(|&byte| byte == 0)?;
        String::from_utf8(buffer[..end].to_vec()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_libaio_is_upstream_where_installed() {
        let system = "/lib/x86_64-linux-gnu/libaio.so.1".to_string();
        if File::open(&system).is_ok() {
            assert_eq!(identify(&[system]), Libaio::Upstream);
        }
    }

    #[test]
    fn a_library_without_libaio_nodes_is_not_libaio() {
        // libc defines GLIBC_* nodes only.
        let libc = "/lib/x86_64-linux-gnu/libc.so.6".to_string();
        if File::open(&libc).is_ok() {
            assert_eq!(identify(&[libc]), Libaio::Other);
        }
    }

    #[test]
    fn unreadable_or_not_elf_is_unknown() {
        assert_eq!(
            identify(&["/nonexistent/libaio.so.1".to_string()]),
            Libaio::Unknown
        );
        assert_eq!(
            identify(&["/proc/self/status".to_string()]),
            Libaio::Unknown
        );
    }
}
