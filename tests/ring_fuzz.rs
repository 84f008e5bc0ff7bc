//! Fuzzes the ring reader (`aio::ring`) with arbitrary headers, indices and
//! slot contents, over a ring of exactly the trusted size in its own mapping,
//! flush against a PROT_NONE page so that a read or write past either end
//! faults. Two more properties run it against a concurrent writer: a hostile
//! one (no memory outside the ring may be touched), and one that produces
//! like the kernel (every event arrives once, whole, in order).
//!
//! `PROPTEST_CASES=n` runs n cases of the header property (default 2000)
//! and n/64 of each concurrent one; `PROPTEST_RNG_SEED=s` changes the seed.

use aio::abi::io_event;
use aio::ring::{Ring, RingHeader, MAGIC};
use core::mem::{size_of, MaybeUninit};
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestRunner};
use std::cell::Cell;
use std::sync::Arc;

const HEADER_BYTES: usize = size_of::<RingHeader>();
const EVENT_BYTES: usize = size_of::<io_event>();
const PAGE: usize = 4096;
/// Largest ring fuzzed: the kernel's rings for up to ~2000 requests.
const MAX_NR: u32 = 4096;

/// Cases for the header property; the concurrent ones run 1/64 of it.
fn config(share: u32) -> Config {
    let mut config = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = 2000;
    }
    config.cases = (config.cases / share).max(8);
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        config.rng_seed = RngSeed::Fixed(0xa10a_10a1);
    }
    config.failure_persistence = None;
    config
}

/// A ring of `nr` slots in its own mapping. PROT_NONE pages surround the
/// mapped pages; the ring touches the one after it (`flush_end`) or the one
/// before it, so an access one byte out of bounds on that side faults.
struct GuardedRing {
    map: *mut u8,
    map_len: usize,
    ring: *mut u8,
    nr: u32,
}

impl GuardedRing {
    fn new(nr: u32, flush_end: bool) -> GuardedRing {
        let len = HEADER_BYTES + nr as usize * EVENT_BYTES;
        let body = len.div_ceil(PAGE) * PAGE;
        let map_len = body + 2 * PAGE;
        // SAFETY: a fresh anonymous mapping, then access to its middle pages.
        let map = unsafe {
            let map = libc::mmap(
                core::ptr::null_mut(),
                map_len,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            assert_ne!(map, libc::MAP_FAILED);
            let map = map.cast::<u8>();
            let rw = libc::PROT_READ | libc::PROT_WRITE;
            assert_eq!(libc::mprotect(map.add(PAGE).cast(), body, rw), 0);
            map
        };
        let start = if flush_end { PAGE + body - len } else { PAGE };
        GuardedRing {
            map,
            map_len,
            ring: map.wrapping_add(start),
            nr,
        }
    }

    fn header(&self) -> &RingHeader {
        // SAFETY: the ring starts 32-byte aligned inside the mapping.
        unsafe { &*self.ring.cast::<RingHeader>() }
    }

    fn slot(&self, index: u32) -> *mut io_event {
        assert!(index < self.nr);
        self.ring
            .wrapping_add(HEADER_BYTES + index as usize * EVENT_BYTES)
            .cast()
    }

    /// Every mapped byte (ring and slack), to compare before and after.
    fn snapshot(&self) -> Vec<u8> {
        // SAFETY: the pages between the guards are mapped and initialised.
        unsafe { core::slice::from_raw_parts(self.map.add(PAGE), self.map_len - 2 * PAGE) }.to_vec()
    }

    /// Where `head` is in a snapshot.
    fn head_offset(&self) -> usize {
        self.ring as usize - self.map as usize - PAGE + 8
    }

    fn attach(&self) -> Option<Ring<'_>> {
        // SAFETY: the header is followed by exactly `nr` mapped events.
        unsafe { Ring::attach(self.header(), self.nr) }
    }
}

// SAFETY: the mapping is plain shared memory; the threads that share a ring
// access it through atomics, or volatile reads as the kernel's user does.
unsafe impl Send for GuardedRing {}
// SAFETY: as above.
unsafe impl Sync for GuardedRing {}

impl Drop for GuardedRing {
    fn drop(&mut self) {
        // SAFETY: our own mapping, no longer borrowed.
        unsafe { libc::munmap(self.map.cast(), self.map_len) };
    }
}

