//! Differential test: generated call sequences run through upstream's
//! libaio.so.1 and through ours, each on its own context, iocbs, files and
//! buffers. Every return value is compared, every event (res, res2, data, and
//! obj as an index into the side's own iocb array), every `io_queue_run`
//! callback, what lands in files and buffers, and errno is checked untouched.
//!
//! Where upstream is not the judge (it crashes, or its empty-ring shortcut
//! answers 0 without asking the kernel) ours is compared with the raw syscall
//! instead; see [`UpstreamPath`]. `upstream_crashes_where_ours_answers` shows
//! each crash in a forked child.
//!
//! Sequences run one after the other on the same pair of contexts (until
//! one is destroyed): io_destroy waits for an RCU grace period, so making a
//! context per sequence would cost seconds. `DIFFERENTIAL_SEQUENCES=n`
//! (default 4000) and `DIFFERENTIAL_SEED=s` change the run.

mod common;

use aio::abi::{io_event, io_iocb_common, iocb};
use aio::ring::RingHeader;
use common::{keeping_errno, kernel, ours, upstream, Callback, Ctx, Lib};
use core::ffi::{c_int, c_long, c_void};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::File;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::Ordering;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// iocbs per side: more than the largest ring generated here holds.
const POOL: usize = 1024;
/// Events buffer per side, also more than any ring holds.
const EVENTS: usize = 1024;
const BUFFERS: usize = 64;
const BUFFER_LEN: usize = 512;
/// Enough iovecs for the largest count generated (above UIO_MAXIOV).
const IOVECS: usize = 5000;
const IOVEC_LEN: usize = 4;
const FILE_LEN: i64 = 16384;
const RING_REQUESTS: [c_int; 5] = [1, 2, 8, 32, 128];
/// An address the kernel refuses as a user pointer (harness's KERNEL_RW_POINTER).
const KERNEL_POINTER: usize = 0xffff_ffff_8100_0000;
/// An address that can never be mapped: the first page.
const LOW_POINTER: usize = 8;
const CLOSED_FD: c_int = 9999;

const IOCB_CMD_PREAD: i16 = 0;
const IOCB_CMD_PWRITE: i16 = 1;
const IOCB_CMD_FSYNC: i16 = 2;
const IOCB_CMD_FDSYNC: i16 = 3;
const IOCB_CMD_POLL: i16 = 5;
const IOCB_CMD_PREADV: i16 = 7;
const IOCB_CMD_PWRITEV: i16 = 8;
const IOCB_FLAG_RESFD: u32 = 1;
const IOCB_FLAG_IOPRIO: u32 = 2;
const UNKNOWN_IOCB_FLAG: u32 = 1 << 2;
const IOPRIO_CLASS_SHIFT: i16 = 13;
const POLLIN: i16 = libc::POLLIN;
const POLLOUT: i16 = libc::POLLOUT;

// ---------------------------------------------------------------------------
// io_queue_run callbacks: they record what they were called with.

#[derive(Debug, PartialEq)]
struct CallbackRecord {
    callback: usize,
    ctx: Ctx,
    iocb: usize,
    res: c_long,
    res2: c_long,
}

thread_local! {
    static CALLED: RefCell<Vec<CallbackRecord>> = const { RefCell::new(Vec::new()) };
}

fn record(callback: usize, ctx: Ctx, iocb: *mut iocb, res: c_long, res2: c_long) {
    CALLED.with(|log| {
        log.borrow_mut().push(CallbackRecord {
            callback,
            ctx,
            iocb: iocb as usize,
            res,
            res2,
        })
    });
}

unsafe extern "C" fn first_callback(ctx: Ctx, iocb: *mut iocb, res: c_long, res2: c_long) {
    record(0, ctx, iocb, res, res2);
}

unsafe extern "C" fn second_callback(ctx: Ctx, iocb: *mut iocb, res: c_long, res2: c_long) {
    record(1, ctx, iocb, res, res2);
}

/// Every iocb carries one of these in `data`, so `io_queue_run` is always
/// safe to call, and `data` still tells requests apart.
const CALLBACKS: [Callback; 2] = [first_callback, second_callback];

// ---------------------------------------------------------------------------
// A deterministic generator (splitmix64).

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// True with probability 1/n.
    fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).map_or(default, |v| {
        v.parse().unwrap_or_else(|_| panic!("{name}={v}"))
    })
}

// ---------------------------------------------------------------------------
// What a sequence does, independent of the side that does it.

#[derive(Clone, Copy, Debug, PartialEq)]
enum Target {
    File,
    ReadOnlyFile,
    DevZero,
    /// An eventfd kept at 0 between operations: a POLLIN on it waits.
    PollFd,
    Fd(c_int),
}

