//! The server's event loop: one thread, one `Poller`, watching the listener,
//! the console, the signal pipe and every client socket. I/O only: it
//! accepts, reads, feeds the room, hands the room's events to the fan-out,
//! has it write, and closes.
//!
//! Invariants:
//! - Every source is registered in oneshot mode; at the end of each turn
//!   every connection that fired or was written to is re-armed from its
//!   state: readable unless closing or held back by backpressure, writable
//!   while the fan-out has bytes for it.
//! - Reads come first; then the fan-out writes each connection once (one
//!   gathered `sendmsg`) per turn, or walks every member when a broadcast
//!   is due.
//! - A connection is closed in one place, `close_now`, which deletes it from
//!   the poller before dropping it. Nothing here blocks.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::io;
use std::net::{Shutdown, TcpListener};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use polling::{Event, Events, Poller};

use super::bans_file;
use super::bridge::{self, Bridge};
use super::clock::WallClock;
use super::conn::{Conn, Interest, ReadOutcome};
use super::console::{Console, ConsoleInput};
use super::fanout::{FanOut, Flushed, IdHasher};
use super::log::{self, Log};
use crate::i18n::{Lang, Localizer};
use crate::protocol::Frame;
use crate::render::render_line;
use crate::room::{ConnId, LeaveReason, LogEntry, Room, RoomEvent};
use crate::signals::{self, SignalPipe};
use crate::timers::Timers;

const LISTENER: usize = 0;
const CONSOLE: usize = 1;
const SIGNALS: usize = 2;
const FIRST_CLIENT: ConnId = 3;

/// Most bytes read from one connection per event, so one busy client cannot
/// starve the others; the poller reports the rest next turn.
const READ_BUDGET: usize = 64 * 1024;
/// Kernel send buffer of each connection (Linux doubles it). Fixed instead
/// of autotuned (up to 4 MiB a socket), so a member that stops reading
/// holds at most this much kernel memory besides its `max_queue_bytes`.
const SEND_BUFFER: usize = 256 * 1024;
/// Capacity of the reused frame list kept between reads.
const FRAMES_KEPT: usize = 1024;
/// How long a closing connection may take to receive its last lines, and
/// how long shutdown waits for all of them.
const LINGER: Duration = Duration::from_secs(2);
/// How long to stop accepting after running out of file descriptors.
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);
/// TCP keepalive: probe a silent peer after this long, then every
/// `KEEPALIVE_INTERVAL`, and give up after `KEEPALIVE_PROBES` unanswered
/// probes (about two minutes in all), so a vanished peer leaves the room.
const KEEPALIVE_IDLE: Duration = Duration::from_secs(60);
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(10);
const KEEPALIVE_PROBES: u32 = 6;

/// Limits the reactor and the fan-out apply (the room enforces the rest).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_line_bytes: usize,
    pub max_queue_bytes: usize,
    /// Whether a new connection gets timestamps (`server.timestamps`).
    pub timestamps: bool,
}

/// What the reactor serves besides the room and its clients.
pub struct Attached {
    /// Whether to watch stdin for administrator lines.
    pub use_console: bool,
    /// Where the operator's bans are kept, if anywhere.
    pub bans_file: Option<PathBuf>,
    /// With `[bridge]`: the broker connections.
    pub bridge: Option<Bridge>,
}

/// What the reactor does at a deadline of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum ServerTimer {
    /// A closing connection's time to take its last bytes is up.
    Linger(ConnId),
    /// Accept again after running out of descriptors.
    AcceptPause,
}

