//! Helpers shared by the integration tests: start the real binaries on
//! loopback port 0, talk to them as netcat would, and read with timeouts.
//! Every wait is bounded; every child is killed by its handle on drop.
//!
//! Tests recognise what the server says through `Text`, the same Fluent
//! messages rendered with the same arguments, never by English words, so a
//! rewording of `locales/` breaks no test (`tests/reword-check.py` proves
//! it). What the protocol itself fixes (`* ` before notices, `name: text`
//! for chat) is written out as is.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use chatroom::i18n::{parse_lang, Args, Localizer, Pattern};

pub mod redis;

/// How long any single expected thing may take before a test fails.
pub const TIMEOUT: Duration = Duration::from_secs(10);

pub const SERVER: &str = env!("CARGO_BIN_EXE_chatroom-server");
pub const CLIENT: &str = env!("CARGO_BIN_EXE_chatroom-client");

/// A fresh empty directory under the system temp dir.
pub fn temp_dir() -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("chatroom-test-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// Writes a settings file into a fresh temp dir and returns its path.
pub fn settings_file(text: &str) -> PathBuf {
    let path = temp_dir().join("settings.toml");
    std::fs::write(&path, text).expect("write settings");
    path
}

/// The server's sentences in one language, for tests to expect: rendered
/// from the message ids and arguments the server itself uses.
pub struct Text {
    localizer: Localizer,
    lang: String,
}

impl Text {
    pub fn new(lang: &str) -> Text {
        let tag = parse_lang(lang).expect("a shipped language");
        Text {
            localizer: Localizer::new(&tag),
            lang: lang.to_string(),
        }
    }

    pub fn en() -> Text {
        Text::new("en")
    }

    pub fn zh() -> Text {
        Text::new("zh-CN")
    }

    /// The message as it is, for the server's log and console and for
    /// chat-shaped lines (`admin-line`, `private-line`).
    pub fn tr(&self, id: &str, args: &Args<'_>) -> String {
        self.localizer.tr(id, args)
    }

    /// A system notice as a connection receives it, every line with `* `
    /// in front, lines joined by `\n` (no trailing one).
    pub fn notice(&self, id: &str, args: &Args<'_>) -> String {
        self.notice_lines(id, args).join("\n")
    }

    /// A system notice, one entry per line the connection receives.
    pub fn notice_lines(&self, id: &str, args: &Args<'_>) -> Vec<String> {
        self.tr(id, args)
            .lines()
            .map(|line| format!("* {line}"))
            .collect()
    }

    /// `notice` for the many messages whose only argument is a name.
    pub fn named(&self, id: &str, name: &str) -> String {
        self.notice(id, &[("name", name.into())])
    }

    /// The join notice of `name`, whatever the count it gives (see
    /// `joined_count` for an exact one).
    pub fn joined(&self, name: &str) -> Expected {
        Expected {
            lang: self.lang.clone(),
            kind: ExpectedKind::Joined { name: name.into() },
        }
    }

    /// The join notice of `name` with `count` in the room now.
    pub fn joined_count(&self, name: &str, count: usize) -> String {
        self.notice("joined", &[("name", name.into()), ("count", count.into())])
    }

    /// The leave notice `id` (`left-quit`, ...) of `name`, however long it
    /// stayed.
    pub fn left(&self, id: &str, name: &str) -> Expected {
        Expected {
            lang: self.lang.clone(),
            kind: ExpectedKind::Left {
                id: id.into(),
                name: name.into(),
            },
        }
    }

    /// The welcome `name` gets with `others` already in the room.
    pub fn welcome(&self, name: &str, others: usize) -> String {
        self.notice(
            "welcome",
            &[("name", name.into()), ("others", others.into())],
        )
    }

    /// The answer to `/list` with these members, in this order.
    pub fn members(&self, names: &[&str]) -> String {
        let count = names.len();
        let names = names.join(&self.tr("list-separator", &[]));
        self.notice(
            "members",
            &[("count", count.into()), ("names", names.into())],
        )
    }

    /// An administrator line, as every member receives it.
    pub fn admin(&self, text: &str) -> String {
        self.tr("admin-line", &[("text", text.into())])
    }

    /// A private message from `from`, as its target receives it.
    pub fn private(&self, from: &str, text: &str) -> String {
        self.tr(
            "private-line",
            &[("name", from.into()), ("text", text.into())],
        )
    }

    /// The message with the arguments in `open` left open (see
    /// `Localizer::pattern`); match it against a line less its `* `.
    pub fn pattern(&self, id: &str, args: &Args<'_>, open: &[&str]) -> Pattern {
        self.localizer.pattern(id, args, open)
    }

    /// `name` refused at the prompt while a ban of `minutes` lasts.
    pub fn name_banned(&self, name: &str, minutes: u64) -> String {
        let how_long = self.tr("ban-minutes", &[("n", minutes.into())]);
        self.notice(
            "name-banned",
            &[("name", name.into()), ("how_long", how_long.into())],
        )
    }

    /// The first line of `/whois NAME`, its times left open, and its
    /// language too unless given (a tag, `zh-CN`); match it against a
    /// line less its `* `.
    pub fn whois(&self, name: &str, lang: Option<&str>) -> Pattern {
        match lang {
            Some(tag) => {
                let language = self.tr("language-name", &[("tag", tag.into())]);
                self.pattern(
                    "whois",
                    &[("name", name.into()), ("language", language.into())],
                    &["in_room", "idle"],
                )
            }
            None => self.pattern(
                "whois",
                &[("name", name.into())],
                &["in_room", "idle", "language"],
            ),
        }
    }

    /// Whether `line` is the notice `id` with `args` and any number for
    /// the argument `number` (a count the test does not know).
    pub fn is_notice_with_number(
        &self,
        line: &str,
        id: &str,
        args: &Args<'_>,
        number: &str,
    ) -> bool {
        line.strip_prefix("* ")
            .is_some_and(|text| self.localizer.number_in(id, args, number, text).is_some())
    }

    /// The names in an answer to `/list` (the line with its `* `), or
    /// `None` if `line` is not one.
    pub fn list_names(&self, line: &str) -> Option<Vec<String>> {
        let text = line.strip_prefix("* ")?;
        let separator = self.tr("list-separator", &[]);
        text.split(|c: char| !c.is_ascii_digit())
            .filter_map(|digits| digits.parse::<usize>().ok())
            .find_map(|count| {
                let pattern = self.pattern("members", &[("count", count.into())], &["names"]);
                let names = pattern.captures(text)?.pop()?;
                let names: Vec<String> = names
                    .split(separator.as_str())
                    .map(str::to_string)
                    .collect();
                (names.len() == count).then_some(names)
            })
    }

    pub fn localizer(&self) -> &Localizer {
        &self.localizer
    }
}

/// A notice whose every argument a test cannot know (how many are in the
/// room, how long a member stayed): matches the notice with those left
/// open. A `String` compares equal to it when it matches.
#[derive(Debug, Clone)]
pub struct Expected {
    lang: String,
    kind: ExpectedKind,
}

#[derive(Debug, Clone)]
enum ExpectedKind {
    Joined { name: String },
    Left { id: String, name: String },
}

impl Expected {
    pub fn matches(&self, line: &str) -> bool {
        let text = Text::new(&self.lang);
        match &self.kind {
            ExpectedKind::Joined { name } => {
                text.is_notice_with_number(line, "joined", &[("name", name.into())], "count")
            }
            ExpectedKind::Left { id, name } => line.strip_prefix("* ").is_some_and(|rest| {
                text.pattern(id, &[("name", name.into())], &["stayed"])
                    .matches(rest)
            }),
        }
    }
}

impl PartialEq<Expected> for String {
    fn eq(&self, expected: &Expected) -> bool {
        expected.matches(self)
    }
}

impl PartialEq<Expected> for &str {
    fn eq(&self, expected: &Expected) -> bool {
        expected.matches(self)
    }
}

/// What `expect_line` waits for: an exact line, or an `Expected`.
pub trait LineMatch: std::fmt::Debug {
    fn is(&self, line: &str) -> bool;
}

impl LineMatch for str {
    fn is(&self, line: &str) -> bool {
        self == line
    }
}

impl LineMatch for String {
    fn is(&self, line: &str) -> bool {
        self == line
    }
}

impl LineMatch for Expected {
    fn is(&self, line: &str) -> bool {
        self.matches(line)
    }
}

/// Lines a child printed, collected by a thread so the child never blocks
/// on a full pipe.
pub struct LineStream {
    lines: Receiver<String>,
    /// Everything received so far, for failure messages.
    seen: Vec<String>,
}

impl LineStream {
    pub fn new(reader: impl Read + Send + 'static) -> Self {
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(reader).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        LineStream {
            lines,
            seen: Vec::new(),
        }
    }

    /// The next line, or `None` at EOF; panics after `TIMEOUT`.
    pub fn next_line(&mut self) -> Option<String> {
        match self.lines.recv_timeout(TIMEOUT) {
            Ok(line) => {
                self.seen.push(line.clone());
                Some(line)
            }
            Err(RecvTimeoutError::Disconnected) => None,
            Err(RecvTimeoutError::Timeout) => {
                panic!("no line within {TIMEOUT:?}; seen: {:#?}", self.seen)
            }
        }
    }

    /// Skips lines until one contains `needle`, and returns it.
    pub fn expect(&mut self, needle: &str) -> String {
        loop {
            match self.next_line() {
                Some(line) if line.contains(needle) => return line,
                Some(_) => continue,
                None => panic!("EOF before a line with {needle:?}; seen: {:#?}", self.seen),
            }
        }
    }

    /// Skips lines until one is exactly `wanted`, and returns it.
    pub fn expect_line(&mut self, wanted: &(impl LineMatch + ?Sized)) -> String {
        loop {
            match self.next_line() {
                Some(line) if wanted.is(&line) => return line,
                Some(_) => continue,
                None => panic!("EOF before the line {wanted:?}; seen: {:#?}", self.seen),
            }
        }
    }

    /// The lines already printed and not read yet, without waiting.
    pub fn drain(&mut self) -> Vec<String> {
        let lines: Vec<String> = self.lines.try_iter().collect();
        self.seen.extend(lines.iter().cloned());
        lines
    }

    /// Everything up to EOF.
    pub fn rest(&mut self) -> Vec<String> {
        std::iter::from_fn(|| self.next_line()).collect()
    }

    pub fn seen(&self) -> &[String] {
        &self.seen
    }
}

/// A running `chatroom-server`, killed on drop.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    /// The console; `None` when started with another stdin or after `close_stdin`.
    pub stdin: Option<ChildStdin>,
    /// Its stdout: the room's log.
    pub log: LineStream,
    /// The language it speaks: from `--lang`, else `en`; a test that sets
    /// it in a settings file sets this too.
    pub lang: String,
}

