//! The server as netcat sees it: PROTOCOL.md section 2, bullet by bullet,
//! against the real binary on a loopback port.

mod common;

use std::io::Write;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::{settings_file, stalled_stream, Peer, Server, Text};

fn server_with(settings: &str) -> Server {
    let path = settings_file(settings);
    let path = path.to_str().expect("utf-8 path").to_string();
    Server::start_with(&["--config", &path], Stdio::piped())
}

#[test]
fn greeting_then_prompt_then_welcome_with_count() {
    let server = Server::start("en");
    let t = Text::en();
    let mut alice = server.connect();
    assert_eq!(alice.line(), t.notice("greeting", &[]));
    assert_eq!(alice.line(), t.notice("name-prompt", &[]));
    alice.send("alice");
    assert_eq!(alice.line(), t.welcome("alice", 0));
    let mut bob = server.join("bob");
    assert_eq!(alice.line(), t.joined("bob"));
    bob.expect_nothing_pending();
    let mut carol = server.connect();
    carol.send("carol");
    carol.expect_line(&t.welcome("carol", 2));
}

#[test]
fn rejected_names_are_explained_and_prompted_again() {
    let server = Server::start("en");
    let t = Text::en();
    let _alice = server.join("Alice");
    let mut peer = server.connect();
    peer.line();
    let prompt = peer.line();
    let bad = t.notice("name-bad-characters", &[]);
    let cases: [(&[u8], String); 8] = [
        (b"ALICE\n", t.named("name-taken", "ALICE")),
        (
            b"administrator\n",
            t.named("name-reserved", "administrator"),
        ),
        ("管理员\n".as_bytes(), t.named("name-reserved", "管理员")),
        (b"two words\n", bad.clone()),
        (b"star*\n", bad.clone()),
        (b"al\x1b[31mice\n", bad.clone()),
        ("zero\u{200b}width\n".as_bytes(), bad),
        (
            b"abcdefghijklmnopqrstuvwxyz1234567\n",
            t.notice("name-too-long", &[("max", 32.into())]),
        ),
    ];
    for (name, reason) in cases {
        peer.send_raw(name);
        assert_eq!(peer.line(), reason, "{name:?}");
        assert_eq!(peer.line(), prompt, "the same prompt again");
    }
    peer.send("小明");
    assert_eq!(peer.line(), t.welcome("小明", 1));
}

#[test]
fn commands_before_joining() {
    let server = Server::start("en");
    let t = Text::en();
    let mut peer = server.connect();
    peer.line();
    let prompt = peer.line();
    peer.send("/help");
    for line in t.notice_lines("help", &[]) {
        assert_eq!(peer.line(), line);
    }
    assert_eq!(peer.line(), prompt);
    peer.send("/list");
    assert_eq!(
        peer.line(),
        t.notice("join-first", &[("command", "/list".into())])
    );
    assert_eq!(peer.line(), prompt);
    peer.send("/quit");
    assert_eq!(peer.line(), t.notice("bye", &[]));
    assert_eq!(peer.read_line(), None);
}

#[test]
fn empty_line_or_eof_at_the_prompt_ends_quietly() {
    let server = Server::start("en");
    let mut watcher = server.join("watcher");
    let mut peer = server.connect();
    peer.line();
    peer.line();
    peer.send("");
    assert!(peer.read_to_eof().is_empty());
    let peer = server.connect();
    peer.shutdown_write();
    let mut peer = peer;
    assert_eq!(peer.read_to_eof().len(), 2, "greeting and prompt only");
    watcher.expect_nothing_pending();
}

#[test]
fn messages_reach_everyone_else_with_the_sender_name_and_no_echo() {
    let server = Server::start("en");
    let t = Text::en();
    let mut alice = server.join("alice");
    let mut bob = server.join("bob");
    let mut carol = server.join("carol");
    alice.expect_line(&t.joined("carol"));
    bob.expect_line(&t.joined("carol"));
    alice.send("hello room");
    assert_eq!(bob.line(), "alice: hello room");
    assert_eq!(carol.line(), "alice: hello room");
    alice.expect_nothing_pending();
}

#[test]
fn members_that_have_not_joined_hear_nothing() {
    let server = Server::start("en");
    let mut alice = server.join("alice");
    let mut lurker = server.connect();
    lurker.line();
    lurker.line();
    alice.send("secret");
    alice.expect_nothing_pending();
    lurker.send("lurker");
    assert_eq!(lurker.line(), Text::en().welcome("lurker", 1));
    // What was said before it joined comes once, as history (the
    // `history` setting), not as live traffic.
    let t = Text::en();
    assert_eq!(lurker.line(), t.notice("history", &[("count", 1.into())]));
    let past = lurker.line();
    assert!(
        past.starts_with('[') && past.ends_with("] alice: secret"),
        "{past}"
    );
    lurker.expect_nothing_pending();
}

