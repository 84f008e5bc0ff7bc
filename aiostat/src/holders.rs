//! From what each process maps to who holds which context. A ring's file
//! (one inode per context) can be mapped by several processes: a forked
//! child inherits its parent's rings but not the contexts, and keeps the
//! mapping after the parent destroys the context, when the kernel has
//! truncated the file and every read of it fails with EIO. So each context
//! counts once, at its owner, and a truncated ring not at all.

use std::collections::BTreeMap;

use crate::kernel::{Geometry, EVENT_BYTES, RING_HEADER_BYTES, RING_MAGIC};
use crate::procfs::{HeaderRead, Process, RingHeader, RingMapping};

/// One live context, at its owner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Context {
    pub address: u64,
    pub inode: u64,
    pub ring_slots: u64,
    /// The `nr_events` its `io_setup` asked for, as a range `(least, most)`
    /// (equal when known exactly).
    pub nr_events: (u64, u64),
    /// Completions in the ring not yet reaped (`tail - head`); None when
    /// the header could not be read or makes no sense.
    pub waiting: Option<u64>,
    /// Whether a header read showed it alive; false when every process
    /// mapping it refused /proc/PID/mem and none has it resident.
    pub verified: bool,
}

/// What the rings of all the processes read come to.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Holdings {
    /// Each owner's contexts, by pid.
    pub contexts: BTreeMap<u32, Vec<Context>>,
    /// Mappings of live contexts in processes that do not own them.
    pub inherited_mappings: u64,
    /// Mappings of destroyed contexts (truncated rings).
    pub dead_mappings: u64,
}

/// Finds each context's owner among `processes`, which must all have been
/// read in one pass.
pub fn resolve(processes: &[Process], geometry: &Geometry) -> Holdings {
    let by_pid: BTreeMap<u32, &Process> = processes
        .iter()
        .map(|process| (process.pid, process))
        .collect();
    let mut mappers: BTreeMap<&(String, u64), Vec<(&Process, &RingMapping)>> = BTreeMap::new();
    for process in processes {
        for ring in &process.rings {
            mappers.entry(&ring.file).or_default().push((process, ring));
        }
    }
    let mut holdings = Holdings::default();
    for (file, mapped) in mappers {
        let read = mapped.iter().find_map(|(_, ring)| match ring.header {
            HeaderRead::Read(header) => Some(header),
            _ => None,
        });
        if mapped
            .iter()
            .any(|(_, ring)| ring.header == HeaderRead::Truncated)
        {
            holdings.dead_mappings += mapped.len() as u64;
            continue;
        }
        let resident = mapped
            .iter()
            .any(|(_, ring)| ring.resident.is_some_and(|bytes| bytes > 0));
        let &(owner, ring) = mapped
            .iter()
            .reduce(|earlier, other| {
                if owns_before(other.0, earlier.0, &by_pid) {
                    other
                } else {
                    earlier
                }
            })
            .expect("a file in the map has a mapping");
        holdings.inherited_mappings += mapped.len() as u64 - 1;
        let ring_slots = match read {
            Some(header) if header.magic == RING_MAGIC => u64::from(header.nr),
            _ => ring.bytes / EVENT_BYTES - RING_HEADER_BYTES / EVENT_BYTES,
        };
        holdings
            .contexts
            .entry(owner.pid)
            .or_default()
            .push(Context {
                address: ring.address,
                inode: file.1,
                ring_slots,
                nr_events: geometry
                    .nr_events_range(ring_slots)
                    .unwrap_or((1, u64::from(u32::MAX))),
                waiting: read.and_then(waiting),
                verified: read.is_some() || resident,
            });
    }
    holdings
}

/// Completions not yet reaped, from a header that makes sense.
fn waiting(header: RingHeader) -> Option<u64> {
    let RingHeader {
        nr,
        head,
        tail,
        magic,
    } = header;
    (magic == RING_MAGIC && head < nr && tail < nr).then(|| u64::from((tail + nr - head) % nr))
}

/// Whether `one` rather than `other` made a ring both map. The owner made
/// it, and only processes forked after that inherit it: the one that
/// started first owns it. Within one clock tick, a parent owns it before
/// its descendants; between two unrelated processes that share a memory
/// (clone with CLONE_VM), either does: the lower pid.
fn owns_before(one: &Process, other: &Process, by_pid: &BTreeMap<u32, &Process>) -> bool {
    if one.started != other.started {
        return one.started < other.started;
    }
    if descends_from(other, one.pid, by_pid) {
        return true;
    }
    !descends_from(one, other.pid, by_pid) && one.pid < other.pid
}

fn descends_from(process: &Process, ancestor: u32, by_pid: &BTreeMap<u32, &Process>) -> bool {
    let mut current = process.parent;
    for _ in 0..by_pid.len() {
        if current == ancestor {
            return true;
        }
        match by_pid.get(&current) {
            Some(parent) if parent.pid != parent.parent => current = parent.parent,
            _ => return false,
        }
    }
    false
}

