//! The server's log (one line per room event, on stdout), written so that
//! the room never waits for it.
//!
//! Lines go into a bounded buffer; what the output takes without waiting is
//! written at the end of each loop turn. When the output cannot keep up
//! (`chatroom-server | less` paused, a reader stopped, Ctrl-S in the
//! terminal), lines that do not fit are dropped, and the next line that
//! gets through is preceded by a notice saying how many were lost.
//!
//! How stdout is written depends on what it is (`Sink`):
//! - a regular file or `/dev/null` (epoll cannot watch them, and writing to
//!   them never waits for a reader): plain writes;
//! - a pipe or a terminal: a descriptor of its own, opened again through
//!   `/proc/self/fd/1` with `O_NONBLOCK`. Setting `O_NONBLOCK` on fd 1
//!   itself would change the open file shared with the shell (and with
//!   stdin, on a terminal), and it would outlive the server;
//! - anything else, or when opening again fails (a socket): fd 1 itself,
//!   written only when the poller says it is writable, one `PIPE_BUF`
//!   chunk at a time, which a pipe with room for one takes at once.
//!
//! It must never: block the loop (outside `finish`, bounded), or grow past
//! `CAPACITY`.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::{Duration, Instant};

use polling::{Event, Events, Poller};
use rustix::io::Errno;

use crate::i18n::Localizer;

/// The log's key in the reactor's poller; client keys count up from small
/// numbers and never reach it (`usize::MAX` is the poller's own).
pub const KEY: usize = usize::MAX - 1;
/// Most bytes waiting to be written; past that, lines are dropped.
const CAPACITY: usize = 64 * 1024;
/// Bytes a pipe takes at once when it reports room (POSIX `PIPE_BUF`).
const PIPE_BUF: usize = 4096;
/// How long the last flush, at exit, may wait for a slow reader.
const LAST_FLUSH: Duration = Duration::from_secs(1);

/// Where the log's bytes go. A raw-mode console that prints log lines
/// above the administrator's input would be one more variant.
#[derive(Debug)]
enum Sink {
    /// A regular file or a device such as `/dev/null`: written directly.
    File,
    /// Stdout's pipe or terminal, opened again, non-blocking.
    NonBlocking(OwnedFd),
    /// Fd 1 itself, written one chunk per writable event; `ready` is set
    /// by that event.
    Gated { ready: bool },
    /// The output is gone (a closed pipe, a vanished terminal): nothing is
    /// written or kept any more.
    Closed,
    /// Takes at most `room` more bytes, then "would block" (tests).
    #[cfg(test)]
    Memory { taken: Vec<u8>, room: usize },
}

/// The bounded, non-blocking log.
pub struct Log<'a> {
    /// Renders the "lines dropped" notice.
    localizer: &'a Localizer,
    /// Bytes not yet written, from `start`.
    buf: Vec<u8>,
    /// How much of `buf` is already written.
    start: usize,
    /// Lines dropped since the last one that got through.
    dropped: u64,
    /// Where this turn's lines begin in `buf`: while the console edits in
    /// the terminal, they are drawn above its input row at the flush.
    turn_start: usize,
    sink: Sink,
    /// Set while the sink is registered with the poller.
    registered: bool,
    /// Set while the registration asks for a writable event.
    armed: bool,
}

impl<'a> Log<'a> {
    /// The log on the process's stdout.
    pub fn stdout(localizer: &'a Localizer) -> Self {
        Log::with_sink(localizer, stdout_sink())
    }

    fn with_sink(localizer: &'a Localizer, sink: Sink) -> Self {
        Log {
            localizer,
            buf: Vec::new(),
            start: 0,
            dropped: 0,
            turn_start: 0,
            sink,
            registered: false,
            armed: false,
        }
    }

    /// Registers the sink with `poller` (under `KEY`), if it needs
    /// watching. A sink the poller refuses is written directly.
    pub fn register(&mut self, poller: &Poller) {
        let Some(fd) = self.watched_fd() else {
            return;
        };
        // SAFETY: the descriptor is deleted from the poller in `finish`,
        // which the reactor calls when it is dropped, before this `Log`
        // (and a reopened descriptor) drops; fd 1 outlives the reactor.
        match unsafe { poller.add(&fd, Event::none(KEY)) } {
            Ok(()) => self.registered = true,
            // Fd 1 is then something epoll cannot watch, such as a file.
            Err(_) if matches!(self.sink, Sink::Gated { .. }) => self.sink = Sink::File,
            // Still non-blocking: what it does not take waits for the next
            // turn's flush.
            Err(_) => {}
        }
    }