pub struct Reactor<'a> {
    poller: Poller,
    listener: TcpListener,
    /// `None` when stdin cannot be watched or has reached EOF.
    console: Option<Console>,
    signals: SignalPipe,
    /// The read side of every open connection.
    conns: HashMap<ConnId, Conn, BuildHasherDefault<IdHasher>>,
    room: Room,
    /// The write side: sockets, backlogs, cursors.
    fanout: FanOut,
    /// The server's language, for its log.
    localizer: &'a Localizer,
    log_lang: Lang,
    /// The server's log of room events (its stdout), flushed once per turn
    /// as far as it takes without waiting.
    log: Log<'a>,
    limits: Limits,
    next_id: ConnId,
    /// The time this loop turn started: the room's clock.
    now: Instant,
    /// The local time of day, handed to the room and the fan-out each turn.
    wall: WallClock,
    timers: Timers<ServerTimer>,
    /// Connections to re-arm at the end of this turn.
    rearm: Vec<ConnId>,
    /// Connections with lines left unread while backpressure holds the
    /// room back; read again once it ends.
    held_back: Vec<ConnId>,
    /// Set after a failed `accept` is logged, until one succeeds: a failure
    /// that repeats is logged once.
    accept_failing: bool,
    /// Set once the room is closed: the loop ends when every connection is.
    shutting_down: bool,
    /// Read buffer shared by all connections.
    scratch: Vec<u8>,
    /// Lines of the read being handled; kept to reuse its allocation.
    frames: Vec<Frame>,
    /// What the last flush did to each connection; kept for its allocation.
    flushed: Vec<(ConnId, Flushed)>,
    /// Whether to watch stdin for administrator lines.
    use_console: bool,
    /// Where the operator's bans are kept, if anywhere.
    bans_file: Option<PathBuf>,
    /// With `[bridge]`: the broker connections that make this server one
    /// of several in one room.
    bridge: Option<Bridge>,
    /// While shutting down: the latest time to wait for the connections
    /// and the bridge to finish.
    shutdown_deadline: Option<Instant>,
}

impl<'a> Reactor<'a> {
    pub fn new(
        listener: TcpListener,
        room: Room,
        localizer: &'a Localizer,
        mut log: Log<'a>,
        limits: Limits,
        attached: Attached,
    ) -> io::Result<Self> {
        let Attached {
            use_console,
            bans_file,
            bridge,
        } = attached;
        listener.set_nonblocking(true)?;
        let poller = Poller::new()?;
        // SIGHUP (the terminal was closed) closes the room like SIGTERM.
        let signals = SignalPipe::install(&[signals::SIGINT, signals::SIGTERM, signals::SIGHUP])?;
        // SAFETY: the listener and the signal pipe live in this struct and are
        // deleted from the poller in `Drop`, before their fields drop.
        unsafe {
            poller.add(&listener, Event::readable(LISTENER))?;
            poller.add(signals.reader(), Event::readable(SIGNALS))?;
        }
        log.register(&poller);
        let log_lang = Lang::of(localizer.lang()).unwrap_or(Lang::EN);
        Ok(Reactor {
            poller,
            listener,
            console: None,
            signals,
            conns: HashMap::default(),
            room,
            fanout: FanOut::new(log_lang, limits.timestamps, limits.max_queue_bytes),
            localizer,
            log_lang,
            log,
            limits,
            next_id: FIRST_CLIENT,
            now: Instant::now(),
            wall: WallClock::default(),
            timers: Timers::default(),
            rearm: Vec::new(),
            held_back: Vec::new(),
            accept_failing: false,
            shutting_down: false,
            scratch: vec![0; READ_BUDGET],
            frames: Vec::new(),
            flushed: Vec::new(),
            use_console,
            bans_file,
            bridge,
            shutdown_deadline: None,
        })
    }

    /// Serves until the room is closed and every connection is flushed (or
    /// the flush deadline passed). `Err` only if the poller itself fails.
    pub fn run(mut self) -> io::Result<()> {
        let addr = self.listener.local_addr()?;
        self.log_tr("server-listening", &[("addr", addr.to_string().into())]);
        if self.use_console {
            self.attach_console();
        }
        self.log.flush(&self.poller);
        let mut events = Events::new();
        loop {
            events.clear();
            let timeout = self
                .next_deadline()
                .map(|at| at.saturating_duration_since(Instant::now()));
            self.poller.wait(&mut events, timeout)?;
            self.now = Instant::now();
            let local = self.wall.now();
            self.room.set_clock(self.now, local);
            self.fanout.set_clock(local);
            for event in events.iter() {
                match event.key {
                    LISTENER => self.accept_all()?,
                    CONSOLE => self.read_console(),
                    SIGNALS => self.handle_signals()?,
                    log::KEY => self.log.on_writable(),
                    bridge::WRITER | bridge::READER => self.bridge_event(event.key),
                    key => self.client_event(key as ConnId, event.readable),
                }
            }
            self.handle_timers()?;
            self.flush_bridge();
            self.flush();
            self.flush_bridge();
            self.log.flush(&self.poller);
            if self.shutting_down && self.conns.is_empty() && self.bridge_done() {
                return Ok(());
            }
        }
    }

