//! The reports as text for people and as one JSON object for programs. Both
//! are one walk over the same values, named by their JSON keys: the text
//! shows `key=value` in a few labelled lines, wrapped for a terminal, so that
//! what a person reads is what a program parses (README documents each key).
//! The text puts the diagnosis first and draws the histogram as bars. The
//! library's size matters more here than this code's speed.

use super::counters::{Counters, Max, Slowest, Sum, OPCODES, OPCODE_NAMES};
use crate::text::Text;
use core::sync::atomic::Ordering;

/// The counters' numbers by their JSON keys, in `values`' order, and
/// before them the labels of the text's lines (ending with `:`).
const KEYS: &str = "io_setup: contexts ring_size ring_slots \
io_submit: submit_calls ios partial_submits ring_full submit_errors \
time: submit_us_total submit_us_p50 submit_us_p99 slow_submit_us slow_submits \
slow_submits_without_o_direct slowest_submit_us slowest_submit_bytes slowest_submit_ios \
slowest_submit_fd slowest_submit_opcode \
completions: reaped_from_ring reaped_by_syscall reap_calls_from_ring reap_syscalls waits wait_us \
in_flight: max_in_flight";
const VALUES: usize = 26;

/// The numbers of an `io_setup` refused with EAGAIN (see `Subject`).
const REFUSAL_KEYS: &str = "io_setup: nr_events aio_nr aio_max_nr held_contexts held_events";
pub const REFUSAL_VALUES: usize = 5;

/// The text's lines are at most this long; a longer one continues on the
/// next, indented by `CONTINUED`.
const WIDTH: usize = 99;
const CONTINUED: usize = 4;
/// The histogram's bars start at this column; one of all the calls would
/// be this long (a `#` for each 2%).
const BAR_COLUMN: usize = 26;
const BAR_WIDTH: u64 = 50;

/// The counters' values, in `KEYS`' order.
#[inline(never)]
fn values(c: &Counters, slow_us: u64) -> [i64; VALUES] {
    let known = c.slowest(Slowest::Ns) > 0;
    [
        c.get(Sum::Contexts) as i64,
        c.max(Max::RingSize) as i64,
        c.max(Max::RingSlots) as i64,
        c.get(Sum::SubmitCalls) as i64,
        c.get(Sum::Ios) as i64,
        c.get(Sum::PartialSubmits) as i64,
        c.get(Sum::RingFull) as i64,
        c.get(Sum::SubmitErrors) as i64,
        (c.get(Sum::SubmitNs) / 1000) as i64,
        c.submit_quantile_us(50) as i64,
        c.submit_quantile_us(99) as i64,
        slow_us as i64,
        c.get(Sum::SlowSubmits) as i64,
        c.get(Sum::SlowBufferedSubmits) as i64,
        (c.slowest(Slowest::Ns) / 1000) as i64,
        c.slowest(Slowest::Bytes) as i64,
        c.slowest(Slowest::Ios) as i64,
        if known {
            c.slowest(Slowest::Fd) as i32 as i64
        } else {
            -1
        },
        if known {
            c.slowest(Slowest::Opcode) as i16 as i64
        } else {
            -1
        },
        c.get(Sum::ReapedFromRing) as i64,
        c.get(Sum::ReapedBySyscall) as i64,
        c.get(Sum::ReapCallsFromRing) as i64,
        c.get(Sum::ReapSyscalls) as i64,
        c.get(Sum::Waits) as i64,
        (c.get(Sum::WaitNs) / 1000) as i64,
        c.max(Max::InFlight) as i64,
    ]
}

/// The names of the errnos that I/O results carry, by number, each ending
/// with a space; others print as `errno_N`.
const ERRNO_NAMES: &str =
    "EPERM ENOENT ESRCH EINTR EIO ENXIO E2BIG ENOEXEC EBADF ECHILD EAGAIN ENOMEM \
EACCES EFAULT ENOTBLK EBUSY EEXIST EXDEV ENODEV ENOTDIR EISDIR EINVAL ENFILE EMFILE ENOTTY ETXTBSY \
EFBIG ENOSPC ESPIPE EROFS ";