/// A distinct, recognisable event for every (seed, index).
fn pattern(seed: u64, index: u64) -> io_event {
    let word = seed.rotate_left(17) ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    io_event {
        data: word as *mut _,
        obj: (word ^ 1) as *mut _,
        res: word.wrapping_add(2),
        res2: !word,
    }
}

/// Marks `out` entries the reader must not write.
const SENTINEL: io_event = io_event {
    data: 0x5e5e as *mut _,
    obj: 0x5e5e as *mut _,
    res: 0x5e5e,
    res2: 0x5e5e,
};

#[derive(Clone, Debug)]
struct HeaderCase {
    trusted_nr: u32,
    id: u32,
    nr: u32,
    head: u32,
    tail: u32,
    magic: u32,
    compat_features: u32,
    incompat_features: u32,
    header_length: u32,
    /// The kernel moves `tail` between `attach` and `consume`.
    moved_tail: Option<u32>,
    out_len: usize,
    flush_end: bool,
    seed: u64,
}

impl HeaderCase {
    /// What `attach` must accept: the kernel's ring as created, with indices in range.
    fn valid(&self) -> bool {
        self.magic == MAGIC
            && self.incompat_features == 0
            && self.header_length == HEADER_BYTES as u32
            && self.nr == self.trusted_nr
            && self.head < self.trusted_nr
            && self.tail < self.trusted_nr
    }

    /// What `consume` must do on a valid ring: (events copied, the slot of
    /// the first, the value `head` ends with).
    fn expected_consume(&self) -> (usize, u32, u32) {
        let nr = self.trusted_nr;
        let ready = |head: u32, tail: u32| ((tail + nr - head) % nr) as usize;
        let take = |head: u32, count: usize| (count, head, (head + count as u32) % nr);
        // The snapshot stands: tail as it was at attach, whatever the kernel did since.
        take(self.head, ready(self.head, self.tail).min(self.out_len))
    }
}

/// Mostly `valid`, sometimes anything: a header field worth corrupting.
fn mostly(valid: u32) -> impl Strategy<Value = u32> {
    prop_oneof![8 => Just(valid), 1 => any::<u32>(), 1 => prop_oneof![Just(0), Just(u32::MAX)]]
}

/// An index: in range most of the time, else at or past `nr`.
fn index(nr: u32) -> impl Strategy<Value = u32> {
    prop_oneof![8 => 0..nr, 1 => Just(nr), 1 => nr..=u32::MAX]
}

fn header_case() -> impl Strategy<Value = HeaderCase> {
    prop_oneof![9 => 1..=256u32, 1 => 257..=MAX_NR]
        .prop_flat_map(|nr| {
            let fields = (
                mostly(nr),
                index(nr),
                index(nr),
                mostly(MAGIC),
                any::<u32>(),
                mostly(0),
                mostly(HEADER_BYTES as u32),
            );
            let moved_tail = proptest::option::weighted(0.2, index(nr));
            let rest = (
                0..=nr as usize + 2,
                any::<bool>(),
                any::<u64>(),
                any::<u32>(),
            );
            (Just(nr), fields, moved_tail, rest)
        })
        .prop_map(
            |(trusted_nr, fields, moved_tail, (out_len, flush_end, seed, id))| {
                let (nr, head, tail, magic, compat_features, incompat_features, header_length) =
                    fields;
                HeaderCase {
                    trusted_nr,
                    id,
                    nr,
                    head,
                    tail,
                    magic,
                    compat_features,
                    incompat_features,
                    header_length,
                    moved_tail,
                    out_len,
                    flush_end,
                    seed,
                }
            },
        )
}