    fn attach_console(&mut self) {
        // SAFETY: stdin is deleted from the poller on EOF (`read_console`) and
        // in `Drop`; the process-wide fd 0 outlives the reactor.
        match unsafe { self.poller.add(&io::stdin(), Event::readable(CONSOLE)) } {
            Ok(()) => {
                self.console = Some(Console::new(self.localizer));
                self.log_tr("console-ready", &[]);
            }
            // EPERM: /dev/null or a regular file, which epoll cannot watch.
            Err(_) => self.log_tr("console-unavailable", &[]),
        }
    }

    /// Readiness of a broker connection.
    fn bridge_event(&mut self, key: usize) {
        if let Some(bridge) = self.bridge.as_mut() {
            bridge.on_event(&self.poller, key, self.now, &mut self.room);
        }
        self.apply_room_events();
        self.bridge_logs();
    }

    /// Writes what the bridge queued this turn.
    fn flush_bridge(&mut self) {
        let Some(bridge) = self.bridge.as_mut() else {
            return;
        };
        bridge.pause_reading(self.fanout.backpressure(self.now), self.now);
        if !bridge.wants_flush() {
            return;
        }
        bridge.flush(&self.poller, self.now, &mut self.room);
        self.apply_room_events();
        self.bridge_logs();
    }

    fn bridge_logs(&mut self) {
        let Some(bridge) = self.bridge.as_mut() else {
            return;
        };
        for entry in bridge.take_logs() {
            let mut args: Vec<_> = entry
                .args
                .into_iter()
                .map(|(name, value)| (name, value.into()))
                .collect();
            if let Some(err) = &entry.reason {
                args.push(("reason", self.localizer.io_reason(err).into()));
            }
            self.log_tr(entry.id, &args);
        }
    }

    /// Shutting down: whether the bridge has said its last (or the time to
    /// wait for it is up).
    fn bridge_done(&self) -> bool {
        self.bridge.as_ref().is_none_or(Bridge::settled)
            || self
                .shutdown_deadline
                .is_some_and(|at| at <= Instant::now())
    }

