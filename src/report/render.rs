//! The report as text for people and as one JSON object for programs. Both
//! are one walk over the same values, named by their JSON keys: the text
//! shows `key=value` in a few labelled lines, so that what a person reads
//! is what a program parses (README documents each key). The library's
//! size matters more here than this code's speed.

use super::counters::{Counters, Max, Slowest, Sum, BUCKETS, OPCODES, OPCODE_NAMES};
use crate::text::Text;

/// The report's numbers by their JSON keys, in `values`' order, each
/// ending with a space.
const KEYS: &str = "contexts ring_size ring_slots \
submit_calls ios partial_submits ring_full submit_errors \
submit_us_total submit_us_p50 submit_us_p99 slow_submit_us slow_submits slow_submits_without_o_direct \
slowest_submit_us slowest_submit_bytes slowest_submit_ios slowest_submit_fd slowest_submit_opcode \
reaped_from_ring reaped_by_syscall reap_calls_from_ring reap_syscalls waits wait_us \
max_in_flight ";
const VALUES: usize = 26;

/// The text's lines after the first: their labels, each before the value
/// whose index `LINE_STARTS` gives.
const LINE_LABELS: &str = "io_submit time completions in_flight ";
const LINE_STARTS: [u8; 4] = [3, 8, 19, 25];

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

/// The diagnoses, one a line, in the order `diagnosis` decides them: what
/// went wrong, then what to do.
const DIAGNOSES: &str = "io_submit blocked (slow_submits): the device saw fewer I/Os at once than the program queued.
Most slow calls were on files not opened with O_DIRECT, whose I/O io_submit does itself, through the page cache: open the files with O_DIRECT.
Their files were opened with O_DIRECT: look at the device's queue depth (nr_requests) and at the filesystem (allocating writes, metadata).
io_submit found the ring full (ring_full, -EAGAIN): reap completions sooner, or ask io_setup for more events.
io_submit queued fewer I/Os than it was given (partial_submits): submit the rest again.
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
    counters: &'a Counters,
    values: [i64; VALUES],
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

    /// Starts the list `name`: ` name:` (`,"name":` and `open` in JSON).
    #[inline(never)]
    fn list_start(&mut self, name: &str, open: &str) {
        match self.json {
            true => self.out.push(",\"").push(name).push("\":").push(open),
            false => self.out.push(" ").push(name).push(":"),
        };
    }

    #[inline(never)]
    fn list_end(&mut self, close: &str) {
        if self.json {
            self.out.push(close);
        }
    }

    #[inline(never)]
    fn numbers_and_lists(&mut self) {
        let c = self.counters;
        for index in 0..VALUES {
            let key = word(KEYS, index);
            if let Some(line) = LINE_STARTS
                .iter()
                .position(|&start| usize::from(start) == index)
            {
                if !self.json {
                    self.out
                        .push("\n  ")
                        .push(word(LINE_LABELS, line))
                        .push(":");
                }
            }
            self.entry(index == 0, key, self.values[index]);
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
                    self.out.push("slowest_submit_o_direct").push(if self.json {
                        "\":"
                    } else {
                        "="
                    });
                    let answers = if self.json {
                        "null false true "
                    } else {
                        "unknown no yes "
                    };
                    self.out.push(word(answers, o_direct));
                    self.list_start("submit_us_histogram", "[");
                    let mut first = true;
                    for bucket in (0..BUCKETS).filter(|&bucket| c.calls_in_bucket(bucket) > 0) {
                        match self.json {
                            true => self
                                .out
                                .push(if first { "[" } else { ",[" })
                                .push_u64(1 << bucket)
                                .push(","),
                            false => self.out.push(" <").push_u64(1 << bucket).push("="),
                        };
                        self.out
                            .push_u64(c.calls_in_bucket(bucket))
                            .push(if self.json { "]" } else { "" });
                        first = false;
                    }
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
    }

    /// The diagnosis: sentences that say what went wrong and what to do
    /// (in JSON one string, empty when all went well).
    #[inline(never)]
    fn diagnosis(&mut self) {
        let value = |index: usize| self.values[index];
        let (calls, slow) = (value(SUBMIT_CALLS), value(SLOW_SUBMITS));
        let blocked = slow > 0 && slow * 10 >= calls;
        let buffered = value(SLOW_SUBMITS_WITHOUT_O_DIRECT) * 2 > slow;
        let applies = [
            blocked,
            blocked && buffered,
            blocked && !buffered,
            value(RING_FULL) > 0,
            value(PARTIAL_SUBMITS) > 0,
        ];
        if self.json {
            self.out.push(",\"diagnosis\":\"");
        } else if applies.contains(&true) {
            self.out.push("\n  diagnosis:");
        }
        let mut first = true;
        for (index, _) in applies.iter().enumerate().filter(|(_, applies)| **applies) {
            self.out.push(if self.json && first { "" } else { " " });
            self.out.push(item(DIAGNOSES, b'\n', index));
            first = false;
        }
        if self.json {
            self.out.push("\"");
        }
    }
}

/// The report for people: a few lines on stderr.
#[inline(never)]
pub fn text(out: &mut Text, c: &Counters, ctx: Option<usize>, pid: u64, slow_us: u64) {
    let mut w = Writer {
        out,
        counters: c,
        values: values(c, slow_us),
        json: false,
    };
    match ctx {
        Some(ctx) => {
            w.out
                .push("libaio-rs: context ")
                .push_hex(ctx)
                .push(" of pid ")
                .push_u64(pid)
                .push(":");
        }
        None => {
            // The line that LIBAIO_RS_STATS printed before the report had more.
            w.out
                .push("libaio-rs: ")
                .push_u64(c.get(Sum::ReapCallsFromRing));
            w.out
                .push(" reaping calls served from the ring without a syscall, ");
            w.out
                .push_u64(c.get(Sum::ReapSyscalls))
                .push(" reaping syscalls\n");
            w.out.push("libaio-rs: process ").push_u64(pid).push(":");
        }
    }
    w.numbers_and_lists();
    w.diagnosis();
    w.out.push("\n");
}

/// The report for programs: one JSON object (see README for the keys).
#[inline(never)]
pub fn json(out: &mut Text, c: &Counters, ctx: Option<usize>, pid: u64, slow_us: u64) {
    let mut w = Writer {
        out,
        counters: c,
        values: values(c, slow_us),
        json: true,
    };
    w.out.push("{\"scope\":").push(if ctx.is_some() {
        "\"context\""
    } else {
        "\"process\""
    });
    w.out.push(",\"pid\":").push_u64(pid);
    if let Some(ctx) = ctx {
        w.out.push(",\"ctx\":\"").push_hex(ctx).push("\"");
    }
    w.out.push(",");
    w.numbers_and_lists();
    w.diagnosis();
    w.out.push("}\n");
}
