//! The server's event loop: one thread, one `Poller`, watching the listener,
//! the console, the signal pipe and every client socket.
//!
//! Invariants:
//! - Every source is registered in oneshot mode; `flush_touched` re-arms each
//!   connection from its state (readable unless closing, writable while
//!   output is pending), including connections a broadcast wrote to while
//!   another was being handled.
//! - Reads come first; then each touched connection gets one `writev` with
//!   all it has pending, once per loop turn.
//! - A broadcast is rendered once and stored once, in the `Backlog`; each
//!   member's cursor walks it. Members hear broadcasts from their welcome
//!   until their close.
//! - A connection is closed in one place, `close_now`, which deletes it from
//!   the poller before dropping it. Nothing here blocks.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{self, Write};
use std::net::{Shutdown, TcpListener};
use std::time::{Duration, Instant};

use polling::{Event, Events, Poller};

use super::addresses::AddressCounts;
use super::backlog::Backlog;
use super::conn::{Conn, Interest, ReadOutcome};
use super::console::{Console, ConsoleInput};
use super::log::{self, Log};
use crate::i18n::Localizer;
use crate::protocol::Frame;
use crate::render::render;
use crate::room::{ClientId, LeaveReason, Notice, Room, RoomEvent};
use crate::signals::{self, SignalPipe};

const LISTENER: usize = 0;
const CONSOLE: usize = 1;
const SIGNALS: usize = 2;
const FIRST_CLIENT: ClientId = 3;

/// Most bytes read from one connection per event, so one busy client cannot
/// starve the others; the poller reports the rest next turn.
const READ_BUDGET: usize = 64 * 1024;
/// The pause after a walk over every member, as a share of the walk's
/// time: latency traded for fewer writes. Measured with chatroom-bench
/// (500 members, 500 lines/s, median of 3): 0.4 gives p99 latency 7.1 ms at
/// 2.9 µs of server CPU per delivery, 0.5 gives 8.6 ms at 2.7 µs; no pause
/// gave about 5.6 ms at 4.0 µs. With 10,000 members joining at once, no
/// pause took 49.5 s (machine busy) for every join to reach everyone, 0.4
/// takes about 3 s.
const WALK_PAUSE: f32 = 0.4;
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

/// Limits the reactor enforces itself (the room enforces the rest).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_line_bytes: usize,
    pub max_queue_bytes: usize,
    /// Connections allowed per remote address; 0 = no cap.
    pub max_per_ip: usize,
}

pub struct Reactor<'a> {
    poller: Poller,
    listener: TcpListener,
    /// `None` when stdin cannot be watched or has reached EOF.
    console: Option<Console>,
    signals: SignalPipe,
    conns: HashMap<ClientId, Conn, BuildHasherDefault<IdHasher>>,
    room: Room,
    localizer: &'a Localizer,
    /// The server's log of room events (its stdout), flushed once per turn
    /// as far as it takes without waiting.
    log: Log<'a>,
    limits: Limits,
    next_id: ClientId,
    /// The time this loop turn started: the room's clock.
    now: Instant,
    /// Open connections per remote address.
    addresses: AddressCounts,
    /// Connections whose queue or interest may have changed this turn.
    touched: Vec<ClientId>,
    /// Every broadcast's bytes, once, until every member has them.
    backlog: Backlog,
    /// Set when a broadcast was appended and not yet sent: every member
    /// that is behind needs a write.
    backlog_grew: bool,
    /// The earliest time of the next walk over every member. A walk costs a
    /// `writev` per member; waiting `WALK_PAUSE` of the last walk's time
    /// before the next lets broadcasts that arrive meanwhile share those
    /// writes. A small room's walk is short, so it hardly waits.
    next_walk_at: Instant,
    /// Closing connections by deadline; deadlines are pushed in time order.
    lingering: VecDeque<(Instant, ClientId)>,
    /// Set while accepting is paused after EMFILE/ENFILE.
    accept_paused_until: Option<Instant>,
    /// Set after a failed `accept` is logged, until one succeeds: a failure
    /// that repeats is logged once.
    accept_failing: bool,
    /// Set once the room is closed: the loop ends when every connection is.
    shutting_down: bool,
    /// Read buffer shared by all connections.
    scratch: Vec<u8>,
    /// Lines of the read being handled; kept to reuse its allocation.
    frames: Vec<Frame>,
    /// Render buffer, reused for every notice.
    line: String,
    /// Whether to watch stdin for administrator lines.
    use_console: bool,
}