/// The `index`th item of `list`, whose items each end with `end` (empty
/// past the last). A plain loop: `str::split` would bring in a searcher
/// bigger than all of this.
#[inline(never)]
fn item(list: &str, end: u8, index: usize) -> &str {
    let (mut start, mut seen) = (0, 0);
    for (at, &byte) in list.as_bytes().iter().enumerate() {
        if byte == end {
            if seen == index {
                return list.get(start..at).unwrap_or("");
            }
            seen += 1;
            start = at + 1;
        }
    }
    ""
}

/// The `index`th space-ended word of `list`.
fn word(list: &str, index: usize) -> &str {
    item(list, b' ', index)
}

/// The counters' diagnoses, one a line, in the order `report` decides
/// them: what went wrong, then what to do.
const DIAGNOSES: &str = "io_submit blocked (slow_submits): the device saw fewer I/Os at once than the program queued.
Most slow calls were on files not opened with O_DIRECT, whose I/O io_submit does itself, through the page cache: open the files with O_DIRECT.
Their files were opened with O_DIRECT: look at the device's queue depth (nr_requests) and at the filesystem (allocating writes, metadata).
io_submit found the ring full (ring_full, -EAGAIN): reap completions sooner, or ask io_setup for more events.
io_submit queued fewer I/Os than it was given (partial_submits): submit the rest again.
";

/// A refusal's diagnoses, one a line, in the order `report` decides them.
/// The kernel answers EAGAIN when nr_events alone is over aio-max-nr, when
/// aio-nr (the events of every context in the system) plus nr_events would
/// be, and on older kernels when it cannot allocate or map the ring.
const REFUSALS: &str = "nr_events alone is over aio-max-nr.
aio-nr + nr_events is over aio-max-nr: of aio-nr, held_events are this process's; aiostat shows who holds the rest.
/proc/sys/fs/aio-nr or aio-max-nr could not be read.
Use fewer or smaller contexts, or raise the limit: sysctl fs.aio-max-nr.
Not the limit, unless contexts ended since: older kernels also say EAGAIN when short of memory.
";

/// Indices of the values that the diagnosis reads, or that a list follows
/// (see `KEYS`).
const SUBMIT_CALLS: usize = 3;
const PARTIAL_SUBMITS: usize = 5;
const RING_FULL: usize = 6;
const SUBMIT_ERRORS: usize = 7;
const SLOW_SUBMITS: usize = 12;
const SLOW_SUBMITS_WITHOUT_O_DIRECT: usize = 13;
const SLOWEST_SUBMIT_OPCODE: usize = 18;
const WAIT_US: usize = 24;

struct Writer<'a> {
    out: &'a mut Text,
    json: bool,
}

