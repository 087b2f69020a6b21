//! Hostile input against the real server: terminal escapes, bidi and
//! invisible characters, broken UTF-8, huge and endless lines, peers that
//! vanish mid-line or mid-broadcast, and running out of file descriptors.
//!
//! Every case has an observer member whose every received line must be
//! harmless (see `model::harmful`), and ends by proving the server is alive
//! (a fresh member joins and chat is relayed), its log is harmless too, and
//! its resident memory is back near where it started.

mod common;
mod model;

use std::io::{BufRead, BufReader, ErrorKind, Read};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use common::{settings_file, stalled_stream, LineMatch, Peer, Text, SERVER, TIMEOUT};
use model::first_harmful;

/// How far resident memory may stay above its starting point after a case.
/// The server's only legitimate transient allocations are a member's queue
/// (at most `max_queue_bytes`, 1 MiB) and read buffers; glibc keeps some
/// freed memory in its arenas instead of returning it, so allow eight times
/// that. A leaked 10 MB line, or 100,000 leaked lines, would exceed it.
const RSS_SLACK_KIB: u64 = 8 * 1024;

/// What the server says: every test server here speaks English.
fn en() -> Text {
    Text::en()
}

/// Whether a log line says an accept failed (whatever the reason).
fn is_accept_failure(line: &str) -> bool {
    en().pattern("log-accept-failed", &[], &["reason"])
        .matches(line)
}

/// The server as these tests need it: started by hand (possibly under
/// `ulimit`), with its log read as raw bytes so broken UTF-8 or escapes in
/// it are caught rather than ending the reader.
struct Target {
    child: Child,
    addr: SocketAddr,
    log: Receiver<Vec<u8>>,
    /// Log lines taken so far, for checks and failure messages.
    log_seen: Vec<String>,
}

