//! The report: whether a program's AIO really was asynchronous. Per context
//! (printed when it is destroyed, so that forked fio jobs that `_exit` are
//! covered) and per process (at `exit()`): submissions, the time spent
//! inside `io_submit`, completions from the ring and from the syscall,
//! errors in `res`, the most I/Os in flight, and a diagnosis. And when the
//! kernel refuses an `io_setup` with EAGAIN, why (`setup_failed`).
//!
//! Off (the default) it costs the hot paths one relaxed load and a branch.
//! On, it adds two `CLOCK_MONOTONIC` reads (vDSO) per `io_submit` and per
//! reap that may wait, relaxed atomic adds, and after an `io_submit` that
//! took longer than the threshold an `fcntl(F_GETFL)` of its file (to tell
//! whether it was opened with O_DIRECT). It writes its reports with
//! `write`, and `open`/`close` for the JSON file; an `io_setup` refused with
//! EAGAIN reads two files of /proc/sys/fs first (`open`, `read`, `close`).
//! Nothing is allocated: the counters live in static storage.
//!
//! - `LIBAIO_RS_STATS=1`: the reports as text on stderr.
//! - `LIBAIO_RS_STATS_JSON=PATH`: one JSON object per line appended to PATH
//!   (`%p` stands for the pid).
//! - `LIBAIO_RS_SLOW_SUBMIT_US=N`: an `io_submit` slower than N µs counts as
//!   slow (default [`DEFAULT_SLOW_SUBMIT_US`]).

mod counters;
mod render;

use counters::{Counters, Max, Sum};
use render::Subject;

use crate::abi::{io_event, iocb};
use crate::switches;
use crate::sys::{self, plausible, Errno};
use crate::text::{append_to_file, Text};
use core::ffi::{c_int, c_long, CStr};
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

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