impl Writer<'_> {
    /// Starts one entry of a list: ` ` before its name (`"` in JSON, or
    /// `,"` after the first).
    #[inline(never)]
    fn entry_start(&mut self, first: bool) {
        self.out.push(match (self.json, first) {
            (true, true) => "\"",
            (true, false) => ",\"",
            (false, _) => " ",
        });
    }

    /// Ends an entry whose name was written: `=count` (`":count`).
    #[inline(never)]
    fn entry_end(&mut self, count: i64) {
        self.out
            .push(if self.json { "\":" } else { "=" })
            .push_i64(count);
    }

    #[inline(never)]
    fn entry(&mut self, first: bool, name: &str, count: i64) {
        self.entry_start(first);
        self.out.push(name);
        self.entry_end(count);
    }

    /// Starts the list `name`: on a line of its own in the text
    /// (`,"name":` and `open` in JSON).
    #[inline(never)]
    fn list_start(&mut self, name: &str, open: &str) {
        match self.json {
            true => self.out.push(",\"").push(name).push("\":").push(open),
            false => self.out.push("\n    ").push(name).push(":"),
        };
    }

    fn list_end(&mut self, close: &str) {
        if self.json {
            self.out.push(close);
        }
    }

    /// The `values` by their `keys`, in the text on the lines that the
    /// labels among the keys begin; after some of the counters' values,
    /// their lists.
    #[inline(never)]
    fn numbers(&mut self, keys: &str, values: &[i64], counters: Option<&Counters>) {
        let mut index = 0;
        for key in keys.as_bytes().split(|&byte| byte == b' ') {
            if key.ends_with(b":") {
                if !self.json {
                    self.out.push("\n  ").push_bytes(key);
                }
                continue;
            }
            self.entry_start(index == 0);
            self.out.push_bytes(key);
            self.entry_end(values[index]);
            if let Some(c) = counters {
                self.lists_after(index, c);
            }
            index += 1;
        }
    }

    /// The lists that follow the counters' value `index`.
    fn lists_after(&mut self, index: usize, c: &Counters) {
        match index {
            SUBMIT_ERRORS => {
                self.list_start("ios_by_opcode", "{");
                let mut first = true;
                for opcode in (0..OPCODES).filter(|&opcode| c.ios_of_opcode(opcode) > 0) {
                    self.entry(
                        first,
                        word(OPCODE_NAMES, opcode),
                        c.ios_of_opcode(opcode) as i64,
                    );
                    first = false;
                }
                self.list_end("}");
            }
            SLOWEST_SUBMIT_OPCODE => {
                let o_direct = c.slowest(Slowest::ODirect).min(2) as usize;
                self.entry_start(false);
                let (between, answers) = match self.json {
                    true => ("\":", "null false true "),
                    false => ("=", "unknown no yes "),
                };
                self.out.push("slowest_submit_o_direct").push(between);
                self.out.push(word(answers, o_direct));
                self.list_start("submit_us_histogram", "[");
                self.histogram(c);
                self.list_end("]");
            }
            WAIT_US => {
                self.list_start("res_errors", "{");
                let mut first = true;
                for (errno, count) in c.errors() {
                    self.entry_start(first);
                    match word(ERRNO_NAMES, errno as usize - 1) {
                        "" => self.out.push("errno_").push_u64(u64::from(errno)),
                        name => self.out.push(name),
                    };
                    self.entry_end(count as i64);
                    first = false;
                }
                if c.get(Sum::OtherErrnos) > 0 {
                    self.entry(first, "others", c.get(Sum::OtherErrnos) as i64);
                }
                self.list_end("}");
            }
            _ => {}
        }
    }

    /// The non-empty buckets: `[bound,calls]` in JSON; in the text one a
    /// line, `<bound=calls` and a bar as long as the bucket's share of the
    /// calls.
    fn histogram(&mut self, c: &Counters) {
        let all = c.get(Sum::SubmitCalls).max(1);
        let mut start = "[";
        for (bucket, calls) in c.histogram().iter().enumerate() {
            let calls = calls.load(Ordering::Relaxed);
            if calls == 0 {
                continue;
            }
            let json = self.json;
            let line = self.out.as_bytes().len() + 1;
            self.out.push(if json { start } else { "\n      <" });
            self.out.push_u64(1 << bucket);
            self.out.push(if json { "," } else { "=" }).push_u64(calls);
            if json {
                self.out.push("]");
            } else {
                self.out.push(" ");
                for _ in self.out.as_bytes().len()..line + BAR_COLUMN {
                    self.out.push(" ");
                }
                for _ in 0..(calls * BAR_WIDTH).div_ceil(all) {
                    self.out.push("#");
                }
            }
            start = ",[";
        }
    }

    /// The items of `sentences` that apply: in JSON the string
    /// `diagnosis` (empty when none does), in the text a `diagnosis:` line
    /// when one does.
    #[inline(never)]
    fn diagnosis(&mut self, sentences: &str, applies: &[bool]) {
        let json = self.json;
        // What comes before the first sentence, and between sentences.
        let mut before = if json { "" } else { "\n  diagnosis: " };
        if json {
            self.out.push(",\"diagnosis\":\"");
        }
        for (index, &applies) in applies.iter().enumerate() {
            if applies {
                self.out.push(before).push(item(sentences, b'\n', index));
                before = " ";
            }
        }
        if json {
            self.out.push("\"");
        }
    }
}

