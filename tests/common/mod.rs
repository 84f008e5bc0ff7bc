//! The two `libaio.so.1` builds under test, bound with `dlopen` + `dlvsym`
//! the way applications bind them, and the raw kernel syscalls that judge
//! the cases where upstream cannot be asked.

use aio::abi::{io_event, iocb};
use core::ffi::{c_int, c_long, c_void};
use libc::{sigset_t, timespec};
use std::ffi::{CStr, CString};
use std::sync::OnceLock;

/// An `io_context_t`: the address of the kernel's ring.
pub type Ctx = usize;

/// What the libraries keep in `iocb.data` for `io_queue_run`.
pub type Callback = unsafe extern "C" fn(Ctx, *mut iocb, c_long, c_long);

/// The architecture's differences, from the library's own table.
#[path = "../../src/sys/arch.rs"]
#[allow(dead_code)]
mod arch;

/// The distribution's libaio.so.1 in this architecture's multiarch
/// directory (Debian 13 renamed its file libaio.so.1t64), or `LIBAIO_SYSTEM_SO`.
fn system_so() -> String {
    std::env::var("LIBAIO_SYSTEM_SO").unwrap_or_else(|_| {
        let triplet = match std::env::consts::ARCH {
            "powerpc64" if cfg!(target_endian = "little") => "powerpc64le",
            arch => arch,
        };
        ["libaio.so.1", "libaio.so.1t64"]
            .map(|name| format!("/usr/lib/{triplet}-linux-gnu/{name}"))
            .into_iter()
            .find(|path| std::path::Path::new(path).exists())
            .unwrap_or_else(|| {
                panic!("no libaio.so.1 in /usr/lib/{triplet}-linux-gnu: set LIBAIO_SYSTEM_SO")
            })
    })
}

/// Every entry point of the shipped ABI, by symbol version.
pub struct Lib {
    pub io_setup: unsafe extern "C" fn(c_int, *mut Ctx) -> c_int,
    pub io_destroy: unsafe extern "C" fn(Ctx) -> c_int,
    pub io_submit: unsafe extern "C" fn(Ctx, c_long, *mut *mut iocb) -> c_int,
    pub io_cancel: unsafe extern "C" fn(Ctx, *mut iocb, *mut io_event) -> c_int,
    pub io_getevents:
        unsafe extern "C" fn(Ctx, c_long, c_long, *mut io_event, *mut timespec) -> c_int,
    pub io_pgetevents: unsafe extern "C" fn(
        Ctx,
        c_long,
        c_long,
        *mut io_event,
        *mut timespec,
        *mut sigset_t,
    ) -> c_int,
    pub io_queue_init: unsafe extern "C" fn(c_int, *mut Ctx) -> c_int,
    pub io_queue_release: unsafe extern "C" fn(Ctx) -> c_int,
    pub io_queue_run: unsafe extern "C" fn(Ctx) -> c_int,
    pub io_queue_wait: unsafe extern "C" fn(Ctx, *mut timespec) -> c_int,
    pub io_getevents_0_1:
        unsafe extern "C" fn(Ctx, c_long, *mut io_event, *const timespec) -> c_int,
    pub io_cancel_0_1: unsafe extern "C" fn(Ctx, *mut iocb) -> c_int,
    pub io_queue_wait_0_1: unsafe extern "C" fn(Ctx, *const timespec) -> c_int,
}