impl Server {
    /// A server on 127.0.0.1, any free port, in `lang`, with a console pipe.
    pub fn start(lang: &str) -> Server {
        Server::start_with(&["--lang", lang], Stdio::piped())
    }

    /// Started with flood control off, for tests that send faster than a
    /// person types.
    pub fn start_unthrottled(lang: &str) -> Server {
        let path = settings_file("[server]\nflood_rate = 0\n");
        let path = path.to_str().expect("utf-8 path").to_string();
        Server::start_with(&["--lang", lang, "--config", &path], Stdio::piped())
    }

    /// Started with extra flags (after `--host 127.0.0.1 --port 0`) and the
    /// given stdin. Waits until it prints the address it listens on.
    pub fn start_with(args: &[&str], stdin: Stdio) -> Server {
        Server::start_in(args, stdin, None)
    }

    /// Likewise, run in the directory `dir`.
    pub fn start_in(args: &[&str], stdin: Stdio, dir: Option<&Path>) -> Server {
        let mut command = Command::new(SERVER);
        command
            .args(["--host", "127.0.0.1", "--port", "0"])
            .args(args)
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(dir) = dir {
            command.current_dir(dir);
        }
        Server::spawn(command)
    }

    /// Runs `command` (the server with its flags, stdout piped) and waits
    /// until it prints the address it listens on.
    pub fn spawn(mut command: Command) -> Server {
        let args: Vec<String> = command
            .get_args()
            .map(|arg| arg.to_string_lossy().into_owned())
            .collect();
        let lang = args
            .iter()
            .position(|arg| arg == "--lang")
            .and_then(|at| args.get(at + 1))
            .cloned()
            .unwrap_or_else(|| "en".to_string());
        let mut child = command.spawn().expect("spawn chatroom-server");
        let stdout = child.stdout.take().expect("server stdout");
        let stdin = child.stdin.take();
        let mut log = LineStream::new(stdout);
        // That very message, in whichever language the settings chose: an
        // address in another line before it (a broker's) is never taken
        // for the server's.
        let listening: Vec<_> = chatroom::i18n::AVAILABLE
            .iter()
            .map(|tag| Text::new(tag).pattern("server-listening", &[], &["addr"]))
            .collect();
        let addr = loop {
            let Some(line) = log.next_line() else {
                let _ = child.kill();
                let _ = child.wait();
                panic!("server exited before listening; log: {:#?}", log.seen());
            };
            let found = listening.iter().find_map(|pattern| pattern.captures(&line));
            if let Some(addr) = found.and_then(|found| found[0].parse().ok()) {
                break addr;
            }
        };
        Server {
            child,
            addr,
            stdin,
            log,
            lang,
        }
    }

