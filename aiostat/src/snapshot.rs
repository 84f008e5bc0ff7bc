//! One look at the machine: aio-nr, aio-max-nr, and a row for each process
//! that holds contexts, with what could not be read said as such.

use std::collections::BTreeMap;
use std::ffi::CStr;
use std::fs;
use std::io;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::elf::{self, Libaio};
use crate::holders::{self, Context, Holdings};
use crate::kernel::{self, Geometry};
use crate::procfs::{self, HeaderRead, MappedLibrary, Process, Visit};

/// `/proc/self/ns/pid` in the initial PID namespace (PROC_PID_INIT_INO),
/// the only one whose /proc shows every process that aio-nr counts.
const INITIAL_PID_NAMESPACE: &str = "pid:[4026531836]";

/// A process that holds contexts.
#[derive(Clone, Debug)]
pub struct Row {
    pub pid: u32,
    pub uid: u32,
    pub user: Option<String>,
    pub command: String,
    pub contexts: Vec<Context>,
    /// The libaio files it has mapped, identified, with their paths.
    pub libaio: Vec<(Libaio, String)>,
}

impl Row {
    pub fn ring_slots(&self) -> u64 {
        self.contexts.iter().map(|context| context.ring_slots).sum()
    }

    pub fn nr_events(&self) -> (u64, u64) {
        self.contexts.iter().fold((0, 0), |(least, most), context| {
            (least + context.nr_events.0, most + context.nr_events.1)
        })
    }

    /// None if a ring's header could not be read.
    pub fn waiting(&self) -> Option<u64> {
        self.contexts.iter().map(|context| context.waiting).sum()
    }
}

#[derive(Clone, Debug)]
pub struct Snapshot {
    pub unix_time: f64,
    pub aio_nr: u64,
    pub aio_max_nr: u64,
    pub geometry: Geometry,
    /// Sorted by what each holds, most first.
    pub rows: Vec<Row>,
    /// Processes whose maps could not be read: (pid, uid if known).
    pub unreadable: Vec<(u32, Option<u32>)>,
    /// Processes with rings whose /proc/PID/mem was refused.
    pub mem_refused: Vec<u32>,
    pub inherited_mappings: u64,
    pub dead_mappings: u64,
    /// Whether this /proc is the initial PID namespace's.
    pub initial_pid_namespace: bool,
    /// `hidepid=` of this /proc, when it hides other users' processes from us.
    pub hidepid: Option<String>,
    /// Whether aiostat ran as root (whom only another user namespace or a
    /// security module refuses).
    pub as_root: bool,
    /// Whether the ranges were narrowed by aio-nr (see `take`).
    pub narrowed: bool,
}

impl Snapshot {
    pub fn contexts(&self) -> impl Iterator<Item = &Context> {
        self.rows.iter().flat_map(|row| &row.contexts)
    }

    pub fn unverified(&self) -> usize {
        self.contexts().filter(|context| !context.verified).count()
    }
}

/// Remembers across snapshots which libaio each mapped file is, and users' names.
#[derive(Default)]
pub struct Names {
    libraries: BTreeMap<(String, u64), Libaio>,
    users: BTreeMap<u32, Option<String>>,
}

