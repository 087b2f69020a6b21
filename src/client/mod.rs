//! The chat client: one `Poller` over the server socket, stdin, stdout and
//! a signal pipe. It prints every line the server sends and sends every
//! line typed.
//!
//! Two faces over one loop. With a terminal on stdin and stdout, the
//! terminal is put in raw mode (`term`) and the line is edited by the
//! sans-IO `editor`: incoming lines are printed above the input row, which
//! is redrawn intact, and `view` styles them and learns who is here. With
//! anything else the client is a plain line relay: each server line,
//! cleaned, is one output line, and each input line is sent.
//!
//! An empty line, EOF on stdin (after what was read is sent) or SIGINT,
//! SIGTERM or SIGHUP leaves: pending output is flushed, the write side shut,
//! and the client reads on until the server closes (bounded by `LEAVE_WAIT`)
//! so that nothing sent is cut off by a reset.
//!
//! Nothing blocks and everything held is bounded: stdout is written without
//! blocking (`output`); the socket is not read while `OUTPUT_CAP` bytes wait
//! for stdout, and a turn reads at most `READ_BUDGET` from it, so keys and
//! signals always get their turn; piped stdin is not read while
//! `OUTGOING_CAP` bytes wait for the server.

pub mod editor;
mod output;
pub(crate) mod term;
pub mod view;

use std::io::{self, IsTerminal, Read};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use polling::{Event, Events, Poller};

use self::editor::{Action, Editor};
use self::output::{Flushed, Output};
use self::term::RawMode;
use self::view::{LineKind, View};
use crate::i18n::Localizer;
use crate::protocol::{sanitize, Frame, LineCodec};
use crate::settings::{Bell, ClientSettings};
use crate::signals::{SignalPipe, SIGHUP, SIGINT, SIGTERM, SIGWINCH};

const SOCKET: usize = 0;
const STDIN: usize = 1;
const SIGNALS: usize = 2;
const STDOUT: usize = 3;

/// How long to try each address of the server.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long to wait, once leaving, for what was sent to be taken and the
/// server to close. Short enough that a signal ends the client within 2 s
/// whatever the server and stdout do.
const LEAVE_WAIT: Duration = Duration::from_millis(1200);
/// How long the last line (goodbye) may wait for a stdout that is full.
const LAST_LINE_WAIT: Duration = Duration::from_millis(200);
/// Longest line accepted from the server or the user before it is cut.
const MAX_LINE: usize = 1 << 20;
/// Most bytes read from the server in one loop turn.
const READ_BUDGET: usize = 64 * 1024;
/// The socket is not read while this much waits for stdout: a server that
/// sends faster than we print is held back by TCP, not by our memory.
const OUTPUT_CAP: usize = 256 * 1024;
/// Piped stdin is not read while this much waits for the server.
const OUTGOING_CAP: usize = 64 * 1024;
/// A server silent this long after connecting gets a "still waiting" line.
const SILENCE_NOTICE: Duration = Duration::from_secs(3);
/// How long a lone ESC waits for the rest of an escape sequence.
const ESCAPE_WAIT: Duration = Duration::from_millis(50);

/// How the session ended without an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The user left (empty line, EOF, a signal).
    Left,
    /// The server closed the connection (the room was shut down, or the
    /// server ended the session).
    ServerClosed,
}

/// Why the session failed; each maps to exit code 1.
#[derive(Debug)]
pub enum ClientError {
    Resolve {
        host: String,
        error: io::Error,
    },
    Connect {
        host: String,
        port: u16,
        error: io::Error,
    },
    Lost(io::Error),
    EventLoop(io::Error),
}

impl ClientError {
    pub fn localize(&self, localizer: &Localizer) -> String {
        match self {
            ClientError::Resolve { host, error } => localizer.tr(
                "client-resolve-failed",
                &[
                    ("host", host.into()),
                    ("reason", resolve_reason(localizer, error).into()),
                ],
            ),
            ClientError::Connect { host, port, error } => localizer.tr(
                "client-connect-failed",
                &[
                    ("host", host.into()),
                    ("port", port.to_string().into()),
                    ("reason", localizer.io_reason(error).into()),
                ],
            ),
            ClientError::Lost(error) => localizer.tr(
                "client-connection-lost",
                &[("reason", localizer.io_reason(error).into())],
            ),
            ClientError::EventLoop(error) => localizer.tr(
                "error-event-loop",
                &[("reason", localizer.io_reason(error).into())],
            ),
        }
    }
}

