//! The server as netcat sees it: PROTOCOL.md section 2, bullet by bullet,
//! against the real binary on a loopback port.

mod common;

use std::io::Write;
use std::process::Stdio;
use std::thread;
use std::time::{Duration, Instant};

use common::{settings_file, stalled_stream, Peer, Server};

fn server_with(settings: &str) -> Server {
    let path = settings_file(settings);
    let path = path.to_str().expect("utf-8 path").to_string();
    Server::start_with(&["--config", &path], Stdio::piped())
}

#[test]
fn greeting_then_prompt_then_welcome_with_count() {
    let server = Server::start("en");
    let mut alice = server.connect();
    assert_eq!(alice.line(), "* Welcome to chatroom.");
    let prompt = alice.line();
    assert!(prompt.starts_with("* Choose a nickname"), "{prompt}");
    alice.send("alice");
    assert_eq!(
        alice.line(),
        "* Welcome, alice! There are 0 other people here. Type /help for the commands."
    );
    let mut bob = server.join("bob");
    assert_eq!(alice.line(), "* bob joined the room.");
    bob.expect_nothing_pending();
    let mut carol = server.connect();
    carol.send("carol");
    carol.expect("There are 2 other people here");
}

#[test]
fn rejected_names_are_explained_and_prompted_again() {
    let server = Server::start("en");
    let _alice = server.join("Alice");
    let mut peer = server.connect();
    peer.line();
    let prompt = peer.line();
    let cases: [(&[u8], &str); 8] = [
        (b"ALICE\n", "already taken"),
        (b"administrator\n", "reserved"),
        ("管理员\n".as_bytes(), "reserved"),
        (b"two words\n", "only use letters"),
        (b"star*\n", "only use letters"),
        (b"al\x1b[31mice\n", "only use letters"),
        ("zero\u{200b}width\n".as_bytes(), "only use letters"),
        (b"abcdefghijklmnopqrstuvwxyz1234567\n", "at most 32"),
    ];
    for (name, reason) in cases {
        peer.send_raw(name);
        let line = peer.line();
        assert!(
            line.starts_with("* ") && line.contains(reason),
            "{name:?}: {line}"
        );
        assert_eq!(peer.line(), prompt, "the same prompt again");
    }
    peer.send("小明");
    peer.expect("Welcome, 小明!");
}

#[test]
fn commands_before_joining() {
    let server = Server::start("en");
    let mut peer = server.connect();
    peer.line();
    let prompt = peer.line();
    peer.send("/help");
    peer.expect("/msg NAME TEXT");
    peer.expect("Choose a nickname");
    peer.send("/list");
    let line = peer.line();
    assert!(
        line.contains("Choose a nickname first") && line.contains("/list"),
        "{line}"
    );
    assert_eq!(peer.line(), prompt);
    peer.send("/quit");
    assert_eq!(peer.line(), "* Goodbye!");
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
    let mut alice = server.join("alice");
    let mut bob = server.join("bob");
    let mut carol = server.join("carol");
    alice.expect("carol joined");
    bob.expect("carol joined");
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
    lurker.expect("There is 1 other person here");
    lurker.expect_nothing_pending();
}

#[test]
fn empty_lines_are_ignored_and_double_slash_escapes() {
    let server = Server::start("en");
    let mut alice = server.join("alice");
    let mut bob = server.join("bob");
    alice.expect("bob joined");
    alice.send_raw(b"\n\r\n\n");
    alice.send("//etc/passwd is a path");
    assert_eq!(bob.line(), "alice: /etc/passwd is a path");
}

#[test]
fn lines_are_cleaned_before_anyone_sees_them() {
    let server = Server::start("en");
    let mut alice = server.join("alice");
    let mut bob = server.join("bob");
    alice.expect("bob joined");
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
    alice.expect("bob joined");
    bob.send_raw(b"complete\nincomplete");
    bob.shutdown_write();
    assert_eq!(alice.line(), "bob: complete");
    assert_eq!(alice.line(), "* bob left the room.");
}

#[test]
fn an_over_long_line_is_refused_and_the_connection_stays() {
    let server = server_with("[server]\nmax_line_bytes = 16\nmax_queue_bytes = 65536\n");
    let mut alice = server.join("alice");
    let mut bob = server.join("bob");
    alice.expect("bob joined");
    alice.send(&"x".repeat(16));
    assert_eq!(bob.line(), format!("alice: {}", "x".repeat(16)));
    alice.send_raw(format!("{}\r\n", "y".repeat(16)).as_bytes());
    assert_eq!(bob.line(), format!("alice: {}", "y".repeat(16)));
    alice.send(&"z".repeat(100));
    let error = alice.line();
    assert!(
        error.starts_with("* ") && error.contains("16 bytes"),
        "{error}"
    );
    alice.send("still here");
    assert_eq!(bob.line(), "alice: still here");
}

