//! The report: whether a program's AIO really was asynchronous. Per context
//! (printed when it is destroyed, so that forked fio jobs that `_exit` are
//! covered) and per process (at `exit()`): submissions, the time spent
//! inside `io_submit`, completions from the ring and from the syscall,
//! errors in `res`, the most I/Os in flight, and a diagnosis.
//!
//! Off (the default) it costs the hot paths one relaxed load and a branch.
//! On, it adds two `CLOCK_MONOTONIC` reads (vDSO) per `io_submit` and per
//! reap that may wait, relaxed atomic adds, and after an `io_submit` that
//! took longer than the threshold an `fcntl(F_GETFL)` of its file (to tell
//! whether it was opened with O_DIRECT). It writes its reports with
//! `write`, and `open`/`close` for the JSON file. Nothing is allocated: the
//! counters live in static storage.
//!
//! - `LIBAIO_RS_STATS=1`: the reports as text on stderr.
//! - `LIBAIO_RS_STATS_JSON=PATH`: one JSON object per line appended to PATH
//!   (`%p` stands for the pid).
//! - `LIBAIO_RS_SLOW_SUBMIT_US=N`: an `io_submit` slower than N µs counts as
//!   slow (default [`DEFAULT_SLOW_SUBMIT_US`]).

mod counters;
mod render;

use counters::{Counters, Max, Sum};

use crate::abi::{io_event, iocb};
use crate::runtime;
use crate::sys::{self, plausible, Errno};
use crate::text::{append_to_file, unrolled_never, Text};
use core::ffi::{c_int, c_long};
use core::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, AtomicUsize, Ordering};

/// The default threshold. A submission that does not block takes a few µs
/// per I/O: 2 to 8 µs here for 4 KiB O_DIRECT reads of an ext4 file on a
/// virtio disk, up to 30-60 µs when the VM's notification of the device
/// exits to the hypervisor. One that blocks waits for the device: 64 to
/// 128 µs here for a buffered 4 KiB read that misses the page cache (the
/// issue that asked for this report measured 47-54 µs), 80 µs and more on
/// NVMe, milliseconds on disks. 50 µs separates the two on this project's
/// VMs; `LIBAIO_RS_SLOW_SUBMIT_US` moves it.
pub const DEFAULT_SLOW_SUBMIT_US: u64 = 50;

static ON: AtomicBool = AtomicBool::new(false);
static TEXT: AtomicBool = AtomicBool::new(false);
static SLOW_SUBMIT_NS: AtomicU64 = AtomicU64::new(DEFAULT_SLOW_SUBMIT_US * 1000);

/// `LIBAIO_RS_STATS_JSON`, copied at start-up (empty: no JSON).
struct JsonPath(core::cell::UnsafeCell<[u8; 512]>);
// SAFETY: written once, by `init`, before the report is switched on; read
// only when a report is written: by the atexit handler `init` registers
// after the write, or by the `io_destroy` of a context that was registered
// after `runtime::init` published its end with a Release store.
unsafe impl Sync for JsonPath {}
static JSON_PATH: JsonPath = JsonPath(core::cell::UnsafeCell::new([0; 512]));

/// Whether the report is on: the one relaxed load the hot paths pay.
#[inline(always)]
pub fn on() -> bool {
    ON.load(Ordering::Relaxed)
}

/// Reads the switches (once, from `runtime::init`).
pub fn init() {
    let text = runtime::env_flag(c"LIBAIO_RS_STATS");
    let json = runtime::env_value(c"LIBAIO_RS_STATS_JSON")
        .filter(|path| !path.is_empty() && path.len() < 512);
    if let Some(path) = json {
        // SAFETY: see JsonPath: nothing reads it before ON is set below.
        unsafe { (&mut *JSON_PATH.0.get())[..path.len()].copy_from_slice(path) };
    }
    if let Some(micros) = runtime::env_value(c"LIBAIO_RS_SLOW_SUBMIT_US").and_then(parse_u64) {
        SLOW_SUBMIT_NS.store(micros.saturating_mul(1000), Ordering::Relaxed);
    }
    if text || json.is_some() {
        TEXT.store(text, Ordering::Relaxed);
        ON.store(true, Ordering::Release);
        // SAFETY: registering a plain extern "C" fn with no captured state.
        unsafe { libc::atexit(report_process) };
    }
}

