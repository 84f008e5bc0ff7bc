//! aiostat: which processes hold the machine's AIO capacity, the contexts
//! that /proc/sys/fs/aio-nr counts against fs.aio-max-nr. Reads /proc
//! only; see aiostat(1).

mod elf;
mod holders;
mod json;
mod kernel;
mod procfs;
mod snapshot;
mod text;

use std::io::{self, ErrorKind, Write};
use std::process::ExitCode;
use std::thread;
use std::time::Duration;

use kernel::Geometry;
use snapshot::{Names, Row, Snapshot};

const USAGE: &str = "\
usage: aiostat [--json] [--pid PID] [--watch SECONDS [--count N]]
Shows which processes hold the kernel's AIO contexts, that /proc/sys/fs/aio-nr
counts against fs.aio-max-nr (io_setup fails with EAGAIN past it).
  --json             one JSON object per snapshot, on one line (schema: aiostat(1))
  --pid PID          the row of process PID alone
  --watch SECONDS    a snapshot every SECONDS, with the change in aio-nr, until interrupted
  --count N          with --watch: stop after N snapshots
  --help             this text
";

#[derive(Debug, PartialEq)]
struct Options {
    json: bool,
    pid: Option<u32>,
    watch: Option<Duration>,
    count: Option<u64>,
}

enum Command {
    Run(Options),
    Help,
}

fn parse(arguments: &[String]) -> Result<Command, String> {
    let mut options = Options {
        json: false,
        pid: None,
        watch: None,
        count: None,
    };
    let mut rest = arguments.iter();
    while let Some(argument) = rest.next() {
        let (name, inline) = match argument.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name, Some(value.to_string())),
            _ => (argument.as_str(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| rest.next().cloned())
                .ok_or(format!("{name} needs a value"))
        };
        match name {
            "-h" | "--help" => return Ok(Command::Help),
            "--json" if inline.is_none() => options.json = true,
            "--pid" => options.pid = Some(number(name, &value()?)?),
            "--count" => options.count = Some(number(name, &value()?)?),
            "--watch" => {
                let text = value()?;
                let seconds: f64 = text
                    .parse()
                    .map_err(|_| format!("--watch takes seconds, not '{text}'"))?;
                if !(seconds > 0.0 && seconds <= 86400.0) {
                    return Err(format!(
                        "--watch takes seconds from 0 to 86400, not '{text}'"
                    ));
                }
                options.watch = Some(Duration::from_secs_f64(seconds));
            }
            _ if name.starts_with('-') => return Err(format!("unknown option '{argument}'")),
            _ => return Err(format!("unexpected argument '{argument}'")),
        }
    }
    if options.count.is_some() && options.watch.is_none() {
        return Err("--count needs --watch".to_string());
    }
    Ok(Command::Run(options))
}

fn number<T: std::str::FromStr>(name: &str, text: &str) -> Result<T, String> {
    text.parse()
        .map_err(|_| format!("{name} takes a number, not '{text}'"))
}

fn main() -> ExitCode {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse(&arguments) {
        Ok(Command::Run(options)) => options,
        Ok(Command::Help) => {
            return finish(
                io::stdout()
                    .write_all(USAGE.as_bytes())
                    .map_err(Failure::Output),
            )
        }
        Err(message) => {
            eprintln!("aiostat: {message} (aiostat --help shows the usage)");
            return ExitCode::from(2);
        }
    };
    finish(run(&options))
}

enum Failure {
    /// Reading the machine failed: exit 1 with the message.
    Read(String),
    /// Writing the output failed (a closed pipe ends the command quietly).
    Output(io::Error),
}