#[test]
fn help_list_and_unknown_commands_answer_the_sender_only() {
    let server = Server::start("en");
    let mut alice = server.join("alice");
    let mut bob = server.join("bob");
    alice.expect("bob joined");
    for command in ["/list", "/ls", "/who"] {
        bob.send(command);
        assert_eq!(bob.line(), "* 2 people here: alice, bob");
    }
    bob.send("/help");
    let help: Vec<String> = (0..7).map(|_| bob.line()).collect();
    assert!(help.iter().all(|l| l.starts_with("* ")), "{help:#?}");
    for command in ["/help", "/list", "/msg", "/quit", "//"] {
        assert!(
            help.iter().any(|l| l.contains(command)),
            "help lacks {command}"
        );
    }
    bob.send("/dance");
    let line = bob.line();
    assert!(
        line.starts_with("* ") && line.contains("/dance") && line.contains("/help"),
        "{line}"
    );
    alice.expect_nothing_pending();
}

#[test]
fn private_messages_reach_only_their_target() {
    let server = Server::start("en");
    let mut alice = server.join("alice");
    let mut bob = server.join("Bob");
    let mut carol = server.join("carol");
    alice.expect("carol joined");
    bob.expect("carol joined");
    alice.send("/msg bob meet at noon");
    assert_eq!(bob.line(), "(private) alice: meet at noon");
    assert_eq!(alice.line(), "* Private message sent to Bob.");
    alice.send("@carol psst");
    assert_eq!(carol.line(), "(private) alice: psst");
    alice.line();
    alice.send("@nobody hi");
    assert!(alice.line().contains("No one named nobody"));
    bob.expect_nothing_pending();
    carol.expect_nothing_pending();
}

#[test]
fn every_departure_is_announced_exactly_once() {
    let server = Server::start("en");
    let mut watcher = server.join("watcher");
    let mut quitter = server.join("quitter");
    quitter.send("/quit");
    assert_eq!(quitter.line(), "* Goodbye!");
    assert_eq!(quitter.read_line(), None);
    let closer = server.join("closer");
    drop(closer);
    let resetter = server.join("resetter");
    resetter.reset();
    let expected = [
        "* quitter joined the room.",
        "* quitter left the room.",
        "* closer joined the room.",
        "* closer left the room.",
        "* resetter joined the room.",
    ];
    for line in expected {
        assert_eq!(watcher.line(), line);
    }
    let left = watcher.line();
    assert!(
        left.starts_with("* resetter ") && left.contains("left the room"),
        "{left}"
    );
    watcher.expect_nothing_pending();
}

#[test]
fn all_members_see_the_same_order() {
    let server = Server::start_unthrottled("en");
    let mut a = server.join("a");
    let mut b = server.join("b");
    let mut watchers: Vec<Peer> = (0..3).map(|i| server.join(&format!("w{i}"))).collect();
    a.expect("w2 joined");
    b.expect("w2 joined");
    for w in 0..watchers.len() {
        for later in w + 1..watchers.len() {
            watchers[w].expect(&format!("w{later} joined"));
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
    let line = third.line();
    assert!(
        line.starts_with("* ") && line.contains("full") && line.contains('2'),
        "{line}"
    );
    assert_eq!(third.read_line(), None);
    waiting.send("bob");
    waiting.expect("Welcome, bob");
}

#[test]
fn a_member_that_stops_reading_is_dropped_and_the_others_keep_receiving() {
    let server =
        server_with("[server]\nmax_line_bytes = 1024\nmax_queue_bytes = 65536\nflood_rate = 0\n");
    let mut talker = server.join("talker");
    let mut reader = server.join("reader");
    let mut stalled = Peer::from_stream(stalled_stream(server.addr));
    stalled.send("stalled");
    stalled.expect("Welcome, stalled");
    talker.expect("stalled joined");
    reader.expect("stalled joined");
    let payload = "p".repeat(1000);
    // Bounded: 40 MB at most, far beyond what the kernel buffers absorb.
    const MAX_LINES: usize = 40_000;
    let reader_thread = thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut received = 0;
        loop {
            assert!(Instant::now() < deadline, "stalled member never dropped");
            let line = reader.line();
            if line.starts_with("talker: ") {
                assert!(
                    line.ends_with(&format!(" {received}")),
                    "line {received} missing: {line:.40}"
                );
                received += 1;
            } else if line == "* stalled fell too far behind and was disconnected." {
                return (reader, received);
            } else {
                panic!("unexpected {line:.80}");
            }
        }
    });
    let mut sent = 0;
    while sent < MAX_LINES && !reader_thread.is_finished() {
        talker.send(&format!("{payload} {sent}"));
        sent += 1;
    }
    let (mut reader, received) = reader_thread.join().expect("reader");
    assert!(
        received <= sent && received > 0,
        "sent {sent}, received {received}"
    );
    eprintln!("slow consumer: dropped after {sent} lines sent, {received} received by the reader");
    // The reader still gets everything after the drop, in order.
    talker.send("after the drop");
    for expected in received..sent {
        assert_eq!(reader.line(), format!("talker: {payload} {expected}"));
    }
    assert_eq!(reader.line(), "talker: after the drop");
    // The stalled member's connection ends (its last line may be cut short).
    let rest = stalled.read_to_eof_lossy();
    assert!(rest.starts_with("talker: "), "{:.80}", rest);
}

