//! What the kernel (fs/aio.c) makes of `io_setup(nr_events)`: it counts
//! `nr_events` in aio-nr, and maps a ring sized for
//! `max(nr_events, 4 * possible CPUs) * 2` events, plus 2, plus the 32-byte
//! header, rounded up to whole pages; the ring's `nr` is what the pages
//! hold. Many `nr_events` make one ring size, so a ring tells a range.

use std::fs;
use std::io;

/// `struct aio_ring`, the ring's header: id, nr, head, tail, magic,
/// compat_features, incompat_features, header_length.
pub const RING_HEADER_BYTES: u64 = 32;
/// `struct io_event`: one slot of the ring.
pub const EVENT_BYTES: u64 = 32;
/// `AIO_RING_MAGIC`, the header's fifth word.
pub const RING_MAGIC: u32 = 0xa10a10a1;
/// ioctx_alloc refuses more than `0x10000000 / sizeof(struct io_event)`
/// events once it has doubled them.
const MOST_NR_EVENTS: u64 = 0x1000_0000 / EVENT_BYTES / 2;

/// What sizes the rings on this machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    pub page_size: u64,
    pub possible_cpus: u64,
}

impl Geometry {
    /// This machine's: the page size and `/sys/devices/system/cpu/possible`.
    pub fn of_this_machine() -> io::Result<Geometry> {
        let possible = fs::read_to_string("/sys/devices/system/cpu/possible")?;
        let possible_cpus = count_cpu_list(&possible)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "unreadable CPU list"))?;
        // SAFETY: sysconf reads a constant of the process; no memory is passed.
        let page_size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        Ok(Geometry {
            page_size: page_size as u64,
            possible_cpus,
        })
    }

    /// The ring's `nr` (its slots) after `io_setup(nr_events)`
    /// (ioctx_alloc, then aio_setup_ring).
    pub fn ring_slots(&self, nr_events: u64) -> u64 {
        let events = nr_events.max(4 * self.possible_cpus) * 2 + 2;
        let pages = (RING_HEADER_BYTES + events * EVENT_BYTES).div_ceil(self.page_size);
        (pages * self.page_size - RING_HEADER_BYTES) / EVENT_BYTES
    }

    /// Every `nr_events` whose ring has `slots` slots, as `(least, most)`;
    /// `None` if no `io_setup` makes such a ring. `ring_slots` never
    /// decreases, so both ends are binary searches over it.
    pub fn nr_events_range(&self, slots: u64) -> Option<(u64, u64)> {
        let least = self.first_nr_events(|n| self.ring_slots(n) >= slots)?;
        if self.ring_slots(least) != slots {
            return None;
        }
        let most = match self.first_nr_events(|n| self.ring_slots(n) > slots) {
            Some(beyond) => beyond - 1,
            None => MOST_NR_EVENTS,
        };
        Some((least, most))
    }

    /// The smallest ring an `io_setup` makes: its slots, and the largest
    /// `nr_events` that still gets it.
    pub fn smallest_ring(&self) -> (u64, u64) {
        let slots = self.ring_slots(1);
        let (_, most) = self
            .nr_events_range(slots)
            .expect("io_setup(1) makes a ring");
        (slots, most)
    }

    /// The least `nr_events` in 1..=MOST_NR_EVENTS for which `holds`, which
    /// must stay true once it is.
    fn first_nr_events(&self, holds: impl Fn(u64) -> bool) -> Option<u64> {
        let (mut low, mut high) = (1, MOST_NR_EVENTS + 1);
        while low < high {
            let middle = low + (high - low) / 2;
            if holds(middle) {
                high = middle;
            } else {
                low = middle + 1;
            }
        }
        (low <= MOST_NR_EVENTS).then_some(low)
    }
}

/// How many CPUs a list such as "0-3,8,10-11" names.
pub fn count_cpu_list(list: &str) -> Option<u64> {
    let mut count = 0;
    for part in list.trim().split(',') {
        let (first, last) = part.split_once('-').unwrap_or((part, part));
        let (first, last): (u64, u64) = (first.parse().ok()?, last.parse().ok()?);
        count += last.checked_sub(first)? + 1;
    }
    Some(count)
}

/// `/proc/sys/fs/aio-nr` or `aio-max-nr`.
pub fn read_counter(name: &str) -> io::Result<u64> {
    let path = format!("/proc/sys/fs/{name}");
    let text = fs::read_to_string(&path)?;
    text.trim().parse().map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{path}: not a number: {text:?}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO_CPUS: Geometry = Geometry {
        page_size: 4096,
        possible_cpus: 2,
    };

    #[test]
    fn rings_of_two_cpus_and_4k_pages_as_measured_on_linux_6_18() {
        // io_setup(n) and ring->nr read back on this machine (2 CPUs).
        for (nr_events, slots) in [
            (1, 127),
            (8, 127),
            (62, 127),
            (63, 255),
            (100, 255),
            (120, 255),
            (126, 255),
            (127, 383),
            (190, 383),
            (191, 511),
        ] {
            assert_eq!(
                TWO_CPUS.ring_slots(nr_events),
                slots,
                "io_setup({nr_events})"
            );
        }
    }

    #[test]
    fn a_ring_pins_nr_events_to_half_a_page_of_events() {
        assert_eq!(TWO_CPUS.nr_events_range(127), Some((1, 62)));
        assert_eq!(TWO_CPUS.nr_events_range(255), Some((63, 126)));
        assert_eq!(TWO_CPUS.nr_events_range(383), Some((127, 190)));
        assert_eq!(TWO_CPUS.nr_events_range(128), None);
        assert_eq!(TWO_CPUS.smallest_ring(), (127, 62));
    }

    #[test]
    fn many_cpus_widen_the_smallest_ring() {
        // 64 CPUs: every io_setup up to 256 events gets a ring for 512.
        let many = Geometry {
            page_size: 4096,
            possible_cpus: 64,
        };
        assert_eq!(many.smallest_ring(), (639, 318));
        assert_eq!(many.nr_events_range(639), Some((1, 318)));
    }

    #[test]
    fn every_nr_events_lies_in_the_range_of_its_ring() {
        for geometry in [
            TWO_CPUS,
            Geometry {
                page_size: 65536,
                possible_cpus: 3,
            },
        ] {
            for nr_events in (1..3000).chain([MOST_NR_EVENTS - 1, MOST_NR_EVENTS]) {
                let (least, most) = geometry
                    .nr_events_range(geometry.ring_slots(nr_events))
                    .unwrap();
                assert!(
                    least <= nr_events && nr_events <= most,
                    "{geometry:?} io_setup({nr_events})"
                );
            }
        }
    }

    #[test]
    fn cpu_lists() {
        assert_eq!(count_cpu_list("0-1\n"), Some(2));
        assert_eq!(count_cpu_list("0"), Some(1));
        assert_eq!(count_cpu_list("0-3,8,10-11"), Some(7));
        assert_eq!(count_cpu_list("3-1"), None);
        assert_eq!(count_cpu_list(""), None);
    }
}