impl<'a> Reactor<'a> {
    pub fn new(
        listener: TcpListener,
        room: Room,
        localizer: &'a Localizer,
        mut log: Log<'a>,
        limits: Limits,
        use_console: bool,
    ) -> io::Result<Self> {
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
        Ok(Reactor {
            poller,
            listener,
            console: None,
            signals,
            conns: HashMap::default(),
            room,
            localizer,
            log,
            limits,
            next_id: FIRST_CLIENT,
            now: Instant::now(),
            addresses: AddressCounts::default(),
            touched: Vec::new(),
            backlog: Backlog::default(),
            backlog_grew: false,
            next_walk_at: Instant::now(),
            lingering: VecDeque::new(),
            accept_paused_until: None,
            accept_failing: false,
            shutting_down: false,
            scratch: vec![0; READ_BUDGET],
            frames: Vec::new(),
            line: String::new(),
            use_console,
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
            for event in events.iter() {
                match event.key {
                    LISTENER => self.accept_all()?,
                    CONSOLE => self.read_console(),
                    SIGNALS => self.handle_signals()?,
                    log::KEY => self.log.on_writable(),
                    key => self.client_event(key as ClientId, event.readable),
                }
            }
            self.handle_timers()?;
            self.flush_touched();
            self.log.flush(&self.poller);
            if self.shutting_down && self.conns.is_empty() {
                return Ok(());
            }
        }
    }

    fn attach_console(&mut self) {
        // SAFETY: stdin is deleted from the poller on EOF (`read_console`) and
        // in `Drop`; the process-wide fd 0 outlives the reactor.
        match unsafe { self.poller.add(&io::stdin(), Event::readable(CONSOLE)) } {
            Ok(()) => {
                self.console = Some(Console::default());
                self.log_tr("console-ready", &[]);
            }
            // EPERM: /dev/null or a regular file, which epoll cannot watch.
            Err(_) => self.log_tr("console-unavailable", &[]),
        }
    }

    /// The earliest timer: a lingering connection's deadline, the end of
    /// an accept pause, or the room's next held line or name deadline.
    fn next_deadline(&self) -> Option<Instant> {
        let linger = self.lingering.front().map(|(at, _)| *at);
        let walk = self.backlog_grew.then_some(self.next_walk_at);
        [
            linger,
            self.accept_paused_until,
            self.room.next_deadline(),
            walk,
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
        while let Some(&(at, id)) = self.lingering.front() {
            if at > now {
                break;
            }
            self.lingering.pop_front();
            self.close_now(id);
        }
        if self.accept_paused_until.is_some_and(|at| at <= now) {
            self.accept_paused_until = None;
            if !self.shutting_down {
                self.poller
                    .modify(&self.listener, Event::readable(LISTENER))?;
            }
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
                        self.accept_paused_until = Some(Instant::now() + ACCEPT_PAUSE);
                        return Ok(());
                    }
                    break;
                }
            };
            self.accept_failing = false;
            if !self.addresses.admit(addr.ip(), self.limits.max_per_ip) {
                self.turn_away(&stream);
                continue;
            }
            if stream.set_nonblocking(true).is_err() {
                self.addresses.release(addr.ip());
                continue;
            }
            let _ = stream.set_nodelay(true);
            let _ = set_keepalive(&stream);
            let _ = rustix::net::sockopt::set_socket_send_buffer_size(&stream, SEND_BUFFER);
            let id = self.next_id;
            self.next_id += 1;
            // SAFETY: a connection is deleted from the poller in `close_now`
            // (its only close path) or in `Drop`, before the stream drops.
            if unsafe { self.poller.add(&stream, Event::readable(id as usize)) }.is_err() {
                self.addresses.release(addr.ip());
                continue;
            }
            let mut conn = Conn::new(stream, addr, self.limits.max_line_bytes);
            conn.armed = Some(Interest {
                readable: true,
                writable: false,
            });
            self.conns.insert(id, conn);
            self.log_tr(
                "log-connected",
                &[("id", id.into()), ("addr", addr.to_string().into())],
            );
            self.room.connect(id, self.now);
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

    fn client_event(&mut self, id: ClientId, readable: bool) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        conn.armed = None;
        schedule_flush(conn, &mut self.touched, id);
        if !readable || conn.closing.is_some() {
            return;
        }
        let mut frames = std::mem::take(&mut self.frames);
        let outcome = conn.read_into(&mut self.scratch, READ_BUDGET, |codec, bytes| {
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

    /// Carries out everything the room asked for, rendering each notice
    /// once however many members receive it.
    fn apply_room_events(&mut self) {
        while let Some(event) = self.room.poll_event() {
            match event {
                RoomEvent::Send { to, notice } => {
                    if let Notice::Private { from, .. } = &notice {
                        let to_name = self.room.name_of(to).unwrap_or_default().to_string();
                        self.log_tr(
                            "log-private",
                            &[("from", from.into()), ("to", to_name.into())],
                        );
                    }
                    self.line.clear();
                    render(self.localizer, &notice, &mut self.line);
                    self.send(to, matches!(notice, Notice::Welcome { .. }));
                }
                RoomEvent::Broadcast { except, notice } => {
                    self.line.clear();
                    render(self.localizer, &notice, &mut self.line);
                    self.log.line(&self.line);
                    let range = self.backlog.append(self.line.as_bytes());
                    self.backlog_grew = true;
                    if let Some(conn) = except.and_then(|id| self.conns.get_mut(&id)) {
                        conn.skip(range);
                    }
                }
                RoomEvent::Close(id) => self.close_gracefully(id),
                RoomEvent::Shutdown => self.begin_shutdown(),
            }
        }
    }

    /// Queues the rendered `self.line` for connection `to` alone; a welcome
    /// also makes it a member, which hears every later broadcast.
    fn send(&mut self, to: ClientId, welcome: bool) {
        let Some(conn) = self.conns.get_mut(&to) else {
            return;
        };
        // About to be closed for being too slow: do not copy its backlog.
        if conn.too_slow {
            return;
        }
        conn.queue(self.line.as_bytes(), &self.backlog);
        if welcome {
            conn.subscribe(&self.backlog);
        }
        schedule_flush(conn, &mut self.touched, to);
    }

    /// The room is done with `id`: send what is queued (within `LINGER`),
    /// then close. A connection over its queue limit is closed at once.
    fn close_gracefully(&mut self, id: ClientId) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        if conn.closing.is_some() {
            return;
        }
        if conn.too_slow {
            self.close_now(id);
            return;
        }
        conn.unsubscribe(&self.backlog);
        if conn.write_pending(&self.backlog).is_err() || conn.pending(&self.backlog) == 0 {
            self.close_now(id);
            return;
        }
        let deadline = Instant::now() + LINGER;
        conn.closing = Some(deadline);
        self.lingering.push_back((deadline, id));
        schedule_flush(conn, &mut self.touched, id);
    }

    /// The one close path: deregister, then drop.
    fn close_now(&mut self, id: ClientId) {
        let Some(conn) = self.conns.remove(&id) else {
            return;
        };
        let _ = self.poller.delete(&conn.stream);
        let _ = conn.stream.shutdown(Shutdown::Write);
        self.addresses.release(conn.addr.ip());
        let addr = conn.addr.to_string();
        drop(conn);
        self.log_tr("log-closed", &[("id", id.into()), ("addr", addr.into())]);
    }

    fn begin_shutdown(&mut self) {
        self.shutting_down = true;
        self.line.clear();
        render(self.localizer, &Notice::Closed, &mut self.line);
        let closed_sentence = self.localizer.tr("room-closed", &[]);
        self.log.line(&closed_sentence);
        let _ = self.poller.delete(&self.listener);
        let deadline = Instant::now() + LINGER;
        for (&id, conn) in &mut self.conns {
            conn.queue(self.line.as_bytes(), &self.backlog);
            if conn.closing.is_none() {
                conn.closing = Some(deadline);
                self.lingering.push_back((deadline, id));
            }
            schedule_flush(conn, &mut self.touched, id);
        }
    }

    /// One write per touched connection, then re-arm it from its state;
    /// when the backlog grew, a walk over every member (see `next_walk_at`),
    /// which then releases the backlog every member has. A member whose
    /// pending bytes still pass `max_queue_bytes` after the socket took its
    /// fill is too slow and leaves; broken connections leave too. Either
    /// may touch others: repeat until nothing is left to do.
    fn flush_touched(&mut self) {
        let mut outcomes = Vec::new();
        loop {
            let walk_everyone = self.backlog_grew && Instant::now() >= self.next_walk_at;
            let Reactor {
                poller,
                conns,
                backlog,
                limits,
                touched,
                ..
            } = self;
            if walk_everyone {
                // Nearly every member is owed the new lines: walk them all
                // rather than look each one up.
                let started = Instant::now();
                self.backlog_grew = false;
                touched.clear();
                for (&id, conn) in conns.iter_mut() {
                    if conn.touched || conn.behind(backlog) {
                        conn.touched = false;
                        outcomes.push((id, flush(poller, backlog, limits, id, conn)));
                    }
                }
                let oldest = conns.values().filter_map(Conn::cursor).min();
                backlog.release_before(oldest.unwrap_or(backlog.end()));
                let now = Instant::now();
                self.next_walk_at = now + (now - started).mul_f32(WALK_PAUSE);
            } else if !touched.is_empty() {
                for id in touched.drain(..) {
                    if let Some(conn) = conns.get_mut(&id) {
                        conn.touched = false;
                        outcomes.push((id, flush(poller, backlog, limits, id, conn)));
                    }
                }
            } else {
                break;
            }
            for (id, outcome) in outcomes.drain(..) {
                match outcome {
                    Flushed::Waiting => {}
                    Flushed::Done => self.close_now(id),
                    Flushed::TooSlow => self.room.disconnect(id, LeaveReason::TooSlow),
                    Flushed::Broken => {
                        if self.conns.get(&id).is_some_and(|c| c.closing.is_some()) {
                            self.close_now(id);
                        } else {
                            self.room.disconnect(id, LeaveReason::Lost);
                        }
                    }
                }
            }
            self.apply_room_events();
        }
    }

    /// Tells a connection over the per-address cap why, as far as its socket
    /// takes the line at once, and drops it.
    fn turn_away(&mut self, stream: &std::net::TcpStream) {
        self.line.clear();
        let max_per_ip = self.limits.max_per_ip;
        render(
            self.localizer,
            &Notice::AddressFull { max_per_ip },
            &mut self.line,
        );
        let _ = stream.set_nonblocking(true);
        let _ = (&*stream).write(self.line.as_bytes());
    }

    fn log_tr(&mut self, id: &str, args: &crate::i18n::Args<'_>) {
        let text = self.localizer.tr(id, args);
        self.log.line(&text);
    }
}

/// What one connection's flush left to do.
enum Flushed {
    /// Armed for what it needs next.
    Waiting,
    /// A closing connection has sent everything: close it.
    Done,
    /// Still past `max_queue_bytes` after the socket took its fill.
    TooSlow,
    /// The write or the re-arm failed.
    Broken,
}

/// Writes what `conn` has pending (one `writev`, as far as the socket
/// takes it) and re-arms it from its state.
fn flush(
    poller: &Poller,
    backlog: &Backlog,
    limits: &Limits,
    id: ClientId,
    conn: &mut Conn,
) -> Flushed {
    if conn.pending(backlog) > 0 && conn.write_pending(backlog).is_err() {
        return Flushed::Broken;
    }
    let pending = conn.pending(backlog);
    if conn.closing.is_some() && pending == 0 {
        return Flushed::Done;
    }
    if pending > limits.max_queue_bytes && conn.closing.is_none() && !conn.too_slow {
        conn.too_slow = true;
        return Flushed::TooSlow;
    }
    let wanted = conn.wanted_interest(backlog);
    if conn.armed != Some(wanted) {
        let event = Event::new(id as usize, wanted.readable, wanted.writable);
        if poller.modify(&conn.stream, event).is_err() {
            return Flushed::Broken;
        }
        conn.armed = Some(wanted);
    }
    Flushed::Waiting
}

/// Puts `id` on the list of connections flushed and re-armed at the end of
/// this loop turn, once.
fn schedule_flush(conn: &mut Conn, touched: &mut Vec<ClientId>, id: ClientId) {
    if !conn.touched {
        conn.touched = true;
        touched.push(id);
    }
}

impl Drop for Reactor<'_> {
    fn drop(&mut self) {
        for conn in self.conns.values() {
            let _ = self.poller.delete(&conn.stream);
        }
        if self.console.is_some() {
            let _ = self.poller.delete(io::stdin());
        }
        let _ = self.poller.delete(self.signals.reader());
        let _ = self.poller.delete(&self.listener);
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

/// Hashes connection ids, which are sequential and never chosen by a peer,
/// with one multiplication instead of SipHash: the map is looked up for
/// every event.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn write_u64(&mut self, id: u64) {
        // Fibonacci hashing: spreads consecutive ids over the high bits
        // hashbrown uses.
        self.0 = id.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}
