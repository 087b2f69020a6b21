//! The limits of settings.toml `[server]` against the real server: flood
//! control, the name timeout, the per-address cap (loopback is exempt) and
//! TCP keepalive on accepted connections.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{settings_file, Server, Text};

fn server_with(settings: &str) -> Server {
    let path = settings_file(settings);
    let path = path.to_str().expect("utf-8 path").to_string();
    Server::start_with(&["--config", &path], Stdio::piped())
}

#[test]
fn a_paste_past_the_burst_arrives_whole_in_order_and_slower() {
    // The default burst; a faster rate than the default keeps the test short.
    let server = server_with("[server]\nflood_burst = 20\nflood_rate = 50\n");
    let t = Text::en();
    let mut alice = server.join("alice");
    let mut bob = server.join("bob");
    alice.expect_line(&t.joined("bob"));
    let started = Instant::now();
    let paste: String = (0..50).map(|i| format!("line {i}\n")).collect();
    alice.send_raw(paste.as_bytes());
    for i in 0..50 {
        assert_eq!(bob.line(), format!("alice: line {i}"));
    }
    let took = started.elapsed();
    // 30 lines over the burst at 50 a second take 0.6 s (less one interval).
    assert!(took >= Duration::from_millis(550), "took {took:?}");
    assert_eq!(
        alice.line(),
        t.notice("flood-held", &[]),
        "told once, not per line"
    );
    alice.expect_nothing_pending();
    bob.expect_nothing_pending();
}

#[test]
fn a_member_who_keeps_flooding_is_disconnected_with_a_reason() {
    // Burst 2, so at most 10 lines are held.
    let server = server_with("[server]\nflood_burst = 2\nflood_rate = 1\n");
    let t = Text::en();
    let mut flooder = server.join("flooder");
    let mut bob = server.join("bob");
    flooder.expect_line(&t.joined("bob"));
    let flood: String = (0..100).map(|i| format!("spam {i}\n")).collect();
    flooder.send_raw(flood.as_bytes());
    let seen = flooder.read_to_eof_lossy();
    let told = format!(
        "{}\n{}\n",
        t.notice("flood-held", &[]),
        t.notice("flooded", &[])
    );
    assert_eq!(seen, told);
    assert_eq!(bob.line(), "flooder: spam 0");
    assert_eq!(bob.line(), "flooder: spam 1");
    assert_eq!(bob.line(), t.left("left-flood", "flooder"));
    bob.expect_nothing_pending();
}

#[test]
fn a_connection_that_never_picks_a_name_is_closed() {
    let server = server_with("[server]\nname_timeout_secs = 1\n");
    let mut idle_member = server.join("patient");
    let mut silent = server.connect();
    let started = Instant::now();
    let lines = silent.read_to_eof();
    let timeout = Text::en().notice("name-timeout", &[("seconds", 1.into())]);
    assert_eq!(lines.last(), Some(&timeout));
    assert!(started.elapsed() < Duration::from_secs(5));
    // Members are never kicked for idling.
    idle_member.expect_nothing_pending();
}

#[test]
fn loopback_connections_are_not_capped_per_address() {
    let server = server_with("[server]\nmax_per_ip = 1\n");
    let mut first = server.join("local0");
    let _others: Vec<_> = (1..3).map(|i| server.join(&format!("local{i}"))).collect();
    first.expect_line(&Text::en().joined("local2"));
}

/// The `tr:tm->when` (timer kind, time left in 1/100 s) of the server side of
/// a connection in /proc/net/tcp. Kind 2 with over 10 s left can only be
/// the keepalive timer (a delayed ACK is due within a fraction of a second).
fn server_side_timer(server_port: u16, client_port: u16) -> Option<(u32, u64)> {
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    let port_of = |field: &str| u16::from_str_radix(field.rsplit(':').next()?, 16).ok();
    table.lines().skip(1).find_map(|row| {
        let fields: Vec<&str> = row.split_whitespace().collect();
        let local = port_of(fields.get(1)?)?;
        let remote = port_of(fields.get(2)?)?;
        if local != server_port || remote != client_port {
            return None;
        }
        let (kind, left) = fields.get(5)?.split_once(':')?;
        Some((kind.parse().ok()?, u64::from_str_radix(left, 16).ok()?))
    })
}

#[test]
fn accepted_connections_have_tcp_keepalive() {
    let server = Server::start("en");
    let mut peer = server.join("alice");
    peer.expect_nothing_pending();
    let client_port = peer.stream.local_addr().expect("local addr").port();
    // Until the last reply is acknowledged the retransmit timer (1) shows
    // instead; /proc has no event to wait on, so poll it, bounded.
    let deadline = Instant::now() + common::TIMEOUT;
    let mut timer = None;
    while Instant::now() < deadline {
        timer = server_side_timer(server.addr.port(), client_port);
        if timer.is_some_and(|(kind, _)| kind == 2) {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let (kind, left) = timer.expect("the connection is in /proc/net/tcp");
    assert!(
        kind == 2 && left > 10 * 100,
        "the keepalive timer runs on the server's socket: {kind}:{left}"
    );
}