impl Target {
    /// A server with flood control off; `open_files`, if set, is both the
    /// soft and the hard RLIMIT_NOFILE, so the server cannot raise it.
    fn start(open_files: Option<u32>) -> Target {
        let settings = settings_file("[server]\nflood_rate = 0\n");
        let settings = settings.to_str().expect("utf-8 path");
        let server_args = ["--host", "127.0.0.1", "--port", "0", "--config", settings];
        let mut command = match open_files {
            // `ulimit -n` without -S or -H sets both limits.
            Some(limit) => {
                let mut sh = Command::new("sh");
                sh.arg("-c")
                    .arg(format!("ulimit -n {limit} && exec \"$0\" \"$@\""))
                    .arg(SERVER);
                sh
            }
            None => Command::new(SERVER),
        };
        command
            .args(server_args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = command.spawn().expect("spawn chatroom-server");
        let stdout = child.stdout.take().expect("server stdout");
        let (tx, log) = mpsc::channel();
        thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut line = Vec::new();
                match reader.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        if tx.send(line).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        let mut target = Target {
            child,
            addr: "127.0.0.1:0".parse().expect("addr"),
            log,
            log_seen: Vec::new(),
        };
        let first = target
            .log_line(TIMEOUT)
            .expect("server exited before listening");
        target.addr = first
            .split_whitespace()
            .find_map(|word| word.parse().ok())
            .unwrap_or_else(|| panic!("no address in {first:?}"));
        target
    }

    /// The next log line within `wait`, checked to be valid UTF-8, complete
    /// and harmless; `None` on timeout or EOF.
    fn log_line(&mut self, wait: Duration) -> Option<String> {
        let bytes = self.log.recv_timeout(wait).ok()?;
        let line = String::from_utf8(bytes).expect("server log is not UTF-8");
        let line = line
            .strip_suffix('\n')
            .expect("incomplete log line")
            .to_string();
        if let Some((at, c, why)) = first_harmful(&line) {
            panic!("{why} {c:?} at byte {at} of the server log line {line:?}");
        }
        self.log_seen.push(line.clone());
        Some(line)
    }

    /// Checks every log line printed so far.
    fn drain_log(&mut self) {
        while self.log_line(Duration::ZERO).is_some() {}
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("read /proc status");
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .expect("VmRSS in /proc status")
    }

    /// User plus system CPU time so far, in clock ticks (USER_HZ, 100/s).
    fn cpu_ticks(&self) -> u64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).expect("read stat");
        // The command name in parentheses may hold spaces: count from after it.
        let after_name = &stat[stat.rfind(')').expect("stat format") + 2..];
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        // utime and stime are fields 14 and 15 of the whole line.
        let utime: u64 = fields[11].parse().expect("utime");
        let stime: u64 = fields[12].parse().expect("stime");
        utime + stime
    }

    fn open_fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .map(|dir| dir.count())
            .unwrap_or(0)
    }

    fn connect(&self) -> Peer {
        Peer::connect(self.addr)
    }

    /// Connects and joins as `name`, reading up to the welcome line.
    fn join(&self, name: &str) -> Peer {
        let mut peer = self.connect();
        peer.send(name);
        peer.expect_welcome(name);
        peer
    }

    /// The server still serves: a fresh member joins, is announced to
    /// `observer`, and chat flows both ways.
    fn assert_alive(&self, observer: &mut Observer) {
        let mut fresh = self.join("fresh");
        observer.expect_line(&en().joined("fresh"));
        fresh.send("still serving");
        observer.expect("fresh: still serving");
        observer.peer.send("hello fresh");
        fresh.expect(&format!("{}: hello fresh", observer.name));
        fresh.send("/quit");
        observer.expect_line(&en().left("left-quit", "fresh"));
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A member that only watches: every line it receives must be harmless.
struct Observer {
    peer: Peer,
    name: &'static str,
}

impl Observer {
    fn join(target: &Target) -> Observer {
        let name = "watcher";
        Observer {
            peer: target.join(name),
            name,
        }
    }

    /// Reads lines, each checked harmless, until one contains `needle`.
    fn expect(&mut self, needle: &str) -> String {
        loop {
            let line = self
                .peer
                .read_line()
                .unwrap_or_else(|| panic!("EOF before {needle:?}; seen: {:#?}", self.peer.seen()));
            if let Some((at, c, why)) = first_harmful(&line) {
                panic!("observer received {why} {c:?} at byte {at} of {line:?}");
            }
            if line.contains(needle) {
                return line;
            }
        }
    }

    /// Reads lines, each checked harmless, until one is `wanted`.
    fn expect_line(&mut self, wanted: &(impl LineMatch + ?Sized)) -> String {
        loop {
            let line = self.expect("");
            if wanted.is(&line) {
                return line;
            }
        }
    }

    /// Reads lines, each checked harmless, until the leave notice of
    /// `name`, which left or lost its connection (a vanished peer's FIN
    /// and reset may reach the server either way).
    fn expect_left(&mut self, name: &str) -> String {
        loop {
            let line = self.expect("");
            if is_leave_of(&line, name) {
                return line;
            }
        }
    }

    /// Nothing else is queued: the answer to `/list` is the next line.
    fn expect_nothing_pending(&mut self) {
        self.peer.expect_nothing_pending();
    }
}

/// Whether `line` announces that `name` left or lost its connection.
fn is_leave_of(line: &str, name: &str) -> bool {
    let t = en();
    ["left-quit", "left-lost"]
        .iter()
        .any(|id| t.left(id, name).matches(line))
}

/// One server, one observer, and the memory it started with.
struct Arena {
    target: Target,
    observer: Observer,
    rss_start_kib: u64,
}

impl Arena {
    fn new() -> Arena {
        let target = Target::start(None);
        let observer = Observer::join(&target);
        let rss_start_kib = target.rss_kib();
        Arena {
            target,
            observer,
            rss_start_kib,
        }
    }

    /// The server is alive, its log harmless, and its memory back near the
    /// start. Returns (start, end) RSS in KiB.
    fn finish(mut self) -> (u64, u64) {
        self.target.assert_alive(&mut self.observer);
        self.observer.expect_nothing_pending();
        self.target.drain_log();
        let end = self.target.rss_kib();
        assert!(
            end <= self.rss_start_kib + RSS_SLACK_KIB,
            "VmRSS grew from {} KiB to {end} KiB",
            self.rss_start_kib
        );
        eprintln!(
            "VmRSS: {} KiB at start, {end} KiB after",
            self.rss_start_kib
        );
        (self.rss_start_kib, end)
    }
}

/// Sends each payload as a tagged message from `attacker` and checks the
/// observer gets each tag in a harmless line.
fn relay_each(arena: &mut Arena, attacker: &mut Peer, payloads: &[Vec<u8>]) {
    for (i, payload) in payloads.iter().enumerate() {
        let mut line = format!("case{i} ").into_bytes();
        line.extend_from_slice(payload);
        line.extend_from_slice(b" end\n");
        attacker.send_raw(&line);
        let got = arena.observer.expect(&format!("case{i} "));
        assert!(got.starts_with("mallory: case"), "{got:?}");
    }
}

#[test]
fn every_control_character_is_removed() {
    let mut arena = Arena::new();
    let mut mallory = arena.target.join("mallory");
    arena.observer.expect_line(&en().joined("mallory"));
    let mut payloads: Vec<Vec<u8>> = (0u8..0x20)
        .chain([0x7f])
        .filter(|&b| b != b'\n')
        .map(|b| vec![b'a', b, b'b'])
        .collect();
    // C1 as characters (UTF-8), and as raw bytes (which are invalid UTF-8).
    payloads.extend(
        (0x80u32..0xa0).map(|c| format!("a{}b", char::from_u32(c).expect("C1 char")).into_bytes()),
    );
    payloads.extend((0x80u8..0xa0).map(|b| vec![b'a', b, b'b']));
    payloads.push(b"nul\0\0\0bytes".to_vec());
    relay_each(&mut arena, &mut mallory, &payloads);
    arena.finish();
}

#[test]
fn escape_sequences_never_reach_a_terminal() {
    let mut arena = Arena::new();
    let mut mallory = arena.target.join("mallory");
    arena.observer.expect_line(&en().joined("mallory"));
    let payloads: Vec<Vec<u8>> = [
        "clear\x1b[2J\x1b[H",
        "\x1b[1;31mred\x1b[0m",
        "title\x1b]0;pwned\x07",
        "title-st\x1b]2;pwned\x1b\\",
        "\x1b]8;;https://evil.example/\x1b\\click me\x1b]8;;\x1b\\",
        "clipboard\x1b]52;c;cm0gLXJmIH4K\x07",
        "dcs\x1bP1$qm\x1b\\",
        "apc\x1b_payload\x1b\\ pm\x1b^x\x07 sos\x1bXy\x1b\\",
        "cursor\x1b7\x1b[10;10H\x1b8\x1bc",
        "csi8bit\u{9b}2J osc8bit\u{9d}0;t\u{9c}",
        "runaway osc\x1b]0;never terminated",
        "runaway csi\x1b[12;",
        "lone esc at end\x1b",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    relay_each(&mut arena, &mut mallory, &payloads);
    // An unterminated sequence ends with its line, never eating the next.
    mallory.send("open\x1b]0;no end");
    mallory.send("next line intact");
    arena.observer.expect("mallory: open");
    assert_eq!(arena.observer.peer.line(), "mallory: next line intact");
    arena.finish();
}

#[test]
fn bidi_and_invisible_characters_in_messages_and_names() {
    let mut arena = Arena::new();
    let mut mallory = arena.target.join("mallory");
    arena.observer.expect_line(&en().joined("mallory"));
    let hostile = [
        '\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{202e}', '\u{2066}', '\u{2067}',
        '\u{2068}', '\u{2069}', '\u{200e}', '\u{200f}', '\u{061c}', '\u{200b}', '\u{2060}',
        '\u{2062}', '\u{feff}', '\u{206e}', '\u{fff9}',
    ];
    let payloads: Vec<Vec<u8>> = hostile
        .iter()
        .map(|c| format!("txt{c}fdp.exe {c}").into_bytes())
        .collect();
    relay_each(&mut arena, &mut mallory, &payloads);
    // Joiners stay: emoji and scripts need them.
    mallory.send("👩\u{200d}💻 \u{200c}ok");
    assert_eq!(
        arena.observer.expect("mallory:"),
        "mallory: 👩\u{200d}💻 \u{200c}ok"
    );

    // Names are rejected, not cleaned: the observer hears of none of them.
    // Every C0 and C1 control too, as a name.
    let mut joiner = arena.target.connect();
    joiner.line();
    let prompt = joiner.line();
    let names: Vec<String> = hostile
        .iter()
        .map(|c| format!("admin{c}istrator"))
        .chain(
            [
                "\x1b[2Jclear",
                "bell\x07",
                "nul\0name",
                "\x1b]0;t\x07x",
                "zw\u{200d}j",
                "a\u{9b}b",
            ]
            .map(String::from),
        )
        .chain(
            ('\0'..='\u{9f}')
                .filter(|c| c.is_control() && *c != '\n')
                .map(|c| format!("a{c}b")),
        )
        .collect();
    for name in &names {
        joiner.send(name);
        let reason = joiner.line();
        assert!(reason.starts_with("* "), "{name:?}: {reason}");
        assert!(first_harmful(&reason).is_none(), "{name:?}: {reason:?}");
        assert_eq!(joiner.line(), prompt, "{name:?}");
    }
    joiner.send("honest");
    joiner.expect_welcome("honest");
    assert_eq!(arena.observer.peer.line(), en().joined("honest"));
    arena.finish();
}

#[test]
fn invalid_and_split_utf8_becomes_replacement_or_whole_characters() {
    let mut arena = Arena::new();
    let mut mallory = arena.target.join("mallory");
    arena.observer.expect_line(&en().joined("mallory"));
    let cases: [(&[u8], &str); 6] = [
        (b"bad \xff\xfe", "bad \u{fffd}\u{fffd}"),
        (b"overlong \xc0\xaf", "overlong \u{fffd}\u{fffd}"),
        (
            b"surrogate \xed\xa0\x80",
            "surrogate \u{fffd}\u{fffd}\u{fffd}",
        ),
        (b"truncated \xe4\xbd", "truncated \u{fffd}"),
        (
            b"too big \xf4\x90\x80\x80",
            "too big \u{fffd}\u{fffd}\u{fffd}\u{fffd}",
        ),
        (b"lone cont \x80x", "lone cont \u{fffd}x"),
    ];
    for (bytes, expected) in cases {
        mallory.send_raw(bytes);
        mallory.send_raw(b"\n");
        assert_eq!(
            arena.observer.expect("mallory:"),
            format!("mallory: {expected}")
        );
    }
    // A character split across two reads arrives whole. The observer's
    // round trip makes the server read the first half on its own: it was
    // queued before the observer's `/list`, so it is read no later.
    mallory.send_raw("split 你".as_bytes().split_at(8).0);
    arena.observer.expect_nothing_pending();
    mallory.send_raw(&"split 你".as_bytes()[8..]);
    mallory.send_raw(b"\n");
    assert_eq!(arena.observer.expect("mallory:"), "mallory: split 你");
    arena.finish();
}

#[test]
fn ten_megabyte_line_is_refused_and_the_connection_goes_on() {
    let mut arena = Arena::new();
    let mut mallory = arena.target.join("mallory");
    arena.observer.expect_line(&en().joined("mallory"));
    let started = Instant::now();
    let chunk = vec![b'A'; 1 << 20];
    for _ in 0..10 {
        mallory.send_raw(&chunk);
    }
    // The error comes as soon as the limit is passed, once per line.
    assert_eq!(
        mallory.line(),
        en().notice("line-too-long", &[("max", 4096.into())])
    );
    mallory.send_raw(b"\nafter the flood\n");
    assert_eq!(
        arena.observer.expect("mallory:"),
        "mallory: after the flood"
    );
    mallory.expect_nothing_pending();
    eprintln!("10 MB line handled in {:?}", started.elapsed());
    arena.finish();
}

#[test]
fn hundred_thousand_empty_lines_are_ignored() {
    let mut arena = Arena::new();
    let mut mallory = arena.target.join("mallory");
    arena.observer.expect_line(&en().joined("mallory"));
    let started = Instant::now();
    mallory.send_raw(&b"\n".repeat(50_000));
    mallory.send_raw(&b"\r\n".repeat(50_000));
    mallory.send("after the blanks");
    assert_eq!(
        arena.observer.peer.line(),
        "mallory: after the blanks",
        "empty lines are not relayed"
    );
    mallory.expect_nothing_pending();
    eprintln!("100,000 empty lines handled in {:?}", started.elapsed());
    arena.finish();
}

#[test]
fn half_a_line_then_gone_is_dropped() {
    let mut arena = Arena::new();
    for (name, vanish) in [("finned", "fin"), ("reset", "rst")] {
        let mut peer = arena.target.join(name);
        arena.observer.expect_line(&en().joined(name));
        peer.send_raw(b"this line never ends");
        arena.observer.expect_nothing_pending();
        match vanish {
            "fin" => drop(peer),
            _ => peer.reset(),
        }
        arena.observer.expect_left(name);
    }
    // The half line was never relayed, and each departure was told once.
    let seen = arena.observer.peer.seen().to_vec();
    assert!(!seen.iter().any(|l| l.contains("never ends")), "{seen:#?}");
    arena.observer.expect_nothing_pending();
    // Half a line before a name, too.
    for vanish in ["fin", "rst"] {
        let mut peer = arena.target.connect();
        peer.line();
        peer.send_raw(b"half a na");
        match vanish {
            "fin" => drop(peer),
            _ => peer.reset(),
        }
    }
    arena.finish();
}

#[test]
fn reset_while_a_big_broadcast_is_queued() {
    let mut arena = Arena::new();
    let mut sponge = Peer::from_stream(stalled_stream(arena.target.addr));
    sponge.send("sponge");
    arena.observer.expect_line(&en().joined("sponge"));
    let mut mallory = arena.target.join("mallory");
    arena.observer.expect_line(&en().joined("mallory"));
    // About 800 KB for sponge, which reads nothing: most of it stays queued
    // in the server (under the 1 MiB limit, so sponge is not dropped).
    let text = "x".repeat(390);
    let lines = 2000;
    let mut batch = String::new();
    for i in 0..lines {
        batch.push_str(&format!("{i:05} {text}\n"));
    }
    mallory.send_raw(batch.as_bytes());
    let last = format!("mallory: {:05} ", lines - 1);
    arena.observer.expect(&last);
    sponge.reset();
    arena.observer.expect_left("sponge");
    arena.observer.expect_nothing_pending();
    let announcements = arena
        .observer
        .peer
        .seen()
        .iter()
        .filter(|line| is_leave_of(line, "sponge"))
        .count();
    assert_eq!(announcements, 1, "one leave notice");
    mallory.send("after the reset");
    arena.observer.expect("mallory: after the reset");
    arena.finish();
}

/// Reads from `stream` until a whole greeting line arrives (`true`) or the
/// server logs that it cannot accept (`false`); panics after `TIMEOUT`.
fn greeted_or_refused(stream: &mut TcpStream, target: &mut Target) -> bool {
    stream
        .set_read_timeout(Some(Duration::from_millis(20)))
        .expect("read timeout");
    let deadline = Instant::now() + TIMEOUT;
    let mut received = Vec::new();
    let mut buf = [0u8; 512];
    while Instant::now() < deadline {
        match stream.read(&mut buf) {
            Ok(0) => panic!("closed before a greeting"),
            Ok(n) => {
                received.extend_from_slice(&buf[..n]);
                if received.contains(&b'\n') {
                    return true;
                }
            }
            Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(err) => panic!("read: {err}"),
        }
        while let Some(line) = target.log_line(Duration::ZERO) {
            if is_accept_failure(&line) {
                return false;
            }
        }
    }
    panic!("neither a greeting nor an accept failure within {TIMEOUT:?}");
}

#[test]
fn running_out_of_descriptors_pauses_accepting_and_recovers() {
    const LIMIT: u32 = 40;
    let mut target = Target::start(Some(LIMIT));
    let fds_idle = target.open_fds();
    let mut alice = target.join("alice");
    let mut bob = target.join("bob");
    alice.expect_line(&en().joined("bob"));

    let mut held = Vec::new();
    let waiting = loop {
        assert!(held.len() < 2 * LIMIT as usize, "never ran out");
        let mut stream = TcpStream::connect(target.addr).expect("connect");
        if greeted_or_refused(&mut stream, &mut target) {
            held.push(stream);
        } else {
            break stream;
        }
    };
    let fds_exhausted = target.open_fds();
    // More attempts while exhausted: they wait in the backlog, unlogged.
    let mut more: Vec<TcpStream> = (0..5)
        .map(|_| TcpStream::connect(target.addr).expect("connect"))
        .collect();

    // Members already in still chat.
    alice.send("still here");
    assert_eq!(bob.line(), "alice: still here");

    // No spinning: a quiet second costs the server next to no CPU.
    let ticks_before = target.cpu_ticks();
    thread::sleep(Duration::from_secs(1));
    let ticks_exhausted = target.cpu_ticks() - ticks_before;
    assert!(
        ticks_exhausted <= 5,
        "{ticks_exhausted} ticks of CPU in one second while out of descriptors"
    );

    // Free ten descriptors: the waiting connections are greeted.
    let recovery_started = Instant::now();
    held.truncate(held.len() - 10);
    let mut waiting = Peer::from_stream(waiting);
    waiting.line();
    let recovered_in = recovery_started.elapsed();
    for stream in more.drain(..) {
        Peer::from_stream(stream).line();
    }
    bob.send("recovered");
    assert_eq!(alice.line(), "bob: recovered");

    target.drain_log();
    let failures = target
        .log_seen
        .iter()
        .filter(|line| is_accept_failure(line))
        .count();
    assert_eq!(
        failures, 1,
        "logged once, not per attempt: {:#?}",
        target.log_seen
    );
    eprintln!(
        "RLIMIT_NOFILE {LIMIT}: {fds_idle} descriptors idle, {fds_exhausted} when exhausted \
         after {} connections ({} greeted besides alice and bob); {ticks_exhausted} CPU ticks \
         in 1 s exhausted; greeted again {recovered_in:?} after 10 were closed",
        held.len() + 10 + 2 + 1,
        held.len() + 10,
    );
}

/// Hangul fillers are letters to `char::is_alphanumeric` (category Lo) but
/// render as nothing (U+115F, U+1160) or as a blank (U+3164, U+FFA0), so a
/// name made with them looks like another member's, or like no name at all.
#[test]
fn invisible_letters_cannot_make_a_lookalike_name() {
    let mut arena = Arena::new();
    let _alice = arena.target.join("alice");
    arena.observer.expect_line(&en().joined("alice"));
    let mut impostor = arena.target.connect();
    impostor.line();
    let prompt = impostor.line();
    for name in [
        "alice\u{1160}",
        "alice\u{115f}",
        "\u{3164}",
        "\u{ffa0}\u{ffa0}",
    ] {
        impostor.send(name);
        let answer = impostor.line();
        let welcomed =
            en().is_notice_with_number(&answer, "welcome", &[("name", name.into())], "others");
        assert!(
            answer.starts_with("* ") && !welcomed,
            "{name:?} was accepted: {answer}"
        );
        assert_eq!(impostor.line(), prompt);
    }
    arena.observer.expect_nothing_pending();
    arena.finish();
}