fn parse_u64(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &d| {
        d.is_ascii_digit()
            .then(|| n.checked_mul(10)?.checked_add(u64::from(d - b'0')))?
    })
}

/// Nanoseconds on CLOCK_MONOTONIC (the vDSO: no syscall).
pub fn now() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is writable.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Per-context counters: a pool, since few contexts live at once; a context
/// that finds it empty counts in the process total only.
const RECORDS: usize = 256;
/// The slot of the context each record counts for, plus one (0: free).
static RECORD_OWNER: [AtomicUsize; RECORDS] = [const { AtomicUsize::new(0) }; RECORDS];
static RECORD: [Counters; RECORDS] = [const { Counters::new() }; RECORDS];
/// Each context slot's record, plus one (0: none).
static RECORD_OF_SLOT: [AtomicU16; crate::contexts::SLOTS] =
    [const { AtomicU16::new(0) }; crate::contexts::SLOTS];
/// The counters of destroyed contexts, and what had no context of ours.
static PROCESS: Counters = Counters::new();

/// The counters that `slot`'s context counts in.
fn counters_of(slot: Option<usize>) -> &'static Counters {
    match slot.map(|slot| RECORD_OF_SLOT[slot].load(Ordering::Acquire)) {
        Some(record @ 1..) => &RECORD[record as usize - 1],
        _ => &PROCESS,
    }
}

