//! The chat client: one `Poller` over the server socket, stdin and a signal
//! pipe. It prints every line the server sends and sends every line typed.
//!
//! An empty line, EOF on stdin (after what was read is sent) or SIGINT,
//! SIGTERM or SIGHUP leaves: pending output is flushed, the write side shut,
//! and the client reads on until the server closes (bounded by `LEAVE_WAIT`)
//! so that nothing sent is cut off by a reset. Line mode only for now: a
//! terminal runs in its usual canonical mode.

pub mod editor;

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use polling::{Event, Events, Poller};

use crate::i18n::Localizer;
use crate::protocol::{sanitize, Frame, LineCodec};
use crate::settings::ClientSettings;
use crate::signals::{SignalPipe, SIGHUP, SIGINT, SIGTERM};

const SOCKET: usize = 0;
const STDIN: usize = 1;
const SIGNALS: usize = 2;

/// How long to try each address of the server.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long to wait, once leaving, for what was sent to be taken and the
/// server to close.
const LEAVE_WAIT: Duration = Duration::from_secs(2);
/// Longest line accepted from the server or the user before it is cut.
const MAX_LINE: usize = 1 << 20;

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

/// Runs a session on a connected `stream`; `name`, if given, is sent as the
/// first line. Server lines go to `out`, one per line, cleaned.
pub fn run(
    stream: TcpStream,
    name: Option<&str>,
    out: &mut impl Write,
) -> Result<Ending, ClientError> {
    Session::new(stream, name)
        .map_err(ClientError::EventLoop)?
        .run(out)
}

struct Session {
    poller: Poller,
    stream: TcpStream,
    signals: SignalPipe,
    /// Lines typed but not yet taken by the socket.
    outgoing: Vec<u8>,
    /// Server bytes split into lines.
    incoming: LineCodec,
    /// The user's bytes split into lines.
    typed: LineCodec,
    /// Whether stdin is watched by the poller; a regular file or /dev/null
    /// cannot be, and is read at once instead.
    stdin_watched: bool,
    /// Set when the user leaves: by then stdin is no longer read, and the
    /// session ends when the server closes or at this deadline.
    leaving_by: Option<Instant>,
    /// Whether the write side has been shut down after the last line.
    write_shut: bool,
}

impl Session {
    fn new(stream: TcpStream, name: Option<&str>) -> io::Result<Session> {
        stream.set_nonblocking(true)?;
        let _ = stream.set_nodelay(true);
        let poller = Poller::new()?;
        let signals = SignalPipe::install(&[SIGINT, SIGTERM, SIGHUP])?;
        // SAFETY: the socket, stdin and the signal pipe are deleted from the
        // poller in `Drop` (stdin also on EOF), before any of them drops.
        unsafe {
            poller.add(&stream, Event::readable(SOCKET))?;
            poller.add(signals.reader(), Event::readable(SIGNALS))?;
        }
        // SAFETY: as above.
        let stdin_watched = unsafe { poller.add(&io::stdin(), Event::readable(STDIN)) }.is_ok();
        let mut session = Session {
            poller,
            stream,
            signals,
            outgoing: Vec::new(),
            incoming: LineCodec::new(MAX_LINE),
            typed: LineCodec::new(MAX_LINE),
            stdin_watched,
            leaving_by: None,
            write_shut: false,
        };
        if let Some(name) = name {
            session.outgoing.extend_from_slice(name.as_bytes());
            session.outgoing.push(b'\n');
        }
        Ok(session)
    }

    fn run(mut self, out: &mut impl Write) -> Result<Ending, ClientError> {
        if !self.stdin_watched {
            self.read_unwatchable_stdin();
        }
        let mut events = Events::new();
        loop {
            self.flush(out)?;
            events.clear();
            let timeout = self
                .leaving_by
                .map(|at| at.saturating_duration_since(Instant::now()));
            self.poller
                .wait(&mut events, timeout)
                .map_err(ClientError::EventLoop)?;
            for event in events.iter() {
                match event.key {
                    SOCKET if event.readable => {
                        if let Some(ending) = self.read_socket(out)? {
                            return Ok(ending);
                        }
                    }
                    STDIN => self.read_stdin(),
                    SIGNALS => {
                        if !self.signals.take().is_empty() {
                            self.leave();
                        }
                        let _ = self
                            .poller
                            .modify(self.signals.reader(), Event::readable(SIGNALS));
                    }
                    _ => {}
                }
            }
            if self.leaving_by.is_some_and(|at| Instant::now() >= at) {
                return Ok(Ending::Left);
            }
        }
    }

    /// Writes what is pending, shuts the write side once leaving and done,
    /// and re-arms the socket.
    fn flush(&mut self, out: &mut impl Write) -> Result<(), ClientError> {
        let _ = out.flush();
        while !self.outgoing.is_empty() {
            match self.stream.write(&self.outgoing) {
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
        let interest = Event::new(SOCKET, true, !self.outgoing.is_empty());
        self.poller
            .modify(&self.stream, interest)
            .map_err(ClientError::EventLoop)
    }

    /// Reads and prints all the server has sent. `Some` when it closed.
    fn read_socket(&mut self, out: &mut impl Write) -> Result<Option<Ending>, ClientError> {
        let mut buf = [0u8; 16 * 1024];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => {
                    let _ = out.flush();
                    return Ok(Some(if self.leaving_by.is_some() {
                        Ending::Left
                    } else {
                        Ending::ServerClosed
                    }));
                }
                Ok(n) => {
                    let mut failed = false;
                    self.incoming.feed(&buf[..n], |frame| {
                        if let Frame::Line(line) = frame {
                            failed |= writeln!(out, "{}", sanitize(&line)).is_err();
                        }
                    });
                    if failed {
                        // Nobody reads our output any more (a closed pipe).
                        self.leave();
                    }
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) if self.leaving_by.is_some() => return Ok(Some(Ending::Left)),
                Err(err) => return Err(ClientError::Lost(err)),
            }
        }
    }

    /// One read of stdin after the poller said it is readable.
    fn read_stdin(&mut self) {
        if self.leaving_by.is_some() {
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
            Ok(n) if n > 0 => {
                self.take_typed(&buf[..n]);
                if self.leaving_by.is_none() {
                    let _ = self.poller.modify(io::stdin(), Event::readable(STDIN));
                }
            }
            // EOF (or stdin failed): send the last unterminated line, leave.
            _ => {
                if let Some(last) = self.typed.take_unterminated() {
                    self.send_line(&last);
                }
                self.leave();
            }
        }
    }

    /// Reads a stdin that cannot be polled (a regular file, /dev/null) to
    /// its end at once: it never blocks.
    fn read_unwatchable_stdin(&mut self) {
        let mut bytes = Vec::new();
        let _ = io::stdin().lock().read_to_end(&mut bytes);
        self.take_typed(&bytes);
        if self.leaving_by.is_none() {
            if let Some(last) = self.typed.take_unterminated() {
                self.send_line(&last);
            }
            self.leave();
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

    fn leave(&mut self) {
        if self.leaving_by.is_some() {
            return;
        }
        self.leaving_by = Some(Instant::now() + LEAVE_WAIT);
        if self.stdin_watched {
            self.stdin_watched = false;
            let _ = self.poller.delete(io::stdin());
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.poller.delete(&self.stream);
        let _ = self.poller.delete(self.signals.reader());
        if self.stdin_watched {
            let _ = self.poller.delete(io::stdin());
        }
    }
}
