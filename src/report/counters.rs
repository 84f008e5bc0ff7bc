//! The report's counters: relaxed atomics, so that any thread (or a signal
//! handler) counts without a lock. A report read while others count may mix
//! two instants; each counter is exact. They are arrays, all zero when
//! unused (so the pool lies in .bss), and added up with one loop.

use crate::abi::{io_event, iocb};
use core::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// The counters that add up across contexts.
#[derive(Clone, Copy)]
pub enum Sum {
    /// Contexts counted here (1 for a context's own counters).
    Contexts,
    SubmitCalls,
    Ios,
    PartialSubmits,
    /// `io_submit` answered -EAGAIN: no room left in the ring.
    RingFull,
    SubmitErrors,
    SubmitNs,
    SlowSubmits,
    /// Slow calls whose first file was not opened with O_DIRECT.
    SlowBufferedSubmits,
    ReapCallsFromRing,
    ReapSyscalls,
    ReapedFromRing,
    ReapedBySyscall,
    Waits,
    WaitNs,
    /// Errors in `res` beyond the `ERRNOS` counted by name.
    OtherErrnos,
}
const NAMED_SUMS: usize = Sum::OtherErrnos as usize + 1;

/// Libaio's `IO_CMD_*` opcodes 0..=8 (4 is unused), then any other value;
/// their names in the report, each ending with a space.
pub const OPCODES: usize = 10;
pub const OPCODE_NAMES: &str = "pread pwrite fsync fdsync opcode_4 poll noop preadv pwritev other ";
/// Histogram buckets of time in `io_submit`: bucket `i` counts calls that
/// took less than 2^i µs; the last one also holds anything slower.
pub const BUCKETS: usize = 27; // up to 2^26 µs, about 67 s
const OPCODE_SUMS: usize = NAMED_SUMS;
const HISTOGRAM_SUMS: usize = OPCODE_SUMS + OPCODES;
const SUMS: usize = HISTOGRAM_SUMS + BUCKETS;

/// The counters whose largest value is kept.
#[derive(Clone, Copy)]
pub enum Max {
    /// What `io_setup` was asked for.
    RingSize,
    /// The slots of the ring the kernel made.
    RingSlots,
    InFlight,
}
const MAXIMA: usize = Max::InFlight as usize + 1;

/// What is kept of the slowest `io_submit`: its first I/O's fd, opcode and
/// byte count (the iovec count for vectored ones), the I/Os in the call,
/// and whether its file was opened with O_DIRECT: 0 not known (the call was
/// not slow), 1 no, 2 yes.
#[derive(Clone, Copy)]
pub enum Slowest {
    Ns,
    Fd,
    Opcode,
    Bytes,
    Ios,
    ODirect,
}
const SLOWEST: usize = Slowest::ODirect as usize + 1;

/// How many distinct errnos in `res` are counted by name.
pub const ERRNOS: usize = 8;

pub struct Counters {
    sums: [AtomicU64; SUMS],
    maxima: [AtomicU64; MAXIMA],
    slowest: [AtomicU64; SLOWEST],
    /// Errnos seen in `res` (0: a free entry), and how often.
    /// (Words as wide as the others', so that `reset` zeroes all alike.)
    errnos: [AtomicU64; ERRNOS],
    errno_counts: [AtomicU64; ERRNOS],
    /// Below zero where a program reaps from the ring by hand.
    in_flight: AtomicI64,
}

/// The histogram bucket of a call that took `ns`.
pub fn bucket(ns: u64) -> usize {
    let micros = ns / 1000;
    ((u64::BITS - micros.leading_zeros()) as usize).min(BUCKETS - 1)
}

/// The counter index of an `aio_lio_opcode`.
pub fn opcode_index(opcode: i16) -> usize {
    match opcode {
        0..=8 => opcode as usize,
        _ => OPCODES - 1,
    }
}

impl Counters {
    pub const fn new() -> Counters {
        Counters {
            sums: [const { AtomicU64::new(0) }; SUMS],
            maxima: [const { AtomicU64::new(0) }; MAXIMA],
            slowest: [const { AtomicU64::new(0) }; SLOWEST],
            errnos: [const { AtomicU64::new(0) }; ERRNOS],
            errno_counts: [const { AtomicU64::new(0) }; ERRNOS],
            in_flight: AtomicI64::new(0),
        }
    }

    pub fn get(&self, sum: Sum) -> u64 {
        self.sums[sum as usize].load(Ordering::Relaxed)
    }

    pub fn count(&self, sum: Sum, n: u64) {
        self.sums[sum as usize].fetch_add(n, Ordering::Relaxed);
    }

    pub fn max(&self, max: Max) -> u64 {
        self.maxima[max as usize].load(Ordering::Relaxed)
    }

    pub fn raise(&self, max: Max, n: u64) {
        self.maxima[max as usize].fetch_max(n, Ordering::Relaxed);
    }

    pub fn slowest(&self, field: Slowest) -> u64 {
        self.slowest[field as usize].load(Ordering::Relaxed)
    }

    /// I/Os of opcode counter `index` (see `OPCODE_NAMES`).
    pub fn ios_of_opcode(&self, index: usize) -> u64 {
        self.sums[OPCODE_SUMS + index].load(Ordering::Relaxed)
    }