/// The resolver's errors carry the C library's English text. The common
/// one, a name that does not exist, is said in the user's language; others
/// (no network, a resolver failure) are shown as the system words them.
fn resolve_reason(localizer: &Localizer, error: &io::Error) -> String {
    let text = error.to_string();
    if text.contains("not known") || text.contains("No address associated") {
        localizer.tr("reason-unknown-host", &[])
    } else {
        text
    }
}

/// Connects to the server, trying each address the host resolves to.
pub fn connect(settings: &ClientSettings) -> Result<TcpStream, ClientError> {
    let host = settings.host.clone();
    let port = settings.port;
    let addrs: Vec<_> = (host.as_str(), port)
        .to_socket_addrs()
        .map_err(|error| ClientError::Resolve {
            host: host.clone(),
            error,
        })?
        .collect();
    let mut last_error = io::Error::from(io::ErrorKind::NotFound);
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
            Ok(stream) => return Ok(stream),
            Err(error) => last_error = error,
        }
    }
    Err(ClientError::Connect {
        host,
        port,
        error: last_error,
    })
}

/// How the session starts, and how it looks and sounds in a terminal.
#[derive(Debug, Clone)]
pub struct Options {
    /// Sent as the first line, to join without being asked.
    pub name: Option<String>,
    /// Colours in a terminal (`--no-color` and `NO_COLOR` turn them off).
    pub color: bool,
    pub bell: Bell,
}

/// Runs a session on a connected `stream`: prints the "connected" line,
/// relays until the user leaves or the server closes, and prints the
/// goodbye (on an error, the caller prints it on stderr). In a terminal
/// the terminal is given back before this returns.
pub fn run(
    stream: TcpStream,
    settings: &ClientSettings,
    options: &Options,
    localizer: &Localizer,
) -> Result<Ending, ClientError> {
    let terminal = io::stdin().is_terminal() && io::stdout().is_terminal();
    // The signal handlers first, so that no signal finds the terminal raw
    // and the process without them.
    let mut session =
        Session::new(stream, options, localizer, terminal).map_err(ClientError::EventLoop)?;
    // Raw mode only if it can be had; else the plain relay.
    let raw = terminal.then(RawMode::enter).and_then(Result::ok);
    if raw.is_none() {
        session.screen = None;
    }
    let connected = localizer.tr(
        "client-connected",
        &[
            ("host", settings.host.as_str().into()),
            ("port", settings.port.to_string().into()),
        ],
    );
    session.waiting_for = format!("{}:{}", settings.host, settings.port);
    session.print(&connected);
    let result = session.run();
    match &result {
        Ok(ending) => {
            let id = match ending {
                Ending::Left => "client-goodbye",
                Ending::ServerClosed => "client-server-closed",
            };
            session.finish(Some(&localizer.tr(id, &[])));
        }
        Err(_) => session.finish(None),
    }
    drop(session);
    drop(raw);
    result
}

/// How stdin is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stdin {
    /// Watched by the poller (a pipe or a terminal).
    Watched,
    /// A regular file or /dev/null, which epoll cannot watch: read a chunk
    /// a turn, as the outgoing buffer has room (reads never block).
    File,
    /// At EOF, or no longer read because we are leaving.
    Closed,
}

/// The terminal face: the editor and what the client knows of the room.
struct Screen {
    editor: Editor,
    view: View,
    /// Set when the input row was cleared this turn to print above it.
    row_cleared: bool,
    /// Set when the input row must be drawn again.
    dirty: bool,
    /// When a lone ESC is taken as the Escape key.
    escape_at: Option<Instant>,
    /// Set when we asked for `/list` on joining, to learn who is here for
    /// Tab: its answer is not shown.
    hide_members: bool,
}

