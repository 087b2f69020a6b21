//! The log never blocks the room (issue 9 item 1): with the server's
//! stdout a pipe that nobody reads (`chatroom-server | less`, paused),
//! members still get every line promptly and a new connection is greeted
//! at once; log lines that did not fit are dropped, and once the pipe is
//! read again a notice says how many were lost.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{ChildStdout, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use chatroom::i18n::{parse_lang, Localizer};

use common::{settings_file, Server, SERVER, TIMEOUT};

/// Lines alice sends while nobody reads the log: about 400 KB of log,
/// more than the pipe (64 KiB) and the log's own buffer hold together.
const LINES: usize = 3000;

/// Starts the server with flood control off and reads its stdout only as
/// far as the line saying where it listens; the rest is left unread.
fn start_unread() -> (Server, BufReader<ChildStdout>) {
    let config = settings_file("[server]\nflood_rate = 0\n");
    let mut child = Command::new(SERVER)
        .args(["--host", "127.0.0.1", "--port", "0", "--lang", "en"])
        .arg("--config")
        .arg(&config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn chatroom-server");
    let stdin = child.stdin.take();
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("listening line");
    let addr = first
        .split_whitespace()
        .find_map(|word| word.parse().ok())
        .expect("address in the first line");
    let server = Server {
        child,
        addr,
        stdin,
        // The real log is returned unread.
        log: common::LineStream::new(std::io::empty()),
        lang: "en".into(),
    };
    (server, stdout)
}

/// Lines of `reader`, read by a thread, so that waits can be bounded.
fn lines_of(reader: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(reader).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Whether `line` is the log's "N lines dropped" notice, and N.
fn dropped_count(localizer: &Localizer, line: &str) -> Option<u64> {
    const MARK: &str = "\u{1}";
    let template = localizer.tr("log-dropped", &[("count", MARK.into())]);
    let (before, after) = template.split_once(MARK)?;
    let count = line.strip_prefix(before)?.strip_suffix(after)?;
    count.parse().ok()
}

fn connect(server: &Server) -> (TcpStream, BufReader<TcpStream>) {
    let stream = TcpStream::connect(server.addr).expect("connect");
    stream.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    stream.set_write_timeout(Some(TIMEOUT)).expect("timeout");
    let reader = BufReader::new(stream.try_clone().expect("clone"));
    (stream, reader)
}

fn read_line(reader: &mut BufReader<TcpStream>) -> Option<String> {
    let mut line = String::new();
    match reader.read_line(&mut line) {
        Ok(n) if n > 0 => Some(line.trim_end().to_string()),
        _ => None,
    }
}

/// Connects and joins as `name`, reading up to the welcome.
fn join(server: &Server, name: &str) -> (TcpStream, BufReader<TcpStream>) {
    let (mut stream, mut reader) = connect(server);
    writeln!(stream, "{name}").expect("send name");
    loop {
        let line = read_line(&mut reader).expect("welcome");
        if line.contains(name) {
            return (stream, reader);
        }
    }
}

#[test]
fn a_log_nobody_reads_never_holds_up_the_room() {
    let localizer = Localizer::new(&parse_lang("en").expect("en"));
    let (mut server, stdout) = start_unread();
    let (mut alice, _alice_reader) = join(&server, "alice");
    let (_bob, mut bob_reader) = join(&server, "bob");
    // Bob reads while alice sends, as a member would.
    let reader = thread::spawn(move || {
        let started = Instant::now();
        let mut received = 0;
        while received < LINES {
            match read_line(&mut bob_reader) {
                Some(line) if line.starts_with("alice: ") => received += 1,
                Some(_) => {}
                None => break,
            }
        }
        (received, started.elapsed(), bob_reader)
    });
    let padding = "x".repeat(120);
    let mut batch = String::new();
    for i in 0..LINES {
        batch.push_str(&format!("line {i} {padding}\n"));
    }
    let mut sender = alice.try_clone().expect("clone");
    let sending = thread::spawn(move || sender.write_all(batch.as_bytes()).is_ok());
    let (received, took, _bob_reader) = reader.join().expect("bob's reader");
    eprintln!("bob received {received} of {LINES} lines in {took:?} while the log was unread");

    // A new connection is greeted at once.
    let started = Instant::now();
    let (_carol, mut carol_reader) = connect(&server);
    let greeting = read_line(&mut carol_reader);
    let waited = started.elapsed();
    eprintln!("a new connection waited {waited:?} for its greeting");
    assert_eq!(received, LINES, "bob got {received} of {LINES} in {took:?}");
    assert!(took < Duration::from_secs(5), "{LINES} lines took {took:?}");
    assert!(greeting.is_some(), "no greeting within {TIMEOUT:?}");
    assert!(waited < Duration::from_secs(1), "greeting took {waited:?}");
    assert!(
        sending.join().expect("alice's sender"),
        "alice could not send"
    );

    // Reading the log again: what fitted, then the notice saying how many
    // lines were lost, in front of a line that got through.
    let log = lines_of(stdout);
    let deadline = Instant::now() + TIMEOUT;
    let mut notices = Vec::new();
    for i in 0.. {
        assert!(Instant::now() < deadline, "no dropped-lines notice");
        // Log lines until one gets through after the drops.
        writeln!(alice, "after {i}").expect("alice sends");
        while let Ok(line) = log.recv_timeout(Duration::from_millis(100)) {
            notices.extend(dropped_count(&localizer, &line));
        }
        if !notices.is_empty() {
            break;
        }
    }
    let dropped: u64 = notices.iter().sum();
    eprintln!("the log said {dropped} lines were dropped, in {notices:?}");
    assert!(dropped > 0 && dropped <= LINES as u64, "{notices:?}");
    server.signal(rustix::process::Signal::TERM);
    assert_eq!(server.wait_exit().code(), Some(0));
}