    /// The earliest timer of the reactor, the room, the fan-out and the
    /// bridge.
    fn next_deadline(&self) -> Option<Instant> {
        [
            self.timers.next(),
            self.room.next_deadline(),
            self.fanout.next_deadline(),
            self.bridge.as_ref().and_then(Bridge::next_deadline),
            self.shutdown_deadline,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn handle_timers(&mut self) -> io::Result<()> {
        let now = self.now;
        if self.room.next_deadline().is_some_and(|at| at <= now) {
            self.room.tick(now);
            self.apply_room_events();
        }
        while let Some(timer) = self.timers.pop_due(now) {
            match timer {
                ServerTimer::Linger(id) => self.close_now(id),
                ServerTimer::AcceptPause => {
                    if !self.shutting_down {
                        self.poller
                            .modify(&self.listener, Event::readable(LISTENER))?;
                    }
                }
            }
        }
        if let Some(bridge) = self.bridge.as_mut() {
            bridge.tick(&self.poller, now, &mut self.room);
            self.apply_room_events();
            self.bridge_logs();
        }
        let mut overdue = Vec::new();
        self.fanout.overdue(now, &mut overdue);
        for id in overdue {
            self.room.disconnect(id, LeaveReason::TooSlow);
            self.apply_room_events();
        }
        Ok(())
    }

    fn accept_all(&mut self) -> io::Result<()> {
        if self.shutting_down {
            return Ok(());
        }
        loop {
            let (stream, addr) = match self.listener.accept() {
                Ok(accepted) => accepted,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                Err(err) if is_transient_accept_error(&err) => continue,
                Err(err) => {
                    if !self.accept_failing {
                        self.accept_failing = true;
                        let reason = self.localizer.io_reason(&err);
                        self.log_tr("log-accept-failed", &[("reason", reason.into())]);
                    }
                    if is_out_of_descriptors(&err) {
                        // The pending connection stays in the backlog and the
                        // listener stays readable: wait instead of spinning.
                        self.timers
                            .set(ServerTimer::AcceptPause, Instant::now() + ACCEPT_PAUSE);
                        return Ok(());
                    }
                    break;
                }
            };
            self.accept_failing = false;
            if stream.set_nonblocking(true).is_err() {
                continue;
            }
            let _ = stream.set_nodelay(true);
            let _ = set_keepalive(&stream);
            let _ = rustix::net::sockopt::set_socket_send_buffer_size(&stream, SEND_BUFFER);
            let id = self.next_id;
            self.next_id += 1;
            // SAFETY: a connection is deleted from the poller in `close_now`
            // (its only close path) or in `Drop`, before the fan-out drops
            // its stream.
            if unsafe { self.poller.add(&stream, Event::readable(id as usize)) }.is_err() {
                continue;
            }
            let mut conn = Conn::new(addr, self.limits.max_line_bytes);
            conn.armed = Some(Interest {
                readable: true,
                writable: false,
            });
            self.conns.insert(id, conn);
            self.fanout.open(id, stream);
            self.log_tr(
                "log-connected",
                &[("id", id.into()), ("addr", addr.to_string().into())],
            );
            self.room.connect(id, addr.ip(), self.now);
            self.apply_room_events();
        }
        self.poller
            .modify(&self.listener, Event::readable(LISTENER))
    }

    fn read_console(&mut self) {
        let Some(console) = self.console.as_mut() else {
            return;
        };
        match console.read() {
            Ok(ConsoleInput::Lines(lines)) => {
                for line in lines {
                    self.room.admin_line(&line);
                    self.apply_room_events();
                }
                if self
                    .poller
                    .modify(io::stdin(), Event::readable(CONSOLE))
                    .is_err()
                {
                    self.detach_console();
                }
            }
            Ok(ConsoleInput::Eof) | Err(_) => {
                self.detach_console();
                self.log_tr("console-detached", &[]);
            }
        }
    }

    fn detach_console(&mut self) {
        if self.console.take().is_some() {
            let _ = self.poller.delete(io::stdin());
        }
    }

    fn handle_signals(&mut self) -> io::Result<()> {
        for signal in self.signals.take() {
            self.log_tr("log-signal", &[("signal", signals::name(signal).into())]);
            self.room.shutdown();
            self.apply_room_events();
        }
        self.poller
            .modify(self.signals.reader(), Event::readable(SIGNALS))
    }

    fn client_event(&mut self, id: ConnId, readable: bool) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        conn.armed = None;
        schedule_rearm(conn, &mut self.rearm, id);
        // Writable, or readable with bytes owed: either way, write.
        self.fanout.touch(id);
        if !readable || conn.closing.is_some() {
            return;
        }
        if self.fanout.backpressure(self.now) {
            // Left unread, so TCP slows the sender while readers catch up.
            self.held_back.push(id);
            return;
        }
        let Some(socket) = self.fanout.socket(id) else {
            return;
        };
        let mut frames = std::mem::take(&mut self.frames);
        let outcome = conn.read_into(socket, &mut self.scratch, READ_BUDGET, |codec, bytes| {
            codec.feed(bytes, |frame| frames.push(frame));
        });
        for frame in frames.drain(..) {
            match frame {
                Frame::Line(line) => self.room.line(id, &line, self.now),
                Frame::TooLong => self.room.line_too_long(id),
            }
            self.apply_room_events();
        }
        // A read of only line endings makes one frame per byte: do not keep
        // that peak for good.
        if frames.capacity() > FRAMES_KEPT {
            frames = Vec::new();
        }
        self.frames = frames;
        match outcome {
            ReadOutcome::Open => {}
            ReadOutcome::Closed => self.room.disconnect(id, LeaveReason::Quit),
            ReadOutcome::Broken => self.room.disconnect(id, LeaveReason::Lost),
        }
        self.apply_room_events();
    }

    /// Carries out everything the room asked for, in order.
    fn apply_room_events(&mut self) {
        while let Some(event) = self.room.poll_event() {
            match event {
                RoomEvent::Send { to, notice } => self.fanout.send(to, &notice),
                RoomEvent::Subscribe { conn, member } => self.fanout.subscribe(conn, member),
                RoomEvent::Unsubscribe { conn } => self.fanout.unsubscribe(conn),
                RoomEvent::Broadcast { audience, notice } => {
                    let line = self.fanout.broadcast(audience, &notice, self.log_lang);
                    self.log.line(line);
                }
                RoomEvent::Rules { conn, rules } => self.fanout.set_rules(conn, rules),
                RoomEvent::Language { conn, lang } => self.fanout.set_language(conn, lang),
                RoomEvent::Timestamps { conn, on } => self.fanout.set_timestamps(conn, on),
                RoomEvent::Discard { conn } => self.fanout.discard(conn),
                RoomEvent::Close { conn } => self.close_gracefully(conn),
                RoomEvent::Log(LogEntry::Private { from, to }) => {
                    self.log_tr("log-private", &[("from", from.into()), ("to", to.into())]);
                }
                RoomEvent::Console(notice) => {
                    let text = render_line(self.localizer, &notice);
                    for line in text.lines() {
                        self.log.line(line);
                    }
                }
                RoomEvent::BansChanged { bans } => {
                    let Some(path) = &self.bans_file else {
                        continue;
                    };
                    if let Err(err) = bans_file::save(path, &bans) {
                        let reason = self.localizer.io_reason(&err);
                        let path = path.display().to_string();
                        self.log_tr(
                            "log-bans-not-saved",
                            &[("path", path.into()), ("reason", reason.into())],
                        );
                    }
                }
                RoomEvent::Publish(shared) => {
                    if let Some(bridge) = self.bridge.as_mut() {
                        bridge.publish(&self.room, shared);
                    }
                }
                RoomEvent::Shutdown => self.begin_shutdown(),
            }
        }
    }

    /// The room is done with `id`: send what it is owed (within `LINGER`),
    /// then close.
    fn close_gracefully(&mut self, id: ConnId) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        if conn.closing.is_some() {
            return;
        }
        let deadline = self.now + LINGER;
        conn.closing = Some(deadline);
        self.timers.set(ServerTimer::Linger(id), deadline);
        schedule_rearm(conn, &mut self.rearm, id);
        self.fanout.touch(id);
    }