fn check_header_case(case: &HeaderCase) -> Result<(), TestCaseError> {
    let ring = GuardedRing::new(case.trusted_nr, case.flush_end);
    let h = ring.header();
    h.id.store(case.id, Ordering::Relaxed);
    h.nr.store(case.nr, Ordering::Relaxed);
    h.head.store(case.head, Ordering::Relaxed);
    h.tail.store(case.tail, Ordering::Relaxed);
    h.magic.store(case.magic, Ordering::Relaxed);
    h.compat_features
        .store(case.compat_features, Ordering::Relaxed);
    h.incompat_features
        .store(case.incompat_features, Ordering::Relaxed);
    h.header_length.store(case.header_length, Ordering::Relaxed);
    for i in 0..case.trusted_nr {
        // SAFETY: slot i is inside the ring.
        unsafe { ring.slot(i).write(pattern(case.seed, i.into())) };
    }
    let before = ring.snapshot();
    let mut out = vec![MaybeUninit::new(SENTINEL); case.out_len];

    let Some(mut reader) = ring.attach() else {
        prop_assert!(!case.valid(), "a valid header was refused");
        prop_assert!(
            ring.snapshot() == before,
            "attach wrote to a ring it refused"
        );
        return Ok(());
    };
    prop_assert!(case.valid(), "a corrupt header was accepted");
    let nr = case.trusted_nr;
    prop_assert_eq!(
        reader.available(),
        ((case.tail + nr - case.head) % nr) as usize
    );
    if let Some(moved) = case.moved_tail {
        h.tail.store(moved, Ordering::Relaxed);
    }
    let moved = ring.snapshot();
    let count = reader.consume(&mut out);
    let (expected_count, first, final_head) = case.expected_consume();
    prop_assert_eq!(count, expected_count);

    for (i, event) in out.iter().enumerate() {
        // SAFETY: every entry was initialised, by us or by consume.
        let event = unsafe { event.assume_init() };
        if i < count {
            prop_assert_eq!(
                event,
                pattern(case.seed, ((first + i as u32) % nr).into()),
                "out[{}]",
                i
            );
        } else {
            prop_assert_eq!(event, SENTINEL, "out[{}] past {}", i, count);
        }
    }
    // Nothing changed but head, which moved past what was taken.
    let mut expected = moved;
    let at = ring.head_offset();
    expected[at..at + 4].copy_from_slice(&final_head.to_ne_bytes());
    prop_assert!(ring.snapshot() == expected, "consume wrote outside head");
    Ok(())
}

proptest! {
    #![proptest_config(config(1))]

    #[test]
    fn any_header_is_refused_or_read_exactly(case in header_case()) {
        check_header_case(&case)?;
    }
}

/// xorshift64, for the writer threads.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// Scribbles on the header and the slots until told to stop, as a buggy or
/// malicious co-tenant of the ring could. A field gets a plausible value
/// three times out of four (so the reader often attaches), else any value.
fn scribble(ring: &GuardedRing, stop: &AtomicBool, mut state: u64) {
    let h = ring.header();
    let fields = [
        &h.nr,
        &h.head,
        &h.tail,
        &h.magic,
        &h.incompat_features,
        &h.header_length,
    ];
    let in_range = |r: u64| (r >> 32) as u32 % ring.nr;
    while !stop.load(Ordering::Relaxed) {
        let r = next(&mut state);
        let field = ((r >> 16) % 8) as usize;
        if field < fields.len() {
            let plausible = match field {
                0 => ring.nr,
                1 | 2 => in_range(r),
                3 => MAGIC,
                4 => 0,
                _ => HEADER_BYTES as u32,
            };
            let value = if r % 4 == 0 {
                (r >> 32) as u32
            } else {
                plausible
            };
            fields[field].store(value, Ordering::Relaxed);
        } else {
            let slot = ring.slot(in_range(r)).cast::<AtomicU64>();
            // SAFETY: a slot is four aligned u64 words inside the ring.
            unsafe { (*slot.add((r >> 8) as usize % 4)).store(r, Ordering::Relaxed) };
        }
    }
}

/// The reader's bounds come from the trusted size only: whatever another
/// thread writes meanwhile, it neither faults nor writes outside the ring.
#[test]
fn a_hostile_writer_cannot_push_the_reader_out_of_bounds() {
    let mut runner = TestRunner::new(config(64));
    let attached = Cell::new(0u64);
    let cases = (1..=512u32, any::<bool>(), 0..=600usize, 1..u64::MAX);
    runner
        .run(&cases, |(nr, flush_end, out_len, seed)| {
            attached.set(attached.get() + read_while_scribbled(nr, flush_end, out_len, seed)?);
            Ok(())
        })
        .unwrap();
    // The writer leaves a plausible header most of the time: consume ran.
    let attached = attached.get();
    assert!(
        attached >= u64::from(runner.config().cases),
        "only {attached} reads attached"
    );
}