    /// Queues one line (a trailing `\n` is optional). Dropped, and
    /// counted, when it does not fit.
    pub fn line(&mut self, text: &str) {
        let text = text.strip_suffix('\n').unwrap_or(text);
        if matches!(self.sink, Sink::Closed) {
            return;
        }
        let notice = (self.dropped > 0).then(|| {
            self.localizer
                .tr("log-dropped", &[("count", self.dropped.into())])
        });
        let needed = text.len() + 1 + notice.as_ref().map_or(0, |n| n.len() + 1);
        if self.pending() + needed > CAPACITY {
            self.dropped += 1;
            return;
        }
        // Compact only once half a buffer's worth is written, so each byte
        // is moved at most about once however the writes are cut.
        if self.start >= CAPACITY / 2 {
            self.buf.drain(..self.start);
            self.turn_start = self.turn_start.saturating_sub(self.start);
            self.start = 0;
        }
        if let Some(notice) = notice {
            self.buf.extend_from_slice(notice.as_bytes());
            self.buf.push(b'\n');
            self.dropped = 0;
        }
        self.buf.extend_from_slice(text.as_bytes());
        self.buf.push(b'\n');
    }

    /// The poller reported the sink writable.
    pub fn on_writable(&mut self) {
        self.armed = false;
        if let Sink::Gated { ready } = &mut self.sink {
            *ready = true;
        }
    }

    /// Writes what the sink takes now, and asks `poller` for a writable
    /// event if something is left. Never waits (but a regular file's
    /// write is as slow as its disk).
    pub fn flush(&mut self, poller: &Poller) {
        self.draw_console();
        self.write_now();
        self.turn_start = self.buf.len();
        self.rearm(poller);
    }

    /// While the console edits in the terminal, this turn's lines become
    /// the bytes that print them above its input row and draw the row
    /// again (also with no lines, after a key).
    fn draw_console(&mut self) {
        let from = self.turn_start.max(self.start).min(self.buf.len());
        if let Some(frame) = super::console::frame(&self.buf[from..]) {
            self.buf.truncate(from);
            self.buf.extend_from_slice(&frame);
        }
    }

    /// The last flush, at exit: waits at most `LAST_FLUSH` for the output
    /// to take what is left, then leaves the poller.
    pub fn finish(&mut self, poller: &Poller) {
        self.draw_console();
        let deadline = Instant::now() + LAST_FLUSH;
        let mut events = Events::new();
        loop {
            self.write_now();
            if self.pending() == 0 || !self.registered {
                break;
            }
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            self.rearm(poller);
            events.clear();
            if poller.wait(&mut events, Some(deadline - now)).is_err() {
                break;
            }
            if events.iter().any(|event| event.key == KEY) {
                self.on_writable();
            }
        }
        if self.registered {
            if let Some(fd) = self.watched_fd() {
                let _ = poller.delete(fd);
            }
            self.registered = false;
        }
    }

    fn pending(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The descriptor the poller watches, for sinks that need watching.
    fn watched_fd(&self) -> Option<BorrowedFd<'_>> {
        match &self.sink {
            Sink::NonBlocking(fd) => Some(fd.as_fd()),
            Sink::Gated { .. } => Some(rustix::stdio::stdout()),
            _ => None,
        }
    }

