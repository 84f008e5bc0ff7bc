//! The table a person reads: the system line, a row per holder, the total
//! set against aio-nr, and a line for each thing that could not be read.

use std::fmt::Write;

use crate::elf::Libaio;
use crate::snapshot::{Row, Snapshot};

/// `nr_events` as "100" when known, "63..126" when only a range is.
pub fn range(least: u64, most: u64) -> String {
    if least == most {
        least.to_string()
    } else {
        format!("{least}..{most}")
    }
}

/// Writes `snapshot`, its rows those of `pid` alone if given. `clock` and
/// `change` begin the system line in --watch.
pub fn render(
    snapshot: &Snapshot,
    rows: &[&Row],
    clock: Option<&str>,
    change: Option<i64>,
) -> String {
    let mut out = String::new();
    let s = snapshot;
    let (smallest_slots, smallest_most) = s.geometry.smallest_ring();
    if let Some(clock) = clock {
        let _ = write!(out, "{clock} ");
    }
    let _ = write!(out, "aio-nr {}", s.aio_nr);
    if let Some(change) = change {
        let _ = write!(out, " ({change:+})");
    }
    let used = if s.aio_max_nr == 0 {
        "-".to_string()
    } else {
        format!("{:.1}", s.aio_nr as f64 * 100.0 / s.aio_max_nr as f64)
    };
    let _ = writeln!(
        out,
        " of aio-max-nr {} ({used}% used, {} free); {} possible CPUs: the smallest ring has {smallest_slots} slots (io_setup of 1 to {smallest_most} events)",
        s.aio_max_nr,
        s.aio_max_nr.saturating_sub(s.aio_nr),
        s.geometry.possible_cpus,
    );
    let _ = writeln!(
        out,
        "{:>7} {:<10} {:<16} {:>4} {:>7} {:<13} {:>7} LIBAIO",
        "PID", "USER", "COMMAND", "CTX", "SLOTS", "NR_EVENTS", "WAITING"
    );
    for row in rows {
        let user = row.user.clone().unwrap_or_else(|| row.uid.to_string());
        let (least, most) = row.nr_events();
        let waiting = row
            .waiting()
            .map_or(String::new(), |waiting| waiting.to_string());
        let _ = writeln!(
            out,
            "{:>7} {:<10} {:<16} {:>4} {:>7} {:<13} {:>7} {}",
            row.pid,
            user,
            row.command,
            row.contexts.len(),
            row.ring_slots(),
            range(least, most),
            waiting,
            libaio(&row.libaio),
        );
    }
    total(&mut out, s, rows.len() < s.rows.len());
    notes(&mut out, s, rows);
    out
}

/// "upstream", "libaio-rs 0.3.113", "none", several joined by "+".
pub fn libaio(loaded: &[(Libaio, String)]) -> String {
    if loaded.is_empty() {
        return "none".to_string();
    }
    let names: Vec<String> = loaded
        .iter()
        .map(|(libaio, path)| match libaio {
            Libaio::Upstream => "upstream".to_string(),
            Libaio::Ours(version) => format!("libaio-rs {version}"),
            Libaio::Unknown | Libaio::Other => format!("unknown ({path})"),
        })
        .collect();
    names.join(" + ")
}

/// "1 process", "2 processes".
fn counted(count: usize, noun: &str) -> String {
    match (count, noun.ends_with('s')) {
        (1, _) => format!("1 {noun}"),
        (_, true) => format!("{count} {noun}es"),
        (_, false) => format!("{count} {noun}s"),
    }
}

/// The total of every holder; under `--pid` (`narrowed`) it says so, lest
/// it read as the one row's.
fn total(out: &mut String, s: &Snapshot, narrowed: bool) {
    let (least, most) = s.rows.iter().fold((0, 0), |(least, most), row| {
        let (own_least, own_most) = row.nr_events();
        (least + own_least, most + own_most)
    });
    let contexts: usize = s.rows.iter().map(|row| row.contexts.len()).sum();
    let _ = write!(
        out,
        "{}: {} in {} hold {} events; aio-nr {}",
        if narrowed { "machine total" } else { "total" },
        counted(contexts, "context"),
        counted(s.rows.len(), "process"),
        range(least, most),
        s.aio_nr
    );
    let _ = if s.aio_nr > most {
        writeln!(
            out,
            ": {} held by processes not shown or made during the scan",
            range(s.aio_nr - most, s.aio_nr - least)
        )
    } else if s.aio_nr < least {
        writeln!(
            out,
            ": {} fewer than the rows hold: contexts destroyed during the scan",
            range(least - s.aio_nr, most - s.aio_nr)
        )
    } else {
        writeln!(out, ", within the rows' total")
    };
}

fn notes(out: &mut String, s: &Snapshot, rows: &[&Row]) {
    if s.narrowed {
        let _ = writeln!(out, "note: every context is visible and aio-nr held still: ranges narrowed to what adds up to aio-nr");
    }
    if rows.iter().any(|row| {
        row.contexts
            .iter()
            .any(|context| context.nr_events.0 != context.nr_events.1)
    }) {
        let _ = writeln!(out, "note: NR_EVENTS a..b: the ring's size allows any io_setup from a to b events (see aiostat(1))");
    }
    let refused: Vec<String> = rows
        .iter()
        .filter(|row| s.mem_refused.contains(&row.pid))
        .map(|row| row.pid.to_string())
        .collect();
    if !refused.is_empty() {
        let _ = writeln!(
            out,
            "note: WAITING blank for pid {}: /proc/PID/mem refused (ptrace rules); run as root",
            refused.join(", ")
        );
    }
    if s.unverified() > 0 {
        let _ = writeln!(out, "note: {} rings counted unverified: their headers could not be read, nor their pages seen resident", s.unverified());
    }
    if !s.unreadable.is_empty() {
        let mut uids: Vec<Option<u32>> = s.unreadable.iter().map(|&(_, uid)| uid).collect();
        uids.sort();
        uids.dedup();
        let uids: Vec<String> = uids
            .iter()
            .map(|uid| uid.map_or("?".to_string(), |uid| uid.to_string()))
            .collect();
        let why = if s.as_root {
            "refused even to root: another user namespace or a security module"
        } else {
            "other users' processes: run as root to see their contexts"
        };
        let _ = writeln!(
            out,
            "not read: {} (uids {}): /proc/PID/maps {why}",
            counted(s.unreadable.len(), "process"),
            uids.join(", ")
        );
    }
    if let Some(hidepid) = &s.hidepid {
        let _ = writeln!(
            out,
            "not read: /proc is mounted with hidepid={hidepid}: other users' processes are hidden"
        );
    }
    if !s.initial_pid_namespace {
        let _ = writeln!(
            out,
            "not read: processes outside this PID namespace; aio-nr counts the whole machine's"
        );
    }
    if s.inherited_mappings + s.dead_mappings > 0 {
        let _ = writeln!(
            out,
            "also mapped: {} rings inherited by forked children (counted at their owners), {} rings of destroyed contexts (counted nowhere)",
            s.inherited_mappings, s.dead_mappings
        );
    }
}