fn finish(result: Result<(), Failure>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Output(error)) if error.kind() == ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(Failure::Output(error)) => {
            eprintln!("aiostat: writing the output: {error}");
            ExitCode::FAILURE
        }
        Err(Failure::Read(message)) => {
            eprintln!("aiostat: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(options: &Options) -> Result<(), Failure> {
    let geometry = Geometry::of_this_machine()
        .map_err(|error| Failure::Read(format!("/sys/devices/system/cpu/possible: {error}")))?;
    let mut names = Names::default();
    let mut previous: Option<u64> = None;
    let mut taken = 0;
    loop {
        let snapshot = snapshot::take(geometry, &mut names)
            .map_err(|error| Failure::Read(format!("reading /proc: {error}")))?;
        let rows = rows_of(&snapshot, options.pid)?;
        let change = previous.map(|before| snapshot.aio_nr as i64 - before as i64);
        let output = if options.json {
            json::render(&snapshot, &rows, change) + "\n"
        } else {
            let clock = options.watch.map(|_| clock(snapshot.unix_time));
            let separator = if taken > 0 { "\n" } else { "" };
            separator.to_string() + &text::render(&snapshot, &rows, clock.as_deref(), change)
        };
        let mut stdout = io::stdout().lock();
        stdout
            .write_all(output.as_bytes())
            .and_then(|()| stdout.flush())
            .map_err(Failure::Output)?;
        taken += 1;
        previous = Some(snapshot.aio_nr);
        match options.watch {
            Some(interval) if options.count.map_or(true, |count| taken < count) => {
                thread::sleep(interval)
            }
            _ => return Ok(()),
        }
    }
}

/// The rows to show: all, or those of `pid`, which must exist and be
/// readable (it may hold no context: no row then).
fn rows_of(snapshot: &Snapshot, pid: Option<u32>) -> Result<Vec<&Row>, Failure> {
    let Some(pid) = pid else {
        return Ok(snapshot.rows.iter().collect());
    };
    if snapshot
        .unreadable
        .iter()
        .any(|&(unreadable, _)| unreadable == pid)
    {
        return Err(Failure::Read(format!(
            "/proc/{pid}/maps: permission denied (another user's process: run as root)"
        )));
    }
    if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
        return Err(Failure::Read(format!("no process {pid}")));
    }
    Ok(snapshot.rows.iter().filter(|row| row.pid == pid).collect())
}

/// "HH:MM:SS" in local time.
fn clock(unix_time: f64) -> String {
    let seconds = unix_time as libc::time_t;
    // SAFETY: tm is plain data for localtime_r to fill in.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are to live locals of the right types.
    if unsafe { libc::localtime_r(&seconds, &mut tm) }.is_null() {
        return "??:??:??".to_string();
    }
    format!("{:02}:{:02}:{:02}", tm.tm_hour, tm.tm_min, tm.tm_sec)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(arguments: &[&str]) -> Result<Options, String> {
        match parse(
            &arguments
                .iter()
                .map(|argument| argument.to_string())
                .collect::<Vec<_>>(),
        )? {
            Command::Run(options) => Ok(options),
            Command::Help => Err("help".to_string()),
        }
    }

    #[test]
    fn options() {
        assert_eq!(
            parsed(&[]),
            Ok(Options {
                json: false,
                pid: None,
                watch: None,
                count: None
            })
        );
        assert_eq!(
            parsed(&["--json", "--pid", "42", "--watch=0.5", "--count", "3"]),
            Ok(Options {
                json: true,
                pid: Some(42),
                watch: Some(Duration::from_millis(500)),
                count: Some(3)
            })
        );
        assert_eq!(parsed(&["--help", "--bogus"]), Err("help".to_string()));
    }

    #[test]
    fn usage_errors() {
        assert_eq!(
            parsed(&["--bogus"]),
            Err("unknown option '--bogus'".to_string())
        );
        assert_eq!(parsed(&["12"]), Err("unexpected argument '12'".to_string()));
        assert_eq!(parsed(&["--pid"]), Err("--pid needs a value".to_string()));
        assert_eq!(
            parsed(&["--pid", "x"]),
            Err("--pid takes a number, not 'x'".to_string())
        );
        assert_eq!(
            parsed(&["--watch", "0"]),
            Err("--watch takes seconds from 0 to 86400, not '0'".to_string())
        );
        assert_eq!(
            parsed(&["--count", "2"]),
            Err("--count needs --watch".to_string())
        );
        assert_eq!(
            parsed(&["--json=yes"]),
            Err("unknown option '--json=yes'".to_string())
        );
    }
}