/// Reads a ring of `nr` slots 2000 times while `scribble` runs; returns how
/// many reads found a header they accepted.
fn read_while_scribbled(
    nr: u32,
    flush_end: bool,
    out_len: usize,
    seed: u64,
) -> Result<u64, TestCaseError> {
    let ring = Arc::new(GuardedRing::new(nr, flush_end));
    let h = ring.header();
    h.nr.store(nr, Ordering::Relaxed);
    h.magic.store(MAGIC, Ordering::Relaxed);
    h.header_length
        .store(HEADER_BYTES as u32, Ordering::Relaxed);
    let outside = |snapshot: Vec<u8>| {
        let start = ring.ring as usize - ring.map as usize - PAGE;
        let end = start + HEADER_BYTES + nr as usize * EVENT_BYTES;
        (snapshot[..start].to_vec(), snapshot[end..].to_vec())
    };
    let slack = outside(ring.snapshot());
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (ring, stop) = (Arc::clone(&ring), Arc::clone(&stop));
        std::thread::spawn(move || scribble(&ring, &stop, seed))
    };
    let mut out = vec![MaybeUninit::new(SENTINEL); out_len];
    let reads = (|| {
        let mut attached = 0;
        for _ in 0..2000 {
            if let Some(mut reader) = ring.attach() {
                attached += 1;
                prop_assert!(reader.available() < nr as usize);
                let count = reader.consume(&mut out);
                prop_assert!(count <= out_len.min(nr as usize - 1));
            }
        }
        Ok(attached)
    })();
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    let attached = reads?;
    prop_assert!(
        outside(ring.snapshot()) == slack,
        "memory next to the ring changed"
    );
    Ok(attached)
}

/// Produces `total` events the way the kernel does: waits for room (a full
/// ring holds nr - 1), writes the slot, then publishes `tail` with Release.
fn produce(ring: &GuardedRing, total: u64) {
    let h = ring.header();
    let mut tail = 0u32;
    for seq in 0..total {
        let next_tail = (tail + 1) % ring.nr;
        while h.head.load(Ordering::Acquire) == next_tail {
            std::thread::yield_now();
        }
        let slot = ring.slot(tail).cast::<AtomicU64>();
        let event = pattern(0, seq);
        let words = [event.data as u64, event.obj as u64, event.res, event.res2];
        for (i, word) in words.into_iter().enumerate() {
            // SAFETY: a slot the consumer has released, inside the ring.
            unsafe { (*slot.add(i)).store(word, Ordering::Relaxed) };
        }
        tail = next_tail;
        h.tail.store(tail, Ordering::Release);
    }
}

proptest! {
    #![proptest_config(config(64))]

    /// With a producer that keeps the protocol, every event is taken exactly
    /// once, whole and in order, whatever the ring and batch sizes.
    #[test]
    fn a_kernel_like_producer_is_read_exactly_once_in_order(
        nr in 2..=128u32,
        batches in proptest::collection::vec(1..=160usize, 1..8),
        total in 1000..5000u64,
    ) {
        let ring = Arc::new(GuardedRing::new(nr, true));
        let h = ring.header();
        h.nr.store(nr, Ordering::Relaxed);
        h.magic.store(MAGIC, Ordering::Relaxed);
        h.header_length.store(HEADER_BYTES as u32, Ordering::Relaxed);
        let producer = {
            let ring = Arc::clone(&ring);
            std::thread::spawn(move || produce(&ring, total))
        };
        let mut out = vec![MaybeUninit::new(SENTINEL); 160];
        let mut seq = 0u64;
        for batch in batches.iter().cycle() {
            if seq == total {
                break;
            }
            let Some(mut reader) = ring.attach() else {
                return Err(TestCaseError::fail("the producer's header was refused"));
            };
            let count = reader.consume(&mut out[..*batch]);
            for event in &out[..count] {
                // SAFETY: consume initialised the first `count` entries.
                prop_assert_eq!(unsafe { event.assume_init() }, pattern(0, seq));
                seq += 1;
            }
            if count == 0 {
                std::thread::yield_now();
            }
        }
        producer.join().unwrap();
        prop_assert_eq!(ring.attach().map(|r| r.available()), Some(0));
    }
}

/// Guards the guard: the mapping really faults one byte past the ring.
#[test]
fn the_guard_page_faults() {
    let ring = GuardedRing::new(3, true);
    let past_end = ring.slot(2).wrapping_add(1).cast::<u8>();
    // SAFETY: fork; the child only reads one byte and exits.
    match unsafe { libc::fork() } {
        0 => {
            let no_core = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            // SAFETY: deliberately faults, without a core file.
            unsafe {
                libc::setrlimit(libc::RLIMIT_CORE, &no_core);
                past_end.read_volatile();
            }
            // SAFETY: plain exit of the child.
            unsafe { libc::_exit(0) }
        }
        pid => {
            assert!(pid > 0);
            let mut status = 0;
            // SAFETY: waits for our own child.
            assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
            assert!(libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGSEGV);
        }
    }
}