    /// What this server says, in its language.
    pub fn text(&self) -> Text {
        Text::new(&self.lang)
    }

    /// Types `line` on the server's console.
    pub fn console(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("console pipe");
        writeln!(stdin, "{line}").expect("write console");
        stdin.flush().expect("flush console");
    }

    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Sends a signal to the server process.
    pub fn signal(&self, signal: rustix::process::Signal) {
        let pid = rustix::process::Pid::from_raw(self.child.id() as i32).expect("pid");
        rustix::process::kill_process(pid, signal).expect("kill");
    }

    /// Waits for the server to exit by itself, at most `TIMEOUT`.
    pub fn wait_exit(&mut self) -> ExitStatus {
        wait_child(&mut self.child)
    }

    /// A netcat-like connection to the server.
    pub fn connect(&self) -> Peer {
        let mut peer = Peer::connect(self.addr);
        peer.lang = self.lang.clone();
        peer
    }

    /// Connects and joins as `name`, reading up to the welcome line.
    pub fn join(&self, name: &str) -> Peer {
        let mut peer = self.connect();
        peer.send(name);
        peer.expect_welcome(name);
        peer
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits for `child` to exit, at most `TIMEOUT`; kills it and panics after.
pub fn wait_child(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("process did not exit within {TIMEOUT:?}");
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// Runs a program to completion with `stdin` bytes, bounded by `TIMEOUT`.
pub fn run_with_input(program: &str, args: &[&str], input: &[u8], dir: Option<&Path>) -> Output {
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let mut child = command.spawn().expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    let writer = thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let stdout = child.stdout.take().expect("stdout");
    let stderr = child.stderr.take().expect("stderr");
    let out_thread = thread::spawn(move || read_all(stdout));
    let err_thread = thread::spawn(move || read_all(stderr));
    let status = wait_child(&mut child);
    let _ = writer.join();
    Output {
        status,
        stdout: out_thread.join().unwrap_or_default(),
        stderr: err_thread.join().unwrap_or_default(),
    }
}

fn read_all(mut reader: impl Read) -> Vec<u8> {
    let mut bytes = Vec::new();
    let _ = reader.read_to_end(&mut bytes);
    bytes
}

/// A raw TCP client, as netcat: writes lines, reads lines with a timeout.
pub struct Peer {
    pub stream: TcpStream,
    reader: BufReader<TcpStream>,
    /// Lines read so far, for failure messages.
    seen: Vec<String>,
    /// The server's language (`en` unless it came from `Server::connect`).
    pub lang: String,
}

impl Peer {
    pub fn connect(addr: SocketAddr) -> Peer {
        Peer::from_stream(TcpStream::connect(addr).expect("connect"))
    }

    pub fn from_stream(stream: TcpStream) -> Peer {
        stream.set_read_timeout(Some(TIMEOUT)).expect("timeout");
        let reader = BufReader::new(stream.try_clone().expect("clone"));
        Peer {
            stream,
            reader,
            seen: Vec::new(),
            lang: "en".to_string(),
        }
    }

    pub fn send(&mut self, line: &str) {
        self.send_raw(format!("{line}\n").as_bytes());
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("send");
    }

    /// The next line without its `\n`, or `None` at EOF. Panics on timeout.
    /// Asserts every line the server sends is complete and valid UTF-8.
    pub fn read_line(&mut self) -> Option<String> {
        let mut bytes = Vec::new();
        match self.reader.read_until(b'\n', &mut bytes) {
            Ok(0) => None,
            Ok(_) => {
                assert!(
                    bytes.ends_with(b"\n"),
                    "incomplete line {bytes:?}; seen: {:#?}",
                    self.seen
                );
                bytes.pop();
                let line = String::from_utf8(bytes).expect("server sent invalid UTF-8");
                self.seen.push(line.clone());
                Some(line)
            }
            Err(err) if err.kind() == std::io::ErrorKind::ConnectionReset => None,
            Err(err) => panic!("read failed ({err}); seen: {:#?}", self.seen),
        }
    }

    /// The next line, which must exist.
    pub fn line(&mut self) -> String {
        self.read_line()
            .unwrap_or_else(|| panic!("EOF; seen: {:#?}", self.seen))
    }

    /// Skips lines until one contains `needle`; returns it.
    pub fn expect(&mut self, needle: &str) -> String {
        loop {
            let line = self
                .read_line()
                .unwrap_or_else(|| panic!("EOF before {needle:?}; seen: {:#?}", self.seen));
            if line.contains(needle) {
                return line;
            }
        }
    }

    /// Skips lines until one is exactly `wanted` (a whole notice, say);
    /// returns it.
    pub fn expect_line(&mut self, wanted: &(impl LineMatch + ?Sized)) -> String {
        loop {
            let line = self
                .read_line()
                .unwrap_or_else(|| panic!("EOF before {wanted:?}; seen: {:#?}", self.seen));
            if wanted.is(&line) {
                return line;
            }
        }
    }

    /// Reads to EOF, returning the lines on the way.
    pub fn read_to_eof(&mut self) -> Vec<String> {
        std::iter::from_fn(|| self.read_line()).collect()
    }

    /// Reads raw bytes to EOF (or a reset), for a peer whose last line may
    /// have been cut short.
    pub fn read_to_eof_lossy(&mut self) -> String {
        let mut bytes = Vec::new();
        let _ = self.reader.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Skips lines up to the welcome of `name` (with any count of
    /// others), and returns it.
    pub fn expect_welcome(&mut self, name: &str) -> String {
        let text = Text::new(&self.lang);
        loop {
            let line = self
                .read_line()
                .unwrap_or_else(|| panic!("EOF before the welcome; seen: {:#?}", self.seen));
            if text.is_notice_with_number(&line, "welcome", &[("name", name.into())], "others") {
                return line;
            }
        }
    }

    /// Proves nothing else was queued for this peer: asks for `/list` and
    /// checks its answer is the very next line.
    pub fn expect_nothing_pending(&mut self) {
        self.send("/list");
        let line = self.line();
        assert!(
            Text::new(&self.lang).list_names(&line).is_some(),
            "expected the /list answer, got {line:?}"
        );
    }

    pub fn shutdown_write(&self) {
        let _ = self.stream.shutdown(Shutdown::Write);
    }

    /// Closes with a reset (SO_LINGER 0) instead of a FIN.
    pub fn reset(self) {
        rustix::net::sockopt::set_socket_linger(&self.stream, Some(Duration::ZERO))
            .expect("linger");
        drop(self);
    }

    pub fn seen(&self) -> &[String] {
        &self.seen
    }
}

/// A connection whose receive buffer is small and never read: a member
/// that stopped reading, without the kernel absorbing megabytes for it.
pub fn stalled_stream(addr: SocketAddr) -> TcpStream {
    use rustix::net::{AddressFamily, SocketType};
    let family = if addr.is_ipv4() {
        AddressFamily::INET
    } else {
        AddressFamily::INET6
    };
    let fd = rustix::net::socket(family, SocketType::STREAM, None).expect("socket");
    rustix::net::sockopt::set_socket_recv_buffer_size(&fd, 4096).expect("rcvbuf");
    rustix::net::connect(&fd, &addr).expect("connect");
    TcpStream::from(fd)
}

/// A field of /proc/PID/status in KiB (`"VmRSS:"`, `"VmHWM:"`); `None`
/// once the process is gone.
pub fn proc_status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
}