#[test]
fn empty_lines_are_ignored_and_double_slash_escapes() {
    let server = Server::start("en");
    let mut alice = server.join("alice");
    let mut bob = server.join("bob");
    alice.expect_line(&Text::en().joined("bob"));
    alice.send_raw(b"\n\r\n\n");
    alice.send("//etc/passwd is a path");
    assert_eq!(bob.line(), "alice: /etc/passwd is a path");
}

#[test]
fn lines_are_cleaned_before_anyone_sees_them() {
    let server = Server::start("en");
    let mut alice = server.join("alice");
    let mut bob = server.join("bob");
    alice.expect_line(&Text::en().joined("bob"));
    let cases: [(&[u8], &str); 8] = [
        (b"hi\x1b[2Jthere\n", "hithere"),
        (b"crlf line\r\n", "crlf line"),
        (b"bad \xff utf8\n", "bad \u{fffd} utf8"),
        (b"\x1b]0;evil title\x07title gone\n", "title gone"),
        (
            b"\x1b]8;;http://x.example/\x1b\\link\x1b]8;;\x1b\\ text\n",
            "link text",
        ),
        (b"tab\there\n", "tab here"),
        ("bidi \u{202e}olleh\u{202c}\n".as_bytes(), "bidi olleh"),
        (b"nul\x00 and bell\x07\n", "nul and bell"),
    ];
    for (raw, clean) in cases {
        alice.send_raw(raw);
        assert_eq!(bob.line(), format!("alice: {clean}"), "{raw:?}");
    }
    // A multi-byte character split across two writes arrives whole.
    alice.send_raw("split 你".as_bytes().split_at(8).0);
    alice.stream.flush().expect("flush");
    alice.send_raw(&"split 你\n".as_bytes()[8..]);
    assert_eq!(bob.line(), "alice: split 你");
}

#[test]
fn bytes_after_the_last_newline_are_dropped_at_close() {
    let server = Server::start("en");
    let mut alice = server.join("alice");
    let mut bob = server.join("bob");
    let t = Text::en();
    alice.expect_line(&t.joined("bob"));
    bob.send_raw(b"complete\nincomplete");
    bob.shutdown_write();
    assert_eq!(alice.line(), "bob: complete");
    assert_eq!(alice.line(), t.left("left-quit", "bob"));
}

#[test]
fn an_over_long_line_is_refused_and_the_connection_stays() {
    let server = server_with("[server]\nmax_line_bytes = 16\nmax_queue_bytes = 65536\n");
    let mut alice = server.join("alice");
    let mut bob = server.join("bob");
    let t = Text::en();
    alice.expect_line(&t.joined("bob"));
    alice.send(&"x".repeat(16));
    assert_eq!(bob.line(), format!("alice: {}", "x".repeat(16)));
    alice.send_raw(format!("{}\r\n", "y".repeat(16)).as_bytes());
    assert_eq!(bob.line(), format!("alice: {}", "y".repeat(16)));
    alice.send(&"z".repeat(100));
    assert_eq!(
        alice.line(),
        t.notice("line-too-long", &[("max", 16.into())])
    );
    alice.send("still here");
    assert_eq!(bob.line(), "alice: still here");
}

#[test]
fn help_list_and_unknown_commands_answer_the_sender_only() {
    let server = Server::start("en");
    let t = Text::en();
    let mut alice = server.join("alice");
    let mut bob = server.join("bob");
    alice.expect_line(&t.joined("bob"));
    for command in ["/list", "/ls", "/who"] {
        bob.send(command);
        assert_eq!(bob.line(), t.members(&["alice", "bob"]));
    }
    bob.send("/help");
    let expected = t.notice_lines("help", &[]);
    let help: Vec<String> = expected.iter().map(|_| bob.line()).collect();
    assert_eq!(help, expected);
    // The commands are names, not prose: the help must name each one.
    for command in ["/help", "/list", "/msg", "/quit", "//"] {
        assert!(
            help.iter().any(|l| l.contains(command)),
            "help lacks {command}"
        );
    }
    bob.send("/dance");
    assert_eq!(
        bob.line(),
        t.notice("unknown-command", &[("command", "/dance".into())])
    );
    alice.expect_nothing_pending();
}