/// What a report is about.
pub enum Subject<'a> {
    /// The counters of a context (its id) or of the process (`None`), with
    /// the threshold of a slow call in µs.
    Counters(&'a Counters, Option<usize>, u64),
    /// An `io_setup` that the kernel refused with EAGAIN: its numbers
    /// (`REFUSAL_KEYS`; -1 for one that could not be read).
    Refusal([i64; REFUSAL_VALUES]),
}

/// A report, as text or as one JSON object (see README for the keys).
#[inline(never)]
pub fn report(out: &mut Text, subject: &Subject, pid: u64, json: bool) {
    let mut w = Writer { out, json };
    let mut values = [0; VALUES];
    let (scope, ctx, keys, sentences, applies, counters) = match *subject {
        Subject::Counters(c, ctx, slow_us) => {
            values = self::values(c, slow_us);
            let (calls, slow) = (values[SUBMIT_CALLS], values[SLOW_SUBMITS]);
            let blocked = slow > 0 && slow * 10 >= calls;
            let buffered = values[SLOW_SUBMITS_WITHOUT_O_DIRECT] * 2 > slow;
            let applies = [
                blocked,
                blocked && buffered,
                blocked && !buffered,
                values[RING_FULL] > 0,
                values[PARTIAL_SUBMITS] > 0,
            ];
            if ctx.is_none() && !json {
                // The line that LIBAIO_RS_STATS printed before the report had more.
                w.out
                    .push("libaio-rs: ")
                    .push_u64(c.get(Sum::ReapCallsFromRing));
                w.out
                    .push(" reaping calls served from the ring without a syscall, ");
                w.out
                    .push_u64(c.get(Sum::ReapSyscalls))
                    .push(" reaping syscalls\n");
            }
            let scope = if ctx.is_some() { "context" } else { "process" };
            (scope, ctx, KEYS, DIAGNOSES, applies, Some(c))
        }
        Subject::Refusal(refused) => {
            values[..REFUSAL_VALUES].copy_from_slice(&refused);
            let [nr_events, aio_nr, aio_max_nr, ..] = refused;
            let known = aio_nr >= 0 && aio_max_nr >= 0;
            let alone = known && nr_events > aio_max_nr;
            let within = known && aio_nr + nr_events <= aio_max_nr;
            let applies = [alone, known && !alone && !within, !known, !within, within];
            ("io_setup", None, REFUSAL_KEYS, REFUSALS, applies, None)
        }
    };
    if json {
        w.out.push("{\"scope\":\"").push(scope);
        w.out.push("\",\"pid\":").push_u64(pid);
        if let Some(ctx) = ctx {
            w.out.push(",\"ctx\":\"").push_hex(ctx).push("\"");
        }
        w.out.push(",");
        w.numbers(keys, &values, counters);
        w.diagnosis(sentences, &applies);
        w.out.push("}");
    } else {
        w.out.push("libaio-rs: ").push(scope);
        if let Some(ctx) = ctx {
            w.out.push(" ").push_hex(ctx);
        }
        w.out.push(" of pid ").push_u64(pid);
        if counters.is_none() {
            w.out.push(" failed with EAGAIN");
        }
        w.out.push(":");
        w.diagnosis(sentences, &applies);
        w.numbers(keys, &values, counters);
    }
    w.out.push("\n");
    if !json {
        w.out.wrap(WIDTH, CONTINUED);
    }
}