impl Lib {
    fn load(path: &str) -> Lib {
        let cpath = CString::new(path).unwrap();
        // SAFETY: loading a shared library by path; its constructors are libaio's.
        let handle = unsafe { libc::dlopen(cpath.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
        if handle.is_null() {
            // SAFETY: dlerror returns a C string after a failed dlopen.
            panic!("dlopen {path}: {:?}", unsafe {
                CStr::from_ptr(libc::dlerror())
            });
        }
        let symbol = |name: &CStr, version: &CStr| -> *mut c_void {
            // SAFETY: handle is a live dlopen handle; both strings are C strings.
            let found = unsafe { libc::dlvsym(handle, name.as_ptr(), version.as_ptr()) };
            assert!(!found.is_null(), "{path}: no {name:?}@{version:?}");
            found
        };
        macro_rules! bind {
            ($name:literal, $version:literal) => {{
                let found = symbol($name, $version);
                // SAFETY: the symbol has this signature in every libaio.so.1,
                // and function pointers are pointer-sized.
                unsafe { core::mem::transmute_copy(&found) }
            }};
        }
        Lib {
            io_setup: bind!(c"io_setup", c"LIBAIO_0.4"),
            io_destroy: bind!(c"io_destroy", c"LIBAIO_0.4"),
            io_submit: bind!(c"io_submit", c"LIBAIO_0.1"),
            io_cancel: bind!(c"io_cancel", c"LIBAIO_0.4"),
            io_getevents: bind!(c"io_getevents", c"LIBAIO_0.4"),
            io_pgetevents: bind!(c"io_pgetevents", c"LIBAIO_0.5"),
            io_queue_init: bind!(c"io_queue_init", c"LIBAIO_0.1"),
            io_queue_release: bind!(c"io_queue_release", c"LIBAIO_0.1"),
            io_queue_run: bind!(c"io_queue_run", c"LIBAIO_0.1"),
            io_queue_wait: bind!(c"io_queue_wait", c"LIBAIO_0.4"),
            io_getevents_0_1: bind!(c"io_getevents", c"LIBAIO_0.1"),
            io_cancel_0_1: bind!(c"io_cancel", c"LIBAIO_0.1"),
            io_queue_wait_0_1: bind!(c"io_queue_wait", c"LIBAIO_0.1"),
        }
    }
}

/// The distribution's libaio.so.1 (upstream 0.3.113).
pub fn upstream() -> &'static Lib {
    static LIB: OnceLock<Lib> = OnceLock::new();
    LIB.get_or_init(|| Lib::load(&system_so()))
}

/// Our build, from `LIBAIO_RS_SO` or the release directory.
pub fn ours() -> &'static Lib {
    static LIB: OnceLock<Lib> = OnceLock::new();
    LIB.get_or_init(|| {
        let path = std::env::var("LIBAIO_RS_SO").unwrap_or_else(|_| {
            concat!(env!("CARGO_MANIFEST_DIR"), "/target/release/libaio.so").to_owned()
        });
        Lib::load(&path)
    })
}

/// A value no libaio call has a reason to store in errno.
const ERRNO_SENTINEL: c_int = 0x5eed;

/// Runs one library call and checks that it left errno alone.
pub fn keeping_errno<R>(what: impl FnOnce() -> String, call: impl FnOnce() -> R) -> R {
    // SAFETY: errno is thread-local and always addressable.
    let errno = unsafe { libc::__errno_location() };
    // SAFETY: as above.
    unsafe { *errno = ERRNO_SENTINEL };
    let result = call();
    // SAFETY: as above.
    let after = unsafe { *errno };
    assert_eq!(
        after,
        ERRNO_SENTINEL,
        "errno changed to {after} by {}",
        what()
    );
    result
}

/// The raw syscalls, answering -errno like libaio.
pub mod kernel {
    use super::Ctx;
    use aio::abi::{io_event, io_sigset};
    use core::ffi::{c_int, c_long};
    use libc::{sigset_t, timespec};

    fn result(ret: c_long) -> c_int {
        if ret < 0 {
            // SAFETY: errno is thread-local and always addressable.
            -unsafe { *libc::__errno_location() }
        } else {
            ret as c_int
        }
    }

    pub fn io_setup(maxevents: c_int, ctxp: *mut Ctx) -> c_int {
        // SAFETY: the kernel checks ctxp.
        result(unsafe { libc::syscall(libc::SYS_io_setup, maxevents, ctxp) })
    }

    pub fn io_getevents(
        ctx: Ctx,
        min_nr: c_long,
        nr: c_long,
        events: *mut io_event,
        timeout: *const timespec,
    ) -> c_int {
        // SAFETY: the kernel checks every pointer.
        result(unsafe { libc::syscall(libc::SYS_io_getevents, ctx, min_nr, nr, events, timeout) })
    }

    pub fn io_pgetevents(
        ctx: Ctx,
        min_nr: c_long,
        nr: c_long,
        events: *mut io_event,
        timeout: *const timespec,
        sigmask: *const sigset_t,
    ) -> c_int {
        // The kernel's sigset is 8 bytes (_NSIG / 8), not glibc's 128.
        let sigset = io_sigset {
            ss: sigmask as _,
            ss_len: 8,
        };
        // SAFETY: the kernel checks every pointer; sigset outlives the call.
        result(unsafe {
            libc::syscall(
                super::arch::SYS_IO_PGETEVENTS,
                ctx,
                min_nr,
                nr,
                events,
                timeout,
                &sigset,
            )
        })
    }
}
