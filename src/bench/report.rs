//! The figures of one run: a table for people (labels from the Fluent
//! files) and JSON for machines (written by hand: flat, numbers and null).

use std::fmt::Write as _;
use std::net::SocketAddr;

use super::driver::Observed;
use super::{Plan, Scenario};
use crate::i18n::Localizer;

/// Everything a run measured, derived once from what the driver saw.
#[derive(Debug)]
pub struct Report {
    pub scenario: Scenario,
    pub members: usize,
    pub stalled: usize,
    pub lines_per_member: usize,
    pub size: usize,
    /// The room's servers (several: one bridged room), and the process ids
    /// known for them.
    pub servers: Vec<SocketAddr>,
    pub server_pids: Vec<u32>,
    /// The Redis the bench started for a bridged room.
    pub broker: Option<SocketAddr>,
    pub joined: usize,
    pub join_secs: Option<f64>,
    pub notices_expected: u64,
    pub notices_received: u64,
    pub announce_secs: Option<f64>,
    pub lines_sent: u64,
    /// Deliveries `--mix` members' mute and ignore remove (not expected).
    pub skipped: u64,
    pub expected: u64,
    pub delivered: u64,
    pub lost: u64,
    pub duplicated: u64,
    pub out_of_order: u64,
    pub garbled: u64,
    pub foreign: u64,
    pub chatters_disconnected: usize,
    pub stalled_disconnected: usize,
    /// Stalled members named in a notice after settling (leave notices).
    pub stalled_announced: usize,
    /// Members whose connection the server ended during the run, chatting
    /// or stalled. The bench never leaves and runs without flood control,
    /// so each is a member dropped as too slow (or a server that failed).
    pub members_dropped: usize,
    /// Members a notice said were dropped as too slow (their leave notice,
    /// or the one they were told), seen by a member still reading.
    pub too_slow_announced: usize,
    /// Mean bytes a stalled member found waiting when it read at the end.
    pub stalled_backlog_bytes: Option<f64>,
    pub notices_later: u64,
    pub window_secs: Option<f64>,
    pub deliveries_per_sec: Option<f64>,
    /// p50, p99, p99.9 and max, in microseconds.
    pub latency_us: [Option<u64>; 4],
    pub server_cpu_secs: Option<f64>,
    pub server_cpu_us_per_delivery: Option<f64>,
    pub server_peak_rss_kib: Option<u64>,
    pub server_rss_empty_kib: Option<u64>,
    pub server_rss_joined_kib: Option<u64>,
    pub server_rss_per_member_bytes: Option<f64>,
    pub bench_cpu_secs: Option<f64>,
    pub server_cpu_joining_secs: Option<f64>,
    pub bench_cpu_joining_secs: Option<f64>,
    pub broker_cpu_secs: Option<f64>,
    pub broker_peak_rss_kib: Option<u64>,
}

impl Report {
    pub fn new(
        plan: &Plan,
        servers: Vec<SocketAddr>,
        server_pids: Vec<u32>,
        broker: Option<SocketAddr>,
        seen: Observed,
    ) -> Self {
        let counts = seen.counts;
        let window_secs = seen.window.map(|window| window.as_secs_f64());
        let delivered = counts.delivered;
        let per_delivery = |value: f64| (delivered > 0).then(|| value / delivered as f64);
        let latency = &seen.latency;
        let rss_per_member = match (seen.server_rss_empty, seen.server_rss_joined) {
            (Some(empty), Some(joined)) if plan.members > 0 => {
                Some((joined as f64 - empty as f64) * 1024.0 / plan.members as f64)
            }
            _ => None,
        };
        Report {
            scenario: plan.scenario,
            members: plan.members,
            stalled: plan.stalled(),
            lines_per_member: plan.lines_per_chatter(),
            size: plan.size,
            servers,
            server_pids,
            broker,
            joined: seen.joined,
            join_secs: seen.join_time.map(|time| time.as_secs_f64()),
            notices_expected: seen.notices_expected,
            notices_received: seen.notices_settled,
            announce_secs: seen.announce_time.map(|time| time.as_secs_f64()),
            lines_sent: seen.lines_sent,
            skipped: plan.skipped_deliveries(),
            expected: seen.expected,
            delivered,
            lost: seen.expected.saturating_sub(delivered),
            duplicated: counts.duplicated,
            out_of_order: counts.out_of_order,
            garbled: counts.garbled,
            foreign: counts.foreign,
            chatters_disconnected: seen.chatters_disconnected,
            stalled_disconnected: seen.stalled_disconnected,
            stalled_announced: seen.stalled_announced,
            members_dropped: seen.chatters_disconnected + seen.stalled_disconnected,
            too_slow_announced: seen.too_slow_announced,
            stalled_backlog_bytes: (plan.stalled() > 0)
                .then(|| seen.stalled_backlog as f64 / plan.stalled() as f64),
            notices_later: seen.notices_later,
            window_secs,
            deliveries_per_sec: window_secs
                .filter(|secs| *secs > 0.0 && delivered > 0)
                .map(|secs| delivered as f64 / secs),
            latency_us: [
                latency.percentile(0.5),
                latency.percentile(0.99),
                latency.percentile(0.999),
                latency.max(),
            ],
            server_cpu_secs: seen.server_cpu,
            server_cpu_us_per_delivery: seen.server_cpu.and_then(|cpu| per_delivery(cpu * 1e6)),
            server_peak_rss_kib: seen.server_peak_rss,
            server_rss_empty_kib: seen.server_rss_empty,
            server_rss_joined_kib: seen.server_rss_joined,
            server_rss_per_member_bytes: rss_per_member,
            bench_cpu_secs: seen.bench_cpu,
            server_cpu_joining_secs: seen.server_cpu_joining,
            bench_cpu_joining_secs: seen.bench_cpu_joining,
            broker_cpu_secs: seen.broker_cpu,
            broker_peak_rss_kib: seen.broker_peak_rss,
        }
    }

