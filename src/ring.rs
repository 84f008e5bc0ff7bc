//! Reader for the kernel's mmapped AIO completion ring (`struct aio_ring` in
//! the kernel's fs/aio.c). The kernel produces at `tail`; a consumer copies
//! `[head, tail)` and publishes the new `head`. Indices wrap at `nr`.
//!
//! The orderings, on any CPU: the kernel writes an event, then `tail` after
//! an `smp_wmb`; our Acquire load of `tail` pairs with it, so the copied
//! events are whole. We copy, then store `head` with Release; the kernel
//! reuses a slot only after it reads a `head` past it, so it never writes a
//! slot we are still copying.
//!
//! Under the model check (`--cfg loom`) the header also holds the events and
//! a cell that stands for the mapping: every read of the ring touches it, and
//! the model kernel's `io_destroy` writes it, so a read that is not ordered
//! before the unmapping is reported.

use crate::abi::io_event;
use crate::sync::{unless_weakened, AtomicU32, Ordering, Weakening};
use core::mem::MaybeUninit;

/// `AIO_RING_MAGIC`.
pub const MAGIC: u32 = 0xa10a_10a1;

/// The 32-byte header at the start of the ring; the events follow it.
#[repr(C)]
pub struct RingHeader {
    pub id: AtomicU32,
    pub nr: AtomicU32,
    pub head: AtomicU32,
    pub tail: AtomicU32,
    pub magic: AtomicU32,
    pub compat_features: AtomicU32,
    pub incompat_features: AtomicU32,
    pub header_length: AtomicU32,
    #[cfg(loom)]
    pub model: crate::model::RingMemory,
}

/// The kernel's `sizeof(struct aio_ring)`.
pub const HEADER_BYTES: u32 = 32;
#[cfg(not(loom))]
const _: () = assert!(size_of::<RingHeader>() == HEADER_BYTES as usize);

impl RingHeader {
    /// Whether the ring holds no event, read without taking any. Relaxed:
    /// the answer "none" reads no event.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.touch();
        self.tail.load(Ordering::Relaxed) == self.head.load(Ordering::Relaxed)
    }

    /// The capacity `nr`, if this is a ring we understand.
    ///
    /// # Safety
    /// As for [`Ring::attach`], with the `nr` the header holds.
    pub unsafe fn trusted_capacity(&self) -> Option<u32> {
        self.touch();
        let nr = self.nr.load(Ordering::Relaxed);
        // SAFETY: forwarded contract.
        unsafe { Ring::attach(self, nr) }.map(|_| nr)
    }

    /// A read of the ring: natively nothing; under the model, the check that
    /// it is still mapped.
    #[inline(always)]
    fn touch(&self) {
        #[cfg(loom)]
        self.model.touch();
    }
}

/// A ring whose header passed the checks; `nr` is the capacity recorded when
/// the context was created, so a corrupted header cannot widen the reads.
pub struct Ring<'a> {
    header: &'a RingHeader,
    nr: u32,
    head: u32,
    tail: u32,
}

