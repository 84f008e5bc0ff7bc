//! The snapshot as one JSON object on one line (its schema is in
//! aiostat(1), which the aiostat suite checks it against).

use std::fmt::Write;

use crate::elf::Libaio;
use crate::holders::Context;
use crate::snapshot::{Row, Snapshot};

/// `snapshot` as JSON, its processes those of `rows`; `change` is the
/// change in aio-nr since the previous snapshot of --watch.
pub fn render(snapshot: &Snapshot, rows: &[&Row], change: Option<i64>) -> String {
    let s = snapshot;
    let (smallest_slots, smallest_most) = s.geometry.smallest_ring();
    let used = if s.aio_max_nr == 0 {
        "null".to_string()
    } else {
        format!("{:.1}", s.aio_nr as f64 * 100.0 / s.aio_max_nr as f64)
    };
    let processes: Vec<String> = rows.iter().map(|row| process(row)).collect();
    let contexts: Vec<&Context> = s.contexts().collect();
    let (least, most) = contexts.iter().fold((0, 0), |(least, most), context| {
        (least + context.nr_events.0, most + context.nr_events.1)
    });
    let unreadable: Vec<String> = s
        .unreadable
        .iter()
        .map(|(pid, _)| pid.to_string())
        .collect();
    let refused: Vec<String> = s.mem_refused.iter().map(|pid| pid.to_string()).collect();
    let mut out = String::new();
    let _ = write!(
        out,
        concat!(
            "{{\"time\":{:.3},\"aio_nr\":{},\"aio_nr_change\":{},\"aio_max_nr\":{},\"used_percent\":{},\"free\":{},",
            "\"possible_cpus\":{},\"page_size\":{},\"smallest_ring_slots\":{},\"smallest_ring_nr_events_max\":{},",
            "\"processes\":[{}],",
            "\"total\":{{\"processes\":{},\"contexts\":{},\"ring_slots\":{},\"nr_events_min\":{},\"nr_events_max\":{}}},",
            "\"narrowed_by_aio_nr\":{},\"initial_pid_namespace\":{},\"hidepid\":{},\"unreadable_pids\":[{}],",
            "\"mem_refused_pids\":[{}],\"unverified_rings\":{},\"inherited_mappings\":{},\"dead_mappings\":{}}}"
        ),
        s.unix_time,
        s.aio_nr,
        change.map_or("null".to_string(), |change| change.to_string()),
        s.aio_max_nr,
        used,
        s.aio_max_nr.saturating_sub(s.aio_nr),
        s.geometry.possible_cpus,
        s.geometry.page_size,
        smallest_slots,
        smallest_most,
        processes.join(","),
        s.rows.len(),
        contexts.len(),
        contexts.iter().map(|context| context.ring_slots).sum::<u64>(),
        least,
        most,
        s.narrowed,
        s.initial_pid_namespace,
        s.hidepid.as_deref().map_or("null".to_string(), string),
        unreadable.join(","),
        refused.join(","),
        s.unverified(),
        s.inherited_mappings,
        s.dead_mappings,
    );
    out
}

fn process(row: &Row) -> String {
    let (least, most) = row.nr_events();
    let libaio: Vec<String> = row
        .libaio
        .iter()
        .map(|(libaio, path)| {
            let (kind, version) = match libaio {
                Libaio::Upstream => ("upstream", None),
                Libaio::Ours(version) => ("libaio-rs", Some(version.as_str())),
                Libaio::Unknown | Libaio::Other => ("unknown", None),
            };
            format!(
                "{{\"kind\":\"{kind}\",\"version\":{},\"path\":{}}}",
                version.map_or("null".to_string(), string),
                string(path)
            )
        })
        .collect();
    let rings: Vec<String> = row
        .contexts
        .iter()
        .map(|context| {
            format!(
                "{{\"address\":\"{:#x}\",\"inode\":{},\"ring_slots\":{},\"nr_events_min\":{},\"nr_events_max\":{},\"waiting\":{},\"verified\":{}}}",
                context.address,
                context.inode,
                context.ring_slots,
                context.nr_events.0,
                context.nr_events.1,
                number_or_null(context.waiting),
                context.verified
            )
        })
        .collect();
    format!(
        "{{\"pid\":{},\"uid\":{},\"user\":{},\"command\":{},\"contexts\":{},\"ring_slots\":{},\"nr_events_min\":{},\"nr_events_max\":{},\"waiting\":{},\"libaio\":[{}],\"rings\":[{}]}}",
        row.pid,
        row.uid,
        row.user.as_deref().map_or("null".to_string(), string),
        string(&row.command),
        row.contexts.len(),
        row.ring_slots(),
        least,
        most,
        number_or_null(row.waiting()),
        libaio.join(","),
        rings.join(",")
    )
}

fn number_or_null(number: Option<u64>) -> String {
    number.map_or("null".to_string(), |number| number.to_string())
}

/// A JSON string: quotes, backslashes and control characters escaped.
pub fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for character in text.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            control if (control as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", control as u32);
            }
            other => out.push(other),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_escape() {
        assert_eq!(string("a\"b\\c\n\u{1}é"), "\"a\\\"b\\\\c\\n\\u0001é\"");
    }
}