#[test]
fn private_messages_reach_only_their_target() {
    let server = Server::start("en");
    let t = Text::en();
    let mut alice = server.join("alice");
    let mut bob = server.join("Bob");
    let mut carol = server.join("carol");
    alice.expect_line(&t.joined("carol"));
    bob.expect_line(&t.joined("carol"));
    alice.send("/msg bob meet at noon");
    assert_eq!(bob.line(), t.private("alice", "meet at noon"));
    assert_eq!(alice.line(), t.named("private-sent", "Bob"));
    alice.send("@carol psst");
    assert_eq!(carol.line(), t.private("alice", "psst"));
    assert_eq!(alice.line(), t.named("private-sent", "carol"));
    alice.send("@nobody hi");
    assert_eq!(alice.line(), t.named("no-such-member", "nobody"));
    bob.expect_nothing_pending();
    carol.expect_nothing_pending();
}

#[test]
fn every_departure_is_announced_exactly_once() {
    let server = Server::start("en");
    let t = Text::en();
    let mut watcher = server.join("watcher");
    let mut quitter = server.join("quitter");
    quitter.send("/quit");
    assert_eq!(quitter.line(), t.notice("bye", &[]));
    assert_eq!(quitter.read_line(), None);
    let closer = server.join("closer");
    drop(closer);
    let resetter = server.join("resetter");
    resetter.reset();
    let expected = [
        t.joined("quitter"),
        t.left("left-quit", "quitter"),
        t.joined("closer"),
        t.left("left-quit", "closer"),
        t.joined("resetter"),
    ];
    for line in expected {
        assert_eq!(watcher.line(), line);
    }
    // A reset may reach the server as a reset or, after a FIN, as a quit.
    let left = watcher.line();
    assert!(
        left == t.left("left-lost", "resetter") || left == t.left("left-quit", "resetter"),
        "{left}"
    );
    watcher.expect_nothing_pending();
}

#[test]
fn all_members_see_the_same_order() {
    let server = Server::start_unthrottled("en");
    let t = Text::en();
    let mut a = server.join("a");
    let mut b = server.join("b");
    let mut watchers: Vec<Peer> = (0..3).map(|i| server.join(&format!("w{i}"))).collect();
    a.expect_line(&t.joined("w2"));
    b.expect_line(&t.joined("w2"));
    for w in 0..watchers.len() {
        for later in w + 1..watchers.len() {
            watchers[w].expect_line(&t.joined(&format!("w{later}")));
        }
    }
    let writer_a = thread::spawn(move || {
        for i in 0..200 {
            a.send(&format!("a{i}"));
        }
        a
    });
    let writer_b = thread::spawn(move || {
        for i in 0..200 {
            b.send(&format!("b{i}"));
        }
        b
    });
    let mut orders = Vec::new();
    for watcher in &mut watchers {
        let lines: Vec<String> = (0..400).map(|_| watcher.line()).collect();
        for sender in ["a", "b"] {
            let own: Vec<&String> = lines
                .iter()
                .filter(|l| l.starts_with(&format!("{sender}: ")))
                .collect();
            let expected: Vec<String> =
                (0..200).map(|i| format!("{sender}: {sender}{i}")).collect();
            assert_eq!(own.len(), 200);
            assert!(
                own.iter().zip(&expected).all(|(got, want)| *got == want),
                "{sender} out of order"
            );
        }
        orders.push(lines);
    }
    assert!(
        orders.windows(2).all(|pair| pair[0] == pair[1]),
        "members saw different orders"
    );
    let _ = writer_a.join();
    let _ = writer_b.join();
}

#[test]
fn a_full_room_turns_the_next_connection_away() {
    let server = server_with("[server]\nmax_clients = 2\n");
    let _alice = server.join("alice");
    let mut waiting = server.connect();
    waiting.line();
    let mut third = server.connect();
    let t = Text::en();
    assert_eq!(third.line(), t.notice("room-full", &[("max", 2.into())]));
    assert_eq!(third.read_line(), None);
    waiting.send("bob");
    waiting.expect_welcome("bob");
}