    pub fn count_opcode(&self, opcode: i16) {
        self.sums[OPCODE_SUMS + opcode_index(opcode)].fetch_add(1, Ordering::Relaxed);
    }

    /// The histogram's buckets: calls that took less than 2^index µs.
    pub fn histogram(&self) -> &[AtomicU64] {
        &self.sums[HISTOGRAM_SUMS..]
    }

    pub fn count_submit_time(&self, ns: u64) {
        self.count(Sum::SubmitNs, ns);
        self.sums[HISTOGRAM_SUMS + bucket(ns)].fetch_add(1, Ordering::Relaxed);
    }

    /// The errnos seen in `res`, with their counts.
    pub fn errors(&self) -> impl Iterator<Item = (u32, u64)> + '_ {
        self.errnos
            .iter()
            .zip(&self.errno_counts)
            .map(|(errno, count)| {
                (
                    errno.load(Ordering::Relaxed) as u32,
                    count.load(Ordering::Relaxed),
                )
            })
            .filter(|&(errno, _)| errno != 0)
    }

    /// Zero again, for a new context or a forked child.
    #[inline(never)]
    pub fn reset(&self) {
        let zero = |word: &AtomicU64, _| word.store(0, Ordering::Relaxed);
        for words in [
            &self.sums[..],
            &self.maxima,
            &self.slowest,
            &self.errnos,
            &self.errno_counts,
        ] {
            combine(words, words, zero);
        }
        self.in_flight.store(0, Ordering::Relaxed);
    }

    /// Adds `other`'s counts to these (a destroyed context's to the
    /// process's): sums, maxima, the slowest call, the errnos.
    #[inline(never)]
    pub fn add(&self, other: &Counters) {
        combine(&self.sums, &other.sums, |mine, theirs| {
            mine.fetch_add(theirs, Ordering::Relaxed);
        });
        combine(&self.maxima, &other.maxima, |mine, theirs| {
            mine.fetch_max(theirs, Ordering::Relaxed);
        });
        if other.slowest(Slowest::Ns) > self.slowest(Slowest::Ns) {
            combine(&self.slowest, &other.slowest, |mine, theirs| {
                mine.store(theirs, Ordering::Relaxed)
            });
        }
        other
            .errors()
            .for_each(|(errno, count)| self.count_errno(errno, count));
    }

    /// `accepted` I/Os were queued.
    pub fn started(&self, accepted: u64) {
        let now = self.in_flight.fetch_add(accepted as i64, Ordering::Relaxed) + accepted as i64;
        self.raise(Max::InFlight, now.max(0) as u64);
    }

    /// `events` completed and were reaped.
    pub fn finished(&self, events: &[io_event]) {
        self.in_flight
            .fetch_sub(events.len() as i64, Ordering::Relaxed);
        for event in events {
            let res = event.res as i64;
            if (-4095..0).contains(&res) {
                self.count_errno(-res as u32, 1);
            }
        }
    }

    #[inline(never)]
    fn count_errno(&self, errno: u32, count: u64) {
        for (entry, counter) in self.errnos.iter().zip(&self.errno_counts) {
            match entry.compare_exchange(0, errno.into(), Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => {}
                Err(taken) if taken == errno.into() => {}
                Err(_) => continue,
            }
            counter.fetch_add(count, Ordering::Relaxed);
            return;
        }
        self.count(Sum::OtherErrnos, count);
    }

    /// A call that took `ns`, whose first iocb is `first`: the slowest so far
    /// is kept (each field exact; together as of one of the calls racing to
    /// be slowest).
    pub fn note_slowest(&self, ns: u64, first: &iocb, ios: usize, o_direct: Option<bool>) {
        if self.slowest[Slowest::Ns as usize].fetch_max(ns, Ordering::Relaxed) >= ns {
            return;
        }
        let fields = [
            (Slowest::Fd, first.aio_fildes as u64),
            (Slowest::Opcode, first.aio_lio_opcode as u64),
            // SAFETY: every view of the union is plain data.
            (Slowest::Bytes, unsafe { first.u.c.nbytes }),
            (Slowest::Ios, ios as u64),
            (
                Slowest::ODirect,
                o_direct.map_or(0, |o_direct| 1 + u64::from(o_direct)),
            ),
        ];
        for (field, value) in fields {
            self.slowest[field as usize].store(value, Ordering::Relaxed);
        }
    }

    /// The upper bound in µs of the bucket that holds the `percent`
    /// quantile of the calls (0 if there were none).
    #[inline(never)]
    pub fn submit_quantile_us(&self, percent: u64) -> u64 {
        let wanted = (self.get(Sum::SubmitCalls) * percent).div_ceil(100).max(1);
        let mut seen = 0;
        self.histogram()
            .iter()
            .position(|calls| {
                seen += calls.load(Ordering::Relaxed);
                seen >= wanted
            })
            .map_or(0, |bucket| 1 << bucket)
    }
}

/// Applies `op(mine[i], theirs[i])` to each pair: a loop over slices, which
/// the compiler does not unroll into the library's size.
#[inline(never)]
fn combine(mine: &[AtomicU64], theirs: &[AtomicU64], op: fn(&AtomicU64, u64)) {
    for (mine, theirs) in mine.iter().zip(theirs) {
        op(mine, theirs.load(Ordering::Relaxed));
    }
}