/// A context of ours was created in table slot `slot`, asked for `asked`
/// events, and got a ring of `ring_slots`.
#[cold]
pub fn context_created(slot: usize, asked: c_int, ring_slots: u32) {
    let free = unrolled_never(&RECORD_OWNER).iter().position(|owner| {
        owner
            .compare_exchange(0, slot + 1, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    });
    let counters = match free {
        Some(record) => {
            RECORD[record].reset();
            RECORD_OF_SLOT[slot].store(record as u16 + 1, Ordering::Release);
            &RECORD[record]
        }
        None => {
            RECORD_OF_SLOT[slot].store(0, Ordering::Release);
            &PROCESS
        }
    };
    counters.count(Sum::Contexts, 1);
    counters.raise(Max::RingSize, asked.max(0) as u64);
    counters.raise(Max::RingSlots, u64::from(ring_slots));
}

/// The context in `slot` was destroyed: its report, then its counters go
/// into the process total.
#[cold]
pub fn context_destroyed(slot: usize, ctx: usize) {
    let record = RECORD_OF_SLOT[slot].swap(0, Ordering::AcqRel);
    if record == 0 {
        return;
    }
    let counters = &RECORD[record as usize - 1];
    emit(counters, Some(ctx));
    PROCESS.add(counters);
    RECORD_OWNER[record as usize - 1].store(0, Ordering::Release);
}

/// In a forked child: the parent's counts are not the child's.
pub fn forget_all() {
    PROCESS.reset();
    unrolled_never(&RECORD_OWNER)
        .iter()
        .for_each(|owner| owner.store(0, Ordering::Relaxed));
    unrolled_never(&RECORD_OF_SLOT)
        .iter()
        .for_each(|record| record.store(0, Ordering::Relaxed));
}

/// An `io_submit` of `nr` iocbs at `iocbpp` on `ctx` (slot `slot` if ours)
/// returned `result` after `ns` nanoseconds.
#[cold]
pub fn submitted(
    slot: Option<usize>,
    nr: c_long,
    iocbpp: usize,
    result: Result<c_int, Errno>,
    ns: u64,
) {
    let counters = counters_of(slot);
    counters.count(Sum::SubmitCalls, 1);
    counters.count_submit_time(ns);
    let accepted = match result {
        Ok(accepted) => accepted as usize,
        Err(Errno(libc::EAGAIN)) => {
            counters.count(Sum::RingFull, 1);
            0
        }
        Err(_) => {
            counters.count(Sum::SubmitErrors, 1);
            0
        }
    };
    if result.is_ok() && (accepted as c_long) < nr {
        counters.count(Sum::PartialSubmits, 1);
    }
    // The kernel read the accepted iocbs, so they are readable; they stay
    // the caller's until their completions are reaped.
    let first = (accepted > 0 && plausible(iocbpp, accepted * size_of::<usize>())).then(|| {
        // SAFETY: see above; the array holds `accepted` iocb pointers.
        let iocbs = unsafe { core::slice::from_raw_parts(iocbpp as *const *const iocb, accepted) };
        for &cb in iocbs {
            // SAFETY: accepted by the kernel, so readable.
            counters.count_opcode(unsafe { (*cb).aio_lio_opcode });
        }
        // SAFETY: as above.
        unsafe { *iocbs[0] }
    });
    counters.count(Sum::Ios, accepted as u64);
    counters.started(accepted as u64);
    // Only a call that already took long enough to be slow pays a syscall.
    let o_direct = (ns >= SLOW_SUBMIT_NS.load(Ordering::Relaxed)).then(|| {
        counters.count(Sum::SlowSubmits, 1);
        let o_direct = first.and_then(|cb| opened_with_o_direct(cb.aio_fildes));
        if o_direct == Some(false) {
            counters.count(Sum::SlowBufferedSubmits, 1);
        }
        o_direct
    });
    if let Some(cb) = first {
        counters.note_slowest(ns, &cb, accepted, o_direct.flatten());
    }
}

/// Whether `fd` was opened with O_DIRECT, if it can be told.
fn opened_with_o_direct(fd: c_int) -> Option<bool> {
    sys::fcntl_getfl(fd)
        .ok()
        .map(|flags| flags & libc::O_DIRECT != 0)
}

/// `events` were reaped from the ring in user space, in one call.
#[cold]
pub fn reaped_from_ring(slot: Option<usize>, events: &[io_event]) {
    let counters = counters_of(slot);
    counters.count(Sum::ReapCallsFromRing, 1);
    counters.count(Sum::ReapedFromRing, events.len() as u64);
    counters.finished(events);
}

/// A reaping syscall returned `result`, with the events at `events`; it
/// began at `start` if it could wait.
#[cold]
pub fn reaped_by_syscall(
    slot: Option<usize>,
    events: usize,
    result: Result<c_int, Errno>,
    start: Option<u64>,
) {
    let counters = counters_of(slot);
    counters.count(Sum::ReapSyscalls, 1);
    if let Some(start) = start {
        counters.count(Sum::Waits, 1);
        counters.count(Sum::WaitNs, now().saturating_sub(start));
    }
    if let Ok(count @ 1..) = result {
        counters.count(Sum::ReapedBySyscall, count as u64);
        // SAFETY: the kernel just wrote `count` events there.
        let events =
            unsafe { core::slice::from_raw_parts(events as *const io_event, count as usize) };
        counters.finished(events);
    }
}

/// The text report goes to stderr, the JSON line to its file. One buffer
/// serves for all: a signal handler's stack may be small.
fn emit(counters: &Counters, ctx: Option<usize>) {
    let pid = sys::getpid();
    let slow_us = SLOW_SUBMIT_NS.load(Ordering::Relaxed) / 1000;
    let mut report = Text::new();
    if TEXT.load(Ordering::Relaxed) {
        render::text(&mut report, counters, ctx, pid, slow_us);
        report.write_to(libc::STDERR_FILENO);
    }
    // SAFETY: see JsonPath.
    let path = unsafe { &*JSON_PATH.0.get() };
    if path[0] != 0 {
        // The file's name first, `%p` replaced by the pid, NUL-terminated;
        // then the line.
        report.clear();
        let mut bytes = path
            .iter()
            .copied()
            .take_while(|&byte| byte != 0)
            .peekable();
        while let Some(byte) = bytes.next() {
            if byte == b'%' && bytes.next_if_eq(&b'p').is_some() {
                report.push_u64(pid);
            } else {
                report.push_byte(byte);
            }
        }
        let name_len = report.push_byte(0).as_bytes().len();
        render::json(&mut report, counters, ctx, pid, slow_us);
        let (name, line) = report.as_bytes().split_at(name_len);
        append_to_file(name, line);
    }
}

/// At exit: the process total, with the contexts still alive.
extern "C" fn report_process() {
    let total = Counters::new();
    total.add(&PROCESS);
    for (record, owner) in unrolled_never(&RECORD).iter().zip(&RECORD_OWNER) {
        if owner.load(Ordering::Acquire) != 0 {
            total.add(record);
        }
    }
    emit(&total, None);
}