/// Narrows each range by the total it must add up to, aio-nr: a context
/// holds at least what the others' most leaves of the total, and at most
/// what their least leaves. Sound only when every context counted in
/// `total` is in `ranges`; false (nothing changed) when the total lies
/// outside what the ranges can add up to.
pub fn narrow_by_total(ranges: &mut [&mut (u64, u64)], total: u64) -> bool {
    let least: u64 = ranges.iter().map(|range| range.0).sum();
    let most: u64 = ranges.iter().map(|range| range.1).sum();
    if total < least || total > most {
        return false;
    }
    for range in ranges.iter_mut() {
        let (own_least, own_most) = **range;
        **range = (
            own_least.max(total.saturating_sub(most - own_most)),
            own_most.min(total - (least - own_least)),
        );
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    const GEOMETRY: Geometry = Geometry {
        page_size: 4096,
        possible_cpus: 2,
    };

    fn ring(inode: u64, header: HeaderRead) -> RingMapping {
        RingMapping {
            address: 0x7f00_0000 + inode * 0x1000,
            file: ("00:13".into(), inode),
            bytes: 8192,
            header,
            resident: None,
        }
    }

    fn header(head: u32, tail: u32) -> HeaderRead {
        HeaderRead::Read(RingHeader {
            nr: 255,
            head,
            tail,
            magic: RING_MAGIC,
        })
    }

    fn process(pid: u32, parent: u32, started: u64, rings: Vec<RingMapping>) -> Process {
        Process {
            pid,
            parent,
            started,
            uid: 0,
            command: format!("p{pid}"),
            rings,
            libraries: vec![],
        }
    }

    #[test]
    fn a_forked_child_inherits_the_mapping_not_the_context() {
        let parent = process(100, 1, 50, vec![ring(7, header(3, 10))]);
        let child = process(101, 100, 50, vec![ring(7, header(3, 10))]);
        let holdings = resolve(&[child, parent], &GEOMETRY);
        assert_eq!(holdings.contexts.keys().collect::<Vec<_>>(), [&100]);
        let context = &holdings.contexts[&100][0];
        assert_eq!(
            (context.ring_slots, context.nr_events, context.waiting),
            (255, (63, 126), Some(7))
        );
        assert_eq!(
            (holdings.inherited_mappings, holdings.dead_mappings),
            (1, 0)
        );
    }

    #[test]
    fn an_orphaned_grandchild_started_later_does_not_own() {
        // The child between them exited: the grandchild was reparented to 1.
        let owner = process(100, 1, 50, vec![ring(7, header(0, 0))]);
        let grandchild = process(90, 1, 60, vec![ring(7, header(0, 0))]);
        assert_eq!(
            resolve(&[grandchild, owner], &GEOMETRY)
                .contexts
                .keys()
                .collect::<Vec<_>>(),
            [&100]
        );
    }

    #[test]
    fn a_truncated_ring_counts_nowhere() {
        let child = process(101, 100, 50, vec![ring(7, HeaderRead::Truncated)]);
        let holdings = resolve(&[child], &GEOMETRY);
        assert!(holdings.contexts.is_empty());
        assert_eq!(holdings.dead_mappings, 1);
    }

    #[test]
    fn a_refused_header_counts_from_the_mapping_unverified_unless_resident() {
        let mut resident = ring(8, HeaderRead::Refused);
        resident.resident = Some(8192);
        let mut not_resident = ring(9, HeaderRead::Refused);
        not_resident.resident = Some(0);
        let holdings = resolve(&[process(5, 1, 1, vec![resident, not_resident])], &GEOMETRY);
        let contexts = &holdings.contexts[&5];
        assert_eq!(
            contexts
                .iter()
                .map(|context| (context.ring_slots, context.waiting, context.verified))
                .collect::<Vec<_>>(),
            [(255, None, true), (255, None, false)]
        );
    }

    #[test]
    fn waiting_wraps_and_rejects_nonsense() {
        assert_eq!(
            waiting(RingHeader {
                nr: 127,
                head: 120,
                tail: 3,
                magic: RING_MAGIC
            }),
            Some(10)
        );
        assert_eq!(
            waiting(RingHeader {
                nr: 127,
                head: 127,
                tail: 3,
                magic: RING_MAGIC
            }),
            None
        );
        assert_eq!(
            waiting(RingHeader {
                nr: 127,
                head: 0,
                tail: 3,
                magic: 0
            }),
            None
        );
    }

    #[test]
    fn narrowing_pins_what_the_total_allows() {
        // io_setup(100) and io_setup(5): aio-nr 105.
        let (mut big, mut small) = ((63, 126), (1, 62));
        assert!(narrow_by_total(&mut [&mut big, &mut small], 105));
        assert_eq!((big, small), ((63, 104), (1, 42)));
        // The total at the top of the ranges pins every one.
        let (mut big, mut small) = ((63, 126), (1, 62));
        assert!(narrow_by_total(&mut [&mut big, &mut small], 188));
        assert_eq!((big, small), ((126, 126), (62, 62)));
        // One context alone is the total.
        let mut only = (63, 126);
        assert!(narrow_by_total(&mut [&mut only], 100));
        assert_eq!(only, (100, 100));
        // A total the ranges cannot make changes nothing.
        let mut only = (63, 126);
        assert!(!narrow_by_total(&mut [&mut only], 200));
        assert_eq!(only, (63, 126));
    }
}