    /// Writes from the front of the buffer as far as the sink takes it
    /// without waiting.
    fn write_now(&mut self) {
        while self.pending() > 0 {
            let bytes = &self.buf[self.start..];
            let result = match &mut self.sink {
                Sink::File => rustix::io::write(rustix::stdio::stdout(), bytes),
                Sink::NonBlocking(fd) => rustix::io::write(&*fd, bytes),
                Sink::Gated { ready } => {
                    if !std::mem::take(ready) {
                        return;
                    }
                    let chunk = &bytes[..bytes.len().min(PIPE_BUF)];
                    rustix::io::write(rustix::stdio::stdout(), chunk)
                }
                Sink::Closed => return,
                #[cfg(test)]
                Sink::Memory { taken, room } => {
                    let n = bytes.len().min(*room);
                    taken.extend_from_slice(&bytes[..n]);
                    *room -= n;
                    if n == 0 {
                        Err(Errno::AGAIN)
                    } else {
                        Ok(n)
                    }
                }
            };
            match result {
                Ok(0) => return,
                Ok(n) => self.start += n,
                Err(Errno::INTR) => continue,
                Err(Errno::AGAIN) => return,
                Err(_) => {
                    // A closed pipe or a terminal that went away: nobody
                    // can read the log any more.
                    self.sink = Sink::Closed;
                    self.buf = Vec::new();
                    self.start = 0;
                    return;
                }
            }
        }
        self.buf.clear();
        self.start = 0;
    }

    /// Asks for a writable event while bytes are left, and for nothing
    /// once they are written (oneshot registrations).
    fn rearm(&mut self, poller: &Poller) {
        let wanted = self.pending() > 0;
        if !self.registered || wanted == self.armed {
            return;
        }
        let Some(fd) = self.watched_fd() else {
            return;
        };
        let event = if wanted {
            Event::writable(KEY)
        } else {
            Event::none(KEY)
        };
        if poller.modify(fd, event).is_ok() {
            self.armed = wanted;
        }
    }
}

/// Chooses how to write stdout; see the module documentation.
fn stdout_sink() -> Sink {
    use rustix::fs::{FileType, Mode, OFlags};
    let stdout = rustix::stdio::stdout();
    let Ok(stat) = rustix::fs::fstat(stdout) else {
        return Sink::File;
    };
    let kind = FileType::from_raw_mode(stat.st_mode);
    let reopen = match kind {
        FileType::Fifo => true,
        FileType::CharacterDevice => rustix::termios::isatty(stdout),
        FileType::Socket => false,
        _ => return Sink::File,
    };
    if reopen {
        let flags = OFlags::WRONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
        if let Ok(fd) = rustix::fs::open("/proc/self/fd/1", flags, Mode::empty()) {
            return Sink::NonBlocking(fd);
        }
    }
    Sink::Gated { ready: false }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory_log(localizer: &Localizer, room: usize) -> Log<'_> {
        Log::with_sink(
            localizer,
            Sink::Memory {
                taken: Vec::new(),
                room,
            },
        )
    }

    fn taken(log: &Log<'_>) -> String {
        match &log.sink {
            Sink::Memory { taken, .. } => String::from_utf8(taken.clone()).unwrap(),
            other => panic!("{other:?}"),
        }
    }

    fn give_room(log: &mut Log<'_>, more: usize) {
        if let Sink::Memory { room, .. } = &mut log.sink {
            *room += more;
        }
    }

    #[test]
    fn lines_that_do_not_fit_are_dropped_and_counted() {
        let en = Localizer::english();
        let mut log = memory_log(&en, 0);
        let line = "x".repeat(999);
        for _ in 0..100 {
            log.line(&line);
        }
        log.write_now();
        assert_eq!(log.pending(), 65 * 1000, "the buffer stays bounded");
        assert_eq!(log.dropped, 35);
        give_room(&mut log, usize::MAX / 2);
        log.line("after\n");
        log.write_now();
        let text = taken(&log);
        let notice = en.tr("log-dropped", &[("count", 35.into())]);
        assert!(text.ends_with(&format!("{notice}\nafter\n")), "{text}");
        assert_eq!(text.lines().count(), 65 + 2);
        assert_eq!(log.dropped, 0);
        assert_eq!(log.pending(), 0);
    }

    #[test]
    fn a_partial_write_keeps_the_rest_in_order() {
        let en = Localizer::english();
        let mut log = memory_log(&en, 4);
        log.line("first");
        log.line("second");
        log.write_now();
        assert_eq!(taken(&log), "firs");
        give_room(&mut log, 100);
        log.write_now();
        assert_eq!(taken(&log), "first\nsecond\n");
    }
}