#[test]
fn a_member_that_stops_reading_is_dropped_and_the_others_keep_receiving() {
    let server =
        server_with("[server]\nmax_line_bytes = 1024\nmax_queue_bytes = 65536\nflood_rate = 0\n");
    let mut talker = server.join("talker");
    let mut reader = server.join("reader");
    let t = Text::en();
    let mut stalled = Peer::from_stream(stalled_stream(server.addr));
    stalled.send("stalled");
    stalled.expect_welcome("stalled");
    talker.expect_line(&t.joined("stalled"));
    reader.expect_line(&t.joined("stalled"));
    let dropped = t.left("left-too-slow", "stalled");
    let payload = "p".repeat(1000);
    // Bounded: 40 MB at most, far beyond what the kernel buffers absorb.
    const MAX_LINES: usize = 40_000;
    // The reader reads on after the drop until the talker's last line: a
    // member that stopped reading while the room waited for it would be
    // dropped too.
    let seen_drop = Arc::new(AtomicBool::new(false));
    let reader_thread = thread::spawn({
        let seen_drop = Arc::clone(&seen_drop);
        move || {
            let deadline = Instant::now() + Duration::from_secs(60);
            let mut received = 0;
            loop {
                assert!(Instant::now() < deadline, "stalled member never dropped");
                let line = reader.line();
                if line == "talker: after the drop" {
                    return received;
                } else if line.starts_with("talker: ") {
                    assert!(
                        line.ends_with(&format!(" {received}")),
                        "line {received} missing: {line:.40}"
                    );
                    received += 1;
                } else if line == dropped {
                    seen_drop.store(true, Ordering::SeqCst);
                } else {
                    panic!("unexpected {line:.80}");
                }
            }
        }
    });
    let mut sent = 0;
    while sent < MAX_LINES && !seen_drop.load(Ordering::SeqCst) {
        talker.send(&format!("{payload} {sent}"));
        sent += 1;
    }
    talker.send("after the drop");
    let received = reader_thread.join().expect("reader");
    assert!(
        seen_drop.load(Ordering::SeqCst),
        "stalled member never dropped"
    );
    assert_eq!(received, sent, "the reader got every line, in order");
    eprintln!("slow consumer: dropped after {sent} lines sent");
    // The stalled member's connection ends (its last line may be cut short).
    let rest = stalled.read_to_eof_lossy();
    assert!(rest.starts_with("talker: "), "{:.80}", rest);
}

#[test]
fn chinese_room() {
    let server = Server::start("zh-CN");
    let t = Text::zh();
    let mut ming = server.connect();
    let greeting = ming.line();
    assert_eq!(greeting, t.notice("greeting", &[]));
    assert_ne!(greeting, Text::en().notice("greeting", &[]), "in Chinese");
    ming.line();
    ming.send("管理员");
    assert_eq!(ming.line(), t.named("name-reserved", "管理员"));
    ming.line();
    ming.send("小明");
    assert_eq!(ming.line(), t.welcome("小明", 0));
    let mut hong = server.join("小红");
    assert_eq!(ming.line(), t.joined("小红"));
    hong.send("你好");
    assert_eq!(ming.line(), "小红: 你好");
    hong.send("/msg 小明 悄悄话");
    assert_eq!(ming.line(), t.private("小红", "悄悄话"));
    assert_eq!(hong.line(), t.named("private-sent", "小明"));
    hong.send("/list");
    assert_eq!(hong.line(), t.members(&["小明", "小红"]));
    hong.send("/quit");
    assert_eq!(hong.line(), t.notice("bye", &[]));
    assert_eq!(ming.line(), t.left("left-quit", "小红"));
}

#[test]
fn chinese_errors_and_limits() {
    let mut server = {
        let path = settings_file("lang = \"zh-CN\"\n[server]\nmax_clients = 3\nmax_line_bytes = 16\nmax_queue_bytes = 4096\n");
        let path = path.to_str().expect("utf-8 path").to_string();
        let mut server = Server::start_with(&["--config", &path], Stdio::piped());
        server.lang = "zh-CN".to_string();
        server
    };
    let t = Text::zh();
    let mut ming = server.join("小明");
    let mut hong = server.join("小红");
    ming.expect_line(&t.joined("小红"));
    hong.send("x".repeat(17).as_str());
    assert_eq!(
        hong.line(),
        t.notice("line-too-long", &[("max", 16.into())])
    );
    hong.send("/跳舞");
    assert_eq!(
        hong.line(),
        t.notice("unknown-command", &[("command", "/跳舞".into())])
    );
    hong.send("@小刚 在吗");
    assert_eq!(hong.line(), t.named("no-such-member", "小刚"));
    hong.send("/help");
    for line in t.notice_lines("help", &[]) {
        assert_eq!(hong.line(), line);
    }
    let mut third = server.connect();
    third.line();
    third.line();
    let mut fourth = server.connect();
    assert_eq!(fourth.line(), t.notice("room-full", &[("max", 3.into())]));
    assert_eq!(fourth.read_line(), None);
    third.send("小明");
    assert_eq!(third.line(), t.named("name-taken", "小明"));
    third.line();
    third.send("坏 名字");
    assert_eq!(third.line(), t.notice("name-bad-characters", &[]));
    server.console("注意");
    assert_eq!(ming.line(), t.admin("注意"));
    assert_eq!(hong.line(), t.admin("注意"));
    ming.reset();
    assert_eq!(hong.line(), t.left("left-lost", "小明"));
}