#[test]
fn chinese_room() {
    let server = Server::start("zh-CN");
    let mut ming = server.connect();
    assert_eq!(ming.line(), "* 欢迎来到 chatroom 聊天室。");
    ming.line();
    ming.send("管理员");
    assert!(ming.line().contains("保留"));
    ming.line();
    ming.send("小明");
    assert_eq!(
        ming.line(),
        "* 欢迎你，小明！聊天室里还有 0 个人。输入 /help 查看所有命令。"
    );
    let mut hong = server.join("小红");
    assert_eq!(ming.line(), "* 小红 进入了聊天室。");
    hong.send("你好");
    assert_eq!(ming.line(), "小红: 你好");
    hong.send("/msg 小明 悄悄话");
    assert_eq!(ming.line(), "（私信）小红: 悄悄话");
    assert_eq!(hong.line(), "* 私信已发给 小明。");
    hong.send("/list");
    assert_eq!(hong.line(), "* 当前共 2 人：小明、小红");
    hong.send("/quit");
    assert_eq!(hong.line(), "* 再见！");
    assert_eq!(ming.line(), "* 小红 离开了聊天室。");
}

#[test]
fn chinese_errors_and_limits() {
    let mut server = {
        let path = settings_file("lang = \"zh-CN\"\n[server]\nmax_clients = 3\nmax_line_bytes = 16\nmax_queue_bytes = 4096\n");
        let path = path.to_str().expect("utf-8 path").to_string();
        Server::start_with(&["--config", &path], Stdio::piped())
    };
    let mut ming = server.join("小明");
    let mut hong = server.join("小红");
    ming.expect("小红 进入了聊天室");
    hong.send("x".repeat(17).as_str());
    assert_eq!(hong.line(), "* 你发的这行超过了 16 字节，没有发出去。");
    hong.send("/跳舞");
    assert_eq!(
        hong.line(),
        "* 没有 /跳舞 这个命令。输入 /help 查看所有命令。"
    );
    hong.send("@小刚 在吗");
    assert_eq!(
        hong.line(),
        "* 聊天室里没有叫“小刚”的人。输入 /list 看看都有谁。"
    );
    hong.send("/help");
    assert_eq!(hong.line(), "* 可用命令：");
    hong.expect("其他内容都会发给聊天室里的所有人。");
    let mut third = server.connect();
    third.line();
    third.line();
    let mut fourth = server.connect();
    assert_eq!(fourth.line(), "* 聊天室已满（3 个连接），请稍后再试。");
    assert_eq!(fourth.read_line(), None);
    third.send("小明");
    assert_eq!(third.line(), "* 昵称“小明”已经有人用了，请换一个。");
    third.line();
    third.send("坏 名字");
    assert_eq!(
        third.line(),
        "* 昵称只能包含汉字、字母、数字和 _ - .，不能有空格或其他符号。"
    );
    server.console("注意");
    assert_eq!(ming.line(), "管理员: 注意");
    assert_eq!(hong.line(), "管理员: 注意");
    ming.reset();
    assert_eq!(hong.line(), "* 小明 连接中断，离开了聊天室。");
}