    /// Every expected line arrived once, in order, intact, and no chatting
    /// member was disconnected.
    pub fn ok(&self) -> bool {
        self.lost == 0
            && self.duplicated == 0
            && self.out_of_order == 0
            && self.garbled == 0
            && self.chatters_disconnected == 0
    }

    /// The table, in the localizer's language.
    pub fn table(&self, localizer: &Localizer) -> String {
        let unknown = localizer.tr("bench-unknown", &[]);
        let text = |value: Option<String>| value.unwrap_or_else(|| unknown.clone());
        let fixed = |value: Option<f64>, decimals: usize| {
            text(
                value
                    .filter(|v| v.is_finite())
                    .map(|v| format!("{v:.decimals$}")),
            )
        };
        let mib = |kib: Option<u64>| fixed(kib.map(|kib| kib as f64 / 1024.0), 1);
        let millis = |micros: Option<u64>| fixed(micros.map(|us| us as f64 / 1000.0), 3);
        let chat = self.scenario != Scenario::Idle;

        let mut rows: Vec<(&str, String)> = vec![
            (
                "bench-row-joined",
                format!("{} / {}", self.joined, self.members),
            ),
            ("bench-row-join-time", fixed(self.join_secs, 3)),
            (
                "bench-row-announced",
                format!("{} / {}", self.notices_received, self.notices_expected),
            ),
            ("bench-row-announce-time", fixed(self.announce_secs, 3)),
            (
                "bench-row-server-cpu-joining",
                fixed(self.server_cpu_joining_secs, 2),
            ),
            (
                "bench-row-bench-cpu-joining",
                fixed(self.bench_cpu_joining_secs, 2),
            ),
        ];
        if chat {
            rows.extend([
                ("bench-row-sent", self.lines_sent.to_string()),
                ("bench-row-skipped", self.skipped.to_string()),
                ("bench-row-expected", self.expected.to_string()),
                ("bench-row-delivered", self.delivered.to_string()),
                ("bench-row-lost", self.lost.to_string()),
                ("bench-row-duplicated", self.duplicated.to_string()),
                ("bench-row-out-of-order", self.out_of_order.to_string()),
                ("bench-row-garbled", self.garbled.to_string()),
                ("bench-row-foreign", self.foreign.to_string()),
                (
                    "bench-row-disconnected",
                    self.chatters_disconnected.to_string(),
                ),
                ("bench-row-dropped", self.members_dropped.to_string()),
                (
                    "bench-row-too-slow-announced",
                    self.too_slow_announced.to_string(),
                ),
            ]);
        }
        if self.stalled > 0 {
            rows.extend([
                (
                    "bench-row-stalled",
                    format!("{} / {}", self.stalled_disconnected, self.stalled),
                ),
                (
                    "bench-row-stalled-announced",
                    format!("{} / {}", self.stalled_announced, self.stalled),
                ),
                (
                    "bench-row-stalled-backlog",
                    fixed(self.stalled_backlog_bytes.map(|b| b / 1024.0), 1),
                ),
                ("bench-row-later-notices", self.notices_later.to_string()),
            ]);
        }
        if chat {
            let latency = self.latency_us.map(millis).join(" / ");
            rows.extend([
                ("bench-row-window", fixed(self.window_secs, 3)),
                ("bench-row-rate", fixed(self.deliveries_per_sec, 0)),
                ("bench-row-latency", latency),
                ("bench-row-server-cpu", fixed(self.server_cpu_secs, 2)),
                (
                    "bench-row-cpu-per-delivery",
                    fixed(self.server_cpu_us_per_delivery, 3),
                ),
            ]);
        }
        rows.extend([
            ("bench-row-peak-rss", mib(self.server_peak_rss_kib)),
            ("bench-row-rss-empty", mib(self.server_rss_empty_kib)),
            ("bench-row-rss-joined", mib(self.server_rss_joined_kib)),
        ]);
        if self.scenario == Scenario::Idle {
            let kib = self.server_rss_per_member_bytes.map(|bytes| bytes / 1024.0);
            rows.push(("bench-row-rss-per-member", fixed(kib, 2)));
        }
        if chat {
            rows.push(("bench-row-bench-cpu", fixed(self.bench_cpu_secs, 2)));
        }
        if self.broker.is_some() {
            if chat {
                rows.push(("bench-row-broker-cpu", fixed(self.broker_cpu_secs, 2)));
            }
            rows.push(("bench-row-broker-peak-rss", mib(self.broker_peak_rss_kib)));
        }

        let labels: Vec<(String, String)> = rows
            .into_iter()
            .map(|(id, value)| (localizer.tr(id, &[]), value))
            .collect();
        let width = labels
            .iter()
            .map(|(l, _)| display_width(l))
            .max()
            .unwrap_or(0);
        let list = |items: Vec<String>| match items.is_empty() {
            true => unknown.clone(),
            false => items.join(", "),
        };
        let addrs = list(self.servers.iter().map(|a| a.to_string()).collect());
        let pids = list(self.server_pids.iter().map(|p| p.to_string()).collect());
        let mut out = if self.servers.len() == 1 && self.broker.is_none() {
            localizer.tr(
                "bench-report-title",
                &[
                    ("scenario", self.scenario.name().into()),
                    ("members", self.members.to_string().into()),
                    ("addr", addrs.into()),
                    ("pid", pids.into()),
                ],
            )
        } else {
            let broker = text(self.broker.map(|addr| addr.to_string()));
            localizer.tr(
                "bench-report-title-bridged",
                &[
                    ("scenario", self.scenario.name().into()),
                    ("members", self.members.to_string().into()),
                    ("servers", self.servers.len().into()),
                    ("addrs", addrs.into()),
                    ("pids", pids.into()),
                    ("broker", broker.into()),
                ],
            )
        };
        out.push('\n');
        for (label, value) in labels {
            let pad = width - display_width(&label);
            let _ = writeln!(out, "  {label}{:pad$}  {value}", "");
        }
        let verdict = if self.ok() {
            "bench-verdict-ok"
        } else {
            "bench-verdict-failed"
        };
        out.push_str(&localizer.tr(verdict, &[]));
        out.push('\n');
        out
    }