struct Session<'a> {
    poller: Poller,
    stream: TcpStream,
    signals: SignalPipe,
    localizer: &'a Localizer,
    output: Output,
    /// Lines typed but not yet taken by the socket.
    outgoing: Vec<u8>,
    /// Server bytes split into lines.
    incoming: LineCodec,
    /// The user's bytes split into lines (plain face).
    typed: LineCodec,
    /// The terminal face; `None` for the plain relay.
    screen: Option<Screen>,
    stdin: Stdin,
    /// Whether stdout can be watched for writable (not a regular file).
    stdout_watched: bool,
    /// Set when the user leaves: by then stdin is no longer read, and the
    /// session ends when the server closes or at this deadline.
    leaving_by: Option<Instant>,
    /// Whether the write side has been shut down after the last line.
    write_shut: bool,
    /// Until the server says anything: when to say we are still waiting.
    silence_notice_at: Option<Instant>,
    /// `host:port`, for the "still waiting" line.
    waiting_for: String,
    /// Set when stdout is gone: nothing more is written.
    stdout_gone: bool,
}

impl<'a> Session<'a> {
    fn new(
        stream: TcpStream,
        options: &Options,
        localizer: &'a Localizer,
        terminal: bool,
    ) -> io::Result<Session<'a>> {
        stream.set_nonblocking(true)?;
        let _ = stream.set_nodelay(true);
        let poller = Poller::new()?;
        let mut watched = vec![SIGINT, SIGTERM, SIGHUP];
        if terminal {
            watched.push(SIGWINCH);
        }
        let signals = SignalPipe::install(&watched)?;
        let output = Output::new();
        // SAFETY: the socket, stdin, stdout and the signal pipe are deleted
        // from the poller in `Drop` (stdin also on EOF), before any of them
        // drops; `output` is a field of the session, dropped after `Drop`.
        unsafe {
            poller.add(&stream, Event::readable(SOCKET))?;
            poller.add(signals.reader(), Event::readable(SIGNALS))?;
        }
        // SAFETY: as above.
        let stdin_watched = unsafe { poller.add(&io::stdin(), Event::readable(STDIN)) }.is_ok();
        // SAFETY: as above.
        let stdout_watched = output
            .source()
            .is_some_and(|fd| unsafe { poller.add(&fd, Event::none(STDOUT)) }.is_ok());
        let screen = terminal.then(|| {
            let mut editor = Editor::new(term::width());
            let view = View::new(options.color, options.bell);
            editor.set_prompt(&view.prompt());
            Screen {
                editor,
                view,
                row_cleared: false,
                dirty: true,
                escape_at: None,
                hide_members: false,
            }
        });
        let mut session = Session {
            poller,
            stream,
            signals,
            localizer,
            output,
            outgoing: Vec::new(),
            incoming: LineCodec::new(MAX_LINE),
            typed: LineCodec::new(MAX_LINE),
            screen,
            stdin: if stdin_watched {
                Stdin::Watched
            } else {
                Stdin::File
            },
            stdout_watched,
            leaving_by: None,
            write_shut: false,
            silence_notice_at: Some(Instant::now() + SILENCE_NOTICE),
            waiting_for: String::new(),
            stdout_gone: false,
        };
        // Our language first thing, before the name, so that the whole
        // room reaches this person in it whatever the server's default
        // (a server in that language already says nothing to it).
        let lang = format!("/lang {}\n", localizer.lang());
        session.outgoing.extend_from_slice(lang.as_bytes());
        if let Some(name) = &options.name {
            session.outgoing.extend_from_slice(name.as_bytes());
            session.outgoing.push(b'\n');
        }
        Ok(session)
    }

    fn run(&mut self) -> Result<Ending, ClientError> {
        let mut events = Events::new();
        loop {
            self.flush_socket()?;
            self.redraw();
            self.flush_output();
            self.rearm().map_err(ClientError::EventLoop)?;
            events.clear();
            let timeout = self
                .next_deadline()
                .map(|at| at.saturating_duration_since(Instant::now()));
            self.poller
                .wait(&mut events, timeout)
                .map_err(ClientError::EventLoop)?;
            let mut socket_readable = false;
            for event in events.iter() {
                match event.key {
                    SOCKET if event.readable => socket_readable = true,
                    STDIN => self.read_stdin(),
                    SIGNALS => self.handle_signals(),
                    _ => {}
                }
            }
            // After stdin and signals: a flooding server never delays them.
            if socket_readable {
                if let Some(ending) = self.read_socket()? {
                    return Ok(ending);
                }
            }
            let now = Instant::now();
            if self.stdin == Stdin::File && self.outgoing.len() < OUTGOING_CAP {
                self.read_file_stdin();
            }
            self.handle_timers(now);
            if self.leaving_by.is_some_and(|at| now >= at) {
                return Ok(Ending::Left);
            }
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        let now = Instant::now();
        let file = (self.stdin == Stdin::File && self.outgoing.len() < OUTGOING_CAP).then_some(now);
        // A stdout that cannot be watched is retried now and then.
        let stdout = (!self.stdout_watched && !self.output.is_empty() && !self.stdout_gone)
            .then(|| now + Duration::from_millis(20));
        let escape = self.screen.as_ref().and_then(|screen| screen.escape_at);
        [
            self.leaving_by,
            self.silence_notice_at,
            file,
            stdout,
            escape,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn handle_timers(&mut self, now: Instant) {
        if self.silence_notice_at.is_some_and(|at| now >= at) {
            self.silence_notice_at = None;
            let line = self.localizer.tr(
                "client-still-waiting",
                &[("server", self.waiting_for.as_str().into())],
            );
            if self.screen.is_some() {
                self.print(&line);
            } else {
                // The plain relay's stdout carries only what the server
                // sends: the note goes to stderr.
                crate::cli::print_error("chatroom-client", &line);
            }
        }
        if let Some(screen) = &mut self.screen {
            if screen.escape_at.is_some_and(|at| now >= at) {
                screen.escape_at = None;
                let mut actions = Vec::new();
                screen.editor.flush_escape(&mut actions);
                self.apply(actions);
            }
        }
    }

    /// Derives every registration's interest from the state (oneshot).
    fn rearm(&mut self) -> io::Result<()> {
        let leaving = self.leaving_by.is_some();
        let readable = leaving || self.output.len() < OUTPUT_CAP;
        let writable = !self.outgoing.is_empty();
        self.poller
            .modify(&self.stream, Event::new(SOCKET, readable, writable))?;
        self.poller
            .modify(self.signals.reader(), Event::readable(SIGNALS))?;
        if self.stdin == Stdin::Watched {
            let wanted = self.screen.is_some() || self.outgoing.len() < OUTGOING_CAP;
            self.poller
                .modify(io::stdin(), Event::new(STDIN, wanted, false))?;
        }
        if self.stdout_watched {
            if let Some(fd) = self.output.source() {
                let wanted = !self.output.is_empty() && !self.stdout_gone;
                self.poller.modify(fd, Event::new(STDOUT, false, wanted))?;
            }
        }
        Ok(())
    }

    /// Writes what is pending to the server, and shuts the write side once
    /// leaving and done.
    fn flush_socket(&mut self) -> Result<(), ClientError> {
        while !self.outgoing.is_empty() {
            match io::Write::write(&mut self.stream, &self.outgoing) {
                Ok(0) => return Err(ClientError::Lost(io::ErrorKind::WriteZero.into())),
                Ok(n) => {
                    self.outgoing.drain(..n);
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(ClientError::Lost(err)),
            }
        }
        if self.leaving_by.is_some() && self.outgoing.is_empty() && !self.write_shut {
            self.write_shut = true;
            let _ = self.stream.shutdown(Shutdown::Write);
        }
        Ok(())
    }

    fn flush_output(&mut self) {
        if self.stdout_gone {
            self.output.discard();
            return;
        }
        if self.output.flush() == Flushed::Gone {
            // Nobody reads our output any more (a closed pipe).
            self.stdout_gone = true;
            self.leave();
        }
    }

    /// Reads what the server sent, at most `READ_BUDGET` this turn, and
    /// shows it. `Some` when it closed.
    fn read_socket(&mut self) -> Result<Option<Ending>, ClientError> {
        let mut buf = [0u8; 16 * 1024];
        let mut taken = 0;
        while taken < READ_BUDGET {
            match io::Read::read(&mut self.stream, &mut buf) {
                Ok(0) => {
                    return Ok(Some(if self.leaving_by.is_some() {
                        Ending::Left
                    } else {
                        Ending::ServerClosed
                    }));
                }
                Ok(n) => {
                    taken += n;
                    self.silence_notice_at = None;
                    let mut lines = Vec::new();
                    self.incoming.feed(&buf[..n], |frame| {
                        if let Frame::Line(line) = frame {
                            lines.push(line);
                        }
                    });
                    for line in lines {
                        self.show(&sanitize(&line));
                    }
                    if self.output.len() >= OUTPUT_CAP && self.leaving_by.is_none() {
                        break;
                    }
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) if self.leaving_by.is_some() => return Ok(Some(Ending::Left)),
                Err(err) => return Err(ClientError::Lost(err)),
            }
        }
        if let Some(screen) = &mut self.screen {
            if screen.view.take_changed() {
                screen.editor.set_names(screen.view.members().cloned());
                screen.editor.set_prompt(&screen.view.prompt());
            }
        }
        Ok(None)
    }

    /// One cleaned line from the server, on its way to stdout.
    fn show(&mut self, line: &str) {
        // Leaving with a stdout that does not keep up: what still arrives
        // is read (to see the server close) but not kept.
        if self.leaving_by.is_some() && self.output.len() >= OUTPUT_CAP {
            return;
        }
        let Some(screen) = &mut self.screen else {
            self.output.push_str(line);
            self.output.push(b"\n");
            return;
        };
        let kind = screen.view.observe(line);
        match kind {
            LineKind::Welcome => {
                // Who was here before us: only a `/list` answer tells.
                screen.hide_members = true;
                self.outgoing.extend_from_slice(b"/list\n");
            }
            LineKind::Members if screen.hide_members => {
                screen.hide_members = false;
                return;
            }
            _ => {}
        }
        let styled = screen.view.style(line, kind);
        let bell = screen.view.rings(kind);
        self.above(&styled);
        if bell {
            self.output.push(b"\x07");
        }
    }

    /// A line of our own (connected, still waiting, goodbye): plain, or
    /// above the input row.
    fn print(&mut self, line: &str) {
        if self.screen.is_some() {
            self.above(line);
        } else {
            self.output.push_str(line);
            self.output.push(b"\n");
        }
    }

    /// Prints `styled` above the input row (terminal face).
    fn above(&mut self, styled: &str) {
        let Some(screen) = &mut self.screen else {
            return;
        };
        if !screen.row_cleared {
            screen.row_cleared = true;
            self.output.push(b"\r\x1b[K");
        }
        self.output.push_str(styled);
        self.output.push(b"\r\n");
        screen.dirty = true;
    }

    /// Draws the input row again if anything changed this turn.
    fn redraw(&mut self) {
        let Some(screen) = &mut self.screen else {
            return;
        };
        if !screen.dirty || self.leaving_by.is_some() {
            return;
        }
        let row = screen.editor.render();
        let mut bytes = format!("\r\x1b[1m{}\x1b[22m{}\x1b[K\r", row.prompt, row.text);
        if row.cursor > 0 {
            bytes.push_str(&format!("\x1b[{}C", row.cursor));
        }
        self.output.push_str(&bytes);
        screen.dirty = false;
        screen.row_cleared = false;
    }

    /// One read of stdin after the poller said it is readable.
    fn read_stdin(&mut self) {
        if self.stdin != Stdin::Watched || self.leaving_by.is_some() {
            return;
        }
        let mut buf = [0u8; 16 * 1024];
        let read = loop {
            match rustix::io::read(rustix::stdio::stdin(), &mut buf[..]) {
                Err(rustix::io::Errno::INTR) => continue,
                other => break other,
            }
        };
        match read {
            Ok(n) if n > 0 => self.take_input(&buf[..n]),
            Err(rustix::io::Errno::AGAIN) => {}
            // EOF (or stdin failed): send the last unterminated line, leave.
            _ => self.end_of_input(),
        }
    }

    /// A chunk of a stdin that cannot be polled (a regular file,
    /// /dev/null): reads never block, so one is made each turn while the
    /// server takes what we send.
    fn read_file_stdin(&mut self) {
        let mut buf = [0u8; 16 * 1024];
        match io::stdin().lock().read(&mut buf) {
            Ok(n) if n > 0 => self.take_input(&buf[..n]),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            _ => self.end_of_input(),
        }
    }

    fn end_of_input(&mut self) {
        if self.screen.is_none() {
            if let Some(last) = self.typed.take_unterminated() {
                self.send_line(&last);
            }
        }
        self.leave();
    }

    fn take_input(&mut self, bytes: &[u8]) {
        if let Some(screen) = &mut self.screen {
            let mut actions = Vec::new();
            // A server that does not read: Enter keeps the line (and rings)
            // instead of queueing more.
            screen
                .editor
                .set_can_send(self.outgoing.len() < OUTGOING_CAP);
            screen.editor.feed(bytes, &mut actions);
            screen.escape_at = screen
                .editor
                .escape_pending()
                .then(|| Instant::now() + ESCAPE_WAIT);
            screen.dirty = true;
            self.apply(actions);
        } else {
            self.take_typed(bytes);
        }
    }

    /// Does what the editor's keys asked for.
    fn apply(&mut self, actions: Vec<Action>) {
        for action in actions {
            match action {
                Action::Send(line) => {
                    self.send_line(&line);
                    let shown = self
                        .screen
                        .as_ref()
                        .and_then(|screen| screen.view.own_line(&line))
                        .unwrap_or(line);
                    self.above(&shown);
                }
                Action::Leave => self.leave(),
                Action::Bell => self.output.push(b"\x07"),
            }
        }
    }

    /// Queues each typed line; an empty one means leave, and what follows
    /// it is not sent.
    fn take_typed(&mut self, bytes: &[u8]) {
        let mut lines = Vec::new();
        self.typed.feed(bytes, |frame| {
            if let Frame::Line(line) = frame {
                lines.push(line);
            }
        });
        for line in lines {
            if line.is_empty() {
                self.leave();
                return;
            }
            self.send_line(&line);
        }
    }

    fn send_line(&mut self, line: &str) {
        self.outgoing.extend_from_slice(line.as_bytes());
        self.outgoing.push(b'\n');
    }

    fn handle_signals(&mut self) {
        for signal in self.signals.take() {
            if signal == SIGWINCH {
                if let Some(screen) = &mut self.screen {
                    screen.editor.set_width(term::width());
                    screen.dirty = true;
                }
            } else {
                self.leave();
            }
        }
    }

    fn leave(&mut self) {
        if self.leaving_by.is_some() {
            return;
        }
        self.leaving_by = Some(Instant::now() + LEAVE_WAIT);
        if self.stdin == Stdin::Watched {
            let _ = self.poller.delete(io::stdin());
        }
        self.stdin = Stdin::Closed;
    }

    /// The last line (the goodbye, if any) after clearing the input row,
    /// and what is still pending for stdout, for `LAST_LINE_WAIT` at most.
    fn finish(&mut self, last: Option<&str>) {
        if self.stdout_gone {
            return;
        }
        if let Some(screen) = &mut self.screen {
            screen.row_cleared = false;
            self.output.push(b"\r\x1b[K");
            if let Some(line) = last {
                self.output.push_str(line);
                self.output.push(b"\r\n");
            }
        } else if let Some(line) = last {
            self.print(line);
        }
        let deadline = Instant::now() + LAST_LINE_WAIT;
        let mut events = Events::new();
        while self.output.flush() == Flushed::Blocked {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            let wait = if self.stdout_watched {
                if let Some(fd) = self.output.source() {
                    let _ = self.poller.modify(fd, Event::writable(STDOUT));
                }
                deadline - now
            } else {
                Duration::from_millis(10).min(deadline - now)
            };
            events.clear();
            let _ = self.poller.wait(&mut events, Some(wait));
        }
    }
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        let _ = self.poller.delete(&self.stream);
        let _ = self.poller.delete(self.signals.reader());
        if self.stdin == Stdin::Watched {
            let _ = self.poller.delete(io::stdin());
        }
        if self.stdout_watched {
            if let Some(fd) = self.output.source() {
                let _ = self.poller.delete(fd);
            }
        }
    }
}
