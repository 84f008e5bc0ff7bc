//! One process as /proc shows it: its AIO rings (the shared mappings named
//! `/[aio] (deleted)`, one inode per context), their headers through
//! `/proc/PID/mem`, and the libaio files it has mapped.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, ErrorKind};
use std::os::unix::fs::FileExt;

use crate::kernel::RING_HEADER_BYTES;

/// The name the kernel gives a ring's mapping in /proc/PID/maps.
const RING_MAPPING_NAME: &str = "/[aio] (deleted)";

/// The words of a ring's header that aiostat uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RingHeader {
    pub nr: u32,
    pub head: u32,
    pub tail: u32,
    pub magic: u32,
}

/// What reading a ring's header through /proc/PID/mem gave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderRead {
    Read(RingHeader),
    /// EIO: the ring's file was truncated, its context destroyed.
    Truncated,
    /// ptrace rules refused /proc/PID/mem.
    Refused,
}

/// One ring as one process maps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RingMapping {
    /// Where the ring starts: the context's id (`io_context_t`).
    pub address: u64,
    /// The ring file's device and inode: one per context.
    pub file: (String, u64),
    /// How much of the ring's file is mapped, in bytes.
    pub bytes: u64,
    pub header: HeaderRead,
    /// Bytes of it resident in this process (from smaps), read only when
    /// the header was refused: the kernel populates the owner's mapping at
    /// io_setup, and a destroyed ring's truncation unmaps it everywhere.
    pub resident: Option<u64>,
}

/// A mapped file whose name says libaio, and where it can be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MappedLibrary {
    pub path: String,
    pub file: (String, u64),
    /// Paths to open it by, best first.
    pub candidates: Vec<String>,
}

/// One process, read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Process {
    pub pid: u32,
    pub parent: u32,
    /// When it started, in clock ticks after boot.
    pub started: u64,
    pub uid: u32,
    pub command: String,
    pub rings: Vec<RingMapping>,
    pub libraries: Vec<MappedLibrary>,
}

/// What became of reading one /proc/PID.
#[derive(Debug)]
pub enum Visit {
    Read(Process),
    /// Its maps are not ours to read (another user's process, not root).
    Unreadable {
        pid: u32,
        uid: Option<u32>,
    },
    /// It ended while being read.
    Gone,
}

/// The pids in /proc, in order.
pub fn pids() -> io::Result<Vec<u32>> {
    let mut pids: Vec<u32> = fs::read_dir("/proc")?
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    pids.sort_unstable();
    Ok(pids)
}

/// Reads /proc/PID: maps, stat, status, the rings' headers. An error other
/// than a refusal or the process ending is returned.
pub fn visit(pid: u32) -> io::Result<Visit> {
    match read_process(pid) {
        Ok(process) => Ok(Visit::Read(process)),
        Err(error) if is_gone(&error) => Ok(Visit::Gone),
        Err(error) if is_refusal(&error) => Ok(Visit::Unreadable {
            pid,
            uid: read_uid(pid).ok(),
        }),
        Err(error) => Err(error),
    }
}

/// A /proc file as text: a file name in maps, or a command, may be any bytes.
fn read_text(path: String) -> io::Result<String> {
    Ok(String::from_utf8_lossy(&fs::read(path)?).into_owned())
}

fn is_gone(error: &io::Error) -> bool {
    // ESRCH: the task went away between open and read.
    error.kind() == ErrorKind::NotFound || error.raw_os_error() == Some(libc::ESRCH)
}

fn is_refusal(error: &io::Error) -> bool {
    error.kind() == ErrorKind::PermissionDenied
}