    /// One JSON object on one line; unknown figures are `null`.
    pub fn json(&self) -> String {
        let mut json = Json::default();
        json.string("scenario", self.scenario.name());
        json.int("members", Some(self.members as u64));
        json.int("stalled", Some(self.stalled as u64));
        json.int("lines_per_member", Some(self.lines_per_member as u64));
        json.int("size", Some(self.size as u64));
        let first = self.servers.first().map(|addr| addr.to_string());
        json.string("server", first.as_deref().unwrap_or(""));
        json.int(
            "server_pid",
            self.server_pids.first().copied().map(u64::from),
        );
        json.int("servers", Some(self.servers.len() as u64));
        let addrs: Vec<String> = self.servers.iter().map(|a| a.to_string()).collect();
        json.string("server_addrs", &addrs.join(" "));
        let pids: Vec<String> = self.server_pids.iter().map(|p| p.to_string()).collect();
        json.string("server_pids", &pids.join(" "));
        match self.broker {
            Some(addr) => json.string("broker", &addr.to_string()),
            None => json.raw("broker", "null"),
        }
        json.int("joined", Some(self.joined as u64));
        json.float("join_secs", self.join_secs);
        json.int("notices_expected", Some(self.notices_expected));
        json.int("notices_received", Some(self.notices_received));
        json.float("announce_secs", self.announce_secs);
        json.int("lines_sent", Some(self.lines_sent));
        json.int("skipped", Some(self.skipped));
        json.int("expected", Some(self.expected));
        json.int("delivered", Some(self.delivered));
        json.int("lost", Some(self.lost));
        json.int("duplicated", Some(self.duplicated));
        json.int("out_of_order", Some(self.out_of_order));
        json.int("garbled", Some(self.garbled));
        json.int("foreign", Some(self.foreign));
        json.int(
            "chatters_disconnected",
            Some(self.chatters_disconnected as u64),
        );
        json.int(
            "stalled_disconnected",
            Some(self.stalled_disconnected as u64),
        );
        json.int("stalled_announced", Some(self.stalled_announced as u64));
        json.int("members_dropped", Some(self.members_dropped as u64));
        json.int("too_slow_announced", Some(self.too_slow_announced as u64));
        json.float("stalled_backlog_bytes", self.stalled_backlog_bytes);
        json.int("notices_later", Some(self.notices_later));
        json.float("window_secs", self.window_secs);
        json.float("deliveries_per_sec", self.deliveries_per_sec);
        let [p50, p99, p999, max] = self.latency_us;
        json.int("latency_p50_us", p50);
        json.int("latency_p99_us", p99);
        json.int("latency_p999_us", p999);
        json.int("latency_max_us", max);
        json.float("server_cpu_secs", self.server_cpu_secs);
        json.float(
            "server_cpu_us_per_delivery",
            self.server_cpu_us_per_delivery,
        );
        json.int("server_peak_rss_kib", self.server_peak_rss_kib);
        json.int("server_rss_empty_kib", self.server_rss_empty_kib);
        json.int("server_rss_joined_kib", self.server_rss_joined_kib);
        json.float(
            "server_rss_per_member_bytes",
            self.server_rss_per_member_bytes,
        );
        json.float("bench_cpu_secs", self.bench_cpu_secs);
        json.float("server_cpu_joining_secs", self.server_cpu_joining_secs);
        json.float("bench_cpu_joining_secs", self.bench_cpu_joining_secs);
        json.float("broker_cpu_secs", self.broker_cpu_secs);
        json.int("broker_peak_rss_kib", self.broker_peak_rss_kib);
        json.raw("ok", if self.ok() { "true" } else { "false" });
        json.finish()
    }
}