    /// The one close path: deregister, then drop.
    fn close_now(&mut self, id: ConnId) {
        let Some(conn) = self.conns.remove(&id) else {
            return;
        };
        self.timers.cancel(ServerTimer::Linger(id));
        if let Some(stream) = self.fanout.remove(id) {
            let _ = self.poller.delete(&stream);
            let _ = stream.shutdown(Shutdown::Write);
        }
        self.log_tr(
            "log-closed",
            &[("id", id.into()), ("addr", conn.addr.to_string().into())],
        );
    }

    /// The room is closed: accept nobody; the room has queued the closing
    /// line and a close for every connection.
    fn begin_shutdown(&mut self) {
        self.shutting_down = true;
        self.shutdown_deadline = Some(self.now + LINGER);
        if let Some(bridge) = self.bridge.as_mut() {
            bridge.close();
        }
        let closed_sentence = self.localizer.tr("room-closed", &[]);
        self.log.line(&closed_sentence);
        let _ = self.poller.delete(&self.listener);
    }

    /// Has the fan-out write until nothing is left to do this turn, carrying
    /// out what its outcomes make the room decide; then re-arms every
    /// connection that needs it, and reads again what backpressure held
    /// back once it ends.
    fn flush(&mut self) {
        let mut flushed = std::mem::take(&mut self.flushed);
        while self.fanout.flush(Instant::now(), &mut flushed) {
            for (id, outcome) in flushed.drain(..) {
                let Some(conn) = self.conns.get_mut(&id) else {
                    continue;
                };
                match outcome {
                    Flushed::Waiting => {
                        if conn.closing.is_some() && !self.fanout.wants_write(id) {
                            self.close_now(id);
                        } else {
                            schedule_rearm(conn, &mut self.rearm, id);
                        }
                    }
                    Flushed::TooSlow => {
                        schedule_rearm(conn, &mut self.rearm, id);
                        self.room.disconnect(id, LeaveReason::TooSlow);
                    }
                    Flushed::Broken => {
                        if conn.closing.is_some() {
                            self.close_now(id);
                        } else {
                            self.room.disconnect(id, LeaveReason::Lost);
                            // Nothing more will get through: no linger.
                            self.apply_room_events();
                            self.close_now(id);
                        }
                    }
                }
            }
            self.apply_room_events();
        }
        self.flushed = flushed;
        if !self.held_back.is_empty() && !self.fanout.backpressure(self.now) {
            for id in std::mem::take(&mut self.held_back) {
                if let Some(conn) = self.conns.get_mut(&id) {
                    schedule_rearm(conn, &mut self.rearm, id);
                }
            }
        }
        let backpressure = self.fanout.backpressure(self.now);
        for id in std::mem::take(&mut self.rearm) {
            let Some(conn) = self.conns.get_mut(&id) else {
                continue;
            };
            conn.touched = false;
            let held_back = backpressure && self.held_back.contains(&id);
            let wanted = Interest {
                readable: conn.closing.is_none() && !held_back,
                writable: self.fanout.wants_write(id),
            };
            if conn.armed == Some(wanted) {
                continue;
            }
            let Some(socket) = self.fanout.socket(id) else {
                continue;
            };
            let event = Event::new(id as usize, wanted.readable, wanted.writable);
            if self.poller.modify(socket, event).is_ok() {
                conn.armed = Some(wanted);
            } else {
                self.room.disconnect(id, LeaveReason::Lost);
                self.apply_room_events();
                self.close_now(id);
            }
        }
    }