fn read_process(pid: u32) -> io::Result<Process> {
    let maps = read_text(format!("/proc/{pid}/maps"))?;
    let (parent, started, command) = read_stat(pid)?;
    let mut rings: BTreeMap<(String, u64), RingMapping> = BTreeMap::new();
    let mut libraries: Vec<MappedLibrary> = Vec::new();
    for line in maps.lines() {
        let Some(mapping) = parse_maps_line(line) else {
            continue;
        };
        if mapping.path == RING_MAPPING_NAME {
            let ring = rings.entry(mapping.file.clone()).or_insert(RingMapping {
                address: mapping.start,
                file: mapping.file.clone(),
                bytes: 0,
                header: HeaderRead::Refused,
                resident: None,
            });
            // A ring split by a partial munmap shows as several lines.
            ring.bytes = ring
                .bytes
                .max(mapping.offset + (mapping.end - mapping.start));
            if mapping.offset == 0 {
                ring.address = mapping.start;
            }
        } else if names_libaio(mapping.path)
            && !libraries.iter().any(|known| known.file == mapping.file)
        {
            libraries.push(MappedLibrary {
                path: mapping.path.to_string(),
                file: mapping.file.clone(),
                candidates: library_paths(pid, &mapping),
            });
        }
    }
    let mut rings: Vec<RingMapping> = rings.into_values().collect();
    if !rings.is_empty() {
        read_headers(pid, &mut rings)?;
    }
    Ok(Process {
        pid,
        parent,
        started,
        uid: read_uid(pid)?,
        command,
        rings,
        libraries,
    })
}

struct MapsLine<'a> {
    start: u64,
    end: u64,
    offset: u64,
    file: (String, u64),
    path: &'a str,
}

/// "start-end perms offset dev inode   path"; the path may hold spaces.
fn parse_maps_line(line: &str) -> Option<MapsLine<'_>> {
    let mut rest = line;
    let mut field = || {
        rest = rest.trim_start_matches(' ');
        let (word, tail) = rest.split_once(' ').unwrap_or((rest, ""));
        rest = tail;
        word
    };
    let (start, end) = field().split_once('-')?;
    let _perms = field();
    let offset = u64::from_str_radix(field(), 16).ok()?;
    let device = field().to_string();
    let inode = field().parse().ok()?;
    Some(MapsLine {
        start: u64::from_str_radix(start, 16).ok()?,
        end: u64::from_str_radix(end, 16).ok()?,
        offset,
        file: (device, inode),
        path: rest.trim_start_matches(' '),
    })
}

fn names_libaio(path: &str) -> bool {
    path.rsplit('/')
        .next()
        .is_some_and(|name| name.starts_with("libaio"))
}

/// Where a mapped library can be opened: in the process's own root (its
/// mount namespace), then as named, or for a file deleted since (an
/// upgrade replaced it) through map_files, which only root may read.
fn library_paths(pid: u32, mapping: &MapsLine) -> Vec<String> {
    match mapping.path.strip_suffix(" (deleted)") {
        Some(_) => vec![format!(
            "/proc/{pid}/map_files/{:x}-{:x}",
            mapping.start, mapping.end
        )],
        None => vec![
            format!("/proc/{pid}/root{}", mapping.path),
            mapping.path.to_string(),
        ],
    }
}

/// The parent's pid, the start time and the command, from /proc/PID/stat,
/// whose command (in parentheses) may hold spaces and parentheses.
fn read_stat(pid: u32) -> io::Result<(u32, u64, String)> {
    let stat = read_text(format!("/proc/{pid}/stat"))?;
    let invalid = || {
        io::Error::new(
            ErrorKind::InvalidData,
            format!("/proc/{pid}/stat: {stat:?}"),
        )
    };
    let open = stat.find('(').ok_or_else(invalid)?;
    let close = stat.rfind(')').ok_or_else(invalid)?;
    let command = stat[open + 1..close].to_string();
    // After the command: state (3), ppid (4), ... starttime (22).
    let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
    let number = |field: usize| {
        fields
            .get(field - 3)
            .and_then(|text| text.parse().ok())
            .ok_or_else(invalid)
    };
    Ok((number(4)? as u32, number(22)?, command))
}