#[derive(Clone, Copy, Debug)]
enum Body {
    Rw {
        offset: i64,
        len: usize,
        null_buf: bool,
    },
    Vector {
        offset: i64,
        count: usize,
    },
    Poll {
        events: i16,
        stray_len: bool,
    },
    Sync,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum ResFd {
    Off,
    Notify,
    Closed,
}

#[derive(Clone, Copy, Debug)]
struct IocbSpec {
    slot: usize,
    opcode: i16,
    target: Target,
    body: Body,
    pad3: i64,
    flags: u32,
    resfd: ResFd,
    rw_flags: u32,
    reqprio: i16,
    callback: usize,
}

impl IocbSpec {
    /// An accepted POLL that waits for the poll eventfd.
    fn waits(&self) -> bool {
        matches!(self.body, Body::Poll { events, .. } if events & POLLOUT == 0)
            && self.opcode == IOCB_CMD_POLL
            && self.target == Target::PollFd
    }
    /// Completes inside io_submit if accepted (so an eventfd notification
    /// has landed when io_submit returns).
    fn completes_in_submit(&self) -> bool {
        match self.opcode {
            IOCB_CMD_PREAD | IOCB_CMD_PWRITE | IOCB_CMD_PREADV | IOCB_CMD_PWRITEV => true,
            IOCB_CMD_POLL => !self.waits(),
            _ => false,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum CtxChoice {
    Main,
    Null,
    MinusOne,
    Unaligned,
    /// Readable memory that is no ring.
    NotARing,
}

#[derive(Clone, Copy, Debug)]
enum Array {
    Plain,
    Null,
    NullEntry(usize),
    KernelEntry(usize),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mask {
    Null,
    BlockUsr1,
    Unreadable,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Reaper {
    GetEvents,
    PGetEvents(Mask),
    GetEvents01,
    QueueWait,
    QueueWait01,
    QueueRun,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Timeout {
    Null,
    Zero,
    OneNs,
    Short,
    Unreadable,
}

/// One call of a reaping entry point.
#[derive(Clone, Copy, Debug)]
struct ReapCall {
    ctx: CtxChoice,
    reaper: Reaper,
    min_nr: c_long,
    nr: c_long,
    /// The side's events buffer, or NULL.
    events: bool,
    timeout: Timeout,
}

impl ReapCall {
    /// `min_nr` and `nr` of the io_getevents syscall this call stands for.
    fn counts(&self) -> (c_long, c_long) {
        match self.reaper {
            Reaper::GetEvents | Reaper::PGetEvents(_) => (self.min_nr, self.nr),
            Reaper::GetEvents01 => (1, self.nr),
            Reaper::QueueWait | Reaper::QueueWait01 => (0, 0),
            Reaper::QueueRun => (0, 1),
        }
    }
}

/// The raw arguments of a reaping call on one side.
struct ReapArgs {
    ctx: Ctx,
    events: *mut io_event,
    timeout: *mut libc::timespec,
    sigmask: *mut libc::sigset_t,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum CtxPtr {
    Zeroed,
    Stale,
    Null,
    Kernel,
}

#[derive(Clone, Debug)]
enum Op {
    Submit {
        ctx: CtxChoice,
        specs: Vec<IocbSpec>,
        nr: c_long,
        array: Array,
    },
    Reap(ReapCall),
    Cancel {
        ctx: CtxChoice,
        slot: Option<usize>,
        result: bool,
        compat: bool,
    },
    /// Makes every waiting POLL complete.
    SignalPollFd,
    ReadNotifyFd,
    Setup {
        queue_init: bool,
        maxevents: c_int,
        ctxp: CtxPtr,
    },
    Destroy {
        release: bool,
    },
    Create {
        queue_init: bool,
        maxevents: c_int,
    },
}

// ---------------------------------------------------------------------------
// One side: a library with its own context, iocbs, buffers and descriptors.

struct Side {
    lib: &'static Lib,
    ctx: Ctx,
    iocbs: Vec<iocb>,
    events: Vec<io_event>,
    buffers: Vec<u8>,
    iovec_data: Vec<u8>,
    iovecs: Vec<libc::iovec>,
    array: Vec<*mut iocb>,
    timeout: libc::timespec,
    sigmask: libc::sigset_t,
    not_a_ring: Vec<u64>,
    file: OwnedFd,
    read_only: OwnedFd,
    dev_zero: OwnedFd,
    poll_fd: OwnedFd,
    notify_fd: OwnedFd,
}

fn checked_fd(fd: c_int, what: &str) -> OwnedFd {
    assert!(fd >= 0, "{what}: {}", std::io::Error::last_os_error());
    // SAFETY: a descriptor we just opened and own.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

fn eventfd() -> OwnedFd {
    // SAFETY: no pointers.
    checked_fd(
        unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) },
        "eventfd",
    )
}

/// Reads an eventfd's counter, resetting it; 0 if it was 0.
fn drain_eventfd(fd: &OwnedFd) -> u64 {
    let mut value = 0u64;
    // SAFETY: reads 8 bytes into `value`.
    let n = unsafe { libc::read(fd.as_raw_fd(), (&raw mut value).cast(), 8) };
    if n == 8 {
        value
    } else {
        0
    }
}

fn signal_eventfd(fd: &OwnedFd) {
    let one = 1u64;
    // SAFETY: writes 8 bytes from `one`.
    let written = unsafe { libc::write(fd.as_raw_fd(), (&raw const one).cast(), 8) };
    assert_eq!(written, 8);
}

fn file_contents(fd: &OwnedFd) -> Vec<u8> {
    // SAFETY: fstat fills `st`.
    let mut st: libc::stat = unsafe { core::mem::zeroed() };
    // SAFETY: as above.
    assert_eq!(unsafe { libc::fstat(fd.as_raw_fd(), &mut st) }, 0);
    let mut data = vec![0u8; st.st_size as usize];
    // SAFETY: reads into `data`, which is that long.
    let n = unsafe { libc::pread(fd.as_raw_fd(), data.as_mut_ptr().cast(), data.len(), 0) };
    assert_eq!(n, data.len() as isize);
    data
}

impl Side {
    fn new(lib: &'static Lib) -> Side {
        // SAFETY: creates an anonymous tmpfs file.
        let file = checked_fd(
            unsafe { libc::memfd_create(c"differential".as_ptr(), libc::MFD_CLOEXEC) },
            "memfd",
        );
        let path = format!("/proc/self/fd/{}\0", file.as_raw_fd());
        // SAFETY: a NUL-terminated path.
        let read_only = checked_fd(
            unsafe { libc::open(path.as_ptr().cast(), libc::O_RDONLY | libc::O_CLOEXEC) },
            "reopen",
        );
        // SAFETY: as above.
        let dev_zero = checked_fd(
            unsafe { libc::open(c"/dev/zero".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) },
            "/dev/zero",
        );
        // SAFETY: sigemptyset/sigaddset initialise the set.
        let sigmask = unsafe {
            let mut set = core::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGUSR1);
            set
        };
        let mut side = Side {
            lib,
            ctx: 0,
            // SAFETY: an all-zero iocb and io_event are valid values.
            iocbs: vec![unsafe { core::mem::zeroed() }; POOL],
            // SAFETY: as above.
            events: vec![unsafe { core::mem::zeroed() }; EVENTS],
            buffers: vec![0; BUFFERS * BUFFER_LEN],
            iovec_data: vec![0; IOVECS * IOVEC_LEN],
            iovecs: Vec::with_capacity(IOVECS),
            array: Vec::with_capacity(POOL),
            timeout: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            sigmask,
            not_a_ring: vec![0; 512],
            file,
            read_only,
            dev_zero,
            poll_fd: eventfd(),
            notify_fd: eventfd(),
        };
        let base = side.iovec_data.as_mut_ptr();
        side.iovecs.extend((0..IOVECS).map(|i| libc::iovec {
            iov_base: base.wrapping_add(i * IOVEC_LEN).cast(),
            iov_len: IOVEC_LEN,
        }));
        side
    }

    /// The same starting state on both sides for every sequence.
    fn reset(&mut self) {
        let content: Vec<u8> = (0..FILE_LEN).map(|i| (i * 31 % 251) as u8).collect();
        let fd = self.file.as_raw_fd();
        // SAFETY: plain calls on our own descriptor and buffer.
        unsafe {
            assert_eq!(libc::ftruncate(fd, 0), 0);
            assert_eq!(
                libc::pwrite(fd, content.as_ptr().cast(), content.len(), 0),
                FILE_LEN as isize
            );
        }
        self.buffers.fill(0);
        self.iovec_data.fill(0);
        // SAFETY: as in `new`.
        self.iocbs.fill(unsafe { core::mem::zeroed() });
        drain_eventfd(&self.poll_fd);
        drain_eventfd(&self.notify_fd);
    }

    fn fd(&self, target: Target) -> c_int {
        match target {
            Target::File => self.file.as_raw_fd(),
            Target::ReadOnlyFile => self.read_only.as_raw_fd(),
            Target::DevZero => self.dev_zero.as_raw_fd(),
            Target::PollFd => self.poll_fd.as_raw_fd(),
            Target::Fd(fd) => fd,
        }
    }

    fn ctx(&self, choice: CtxChoice) -> Ctx {
        match choice {
            CtxChoice::Main => self.ctx,
            CtxChoice::Null => 0,
            CtxChoice::MinusOne => usize::MAX,
            CtxChoice::Unaligned => 0x12345,
            CtxChoice::NotARing => self.not_a_ring.as_ptr() as Ctx,
        }
    }

    fn slot_of(&self, iocb: usize) -> Option<usize> {
        let base = self.iocbs.as_ptr() as usize;
        let offset = iocb.wrapping_sub(base);
        (offset % size_of::<iocb>() == 0 && offset / size_of::<iocb>() < POOL)
            .then(|| offset / size_of::<iocb>())
    }

    /// Writes `spec` into its slot; `stamp` makes written data differ between writes.
    fn prepare(&mut self, spec: &IocbSpec, stamp: u8) -> *mut iocb {
        let buffer = &mut self.buffers[(spec.slot % BUFFERS) * BUFFER_LEN..][..BUFFER_LEN];
        let (buf, nbytes, offset) = match spec.body {
            Body::Rw {
                offset,
                len,
                null_buf,
            } => {
                if spec.opcode == IOCB_CMD_PWRITE {
                    buffer
                        .iter_mut()
                        .enumerate()
                        .for_each(|(i, b)| *b = stamp ^ i as u8);
                }
                let buf = if null_buf {
                    core::ptr::null_mut()
                } else {
                    buffer.as_mut_ptr().cast::<c_void>()
                };
                (buf, len, offset)
            }
            Body::Vector { offset, count } => (self.iovecs.as_mut_ptr().cast(), count, offset),
            Body::Poll { events, stray_len } => {
                (events as u16 as usize as *mut c_void, stray_len as usize, 0)
            }
            Body::Sync => (core::ptr::null_mut(), 0, 0),
        };
        let (flags, resfd) = match spec.resfd {
            ResFd::Off => (spec.flags, 0),
            ResFd::Notify => (
                spec.flags | IOCB_FLAG_RESFD,
                self.notify_fd.as_raw_fd() as u32,
            ),
            ResFd::Closed => (spec.flags | IOCB_FLAG_RESFD, CLOSED_FD as u32),
        };
        let fd = self.fd(spec.target);
        let cb = &mut self.iocbs[spec.slot];
        // SAFETY: an all-zero iocb is a valid value.
        *cb = unsafe { core::mem::zeroed() };
        cb.data = CALLBACKS[spec.callback] as *mut c_void;
        cb.aio_lio_opcode = spec.opcode;
        cb.aio_reqprio = spec.reqprio;
        cb.aio_rw_flags = spec.rw_flags;
        cb.aio_fildes = fd;
        cb.u.c = io_iocb_common {
            buf,
            nbytes: nbytes as _,
            offset,
            __pad3: spec.pad3,
            flags,
            resfd,
        };
        cb
    }

    fn reap_args(&mut self, call: &ReapCall) -> ReapArgs {
        let nanoseconds = match call.timeout {
            Timeout::OneNs => 1,
            Timeout::Short => 200_000,
            _ => 0,
        };
        self.timeout = libc::timespec {
            tv_sec: 0,
            tv_nsec: nanoseconds,
        };
        ReapArgs {
            ctx: self.ctx(call.ctx),
            events: if call.events {
                self.events.as_mut_ptr()
            } else {
                core::ptr::null_mut()
            },
            timeout: match call.timeout {
                Timeout::Null => core::ptr::null_mut(),
                Timeout::Unreadable => LOW_POINTER as *mut _,
                _ => &raw mut self.timeout,
            },
            sigmask: match call.reaper {
                Reaper::PGetEvents(Mask::BlockUsr1) => &raw mut self.sigmask,
                Reaper::PGetEvents(Mask::Unreadable) => LOW_POINTER as *mut _,
                _ => core::ptr::null_mut(),
            },
        }
    }

    fn ring_ready(&self) -> usize {
        // SAFETY: called only while the context is live, so its ring is mapped.
        let header = unsafe { &*(self.ctx as *const RingHeader) };
        let nr = header.nr.load(Ordering::Relaxed) as usize;
        let (head, tail) = (
            header.head.load(Ordering::Acquire) as usize,
            header.tail.load(Ordering::Acquire) as usize,
        );
        (tail + nr - head) % nr
    }

    fn ring_nr(&self) -> usize {
        // SAFETY: as in `ring_ready`.
        unsafe { &*(self.ctx as *const RingHeader) }
            .nr
            .load(Ordering::Relaxed) as usize
    }
}

/// Marks the events buffer so that writes past the returned count show.
const UNWRITTEN: u8 = 0xa5;

#[derive(Debug, PartialEq)]
enum Obj {
    Slot(usize),
    Foreign(usize),
}

#[derive(Debug, PartialEq)]
struct Event {
    data: usize,
    obj: Obj,
    res: u64,
    res2: u64,
}

/// What one reaping call returned, in side-independent terms.
#[derive(Debug, PartialEq)]
struct Reaped {
    ret: c_int,
    events: Vec<Event>,
    callbacks: Vec<(usize, Obj, c_long, c_long)>,
}

// ---------------------------------------------------------------------------
// Where upstream cannot be the judge.

/// How upstream 0.3.113 handles a reaping call (its `aio_ring_is_empty`
/// check reads `ctx->magic`, then `*timeout`, before any syscall).
#[derive(Debug, PartialEq)]
enum UpstreamPath {
    /// It makes the syscall: upstream is the judge.
    Kernel,
    /// SIGSEGV: it dereferences an unmapped ctx or an unreadable timeout.
    Crashes,
    /// An empty ring and a zero timeout: it answers 0 without the kernel,
    /// whatever the counts or sigmask. Ours must give the kernel's answer.
    EmptyRingShortcut,
}

fn upstream_path(call: &ReapCall, alive: bool, ready: usize) -> UpstreamPath {
    // The LIBAIO_0.1 shims copy *timeout before anything else.
    let copies_timeout = matches!(call.reaper, Reaper::GetEvents01 | Reaper::QueueWait01);
    if copies_timeout && call.timeout == Timeout::Unreadable {
        return UpstreamPath::Crashes;
    }
    let mapped_ring = match call.ctx {
        CtxChoice::Null | CtxChoice::NotARing => return UpstreamPath::Kernel,
        CtxChoice::MinusOne | CtxChoice::Unaligned => return UpstreamPath::Crashes,
        CtxChoice::Main => alive,
    };
    match (mapped_ring, call.reaper, call.timeout) {
        (false, ..) => UpstreamPath::Crashes,
        // io_queue_run passes its own zero timeout, and ends with 0 either way.
        (true, Reaper::QueueRun, _) => UpstreamPath::Kernel,
        (true, _, Timeout::Unreadable) => UpstreamPath::Crashes,
        (true, _, Timeout::Zero) if ready == 0 => UpstreamPath::EmptyRingShortcut,
        _ => UpstreamPath::Kernel,
    }
}

// ---------------------------------------------------------------------------
// The run: model, generator, executor.

#[derive(Default, Debug)]
struct Tally {
    sequences: u64,
    operations: u64,
    compared_calls: u64,
    events_compared: u64,
    callbacks_compared: u64,
    judged_by_kernel_where_upstream_crashes: u64,
    empty_ring_shortcut_calls: u64,
    empty_ring_shortcut_differs_from_kernel: u64,
    /// Pairs of contexts destroyed: each costs an RCU grace period.
    destroyed_pairs: u64,
    /// How often each call returned each value (positive ones together),
    /// to show what the generator reaches.
    outcomes: BTreeMap<String, u64>,
}

impl Tally {
    fn saw(&mut self, call: &str, ret: i64) {
        let key = if ret > 0 {
            format!("{call} >0")
        } else {
            format!("{call} {ret}")
        };
        *self.outcomes.entry(key).or_default() += 1;
    }
}

struct Run<'a> {
    sides: &'a mut [Side; 2],
    rng: Rng,
    tally: &'a mut Tally,
    alive: bool,
    ring_nr: usize,
    /// Completions in each ring, not yet reaped.
    ready: usize,
    /// Slots of accepted POLLs still waiting.
    waiting: Vec<usize>,
    next_slot: usize,
    stamp: u8,
    /// The operations so far, and (seed, sequence number) to reproduce them.
    log: String,
    origin: (u64, u64),
}

impl Run<'_> {
    fn lib_call<R: std::fmt::Debug>(
        &self,
        side: usize,
        what: &str,
        call: impl FnOnce(&Side) -> R,
    ) -> R {
        let s = &self.sides[side];
        keeping_errno(|| format!("{what} on side {side}"), || call(s))
    }

    /// Makes the library call `call` on both sides, checks that errno is
    /// untouched and that the sides agree.
    fn both<R: std::fmt::Debug + PartialEq>(
        &mut self,
        what: &str,
        mut call: impl FnMut(&mut Side) -> R,
    ) -> R {
        self.tally.compared_calls += 1;
        self.observe(what, |i, side| {
            keeping_errno(|| format!("{what} on side {i}"), || call(side))
        })
    }

    /// Checks that `look` sees the same on both sides.
    fn observe<R: std::fmt::Debug + PartialEq>(
        &mut self,
        what: &str,
        mut look: impl FnMut(usize, &mut Side) -> R,
    ) -> R {
        let up = look(0, &mut self.sides[0]);
        let our = look(1, &mut self.sides[1]);
        assert_eq!(our, up, "{what}: ours (left) differs from upstream (right)");
        our
    }

    fn alloc_slot(&mut self) -> usize {
        loop {
            let slot = self.next_slot;
            self.next_slot = (self.next_slot + 1) % POOL;
            if !self.waiting.contains(&slot) {
                return slot;
            }
        }
    }

    // ----- generation

    fn gen_ctx(&mut self) -> CtxChoice {
        if self.rng.one_in(10) {
            self.rng.pick(&[
                CtxChoice::Null,
                CtxChoice::MinusOne,
                CtxChoice::Unaligned,
                CtxChoice::NotARing,
            ])
        } else {
            CtxChoice::Main
        }
    }

    /// `last`: whether it ends its batch. An fsync completes in a worker
    /// after io_submit returns, so only the last of a batch may be one:
    /// later ones would race with it for their place in the ring.
    fn gen_iocb(&mut self, last: bool) -> IocbSpec {
        let slot = self.alloc_slot();
        let rng = &mut self.rng;
        let rw_offset = rng.pick(&[0, 100, FILE_LEN - 10, FILE_LEN, FILE_LEN + 4096, -1]);
        let rw_len = rng.pick(&[0, 1, 100, BUFFER_LEN]);
        let vector = Body::Vector {
            offset: rng.pick(&[0, FILE_LEN - 100, FILE_LEN + 10, -1]),
            count: rng.pick(&[0, 1, 3, 1024, 1025, 5000]),
        };
        let rw = Body::Rw {
            offset: rw_offset,
            len: rw_len,
            null_buf: false,
        };
        let (opcode, target, body) = match rng.below(12) {
            0 | 1 => (IOCB_CMD_PREAD, Target::File, rw),
            2 => (IOCB_CMD_PWRITE, Target::File, rw),
            3 => (
                IOCB_CMD_PREAD,
                Target::DevZero,
                Body::Rw {
                    offset: 0,
                    len: BUFFER_LEN,
                    null_buf: false,
                },
            ),
            4 => (IOCB_CMD_PWRITE, Target::ReadOnlyFile, rw),
            5 => (IOCB_CMD_PREADV, Target::File, vector),
            6 => (IOCB_CMD_PWRITEV, Target::File, vector),
            7 if last => (
                rng.pick(&[IOCB_CMD_FSYNC, IOCB_CMD_FDSYNC]),
                rng.pick(&[Target::File, Target::DevZero]),
                Body::Sync,
            ),
            8 | 9 => (
                IOCB_CMD_POLL,
                Target::PollFd,
                Body::Poll {
                    events: POLLIN,
                    stray_len: false,
                },
            ),
            10 => {
                let (target, events) = rng.pick(&[
                    (Target::PollFd, POLLOUT),
                    (Target::PollFd, POLLIN | POLLOUT),
                    (Target::File, POLLIN),
                ]);
                (
                    IOCB_CMD_POLL,
                    target,
                    Body::Poll {
                        events,
                        stray_len: false,
                    },
                )
            }
            _ => (IOCB_CMD_PREAD, Target::File, rw),
        };
        let mut spec = IocbSpec {
            slot,
            opcode,
            target,
            body,
            pad3: 0,
            flags: 0,
            resfd: ResFd::Off,
            rw_flags: 0,
            reqprio: 0,
            callback: rng.below(CALLBACKS.len()),
        };
        if rng.one_in(4) {
            match rng.below(10) {
                0 => spec.target = Target::Fd(rng.pick(&[-1, CLOSED_FD])),
                1 => spec.opcode = rng.pick(&[4, 6, 100, -1]),
                2 => spec.pad3 = 1,
                3 => spec.resfd = ResFd::Closed,
                // Unknown, RWF_ATOMIC, RWF_HIPRI.
                4 => spec.rw_flags = rng.pick(&[0x8000_0000, 0x40, 1]),
                5 => {
                    spec.flags = IOCB_FLAG_IOPRIO;
                    spec.reqprio = 7 << IOPRIO_CLASS_SHIFT;
                }
                6 => {
                    // A valid class (best effort, level 4).
                    spec.flags = IOCB_FLAG_IOPRIO;
                    spec.reqprio = (2 << IOPRIO_CLASS_SHIFT) | 4;
                }
                7 => match &mut spec.body {
                    Body::Rw { null_buf, .. } => *null_buf = true,
                    Body::Poll { stray_len, .. } => *stray_len = true,
                    _ => spec.flags = UNKNOWN_IOCB_FLAG,
                },
                8 => spec.flags = UNKNOWN_IOCB_FLAG,
                _ => spec.rw_flags = 8, // RWF_NOWAIT
            }
        }
        if spec.resfd == ResFd::Off && spec.completes_in_submit() && rng.one_in(5) {
            spec.resfd = ResFd::Notify;
        }
        spec
    }

    fn dev_zero_read(&mut self) -> IocbSpec {
        let callback = self.rng.below(CALLBACKS.len());
        IocbSpec {
            slot: self.alloc_slot(),
            opcode: IOCB_CMD_PREAD,
            target: Target::DevZero,
            body: Body::Rw {
                offset: 0,
                len: 64,
                null_buf: false,
            },
            pad3: 0,
            flags: 0,
            resfd: ResFd::Off,
            rw_flags: 0,
            reqprio: 0,
            callback,
        }
    }

    fn gen_submit(&mut self) -> Op {
        let ctx = self.gen_ctx();
        let in_flight = self.ready + self.waiting.len();
        let specs: Vec<IocbSpec> = match self.rng.below(12) {
            0 => Vec::new(),
            // Fill the ring exactly, or a little past it.
            1 => (0..self.ring_nr.saturating_sub(in_flight + 1) + self.rng.below(3))
                .map(|_| self.dev_zero_read())
                .collect(),
            // More than the ring holds: the kernel clamps nr.
            2 => (0..self.ring_nr + 10)
                .map(|_| self.dev_zero_read())
                .collect(),
            _ => {
                let count = 1 + self.rng.below(8);
                (0..count).map(|i| self.gen_iocb(i + 1 == count)).collect()
            }
        };
        let count = specs.len();
        let array = match self.rng.below(16) {
            0 => Array::Null,
            1 if count > 0 => Array::NullEntry(self.rng.below(count)),
            2 if count > 0 => Array::KernelEntry(self.rng.below(count)),
            _ => Array::Plain,
        };
        let nr = match self.rng.below(16) {
            0 => 0,
            1 => -1,
            _ => count as c_long,
        };
        Op::Submit {
            ctx,
            specs,
            nr,
            array,
        }
    }

    fn gen_reap(&mut self) -> Op {
        let ctx = self.gen_ctx();
        let rng = &mut self.rng;
        let reaper = match rng.below(10) {
            0..=3 => Reaper::GetEvents,
            4 | 5 => Reaper::PGetEvents(rng.pick(&[Mask::Null, Mask::BlockUsr1, Mask::Unreadable])),
            6 => Reaper::GetEvents01,
            7 => rng.pick(&[Reaper::QueueWait, Reaper::QueueWait01]),
            _ => Reaper::QueueRun,
        };
        let ready = self.ready as c_long;
        let nr = rng.pick(&[
            0,
            1,
            2,
            3,
            ready,
            ready + 1,
            64,
            EVENTS as c_long,
            -1,
            c_long::MAX,
        ]);
        let min_nr = rng.pick(&[0, 1, 2, ready, ready + 1, nr, nr.saturating_add(1), -1]);
        let events = !rng.one_in(12);
        let mut timeout: Timeout = rng.pick(&[
            Timeout::Zero,
            Timeout::Zero,
            Timeout::Zero,
            Timeout::Null,
            Timeout::OneNs,
            Timeout::Short,
        ]);
        if rng.one_in(30) {
            timeout = Timeout::Unreadable;
        }
        let mut call = ReapCall {
            ctx,
            reaper,
            min_nr,
            nr,
            events,
            timeout,
        };
        // Never wait with no end for events that cannot come.
        let (min_wait, nr_wait) = call.counts();
        let would_wait = ctx == CtxChoice::Main
            && self.alive
            && (0..=nr_wait).contains(&min_wait)
            && min_wait > ready;
        if timeout == Timeout::Null && would_wait {
            call.timeout = Timeout::Short;
        }
        Op::Reap(call)
    }

    fn gen_op(&mut self) -> Op {
        if !self.alive && self.rng.one_in(3) {
            return Op::Create {
                queue_init: self.rng.one_in(2),
                maxevents: self.rng.pick(&RING_REQUESTS),
            };
        }
        match self.rng.below(400) {
            0..=159 => self.gen_submit(),
            160..=319 => self.gen_reap(),
            320..=347 => {
                let slot = if !self.waiting.is_empty() && !self.rng.one_in(3) {
                    Some(self.rng.pick(&self.waiting))
                } else if self.rng.one_in(8) {
                    None
                } else {
                    Some(self.rng.below(POOL))
                };
                let ctx = self.gen_ctx();
                Op::Cancel {
                    ctx,
                    slot,
                    result: self.rng.one_in(2),
                    compat: self.rng.one_in(4),
                }
            }
            348..=367 => Op::SignalPollFd,
            368..=379 => Op::ReadNotifyFd,
            // Setup and Destroy are rare: every context made costs an
            // io_destroy, which waits for an RCU grace period.
            380 | 381 => Op::Setup {
                queue_init: self.rng.one_in(2),
                maxevents: self.rng.pick(&[
                    -1,
                    0,
                    1,
                    2,
                    127,
                    4096,
                    100_000,
                    c_int::MAX,
                    c_int::MIN,
                ]),
                ctxp: self.rng.pick(&[
                    CtxPtr::Zeroed,
                    CtxPtr::Zeroed,
                    CtxPtr::Stale,
                    CtxPtr::Null,
                    CtxPtr::Kernel,
                ]),
            },
            382 if self.alive => Op::Destroy {
                release: self.rng.one_in(2),
            },
            _ => self.gen_reap(),
        }
    }

    // ----- execution

    fn settle(&self) {
        let deadline = Instant::now() + Duration::from_secs(5);
        for (i, side) in self.sides.iter().enumerate().filter(|_| self.alive) {
            while side.ring_ready() != self.ready {
                assert!(
                    side.ring_ready() < self.ready,
                    "side {i}: more completions than submitted"
                );
                assert!(
                    Instant::now() < deadline,
                    "side {i}: {} completions, expected {}",
                    side.ring_ready(),
                    self.ready
                );
                std::thread::sleep(Duration::from_micros(50));
            }
        }
    }

    fn create(&mut self, queue_init: bool, maxevents: c_int) {
        let ret = self.both("create", |s| {
            s.ctx = 0;
            // SAFETY: ctxp points to the side's own ctx field.
            unsafe {
                if queue_init {
                    (s.lib.io_queue_init)(maxevents, &mut s.ctx)
                } else {
                    (s.lib.io_setup)(maxevents, &mut s.ctx)
                }
            }
        });
        assert_eq!(ret, 0, "could not create a context of {maxevents}");
        let nr = self.observe("ring size", |_, s| s.ring_nr());
        assert!(nr + 16 < POOL && nr < EVENTS);
        (self.alive, self.ring_nr, self.ready, self.waiting) = (true, nr, 0, Vec::new());
    }

    fn execute(&mut self, op: &Op) {
        match op {
            Op::Submit {
                ctx,
                specs,
                nr,
                array,
            } => self.submit(*ctx, specs, *nr, *array),
            Op::Reap(call) => self.reap(call),
            Op::Cancel {
                ctx,
                slot,
                result,
                compat,
            } => {
                let ret = self.both("io_cancel", |s| {
                    let target = slot.map_or(core::ptr::null_mut(), |i| &raw mut s.iocbs[i]);
                    let evt = if *result {
                        s.events.as_mut_ptr()
                    } else {
                        core::ptr::null_mut()
                    };
                    // SAFETY: valid or deliberately bad pointers, which the kernel checks.
                    unsafe {
                        if *compat {
                            (s.lib.io_cancel_0_1)(s.ctx(*ctx), target)
                        } else {
                            (s.lib.io_cancel)(s.ctx(*ctx), target, evt)
                        }
                    }
                });
                self.tally.saw(
                    if *compat {
                        "io_cancel@0.1"
                    } else {
                        "io_cancel"
                    },
                    ret.into(),
                );
                if ret == -libc::EINPROGRESS {
                    let slot = slot.unwrap();
                    self.waiting.retain(|&w| w != slot);
                    self.ready += 1;
                }
            }
            Op::SignalPollFd => {
                self.sides.iter().for_each(|s| signal_eventfd(&s.poll_fd));
                self.ready += core::mem::take(&mut self.waiting).len();
                self.settle();
                // Back to 0 so that later POLLINs wait again.
                self.sides.iter().for_each(|s| {
                    drain_eventfd(&s.poll_fd);
                });
            }
            Op::ReadNotifyFd => {
                self.observe("notify eventfd", |_, s| drain_eventfd(&s.notify_fd));
            }
            Op::Setup {
                queue_init,
                maxevents,
                ctxp,
            } => self.setup_probe(*queue_init, *maxevents, *ctxp),
            Op::Destroy { release } => {
                let [up, our] = &*self.sides;
                let ret = self.destroy_pair([(up.lib, up.ctx), (our.lib, our.ctx)], *release);
                assert_eq!(ret, [0, 0]);
                (self.alive, self.ready, self.waiting) = (false, 0, Vec::new());
            }
            Op::Create {
                queue_init,
                maxevents,
            } => self.create(*queue_init, *maxevents),
        }
    }

    fn submit(&mut self, ctx: CtxChoice, specs: &[IocbSpec], nr: c_long, array: Array) {
        self.stamp = self.stamp.wrapping_add(1);
        let stamp = self.stamp;
        let ret = self.both("io_submit", |s| {
            s.array.clear();
            for spec in specs {
                let cb = s.prepare(spec, stamp);
                s.array.push(cb);
            }
            match array {
                Array::NullEntry(i) => s.array[i] = core::ptr::null_mut(),
                Array::KernelEntry(i) => s.array[i] = KERNEL_POINTER as *mut iocb,
                Array::Plain | Array::Null => {}
            }
            let ios = if matches!(array, Array::Null) {
                core::ptr::null_mut()
            } else {
                s.array.as_mut_ptr()
            };
            // SAFETY: the array holds `nr` entries (or nr is 0 or negative, or
            // the pointers are deliberately bad); the kernel checks them all.
            unsafe { (s.lib.io_submit)(s.ctx(ctx), nr, ios) }
        });
        self.tally.saw("io_submit", ret.into());
        if ret > 0 {
            assert!(ctx == CtxChoice::Main && self.alive);
            for spec in &specs[..ret as usize] {
                if spec.waits() {
                    self.waiting.push(spec.slot);
                } else {
                    self.ready += 1;
                }
            }
        }
    }

    fn reap_on(&mut self, side: usize, call: &ReapCall) -> Reaped {
        let marked = (self.ring_nr + 1).min(EVENTS);
        let s = &mut self.sides[side];
        // SAFETY: plain bytes over plain-data events.
        unsafe { core::ptr::write_bytes(s.events.as_mut_ptr(), UNWRITTEN, marked) };
        let args = s.reap_args(call);
        CALLED.with(|log| log.borrow_mut().clear());
        let ret = self.lib_call(side, &format!("{call:?}"), |s| {
            let (lib, ctx) = (s.lib, args.ctx);
            // SAFETY: the side's own buffers, NULL, or bad pointers on the
            // paths where the library hands them to the kernel.
            unsafe {
                match call.reaper {
                    Reaper::GetEvents => {
                        (lib.io_getevents)(ctx, call.min_nr, call.nr, args.events, args.timeout)
                    }
                    Reaper::PGetEvents(_) => (lib.io_pgetevents)(
                        ctx,
                        call.min_nr,
                        call.nr,
                        args.events,
                        args.timeout,
                        args.sigmask,
                    ),
                    Reaper::GetEvents01 => {
                        (lib.io_getevents_0_1)(ctx, call.nr, args.events, args.timeout)
                    }
                    Reaper::QueueWait => (lib.io_queue_wait)(ctx, args.timeout),
                    Reaper::QueueWait01 => (lib.io_queue_wait_0_1)(ctx, args.timeout),
                    Reaper::QueueRun => (lib.io_queue_run)(ctx),
                }
            }
        });
        let s = &self.sides[side];
        let returned = if call.reaper == Reaper::QueueRun || ret < 0 {
            0
        } else {
            ret as usize
        };
        let untouched = |e: &io_event| {
            // SAFETY: io_event is 32 bytes of plain data.
            let bytes = unsafe { core::mem::transmute_copy::<io_event, [u8; 32]>(e) };
            bytes == [UNWRITTEN; 32]
        };
        if call.events {
            let written_past = s.events[returned..marked]
                .iter()
                .position(|e| !untouched(e));
            assert_eq!(
                written_past, None,
                "side {side}: {call:?} wrote past the {returned} events it returned"
            );
        }
        let obj = |p: usize| s.slot_of(p).map_or(Obj::Foreign(p), Obj::Slot);
        let events = s.events[..returned]
            .iter()
            .map(|e| Event {
                data: e.data as usize,
                obj: obj(e.obj as usize),
                res: e.res,
                res2: e.res2,
            })
            .collect();
        let callbacks = CALLED.with(|log| {
            log.borrow_mut()
                .drain(..)
                .map(|r| {
                    assert_eq!(r.ctx, args.ctx, "side {side}: a callback got another ctx");
                    (r.callback, obj(r.iocb), r.res, r.res2)
                })
                .collect()
        });
        Reaped {
            ret,
            events,
            callbacks,
        }
    }

    /// The kernel's answer, on our side, to the syscall that `call` stands for.
    fn kernel_answer(&mut self, call: &ReapCall) -> c_int {
        let s = &mut self.sides[1];
        let args = s.reap_args(call);
        let (min_nr, nr) = call.counts();
        let zero = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        match call.reaper {
            Reaper::GetEvents | Reaper::GetEvents01 => {
                kernel::io_getevents(args.ctx, min_nr, nr, args.events, args.timeout)
            }
            Reaper::PGetEvents(_) => kernel::io_pgetevents(
                args.ctx,
                min_nr,
                nr,
                args.events,
                args.timeout,
                args.sigmask,
            ),
            Reaper::QueueWait | Reaper::QueueWait01 => {
                kernel::io_getevents(args.ctx, min_nr, nr, core::ptr::null_mut(), args.timeout)
            }
            Reaper::QueueRun => {
                kernel::io_getevents(args.ctx, min_nr, nr, s.events.as_mut_ptr(), &zero)
            }
        }
    }

    fn reap(&mut self, call: &ReapCall) {
        let path = upstream_path(call, self.alive, self.ready);
        let reaped = match path {
            UpstreamPath::Kernel => {
                let up = self.reap_on(0, call);
                let our = self.reap_on(1, call);
                assert_eq!(
                    our, up,
                    "{call:?}: ours (left) differs from upstream (right)"
                );
                self.tally.compared_calls += 1;
                our
            }
            UpstreamPath::Crashes | UpstreamPath::EmptyRingShortcut => {
                if path == UpstreamPath::EmptyRingShortcut {
                    let up = self.reap_on(0, call);
                    assert_eq!(up.ret, 0, "upstream's empty-ring shortcut");
                    self.tally.empty_ring_shortcut_calls += 1;
                } else {
                    self.tally.judged_by_kernel_where_upstream_crashes += 1;
                }
                let our = self.reap_on(1, call);
                // Nothing was reaped (empty ring, or an error), so the kernel sees the same state.
                let judge = self.kernel_answer(call);
                assert_eq!(
                    our.ret, judge,
                    "{call:?} ({path:?}): ours (left) differs from the kernel (right)"
                );
                if path == UpstreamPath::EmptyRingShortcut && judge != 0 {
                    self.tally.empty_ring_shortcut_differs_from_kernel += 1;
                }
                our
            }
        };
        self.tally.events_compared += reaped.events.len() as u64;
        self.tally.callbacks_compared += reaped.callbacks.len() as u64;
        self.tally
            .saw(&format!("{:?}", call.reaper), reaped.ret.into());
        for event in &reaped.events {
            self.tally.saw("event res", event.res as i64);
        }
        let taken = reaped.events.len() + reaped.callbacks.len();
        assert!(
            taken <= self.ready,
            "{taken} events reaped, {} were ready",
            self.ready
        );
        self.ready -= taken;
    }

    fn setup_probe(&mut self, queue_init: bool, maxevents: c_int, ctxp: CtxPtr) {
        const STALE: Ctx = 0x1000;
        let bad_pointer = match ctxp {
            CtxPtr::Null => Some(core::ptr::null_mut()),
            CtxPtr::Kernel => Some(KERNEL_POINTER as *mut Ctx),
            CtxPtr::Zeroed | CtxPtr::Stale => None,
        };
        // Upstream's io_queue_init stores NULL through ctxp before the syscall.
        if let (true, true, Some(pointer)) = (queue_init, maxevents > 0, bad_pointer) {
            let judge = kernel::io_setup(maxevents, pointer);
            // SAFETY: a bad pointer, which ours must refuse without writing.
            let our = self.lib_call(1, "io_queue_init", |s| unsafe {
                (s.lib.io_queue_init)(maxevents, pointer)
            });
            assert_eq!(our, judge, "io_queue_init({maxevents}, {pointer:?}): ours (left) differs from the kernel (right)");
            self.tally.judged_by_kernel_where_upstream_crashes += 1;
            return;
        }
        let mut made = [0; 2];
        self.tally.compared_calls += 1;
        let (ret, ..) = self.observe("io_setup/io_queue_init probe", |i, s| {
            let mut value: Ctx = if ctxp == CtxPtr::Stale { STALE } else { 0 };
            let pointer = bad_pointer.unwrap_or(&mut value);
            let what = || format!("probe({queue_init}, {maxevents}, {ctxp:?}) on side {i}");
            // SAFETY: the side's own local, or a bad pointer the kernel refuses.
            let ret = keeping_errno(what, || unsafe {
                if queue_init {
                    (s.lib.io_queue_init)(maxevents, pointer)
                } else {
                    (s.lib.io_setup)(maxevents, pointer)
                }
            });
            let created = ret == 0 && value != 0 && value != STALE;
            made[i] = if created { value } else { 0 };
            (ret, value == STALE, created)
        });
        self.tally.saw(
            if queue_init {
                "io_queue_init"
            } else {
                "io_setup"
            },
            ret.into(),
        );
        if made != [0, 0] {
            let [up, our] = &*self.sides;
            assert_eq!(
                self.destroy_pair([(up.lib, made[0]), (our.lib, made[1])], false),
                [0, 0]
            );
        }
    }

    /// Destroys a context on each side. io_destroy waits for an RCU grace
    /// period (tens of milliseconds), so both sides wait at the same time.
    fn destroy_pair(&mut self, contexts: [(&'static Lib, Ctx); 2], release: bool) -> [c_int; 2] {
        let destroy = move |(lib, ctx): (&'static Lib, Ctx)| {
            keeping_errno(
                || format!("io_destroy({ctx:#x})"),
                // SAFETY: a context this side made and nobody uses any more.
                || unsafe {
                    if release {
                        (lib.io_queue_release)(ctx)
                    } else {
                        (lib.io_destroy)(ctx)
                    }
                },
            )
        };
        self.tally.compared_calls += 1;
        self.tally.destroyed_pairs += 1;
        std::thread::scope(|scope| {
            let upstream = scope.spawn(move || destroy(contexts[0]));
            let ours = destroy(contexts[1]);
            [upstream.join().unwrap(), ours]
        })
    }

    /// Ends a sequence with every completion reaped and compared, leaving
    /// the context for the next sequence (making one costs an io_destroy later).
    fn finish(&mut self) {
        if self.alive {
            self.execute(&Op::SignalPollFd);
            let ready = self.ready as c_long;
            let drained = self.both("final io_getevents", |s| {
                let mut second = libc::timespec {
                    tv_sec: 1,
                    tv_nsec: 0,
                };
                // SAFETY: the side's own buffers.
                unsafe {
                    (s.lib.io_getevents)(
                        s.ctx,
                        ready,
                        EVENTS as c_long,
                        s.events.as_mut_ptr(),
                        &mut second,
                    )
                }
            });
            assert_eq!(drained as usize, self.ready);
            let events = self.observe("final events", |_, s| {
                s.events[..drained as usize]
                    .iter()
                    .map(|e| (e.data as usize, s.slot_of(e.obj as usize), e.res, e.res2))
                    .collect::<Vec<_>>()
            });
            self.tally.events_compared += events.len() as u64;
            self.ready = 0;
        }
        self.observe("file contents", |_, s| file_contents(&s.file));
        self.observe("buffers", |_, s| (s.buffers.clone(), s.iovec_data.clone()));
        self.observe("notify eventfd", |_, s| drain_eventfd(&s.notify_fd));
    }

    fn sequence(&mut self) {
        for side in self.sides.iter_mut() {
            side.reset();
        }
        if !self.alive {
            let queue_init = self.rng.one_in(2);
            let maxevents = self.rng.pick(&RING_REQUESTS);
            self.create(queue_init, maxevents);
        }
        let length = 4 + self.rng.below(28);
        for _ in 0..length {
            let op = self.gen_op();
            writeln!(self.log, "{op:?}").unwrap();
            self.execute(&op);
            self.settle();
            self.tally.operations += 1;
        }
        self.finish();
        self.tally.sequences += 1;
    }
}

impl Drop for Run<'_> {
    /// Shows the operations of a failing sequence.
    fn drop(&mut self) {
        if std::thread::panicking() {
            let (seed, index) = self.origin;
            // Contexts carry over between sequences: replay from the start.
            let replay = format!(
                "DIFFERENTIAL_SEED={seed} DIFFERENTIAL_SEQUENCES={}",
                index + 1
            );
            eprintln!("failing sequence {index} ({replay}):\n{}", self.log);
        }
    }
}

/// Keeps the thread on one CPU: the kernel hands out request slots from
/// per-CPU caches, so where `io_submit` first says -EAGAIN depends on the CPU.
fn stay_on_this_cpu() {
    // SAFETY: plain calls on the current thread's affinity.
    unsafe {
        let mut set: libc::cpu_set_t = core::mem::zeroed();
        libc::CPU_SET(libc::sched_getcpu() as usize, &mut set);
        assert_eq!(
            libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &set),
            0
        );
    }
}

#[test]
fn generated_sequences_agree_with_upstream() {
    let _serial = ONE_AT_A_TIME.lock().unwrap();
    stay_on_this_cpu();
    let seed = env_number("DIFFERENTIAL_SEED", 0x0a10_a10a);
    let sequences = env_number("DIFFERENTIAL_SEQUENCES", 4000);
    let mut sides = [Side::new(upstream()), Side::new(ours())];
    let mut tally = Tally::default();
    let started = Instant::now();
    let mut run = Run {
        sides: &mut sides,
        rng: Rng(seed),
        tally: &mut tally,
        alive: false,
        ring_nr: 0,
        ready: 0,
        waiting: Vec::new(),
        next_slot: 0,
        stamp: 0,
        log: String::new(),
        origin: (seed, 0),
    };
    for n in 0..sequences {
        run.rng = Rng(seed ^ n.wrapping_mul(0x2545_f491_4f6c_dd1d));
        run.log.clear();
        run.origin = (seed, n);
        run.sequence();
    }
    if run.alive {
        run.execute(&Op::Destroy { release: false });
    }
    drop(run);
    eprintln!("differential: {tally:#?} in {:.1?}", started.elapsed());
    if sequences >= 1000 {
        let missed: Vec<_> = MUST_REACH
            .iter()
            .filter(|key| !tally.outcomes.contains_key(**key))
            .collect();
        assert!(
            missed.is_empty(),
            "the generated sequences never reached {missed:?}"
        );
        assert!(
            tally.empty_ring_shortcut_differs_from_kernel > 0
                && tally.judged_by_kernel_where_upstream_crashes > 0
        );
    }
}

/// Outcomes a run of a thousand sequences must reach, whatever the seed.
const MUST_REACH: &[&str] = &[
    "io_submit >0",
    "io_submit 0",
    "io_submit -11",  // EAGAIN: the ring is full
    "io_submit -9",   // EBADF
    "io_submit -14",  // EFAULT
    "io_submit -22",  // EINVAL
    "io_submit -95",  // EOPNOTSUPP: unknown aio_rw_flags
    "io_cancel -115", // EINPROGRESS: a POLL was cancelled
    "io_cancel -22",
    "io_cancel@0.1 -115",
    "GetEvents >0",
    "GetEvents 0",
    "GetEvents -14",
    "GetEvents -22",
    "PGetEvents(BlockUsr1) >0",
    "GetEvents01 >0",
    "PGetEvents(Unreadable) -14",
    "QueueRun 0",
    "QueueWait 0",
    "QueueWait01 -22",
    "event res -14", // a read into NULL
    "event res 0",
    "io_setup 0",
    "io_setup -11", // more than aio-max-nr
    "io_setup -14",
    "io_queue_init 0",
];

/// Runs `call` in a forked child; returns the signal that killed it, if any.
fn signal_in_child(call: impl FnOnce()) -> Option<c_int> {
    // SAFETY: the child makes one call into a library that only makes
    // syscalls, then exits without running any of the parent's code.
    match unsafe { libc::fork() } {
        0 => {
            let no_core = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            // SAFETY: plain calls in the child.
            unsafe { libc::setrlimit(libc::RLIMIT_CORE, &no_core) };
            call();
            // SAFETY: as above.
            unsafe { libc::_exit(0) }
        }
        pid => {
            assert!(pid > 0, "fork: {}", std::io::Error::last_os_error());
            let mut status = 0;
            // SAFETY: waits for our own child.
            assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
            libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status))
        }
    }
}

/// The context a crash case runs on.
#[derive(Clone, Copy)]
enum CaseCtx {
    /// Made and destroyed, so its ring is unmapped.
    Destroyed,
    Live,
    Value(Ctx),
}

/// One input on which upstream 0.3.113 dies of SIGSEGV: `call` makes it
/// through a library, `kernel` makes the syscall it stands for.
struct CrashCase {
    what: &'static str,
    ctx: CaseCtx,
    call: unsafe fn(&Lib, Ctx, *mut io_event) -> c_int,
    kernel: fn(Ctx, *mut io_event) -> c_int,
}

static ZERO: libc::timespec = libc::timespec {
    tv_sec: 0,
    tv_nsec: 0,
};
const NULL_TIMEOUT: *mut libc::timespec = core::ptr::null_mut();
const BAD_TIMEOUT: *mut libc::timespec = LOW_POINTER as *mut _;

/// The inputs on which upstream crashes and ours returns the kernel's answer.
/// Each is listed in README's differences from upstream.
// One safety argument for every call below: see `CrashCase::run`.
#[allow(clippy::undocumented_unsafe_blocks)]
const UPSTREAM_CRASHES: &[CrashCase] = &[
    CrashCase {
        what: "io_getevents on a destroyed context",
        ctx: CaseCtx::Destroyed,
        call: |lib, ctx, ev| unsafe { (lib.io_getevents)(ctx, 0, 1, ev, NULL_TIMEOUT) },
        kernel: |ctx, ev| kernel::io_getevents(ctx, 0, 1, ev, NULL_TIMEOUT),
    },
    CrashCase {
        what: "io_pgetevents on a destroyed context",
        ctx: CaseCtx::Destroyed,
        call: |lib, ctx, ev| unsafe {
            (lib.io_pgetevents)(ctx, 0, 1, ev, NULL_TIMEOUT, core::ptr::null_mut())
        },
        kernel: |ctx, ev| kernel::io_pgetevents(ctx, 0, 1, ev, NULL_TIMEOUT, core::ptr::null()),
    },
    CrashCase {
        what: "io_queue_run on a destroyed context",
        ctx: CaseCtx::Destroyed,
        call: |lib, ctx, _| unsafe { (lib.io_queue_run)(ctx) },
        kernel: |ctx, ev| kernel::io_getevents(ctx, 0, 1, ev, &ZERO),
    },
    CrashCase {
        what: "io_queue_wait on a destroyed context",
        ctx: CaseCtx::Destroyed,
        call: |lib, ctx, _| unsafe { (lib.io_queue_wait)(ctx, NULL_TIMEOUT) },
        kernel: |ctx, _| kernel::io_getevents(ctx, 0, 0, core::ptr::null_mut(), NULL_TIMEOUT),
    },
    CrashCase {
        what: "io_getevents on the context (io_context_t)-1",
        ctx: CaseCtx::Value(usize::MAX),
        call: |lib, ctx, ev| unsafe {
            (lib.io_getevents)(ctx, 0, 1, ev, (&raw const ZERO).cast_mut())
        },
        kernel: |ctx, ev| kernel::io_getevents(ctx, 0, 1, ev, &ZERO),
    },
    CrashCase {
        what: "io_getevents with an unreadable timeout",
        ctx: CaseCtx::Live,
        call: |lib, ctx, ev| unsafe { (lib.io_getevents)(ctx, 0, 1, ev, BAD_TIMEOUT) },
        kernel: |ctx, ev| kernel::io_getevents(ctx, 0, 1, ev, BAD_TIMEOUT),
    },
    CrashCase {
        what: "io_getevents@LIBAIO_0.1 with an unreadable timeout",
        ctx: CaseCtx::Value(0),
        call: |lib, ctx, ev| unsafe { (lib.io_getevents_0_1)(ctx, 1, ev, BAD_TIMEOUT) },
        kernel: |ctx, ev| kernel::io_getevents(ctx, 1, 1, ev, BAD_TIMEOUT),
    },
    CrashCase {
        what: "io_queue_wait@LIBAIO_0.1 with an unreadable timeout",
        ctx: CaseCtx::Value(0),
        call: |lib, ctx, _| unsafe { (lib.io_queue_wait_0_1)(ctx, BAD_TIMEOUT) },
        kernel: |ctx, _| kernel::io_getevents(ctx, 0, 0, core::ptr::null_mut(), BAD_TIMEOUT),
    },
    CrashCase {
        what: "io_queue_init(1, NULL)",
        ctx: CaseCtx::Value(0),
        call: |lib, _, _| unsafe { (lib.io_queue_init)(1, core::ptr::null_mut()) },
        kernel: |_, _| kernel::io_setup(1, core::ptr::null_mut()),
    },
];

impl CrashCase {
    /// Makes the call through `lib`; returns its answer and the kernel's.
    fn run(&self, lib: &Lib) -> (c_int, c_int) {
        let ctx = match self.ctx {
            CaseCtx::Destroyed | CaseCtx::Live => new_context(lib),
            CaseCtx::Value(ctx) => ctx,
        };
        if let CaseCtx::Destroyed = self.ctx {
            destroy_context(lib, ctx);
        }
        let mut event = MaybeUninit::<io_event>::uninit();
        // SAFETY: the arguments are bad in the way each case describes,
        // and the kernel refuses them.
        let answer = keeping_errno(
            || self.what.into(),
            || unsafe { (self.call)(lib, ctx, event.as_mut_ptr()) },
        );
        let kernel = (self.kernel)(ctx, event.as_mut_ptr());
        if let CaseCtx::Live = self.ctx {
            destroy_context(lib, ctx);
        }
        (answer, kernel)
    }
}

fn new_context(lib: &Lib) -> Ctx {
    let mut ctx = 0;
    // SAFETY: ctx is ours to write.
    assert_eq!(unsafe { (lib.io_setup)(1, &mut ctx) }, 0);
    ctx
}

fn destroy_context(lib: &Lib, ctx: Ctx) {
    // SAFETY: a context the caller made and no longer uses.
    assert_eq!(unsafe { (lib.io_destroy)(ctx) }, 0);
}

/// Tests in this file make and destroy contexts in both libraries: run them
/// one at a time so that no test touches an address another one reuses.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

#[test]
fn upstream_crashes_where_ours_answers() {
    let _serial = ONE_AT_A_TIME.lock().unwrap();
    for case in UPSTREAM_CRASHES {
        let signal = signal_in_child(|| {
            case.run(upstream());
        });
        assert_eq!(signal, Some(libc::SIGSEGV), "upstream: {}", case.what);
        let (answer, kernel) = case.run(ours());
        assert!(kernel < 0, "{}: the kernel accepted it", case.what);
        assert_eq!(
            answer, kernel,
            "{}: ours (left) differs from the kernel (right)",
            case.what
        );
    }
}

/// io_queue_run on an event whose iocb has no callback: upstream calls
/// NULL; ours consumes the event without a call.
#[test]
fn queue_run_skips_a_null_callback() {
    let _serial = ONE_AT_A_TIME.lock().unwrap();
    let dev_zero = File::open("/dev/zero").unwrap();
    let run = |lib: &Lib| -> (c_int, c_int) {
        let ctx = new_context(lib);
        let mut buf = [0u8; 64];
        // SAFETY: an all-zero iocb is a valid value.
        let mut cb: iocb = unsafe { core::mem::zeroed() };
        cb.aio_lio_opcode = IOCB_CMD_PREAD;
        cb.aio_fildes = dev_zero.as_raw_fd();
        cb.u.c.buf = buf.as_mut_ptr().cast();
        cb.u.c.nbytes = buf.len() as _;
        let mut list = [&raw mut cb];
        // SAFETY: our own context, iocb and buffer; the read completes in io_submit.
        assert_eq!(unsafe { (lib.io_submit)(ctx, 1, list.as_mut_ptr()) }, 1);
        // SAFETY: our own context.
        let ran = keeping_errno(
            || "io_queue_run".into(),
            || unsafe { (lib.io_queue_run)(ctx) },
        );
        let mut event = MaybeUninit::<io_event>::uninit();
        let left = kernel::io_getevents(ctx, 0, 1, event.as_mut_ptr(), &ZERO);
        destroy_context(lib, ctx);
        (ran, left)
    };
    let signal = signal_in_child(|| {
        run(upstream());
    });
    assert_eq!(signal, Some(libc::SIGSEGV));
    assert_eq!(run(ours()), (0, 0));
}