    fn log_tr(&mut self, id: &str, args: &crate::i18n::Args<'_>) {
        let text = self.localizer.tr(id, args);
        self.log.line(&text);
    }
}

/// Puts `id` on the list of connections re-armed at the end of this loop
/// turn, once.
fn schedule_rearm(conn: &mut Conn, rearm: &mut Vec<ConnId>, id: ConnId) {
    if !conn.touched {
        conn.touched = true;
        rearm.push(id);
    }
}

impl Drop for Reactor<'_> {
    fn drop(&mut self) {
        for id in self.conns.keys() {
            if let Some(socket) = self.fanout.socket(*id) {
                let _ = self.poller.delete(socket);
            }
        }
        if self.console.is_some() {
            let _ = self.poller.delete(io::stdin());
        }
        let _ = self.poller.delete(self.signals.reader());
        let _ = self.poller.delete(&self.listener);
        if let Some(bridge) = self.bridge.as_mut() {
            bridge.detach(&self.poller);
        }
        self.log.finish(&self.poller);
    }
}

/// Turns on TCP keepalive, so a peer that vanished without a FIN or RST
/// (power cut, cable pulled) is noticed and announced as lost.
fn set_keepalive(stream: &std::net::TcpStream) -> rustix::io::Result<()> {
    use rustix::net::sockopt;
    sockopt::set_socket_keepalive(stream, true)?;
    sockopt::set_tcp_keepidle(stream, KEEPALIVE_IDLE)?;
    sockopt::set_tcp_keepintvl(stream, KEEPALIVE_INTERVAL)?;
    sockopt::set_tcp_keepcnt(stream, KEEPALIVE_PROBES)
}

/// Errors after which the next `accept` may well succeed.
fn is_transient_accept_error(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::Interrupted
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

fn is_out_of_descriptors(err: &io::Error) -> bool {
    let emfile = rustix::io::Errno::MFILE.raw_os_error();
    let enfile = rustix::io::Errno::NFILE.raw_os_error();
    matches!(err.raw_os_error(), Some(code) if code == emfile || code == enfile)
}