/// Reads the report's switches (once, from `runtime::init`).
pub fn init() {
    let text = switches::env_flag(c"LIBAIO_RS_STATS");
    let json = switches::env_value(c"LIBAIO_RS_STATS_JSON")
        .filter(|path| !path.is_empty() && path.len() < 512);
    if let Some(path) = json {
        // SAFETY: see JsonPath: nothing reads it before ON is set below.
        unsafe { (&mut *JSON_PATH.0.get())[..path.len()].copy_from_slice(path) };
    }
    if let Some(micros) = switches::env_value(c"LIBAIO_RS_SLOW_SUBMIT_US").and_then(parse_u64) {
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
/// that finds it empty counts in the process total only. A context's record
/// is its index here plus one, kept in its table slot; 0 is none.
const RECORDS: usize = 256;
static RECORD_TAKEN: [AtomicBool; RECORDS] = [const { AtomicBool::new(false) }; RECORDS];
static RECORD: [Counters; RECORDS] = [const { Counters::new() }; RECORDS];
/// The counters of destroyed contexts, and what had no context of ours.
static PROCESS: Counters = Counters::new();
/// This process's live contexts, and the events that those of them with a
/// record asked for: what it holds of the system's AIO events.
static LIVE_CONTEXTS: AtomicU64 = AtomicU64::new(0);
static LIVE_EVENTS: AtomicU64 = AtomicU64::new(0);

/// The counters that the context with report record `record` counts in.
fn counters_of(record: u16) -> &'static Counters {
    match record {
        0 => &PROCESS,
        record => &RECORD[record as usize - 1],
    }
}

/// A context of ours was created: it asked for `asked` events, and got a
/// ring of `ring_slots`. Returns its record.
#[cold]
pub fn context_created(asked: c_int, ring_slots: u32) -> u16 {
    let free = RECORD_TAKEN.iter().position(|taken| {
        taken
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    });
    let asked = asked.max(0) as u64;
    let record = match free {
        Some(index) => {
            RECORD[index].reset();
            LIVE_EVENTS.fetch_add(asked, Ordering::Relaxed);
            index as u16 + 1
        }
        None => 0,
    };
    LIVE_CONTEXTS.fetch_add(1, Ordering::Relaxed);
    let counters = counters_of(record);
    counters.count(Sum::Contexts, 1);
    counters.raise(Max::RingSize, asked);
    counters.raise(Max::RingSlots, u64::from(ring_slots));
    record
}

/// The context `ctx`, whose record was `record`, was destroyed: its report,
/// then its counters go into the process total.
#[cold]
pub fn context_destroyed(record: u16, ctx: usize) {
    LIVE_CONTEXTS.fetch_sub(1, Ordering::Relaxed);
    if record == 0 {
        return;
    }
    let counters = counters_of(record);
    LIVE_EVENTS.fetch_sub(counters.max(Max::RingSize), Ordering::Relaxed);
    emit(&Subject::Counters(counters, Some(ctx), slow_submit_us()));
    PROCESS.add(counters);
    RECORD_TAKEN[record as usize - 1].store(false, Ordering::Release);
}

/// In a forked child: the parent's counts are not the child's.
pub fn forget_all() {
    PROCESS.reset();
    LIVE_CONTEXTS.store(0, Ordering::Relaxed);
    LIVE_EVENTS.store(0, Ordering::Relaxed);
    RECORD_TAKEN
        .iter()
        .for_each(|taken| taken.store(false, Ordering::Relaxed));
}

/// An `io_submit` of `nr` iocbs at `iocbpp` on the context with report
/// record `record` returned `result` after `ns` nanoseconds.
#[cold]
pub fn submitted(record: u16, nr: c_long, iocbpp: usize, result: Result<c_int, Errno>, ns: u64) {
    let counters = counters_of(record);
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
pub fn reaped_from_ring(record: u16, events: &[io_event]) {
    let counters = counters_of(record);
    counters.count(Sum::ReapCallsFromRing, 1);
    counters.count(Sum::ReapedFromRing, events.len() as u64);
    counters.finished(events);
}

/// A reaping syscall returned `result`, with the events at `events`; it
/// began at `start` if it could wait.
#[cold]
pub fn reaped_by_syscall(
    record: u16,
    events: usize,
    result: Result<c_int, Errno>,
    start: Option<u64>,
) {
    let counters = counters_of(record);
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

/// `io_setup(nr_events)` failed with `errno`. An EAGAIN is explained, with
/// the report on: the request, the system's AIO events in use and their
/// limit (/proc/sys/fs/aio-nr and aio-max-nr, read now; -1 if they cannot
/// be), and what this process holds (`LIVE_CONTEXTS`, `LIVE_EVENTS`).
#[cold]
pub fn setup_failed(nr_events: c_int, errno: Errno) {
    if errno != Errno(libc::EAGAIN) || !on() {
        return;
    }
    emit(&Subject::Refusal([
        // The kernel's nr_events is unsigned.
        nr_events as u32 as i64,
        proc_number(c"/proc/sys/fs/aio-nr"),
        proc_number(c"/proc/sys/fs/aio-max-nr"),
        LIVE_CONTEXTS.load(Ordering::Relaxed) as i64,
        LIVE_EVENTS.load(Ordering::Relaxed) as i64,
    ]));
}

/// The number in the file at `path`, or -1 if it cannot be read.
#[inline(never)]
fn proc_number(path: &CStr) -> i64 {
    let mut digits = [0; 24];
    if let Ok(fd) = sys::open_for_read(path.to_bytes_with_nul()) {
        let _ = sys::read(fd, &mut digits);
        sys::close(fd);
    }
    // The number, then a newline; a file not read leaves no digit.
    let mut number = -1;
    for &digit in &digits {
        if !digit.is_ascii_digit() {
            break;
        }
        number = number.max(0) * 10 + i64::from(digit - b'0');
    }
    number
}

/// The threshold of a slow `io_submit`, in µs.
fn slow_submit_us() -> u64 {
    SLOW_SUBMIT_NS.load(Ordering::Relaxed) / 1000
}

/// A report: the text goes to stderr, the JSON line to its file. One buffer
/// serves for all: a signal handler's stack may be small.
#[inline(never)]
fn emit(subject: &Subject) {
    let pid = sys::getpid();
    let mut report = Text::new();
    if TEXT.load(Ordering::Relaxed) {
        render::report(&mut report, subject, pid, false);
        report.write_to(libc::STDERR_FILENO);
    }
    // SAFETY: see JsonPath.
    let path = unsafe { &*JSON_PATH.0.get() };
    if path[0] != 0 {
        // The file's name first, `%p` replaced by the pid, NUL-terminated;
        // then the line.
        report.clear();
        let mut bytes = path.iter();
        while let Some(&byte @ 1..) = bytes.next() {
            if byte == b'%' && bytes.as_slice().first() == Some(&b'p') {
                bytes.next();
                report.push_u64(pid);
            } else {
                report.push_byte(byte);
            }
        }
        let name_len = report.push_byte(0).as_bytes().len();
        render::report(&mut report, subject, pid, true);
        let (name, line) = report.as_bytes().split_at(name_len);
        append_to_file(name, line);
    }
}

/// At exit: the process total, with the contexts still alive.
extern "C" fn report_process() {
    let total = Counters::new();
    total.add(&PROCESS);
    for (record, taken) in RECORD.iter().zip(&RECORD_TAKEN) {
        if taken.load(Ordering::Acquire) {
            total.add(record);
        }
    }
    emit(&Subject::Counters(&total, None, slow_submit_us()));
}
