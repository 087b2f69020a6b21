//! The server's console and lifecycle (PROTOCOL.md section 3): administrator
//! lines, shutdown by empty line or signal, a detached or missing console,
//! and the log on stdout.

mod common;

use std::process::Stdio;

use rustix::process::Signal;

use common::{Server, Text};

#[test]
fn console_lines_reach_every_member_as_the_administrator() {
    let mut server = Server::start("en");
    let t = Text::en();
    let mut alice = server.join("alice");
    let mut bob = server.join("bob");
    alice.expect_line(&t.joined("bob"));
    server.console("maintenance at noon");
    let admin = format!("{}: maintenance at noon", t.tr("admin-name", &[]));
    assert_eq!(alice.line(), admin, "the shape of a chat line");
    assert_eq!(bob.line(), t.admin("maintenance at noon"));
    server.console("escape \x1b[2Jremoved");
    assert_eq!(alice.line(), t.admin("escape removed"));
}

#[test]
fn an_empty_console_line_closes_the_room_for_every_connection() {
    let mut server = Server::start("en");
    let t = Text::en();
    let mut alice = server.join("alice");
    let mut bob = server.join("bob");
    alice.expect_line(&t.joined("bob"));
    let mut choosing = server.connect();
    choosing.line();
    choosing.line();
    server.console("");
    let closed = t.notice("room-closed", &[]);
    for peer in [&mut alice, &mut bob, &mut choosing] {
        assert_eq!(peer.read_to_eof(), [closed.as_str()]);
    }
    server.log.expect(&t.tr("room-closed", &[]));
    assert_eq!(server.wait_exit().code(), Some(0));
}

#[test]
fn shutdown_flushes_what_was_queued_before_it() {
    let mut server = Server::start_unthrottled("en");
    let t = Text::en();
    let mut alice = server.join("alice");
    let mut bob = server.join("bob");
    alice.expect_line(&t.joined("bob"));
    for i in 0..500 {
        alice.send(&format!("line {i}"));
    }
    alice.send("/list");
    alice.expect_line(&t.members(&["alice", "bob"]));
    server.console("");
    let lines = bob.read_to_eof();
    let expected: Vec<String> = (0..500)
        .map(|i| format!("alice: line {i}"))
        .chain([t.notice("room-closed", &[])])
        .collect();
    assert_eq!(lines, expected);
    assert_eq!(server.wait_exit().code(), Some(0));
}

#[test]
fn sigterm_and_sigint_close_the_room_the_same_way() {
    for signal in [Signal::TERM, Signal::INT] {
        let mut server = Server::start("zh-CN");
        let t = Text::zh();
        let mut ming = server.join("小明");
        server.signal(signal);
        assert_eq!(ming.read_to_eof(), [t.notice("room-closed", &[])]);
        server.log.expect(&t.tr("room-closed", &[]));
        assert_eq!(server.wait_exit().code(), Some(0), "{signal:?}");
    }
}

#[test]
fn a_stdin_that_cannot_be_watched_leaves_the_server_serving() {
    let mut server = Server::start_with(&["--lang", "en"], Stdio::null());
    let t = Text::en();
    server.log.expect_line(&t.tr("console-unavailable", &[]));
    let mut alice = server.join("alice");
    let mut bob = server.join("bob");
    alice.expect_line(&t.joined("bob"));
    bob.send("still serving");
    assert_eq!(alice.line(), "bob: still serving");
    server.signal(Signal::TERM);
    assert_eq!(server.wait_exit().code(), Some(0));
}

#[test]
fn console_eof_detaches_the_console_and_keeps_serving() {
    let mut server = Server::start("en");
    let t = Text::en();
    let mut alice = server.join("alice");
    server.console("last words");
    assert_eq!(alice.line(), t.admin("last words"));
    server.close_stdin();
    server.log.expect_line(&t.tr("console-detached", &[]));
    let mut bob = server.join("bob");
    alice.expect_line(&t.joined("bob"));
    bob.send("anyone?");
    assert_eq!(alice.line(), "bob: anyone?");
    server.signal(Signal::TERM);
    assert_eq!(server.wait_exit().code(), Some(0));
}

#[test]
fn the_log_tells_connections_joins_messages_and_leaves() {
    let mut server = Server::start("en");
    let t = Text::en();
    let mut alice = server.join("alice");
    let connected = t.pattern("log-connected", &[("id", 3.into())], &["addr"]);
    let addr = loop {
        let line = server.log.next_line().expect("the connection is logged");
        if let Some(found) = connected.captures(&line) {
            break found[0].to_string();
        }
    };
    assert_eq!(addr, alice.stream.local_addr().expect("addr").to_string());
    server.log.expect_line(&t.joined("alice"));
    let bob = server.join("bob");
    alice.expect_line(&t.joined("bob"));
    alice.send("hello log");
    server.log.expect_line("alice: hello log");
    bob.shutdown_write();
    server.log.expect_line(&t.left("left-quit", "bob"));
    let seen = server.log.seen().join("\n");
    assert!(!seen.contains(['\u{2068}', '\u{2069}']));
}