impl<'a> Ring<'a> {
    /// Checks the header and takes a snapshot of `head` and `tail` (Acquire on
    /// `tail`, pairing with the kernel's `smp_wmb` before it stores `tail`).
    /// `None` means "not a ring we understand": the caller uses the syscall.
    ///
    /// # Safety
    /// `header` must be followed by `trusted_nr` events of mapped memory for `'a`.
    pub unsafe fn attach(header: &'a RingHeader, trusted_nr: u32) -> Option<Ring<'a>> {
        header.touch();
        let tail = header
            .tail
            .load(unless_weakened(Weakening::TailAcquire, Ordering::Acquire));
        let head = header.head.load(Ordering::Relaxed);
        let sane = header.magic.load(Ordering::Relaxed) == MAGIC
            && header.incompat_features.load(Ordering::Relaxed) == 0
            && header.header_length.load(Ordering::Relaxed) == HEADER_BYTES
            && header.nr.load(Ordering::Relaxed) == trusted_nr
            && head < trusted_nr
            && tail < trusted_nr;
        sane.then_some(Ring {
            header,
            nr: trusted_nr,
            head,
            tail,
        })
    }

    /// How many events are ready.
    pub fn available(&self) -> usize {
        let wrapped = if self.tail < self.head { self.nr } else { 0 };
        (self.tail + wrapped - self.head) as usize
    }

    /// Copies up to `out.len()` ready events into `out`, oldest first, then
    /// publishes the new `head` (Release: the copies happen before the kernel
    /// may reuse the slots). The caller must be the ring's only consumer
    /// from `attach` on. Returns how many were copied.
    pub fn consume(&mut self, out: &mut [MaybeUninit<io_event>]) -> usize {
        let count = self.available().min(out.len());
        if count == 0 {
            return 0;
        }
        // At most two contiguous runs: up to the end of the slots, then from 0.
        let first_run = count.min((self.nr - self.head) as usize);
        self.copy_run(self.head, &mut out[..first_run]);
        self.copy_run(0, &mut out[first_run..count]);
        let advanced = self.head as usize + count;
        let wrapped = if advanced >= self.nr as usize {
            self.nr as usize
        } else {
            0
        };
        self.head = (advanced - wrapped) as u32;
        self.header.touch();
        self.header.head.store(
            self.head,
            unless_weakened(Weakening::HeadRelease, Ordering::Release),
        );
        count
    }

    /// Copies the events from slot `first` on into `out`.
    #[cfg(not(loom))]
    fn copy_run(&self, first: u32, out: &mut [MaybeUninit<io_event>]) {
        debug_assert!(first as usize + out.len() <= self.nr as usize);
        let events = (self.header as *const RingHeader)
            .wrapping_add(1)
            .cast::<io_event>();
        // SAFETY: the run lies within the `nr` mapped slots after the header
        // (`consume` splits at `nr`); these slots are ready, and the kernel
        // does not rewrite them before `head` passes them; `out` is ours and
        // does not overlap.
        unsafe {
            core::ptr::copy_nonoverlapping(
                events.add(first as usize),
                out.as_mut_ptr().cast::<io_event>(),
                out.len(),
            );
        }
    }

    #[cfg(loom)]
    fn copy_run(&self, first: u32, out: &mut [MaybeUninit<io_event>]) {
        self.header.touch();
        for (i, slot) in out.iter_mut().enumerate() {
            slot.write(self.header.model.event(first as usize + i));
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// A ring in ordinary memory, laid out as the kernel lays out its mapping.
    struct FakeRing {
        words: Vec<u64>,
    }

    impl FakeRing {
        fn new(nr: u32) -> FakeRing {
            let ring = FakeRing {
                words: vec![0; 4 + 4 * nr as usize],
            };
            let h = ring.header();
            h.nr.store(nr, Ordering::Relaxed);
            h.magic.store(MAGIC, Ordering::Relaxed);
            h.compat_features.store(1, Ordering::Relaxed);
            h.header_length.store(HEADER_BYTES, Ordering::Relaxed);
            ring
        }
        fn header(&self) -> &RingHeader {
            // SAFETY: the buffer is 8-aligned and at least 32 bytes long.
            unsafe { &*(self.words.as_ptr() as *const RingHeader) }
        }
        /// Produces events the way the kernel does: slot first, then `tail`.
        fn produce(&mut self, ids: impl IntoIterator<Item = u64>) {
            for id in ids {
                let h = self.header();
                let (tail, nr) = (h.tail.load(Ordering::Relaxed), h.nr.load(Ordering::Relaxed));
                let at = 4 + 4 * tail as usize;
                self.words[at..at + 4].copy_from_slice(&[id, id + 1, id * 2, 0]);
                self.header().tail.store((tail + 1) % nr, Ordering::Release);
            }
        }
        fn ring(&self) -> Option<Ring<'_>> {
            let nr = (self.words.len() as u32 - 4) / 4;
            // SAFETY: the buffer holds exactly `nr` events after the header.
            unsafe { Ring::attach(self.header(), nr) }
        }
    }

    fn drain(ring: &FakeRing, max: usize) -> Vec<u64> {
        let mut out = vec![MaybeUninit::uninit(); max];
        let n = ring.ring().unwrap().consume(&mut out);
        // SAFETY: consume initialised the first n.
        out[..n]
            .iter()
            .map(|e| unsafe { e.assume_init().data as u64 })
            .collect()
    }

    #[test]
    fn empty_ring_yields_nothing() {
        let ring = FakeRing::new(8);
        assert_eq!(ring.ring().unwrap().available(), 0);
        assert_eq!(drain(&ring, 4), Vec::<u64>::new());
        assert_eq!(ring.header().head.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn events_come_out_in_order_and_head_advances() {
        let mut ring = FakeRing::new(8);
        ring.produce([10, 20, 30]);
        assert_eq!(drain(&ring, 2), vec![10, 20]);
        assert_eq!(ring.header().head.load(Ordering::Relaxed), 2);
        assert_eq!(drain(&ring, 8), vec![30]);
    }

    #[test]
    fn wraps_around_at_nr() {
        let mut ring = FakeRing::new(5);
        ring.produce([1, 2, 3]);
        assert_eq!(drain(&ring, 3), vec![1, 2, 3]);
        ring.produce([4, 5, 6, 7]);
        assert_eq!(ring.header().tail.load(Ordering::Relaxed), 2);
        assert_eq!(ring.ring().unwrap().available(), 4);
        assert_eq!(drain(&ring, 10), vec![4, 5, 6, 7]);
        assert_eq!(ring.header().head.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn a_full_ring_holds_nr_minus_one() {
        let mut ring = FakeRing::new(4);
        ring.produce([1, 2, 3]);
        assert_eq!(ring.ring().unwrap().available(), 3);
        assert_eq!(drain(&ring, 4), vec![1, 2, 3]);
    }

    #[test]
    fn the_event_fields_are_copied_whole() {
        let mut ring = FakeRing::new(4);
        ring.produce([7]);
        let mut out = [MaybeUninit::uninit()];
        assert_eq!(ring.ring().unwrap().consume(&mut out), 1);
        // SAFETY: consume initialised it.
        let ev = unsafe { out[0].assume_init() };
        assert_eq!(
            (ev.data as u64, ev.obj as u64, ev.res, ev.res2),
            (7, 8, 14, 0)
        );
    }

    #[test]
    fn corrupt_headers_are_refused() {
        let corruptions: [(fn(&RingHeader), &str); 7] = [
            (|h| h.magic.store(0, Ordering::Relaxed), "magic"),
            (
                |h| h.incompat_features.store(1, Ordering::Relaxed),
                "incompat",
            ),
            (
                |h| h.header_length.store(64, Ordering::Relaxed),
                "header_length",
            ),
            (|h| h.nr.store(1 << 30, Ordering::Relaxed), "nr grown"),
            (|h| h.nr.store(0, Ordering::Relaxed), "nr zero"),
            (|h| h.head.store(8, Ordering::Relaxed), "head"),
            (|h| h.tail.store(u32::MAX, Ordering::Relaxed), "tail"),
        ];
        for (corrupt, what) in corruptions {
            let ring = FakeRing::new(8);
            corrupt(ring.header());
            assert!(ring.ring().is_none(), "{what} accepted");
        }
    }

    #[test]
    fn a_zeroed_page_is_not_a_ring() {
        // gVisor maps a read-only zero page where the ring would be.
        let page = vec![0u64; 512];
        // SAFETY: 4 KiB of memory cover 127 events after the header.
        let header = unsafe { &*(page.as_ptr() as *const RingHeader) };
        // SAFETY: as above.
        assert!(unsafe { Ring::attach(header, 127) }.is_none());
    }
}