/// Reads the machine. When every context can be seen (the initial PID
/// namespace, no process unread, every ring verified), the ranges are
/// narrowed by aio-nr, if aio-nr held still across two scans that found
/// the same contexts: a context made or destroyed meanwhile would make the
/// sum wrong.
pub fn take(geometry: Geometry, names: &mut Names) -> io::Result<Snapshot> {
    let aio_nr_before = kernel::read_counter("aio-nr")?;
    let (processes, unreadable) = scan()?;
    let aio_nr = kernel::read_counter("aio-nr")?;
    let aio_max_nr = kernel::read_counter("aio-max-nr")?;
    let mut holdings = holders::resolve(&processes, &geometry);
    let initial_pid_namespace = fs::read_link("/proc/self/ns/pid")
        .is_ok_and(|link| link.as_os_str() == INITIAL_PID_NAMESPACE);
    // SAFETY: geteuid only returns a number.
    let as_root = unsafe { libc::geteuid() } == 0;
    let hidepid = if as_root { None } else { hiding_hidepid() };
    let mut narrowed = false;
    let all_verified = holdings
        .contexts
        .values()
        .flatten()
        .all(|context| context.verified);
    if initial_pid_namespace
        && unreadable.is_empty()
        && hidepid.is_none()
        && all_verified
        && aio_nr_before == aio_nr
    {
        let (again, _) = scan()?;
        if kernel::read_counter("aio-nr")? == aio_nr
            && same_contexts(&holders::resolve(&again, &geometry), &holdings)
        {
            let mut ranges: Vec<&mut (u64, u64)> = holdings
                .contexts
                .values_mut()
                .flatten()
                .map(|context| &mut context.nr_events)
                .collect();
            narrowed = holders::narrow_by_total(&mut ranges, aio_nr);
        }
    }
    let mem_refused = processes
        .iter()
        .filter(|process| {
            process
                .rings
                .iter()
                .any(|ring| ring.header == HeaderRead::Refused)
        })
        .map(|process| process.pid)
        .collect();
    let mut rows: Vec<Row> = processes
        .iter()
        .filter_map(|process| {
            let contexts = holdings.contexts.remove(&process.pid)?;
            Some(Row {
                pid: process.pid,
                uid: process.uid,
                user: names.user(process.uid),
                command: process.command.clone(),
                contexts,
                libaio: names.libaio_of(process),
            })
        })
        .collect();
    rows.sort_by_key(|row| {
        let (least, most) = row.nr_events();
        (std::cmp::Reverse(least + most), row.pid)
    });
    Ok(Snapshot {
        unix_time: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |since| since.as_secs_f64()),
        aio_nr,
        aio_max_nr,
        geometry,
        rows,
        unreadable,
        mem_refused,
        inherited_mappings: holdings.inherited_mappings,
        dead_mappings: holdings.dead_mappings,
        initial_pid_namespace,
        hidepid,
        as_root,
        narrowed,
    })
}

type Scan = (Vec<Process>, Vec<(u32, Option<u32>)>);

/// Every process in /proc; those that end meanwhile are left out.
fn scan() -> io::Result<Scan> {
    let (mut processes, mut unreadable) = (Vec::new(), Vec::new());
    for pid in procfs::pids()? {
        match procfs::visit(pid)? {
            Visit::Read(process) => processes.push(process),
            Visit::Unreadable { pid, uid } => unreadable.push((pid, uid)),
            Visit::Gone => {}
        }
    }
    Ok((processes, unreadable))
}

fn same_contexts(one: &Holdings, other: &Holdings) -> bool {
    let keys = |holdings: &Holdings| -> Vec<(u32, u64, u64)> {
        let contexts = holdings.contexts.iter();
        contexts
            .flat_map(|(&pid, contexts)| {
                contexts
                    .iter()
                    .map(move |context| (pid, context.inode, context.ring_slots))
            })
            .collect()
    };
    keys(one) == keys(other)
}

/// The `hidepid=` option of the /proc mount, unless it is off.
fn hiding_hidepid() -> Option<String> {
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").ok()?;
    let line = mountinfo
        .lines()
        .find(|line| line.split(' ').nth(4) == Some("/proc") && line.contains(" - proc "))?;
    let value = line
        .rsplit(' ')
        .next()?
        .split(',')
        .find_map(|option| option.strip_prefix("hidepid="))?;
    (value != "0" && value != "off").then(|| value.to_string())
}

impl Names {
    fn libaio_of(&mut self, process: &Process) -> Vec<(Libaio, String)> {
        let identify = |library: &MappedLibrary| elf::identify(&library.candidates);
        process
            .libraries
            .iter()
            .map(|library| {
                let known = self
                    .libraries
                    .entry(library.file.clone())
                    .or_insert_with(|| identify(library));
                (known.clone(), library.path.clone())
            })
            .filter(|(libaio, _)| *libaio != Libaio::Other)
            .collect()
    }

    fn user(&mut self, uid: u32) -> Option<String> {
        self.users
            .entry(uid)
            .or_insert_with(|| user_name(uid))
            .clone()
    }
}

/// The name of `uid` from the password database (NSS), if it has one.
fn user_name(uid: u32) -> Option<String> {
    let mut buffer = vec![0 as libc::c_char; 16384];
    // SAFETY: passwd is plain data, for getpwuid_r to fill in.
    let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is to live storage of the size given; the
    // strings it writes point into `buffer`, which outlives their use here.
    let status = unsafe {
        libc::getpwuid_r(
            uid,
            &mut entry,
            buffer.as_mut_ptr(),
            buffer.len(),
            &mut found,
        )
    };
    if status != 0 || found.is_null() {
        return None;
    }
    // SAFETY: found is &entry, whose pw_name getpwuid_r set to a
    // NUL-terminated string in `buffer`.
    let name = unsafe { CStr::from_ptr(entry.pw_name) };
    Some(name.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names() {
        assert_eq!(user_name(0).as_deref(), Some("root"));
        assert_eq!(user_name(4_000_000_000), None);
    }
}