/// Columns a label takes in a terminal: wide (CJK, fullwidth) characters
/// take two.
fn display_width(text: &str) -> usize {
    text.chars()
        .map(|c| match c {
            '\u{1100}'..='\u{115F}'
            | '\u{2E80}'..='\u{A4CF}'
            | '\u{AC00}'..='\u{D7A3}'
            | '\u{F900}'..='\u{FAFF}'
            | '\u{FE30}'..='\u{FE4F}'
            | '\u{FF00}'..='\u{FF60}'
            | '\u{FFE0}'..='\u{FFE6}' => 2,
            _ => 1,
        })
        .sum()
}

/// A flat JSON object, built field by field. Keys and our string values
/// (scenario names, addresses) need no escaping beyond quotes and
/// backslashes, which are escaped anyway.
#[derive(Default)]
struct Json {
    out: String,
}

impl Json {
    fn raw(&mut self, key: &str, value: &str) {
        self.out.push(if self.out.is_empty() { '{' } else { ',' });
        let _ = write!(self.out, "\"{key}\":{value}");
    }

    fn string(&mut self, key: &str, value: &str) {
        let escaped: String = value
            .chars()
            .flat_map(|c| match c {
                '"' | '\\' => vec!['\\', c],
                c if c.is_control() => vec![],
                c => vec![c],
            })
            .collect();
        self.raw(key, &format!("\"{escaped}\""));
    }

    fn int(&mut self, key: &str, value: Option<u64>) {
        match value {
            Some(value) => self.raw(key, &value.to_string()),
            None => self.raw(key, "null"),
        }
    }

    fn float(&mut self, key: &str, value: Option<f64>) {
        match value.filter(|v| v.is_finite()) {
            Some(value) => self.raw(key, &format!("{value:.6}")),
            None => self.raw(key, "null"),
        }
    }

    fn finish(mut self) -> String {
        if self.out.is_empty() {
            self.out.push('{');
        }
        self.out.push('}');
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_flat_and_nulls_the_unknown() {
        let mut json = Json::default();
        json.string("scenario", "bu\"rst");
        json.int("pid", None);
        json.float("rate", Some(1.5));
        json.float("nan", Some(f64::NAN));
        json.raw("ok", "true");
        assert_eq!(
            json.finish(),
            r#"{"scenario":"bu\"rst","pid":null,"rate":1.500000,"nan":null,"ok":true}"#
        );
    }

    #[test]
    fn wide_characters_take_two_columns() {
        assert_eq!(display_width("lost"), 4);
        assert_eq!(display_width("丢失"), 4);
        assert_eq!(display_width("（µs）"), 6);
    }
}