/// The real uid, from /proc/PID/status (readable by anyone).
fn read_uid(pid: u32) -> io::Result<u32> {
    let status = read_text(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| {
            line.strip_prefix("Uid:")?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .ok_or_else(|| {
            io::Error::new(
                ErrorKind::InvalidData,
                format!("/proc/{pid}/status has no Uid"),
            )
        })
}

/// Each ring's header through /proc/PID/mem; where that is refused, what
/// smaps says is resident.
fn read_headers(pid: u32, rings: &mut [RingMapping]) -> io::Result<()> {
    let mem = match File::open(format!("/proc/{pid}/mem")) {
        Ok(mem) => Some(mem),
        Err(error) if is_refusal(&error) => None,
        Err(error) => return Err(error),
    };
    for ring in rings.iter_mut() {
        ring.header = match &mem {
            Some(mem) => read_header(mem, ring.address)?,
            None => HeaderRead::Refused,
        };
    }
    if rings.iter().any(|ring| ring.header == HeaderRead::Refused) {
        let resident = resident_bytes(pid)?;
        for ring in rings
            .iter_mut()
            .filter(|ring| ring.header == HeaderRead::Refused)
        {
            ring.resident = Some(resident.get(&ring.address).copied().unwrap_or(0));
        }
    }
    Ok(())
}

fn read_header(mem: &File, address: u64) -> io::Result<HeaderRead> {
    let mut bytes = [0u8; RING_HEADER_BYTES as usize];
    match mem.read_exact_at(&mut bytes, address) {
        Ok(()) => {
            let word = |index: usize| {
                u32::from_ne_bytes(bytes[index * 4..index * 4 + 4].try_into().unwrap())
            };
            Ok(HeaderRead::Read(RingHeader {
                nr: word(1),
                head: word(2),
                tail: word(3),
                magic: word(4),
            }))
        }
        Err(error) if error.raw_os_error() == Some(libc::EIO) => Ok(HeaderRead::Truncated),
        // mem opened while the process lived, read after it ended: no mm.
        Err(error) if error.kind() == ErrorKind::UnexpectedEof => {
            Err(io::Error::from_raw_os_error(libc::ESRCH))
        }
        Err(error) => Err(error),
    }
}

/// The Rss of each mapping, by its start address, from /proc/PID/smaps.
fn resident_bytes(pid: u32) -> io::Result<BTreeMap<u64, u64>> {
    let smaps = read_text(format!("/proc/{pid}/smaps"))?;
    let mut resident = BTreeMap::new();
    let mut current = None;
    for line in smaps.lines() {
        if let Some(mapping) = parse_maps_line(line) {
            current = Some(mapping.start);
        } else if let (Some(start), Some(kilobytes)) = (current, line.strip_prefix("Rss:")) {
            let kilobytes: u64 = kilobytes
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()
                .unwrap_or(0);
            resident.insert(start, kilobytes * 1024);
        }
    }
    Ok(resident)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_lines() {
        let ring = parse_maps_line("7fd9daafa000-7fd9daafb000 rw-s 00000000 00:13 490566                     /[aio] (deleted)").unwrap();
        assert_eq!(
            (ring.start, ring.end, ring.offset),
            (0x7fd9daafa000, 0x7fd9daafb000, 0)
        );
        assert_eq!(ring.file, ("00:13".to_string(), 490566));
        assert_eq!(ring.path, RING_MAPPING_NAME);
        let spaced =
            parse_maps_line("7f00-7f10 r-xp 00001000 fe:00 12 /opt/my libs/libaio.so.1").unwrap();
        assert_eq!(
            (spaced.offset, spaced.path),
            (0x1000, "/opt/my libs/libaio.so.1")
        );
        let anonymous = parse_maps_line("7ffd1000-7ffd2000 rw-p 00000000 00:00 0 ").unwrap();
        assert_eq!(anonymous.path, "");
        assert!(parse_maps_line("Rss:                   4 kB").is_none());
    }

    #[test]
    fn libaio_names() {
        assert!(names_libaio("/usr/lib/x86_64-linux-gnu/libaio.so.1t64.0.2"));
        assert!(names_libaio("/work/target/release/libaio.so"));
        assert!(!names_libaio("/usr/lib/libc.so.6"));
        assert!(!names_libaio("/opt/libaio/lib/other.so"));
    }

    #[test]
    fn this_process_reads_itself() {
        let Visit::Read(me) = visit(std::process::id()).unwrap() else {
            panic!("cannot read /proc/self")
        };
        assert_eq!(me.pid, std::process::id());
        // SAFETY: getuid and getppid only return numbers.
        let (uid, parent) = unsafe { (libc::getuid(), libc::getppid()) };
        assert_eq!((me.uid, me.parent), (uid, parent as u32));
        assert!(me.rings.is_empty());
    }
}
