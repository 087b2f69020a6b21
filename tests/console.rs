//! The server's console and lifecycle (PROTOCOL.md section 3): administrator
//! lines, shutdown by empty line or signal, a detached or missing console,
//! and the log on stdout.

mod common;

use std::process::Stdio;

use rustix::process::Signal;

use common::Server;

#[test]
fn console_lines_reach_every_member_as_the_administrator() {
    let mut server = Server::start("en");
    let mut alice = server.join("alice");
    let mut bob = server.join("bob");
    alice.expect("bob joined");
    server.console("maintenance at noon");
    assert_eq!(alice.line(), "Administrator: maintenance at noon");
    assert_eq!(bob.line(), "Administrator: maintenance at noon");
    server.console("escape \x1b[2Jremoved");
    assert_eq!(alice.line(), "Administrator: escape removed");
}

#[test]
fn an_empty_console_line_closes_the_room_for_every_connection() {
    let mut server = Server::start("en");
    let mut alice = server.join("alice");
    let mut bob = server.join("bob");
    alice.expect("bob joined");
    let mut choosing = server.connect();
    choosing.line();
    choosing.line();
    server.console("");
    for peer in [&mut alice, &mut bob, &mut choosing] {
        assert_eq!(
            peer.read_to_eof(),
            ["* The chat room was closed by the administrator."]
        );
    }
    server
        .log
        .expect("The chat room was closed by the administrator.");
    assert_eq!(server.wait_exit().code(), Some(0));
}

#[test]
fn shutdown_flushes_what_was_queued_before_it() {
    let mut server = Server::start_unthrottled("en");
    let mut alice = server.join("alice");
    let mut bob = server.join("bob");
    alice.expect("bob joined");
    for i in 0..500 {
        alice.send(&format!("line {i}"));
    }
    alice.send("/list");
    alice.expect("2 people here");
    server.console("");
    let lines = bob.read_to_eof();
    let expected: Vec<String> = (0..500)
        .map(|i| format!("alice: line {i}"))
        .chain(["* The chat room was closed by the administrator.".to_string()])
        .collect();
    assert_eq!(lines, expected);
    assert_eq!(server.wait_exit().code(), Some(0));
}

#[test]
fn sigterm_and_sigint_close_the_room_the_same_way() {
    for signal in [Signal::TERM, Signal::INT] {
        let mut server = Server::start("zh-CN");
        let mut ming = server.join("小明");
        server.signal(signal);
        assert_eq!(ming.read_to_eof(), ["* 管理员已关闭聊天室。"]);
        server.log.expect("管理员已关闭聊天室。");
        assert_eq!(server.wait_exit().code(), Some(0), "{signal:?}");
    }
}

#[test]
fn a_stdin_that_cannot_be_watched_leaves_the_server_serving() {
    let mut server = Server::start_with(&["--lang", "en"], Stdio::null());
    let line = server.log.expect("No console");
    assert!(line.contains("SIGINT"), "{line}");
    let mut alice = server.join("alice");
    let mut bob = server.join("bob");
    alice.expect("bob joined");
    bob.send("still serving");
    assert_eq!(alice.line(), "bob: still serving");
    server.signal(Signal::TERM);
    assert_eq!(server.wait_exit().code(), Some(0));
}

#[test]
fn console_eof_detaches_the_console_and_keeps_serving() {
    let mut server = Server::start("en");
    let mut alice = server.join("alice");
    server.console("last words");
    assert_eq!(alice.line(), "Administrator: last words");
    server.close_stdin();
    server.log.expect("end of input");
    let mut bob = server.join("bob");
    alice.expect("bob joined");
    bob.send("anyone?");
    assert_eq!(alice.line(), "bob: anyone?");
    server.signal(Signal::TERM);
    assert_eq!(server.wait_exit().code(), Some(0));
}

#[test]
fn the_log_tells_connections_joins_messages_and_leaves() {
    let mut server = Server::start("en");
    let mut alice = server.join("alice");
    let connected = server.log.expect("Connection 3 from 127.0.0.1:");
    assert!(connected.ends_with('.'), "{connected}");
    server.log.expect("* alice joined the room.");
    let bob = server.join("bob");
    alice.expect("bob joined");
    alice.send("hello log");
    server.log.expect("alice: hello log");
    bob.shutdown_write();
    server.log.expect("* bob left the room.");
    let seen = server.log.seen().join("\n");
    assert!(!seen.contains(['\u{2068}', '\u{2069}']));
}
