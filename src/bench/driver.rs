//! The load generator's event loop: one thread, one `Poller`, every
//! simulated member a non-blocking socket registered edge-triggered.
//!
//! Phases, each bounded in time: join (connections opened a window at a
//! time so the listen backlog never overflows), settle (until every join
//! notice arrived, or they stop coming), the measured phase (the
//! scenario's sending), drain (until every expected line arrived, or none
//! arrives for a while), and for `stalled` a last look at the members that
//! never read. The receive path reads large buffers into one scratch
//! buffer and parses in place: no allocation per line.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::num::NonZeroUsize;
use std::ops::Range;
use std::process::ChildStdout;
use std::time::{Duration, Instant};

use polling::{Event, Events, PollMode, Poller};
use rustix::io::Errno;
use rustix::net::{AddressFamily, SocketFlags, SocketType};

use super::spawn::{summed, Process};
use super::stats::{Counts, DeliveryTracker, Histogram};
use super::wire::{parse_line, push_chat_line, push_name, Line};
use super::{BenchError, Plan, Scenario};
use crate::i18n::{parse_lang, Localizer, Pattern, AVAILABLE};

/// Poller key of the first spawned server's stdout, the others' follow;
/// members use their index, far below.
const LOG_KEY: usize = usize::MAX / 2;
/// One read's worth: large, so a busy member costs few system calls.
const SCRATCH_BYTES: usize = 256 * 1024;
/// Most bytes read from one member per turn before the others get a go;
/// the member is read again next turn without waiting for the poller.
const READ_BUDGET: usize = 1 << 20;
/// A partial line longer than this is not one of the server's lines.
const MAX_CARRY: usize = 64 * 1024;
/// Bytes of chat lines prepared for one member before a write.
const OUT_CHUNK: usize = 32 * 1024;
/// Connections being set up at once, well under the usual listen backlog.
const CONNECT_WINDOW: usize = 120;
/// Settling ends when no join notice has come for this long.
const SETTLE_QUIET: Duration = Duration::from_secs(2);
/// Draining ends when nothing new has been delivered for this long.
const DRAIN_QUIET: Duration = Duration::from_secs(3);
/// Looking at the stalled members ends when they are quiet this long.
const CHECK_QUIET: Duration = Duration::from_secs(2);
const CHECK_LIMIT: Duration = Duration::from_secs(30);
/// Receive buffer a stalled member gets when it finally reads, so its
/// backlog (megabytes, from the server's kernel buffers) drains quickly.
const CHECK_RCVBUF: usize = 1 << 20;
/// Most extra turns the last look at the chatting members may take.
const SWEEP_TURNS: usize = 1000;
/// How often the progress line is printed.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);
/// Longest single wait, so deadlines and progress are checked often.
const TICK: Duration = Duration::from_millis(100);
/// Receive buffer of a stalled member: small, so the server, not our
/// kernel, holds what it does not read.
const STALLED_RCVBUF: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// `connect` is in progress.
    Connecting,
    /// Connected; reading the greeting up to the name prompt.
    AwaitingPrompt,
    /// The name was sent; the next line is the welcome.
    AwaitingWelcome,
    Joined,
    /// Closed by the server, or failed; no longer in the poller.
    Closed,
}

/// One simulated member.
struct Member {
    stream: TcpStream,
    state: State,
    /// Never reads after joining (the `stalled` scenario).
    stalled: bool,
    /// The start of a line whose end has not arrived yet.
    carry: Vec<u8>,
    /// Bytes to send; `out[out_sent..]` is still pending.
    out: Vec<u8>,
    out_sent: usize,
    /// Chat lines prepared so far, the next line's sequence number.
    next_seq: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Join,
    Settle,
    Send,
    Drain,
    Check,
}

impl Phase {
    fn message_id(self) -> &'static str {
        match self {
            Phase::Join => "bench-phase-join",
            Phase::Settle => "bench-phase-settle",
            Phase::Send => "bench-phase-send",
            Phase::Drain => "bench-phase-drain",
            Phase::Check => "bench-phase-check",
        }
    }
}

/// What one run observed; `Report` turns it into figures.
#[derive(Debug, Default)]
pub struct Observed {
    pub joined: usize,
    /// Connections that failed before their member joined.
    pub failed: usize,
    /// From the first connect until every member was welcomed.
    pub join_time: Option<Duration>,
    /// From the first connect until the last expected join notice arrived.
    pub announce_time: Option<Duration>,
    pub notices_expected: u64,
    /// Join notices received by the members who read, before measuring.
    pub notices_settled: u64,
    /// Notices received during and after the measured phase (leave
    /// notices of stalled members, for instance).
    pub notices_later: u64,
    pub lines_sent: u64,
    pub expected: u64,
    pub counts: Counts,
    pub latency: Histogram,
    /// From the first line sent until the last line delivered.
    pub window: Option<Duration>,
    /// Chatting members whose connection ended during the run.
    pub chatters_disconnected: usize,
    /// Stalled members the server disconnected.
    pub stalled_disconnected: usize,
    /// Bytes the stalled members found waiting when they read at the end.
    pub stalled_backlog: u64,
    /// Stalled members named in a notice after settling (a leave notice).
    pub stalled_announced: usize,
    /// Members a notice said were dropped as too slow: named so in a leave
    /// notice, or told so themselves.
    pub too_slow_announced: usize,
    /// Server memory (KiB) before the first connect and once all joined,
    /// summed over the servers, as are their CPU times.
    pub server_rss_empty: Option<u64>,
    pub server_rss_joined: Option<u64>,
    pub server_peak_rss: Option<u64>,
    /// CPU seconds from the start of the measured phase to the end of drain.
    pub server_cpu: Option<f64>,
    pub bench_cpu: Option<f64>,
    /// CPU seconds from the first connect until the join notices settled.
    pub server_cpu_joining: Option<f64>,
    pub bench_cpu_joining: Option<f64>,
    /// The broker's CPU seconds while sending and draining, and its peak
    /// memory (KiB), when the bench started it.
    pub broker_cpu: Option<f64>,
    pub broker_peak_rss: Option<u64>,
}

pub struct Bench<'a> {
    plan: &'a Plan,
    localizer: &'a Localizer,
    /// The room's servers; member `i` joins `addrs[i % addrs.len()]`.
    addrs: Vec<SocketAddr>,
    poller: Poller,
    events: Events,
    /// The events of one wait, copied out so handlers may borrow `self`.
    ready: Vec<Event>,
    members: Vec<Member>,
    /// Members with more to read than one turn's budget.
    again: Vec<usize>,
    again_spare: Vec<usize>,
    scratch: Vec<u8>,
    /// The spawned servers' stdout, drained and discarded; `None` once
    /// closed.
    server_logs: Vec<Option<&'a ChildStdout>>,
    /// The servers to look at in /proc (none known: no figures).
    servers: Vec<Process>,
    broker: Option<Process>,
    tracker: DeliveryTracker,
    latency: Histogram,
    /// The clock of every send time in the lines.
    epoch: Instant,
    phase: Phase,
    /// Chatting members write as fast as the server takes it (burst).
    bursting: bool,
    /// The stalled members are being read (the check at the end).
    reading_stalled: bool,
    /// Every read goes on until the socket says WouldBlock or EOF (the
    /// last look at the chatting members, after draining).
    sweeping: bool,
    stalled_bytes: u64,
    /// Stalled members a chatter was told about after settling (their
    /// leave notices name them), by index above the chatters.
    stalled_announced: Vec<bool>,
    /// How the server says a member was dropped as too slow, in each
    /// language it may speak.
    too_slow: TooSlow,
    /// Members a notice said were dropped as too slow, by index.
    dropped: Vec<bool>,
    joined: usize,
    failed: usize,
    connecting: usize,
    notices: u64,
    last_notice: Option<Instant>,
    lines_sent: u64,
    first_send_us: Option<u64>,
    last_delivery_us: u64,
    chatters_disconnected: usize,
    stalled_disconnected: usize,
    next_progress: Instant,
    quiet: bool,
}

fn io_error(error: io::Error) -> BenchError {
    BenchError::run("bench-error-io").io(error)
}

impl<'a> Bench<'a> {
    pub fn new(
        plan: &'a Plan,
        localizer: &'a Localizer,
        addrs: Vec<SocketAddr>,
        server_logs: Vec<&'a ChildStdout>,
        servers: Vec<Process>,
        broker: Option<Process>,
        quiet: bool,
    ) -> Result<Self, BenchError> {
        let poller = Poller::new().map_err(io_error)?;
        if addrs.is_empty() {
            return Err(io_error(io::Error::other("no server address")));
        }
        for (at, log) in server_logs.iter().enumerate() {
            // SAFETY: `log` is borrowed for 'a, so it outlives this Bench,
            // whose `Drop` deletes it from the poller.
            unsafe { poller.add_with_mode(*log, Event::readable(LOG_KEY + at), PollMode::Level) }
                .map_err(io_error)?;
        }
        let capacity = NonZeroUsize::new(4096).unwrap_or(NonZeroUsize::MIN);
        let now = Instant::now();
        Ok(Bench {
            plan,
            localizer,
            addrs,
            poller,
            events: Events::with_capacity(capacity),
            ready: Vec::with_capacity(4096),
            members: Vec::with_capacity(plan.members),
            again: Vec::new(),
            again_spare: Vec::new(),
            scratch: vec![0; SCRATCH_BYTES + MAX_CARRY],
            server_logs: server_logs.into_iter().map(Some).collect(),
            servers,
            broker,
            tracker: DeliveryTracker::new(plan.chatters(), plan.lines_per_chatter()),
            latency: Histogram::default(),
            epoch: now,
            phase: Phase::Join,
            bursting: false,
            reading_stalled: false,
            sweeping: false,
            stalled_bytes: 0,
            stalled_announced: vec![false; plan.stalled()],
            too_slow: TooSlow::new(),
            dropped: vec![false; plan.members],
            joined: 0,
            failed: 0,
            connecting: 0,
            notices: 0,
            last_notice: None,
            lines_sent: 0,
            first_send_us: None,
            last_delivery_us: 0,
            chatters_disconnected: 0,
            stalled_disconnected: 0,
            next_progress: now + PROGRESS_EVERY,
            quiet,
        })
    }

    fn micros_now(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }

    /// Runs every phase of the plan and returns what was seen.
    pub fn run(mut self) -> Result<Observed, BenchError> {
        let plan = self.plan;
        let mut observed = Observed {
            server_rss_empty: summed(&self.servers, Process::rss_kib),
            ..Observed::default()
        };
        let chatters = plan.chatters();
        let cpu_used = |before: Option<f64>, after: Option<f64>| Some(after? - before?);
        let server_cpu_start = summed(&self.servers, Process::cpu_seconds);
        let bench_cpu_start = Process::Myself.cpu_seconds();
        let first_connect = Instant::now();
        // The stalled members join last, so every join notice a chatter
        // should get is known: one for each member who joined after it.
        self.join(0..chatters)?;
        self.join(chatters..plan.members)?;
        observed.join_time = Some(first_connect.elapsed());
        observed.joined = self.joined;
        observed.failed = self.failed;

        let c = chatters as u64;
        let expected_notices = c * c.saturating_sub(1) / 2 + c * (plan.members - chatters) as u64;
        self.settle(expected_notices)?;
        if self.notices >= expected_notices {
            observed.announce_time = self.last_notice.map(|at| at - first_connect);
            if expected_notices == 0 {
                observed.announce_time = observed.join_time;
            }
        }
        // A mixed room's members set themselves up once every join has
        // reached everyone: m0 is there to be ignored, and a member that
        // changes language owes nothing to copy. Each command gets one
        // reply, awaited before anyone chats.
        let replies = self.configure();
        let expected_notices = expected_notices + replies;
        if replies > 0 {
            self.settle(expected_notices)?;
        }
        observed.notices_expected = expected_notices;
        observed.notices_settled = self.notices;
        observed.server_cpu_joining = cpu_used(
            server_cpu_start,
            summed(&self.servers, Process::cpu_seconds),
        );
        observed.bench_cpu_joining = cpu_used(bench_cpu_start, Process::Myself.cpu_seconds());
        if plan.scenario == Scenario::Idle {
            self.hold(plan.hold)?;
        }
        observed.server_rss_joined = summed(&self.servers, Process::rss_kib);

        let server_cpu_before = summed(&self.servers, Process::cpu_seconds);
        let broker_cpu_before = self.broker.and_then(Process::cpu_seconds);
        let bench_cpu_before = Process::Myself.cpu_seconds();
        match plan.scenario {
            Scenario::Idle => {}
            Scenario::Burst | Scenario::Stalled => self.send_burst()?,
            Scenario::Paced => self.send_paced()?,
        }
        self.drain()?;
        self.sweep_chatters()?;
        observed.server_cpu = cpu_used(
            server_cpu_before,
            summed(&self.servers, Process::cpu_seconds),
        );
        observed.bench_cpu = cpu_used(bench_cpu_before, Process::Myself.cpu_seconds());
        observed.broker_cpu = cpu_used(
            broker_cpu_before,
            self.broker.and_then(Process::cpu_seconds),
        );
        if plan.stalled() > 0 {
            self.check_stalled()?;
        }
        observed.server_peak_rss = summed(&self.servers, Process::peak_rss_kib);
        observed.broker_peak_rss = self.broker.and_then(Process::peak_rss_kib);

        observed.notices_later = self.notices - observed.notices_settled;
        observed.lines_sent = self.lines_sent;
        observed.expected = plan.expected_deliveries();
        observed.counts = self.tracker.counts;
        observed.window = self
            .first_send_us
            .map(|first| Duration::from_micros(self.last_delivery_us.saturating_sub(first)));
        observed.chatters_disconnected = self.chatters_disconnected;
        observed.stalled_disconnected = self.stalled_disconnected;
        observed.stalled_backlog = self.stalled_bytes;
        observed.stalled_announced = self.stalled_announced.iter().filter(|&&b| b).count();
        observed.too_slow_announced = self.dropped.iter().filter(|&&b| b).count();
        observed.latency = std::mem::take(&mut self.latency);
        Ok(observed)
    }

    /// Sends each chatter's `--mix` commands; returns how many replies
    /// they will get.
    fn configure(&mut self) -> u64 {
        let mut replies = 0;
        for index in 0..self.plan.chatters() {
            let profile = self.plan.profile(index);
            for line in profile.commands() {
                self.members[index].out.extend_from_slice(line.as_bytes());
                replies += 1;
            }
            if profile != Default::default() {
                self.flush(index);
            }
        }
        replies
    }

    /// Opens and joins the members in `range`, a window at a time.
    fn join(&mut self, range: Range<usize>) -> Result<(), BenchError> {
        self.phase = Phase::Join;
        let deadline = Instant::now() + self.plan.phase_timeout;
        let target = self.joined + range.len();
        let mut next = range.start;
        while self.joined + self.failed < target && Instant::now() < deadline {
            while next < range.end && self.connecting < CONNECT_WINDOW {
                self.start_connect(next)?;
                next += 1;
            }
            self.turn(TICK)?;
        }
        if self.joined < target {
            return Err(BenchError::run("bench-error-join")
                .arg("joined", self.joined.to_string())
                .arg("members", self.plan.members.to_string())
                .arg("failed", self.failed.to_string())
                .arg("secs", self.plan.phase_timeout.as_secs().to_string()));
        }
        Ok(())
    }

    fn start_connect(&mut self, index: usize) -> Result<(), BenchError> {
        let stalled = index >= self.plan.chatters();
        let addr = self.addrs[index % self.addrs.len()];
        let family = if addr.is_ipv4() {
            AddressFamily::INET
        } else {
            AddressFamily::INET6
        };
        let connect_error = |error: io::Error| {
            BenchError::run("bench-error-connect")
                .arg("addr", addr.to_string())
                .io(error)
        };
        let flags = SocketFlags::NONBLOCK | SocketFlags::CLOEXEC;
        let fd = rustix::net::socket_with(family, SocketType::STREAM, flags, None)
            .map_err(|e| connect_error(e.into()))?;
        if stalled {
            rustix::net::sockopt::set_socket_recv_buffer_size(&fd, STALLED_RCVBUF)
                .map_err(|e| connect_error(e.into()))?;
        }
        let state = match rustix::net::connect(&fd, &addr) {
            Ok(()) => State::AwaitingPrompt,
            Err(Errno::INPROGRESS) => State::Connecting,
            Err(error) => return Err(connect_error(error.into())),
        };
        let stream = TcpStream::from(fd);
        // Lines go out as soon as they are written: latency is measured.
        stream.set_nodelay(true).map_err(connect_error)?;
        // SAFETY: the stream lives in `self.members` until the Bench drops,
        // and `close` or `Drop` deletes it from the poller first.
        unsafe {
            self.poller
                .add_with_mode(&stream, Event::all(index), PollMode::Edge)
        }
        .map_err(io_error)?;
        self.members.push(Member {
            stream,
            state,
            stalled,
            carry: Vec::new(),
            out: Vec::new(),
            out_sent: 0,
            next_seq: 0,
        });
        self.connecting += 1;
        Ok(())
    }

    /// Waits until `expected` join notices have reached the members who
    /// read, or none has come for a while.
    fn settle(&mut self, expected: u64) -> Result<(), BenchError> {
        self.phase = Phase::Settle;
        let deadline = Instant::now() + self.plan.phase_timeout;
        let mut seen = self.notices;
        let mut progress_at = Instant::now();
        while self.notices < expected {
            let now = Instant::now();
            if self.notices != seen {
                seen = self.notices;
                progress_at = now;
            }
            if now >= deadline || now - progress_at >= SETTLE_QUIET {
                self.note(
                    "bench-note-settle",
                    &[
                        ("got", self.notices.to_string()),
                        ("expected", expected.to_string()),
                    ],
                );
                break;
            }
            self.turn(TICK)?;
        }
        Ok(())
    }

    /// Keeps the members connected (and reading) for `time`.
    fn hold(&mut self, time: Duration) -> Result<(), BenchError> {
        let until = Instant::now() + time;
        while Instant::now() < until {
            self.turn(until.saturating_duration_since(Instant::now()).min(TICK))?;
        }
        Ok(())
    }

    /// Every chatter writes its lines as fast as the server takes them.
    fn send_burst(&mut self) -> Result<(), BenchError> {
        self.phase = Phase::Send;
        self.bursting = true;
        let deadline = Instant::now() + self.plan.phase_timeout;
        for index in 0..self.plan.chatters() {
            self.pump(index);
        }
        let total = self.plan.total_lines();
        while Instant::now() < deadline {
            if self.lines_sent >= total && self.all_flushed() {
                break;
            }
            self.turn(TICK)?;
        }
        self.bursting = false;
        Ok(())
    }

    /// Line `g` of the run goes out at `g / rate` seconds, from member
    /// `g % chatters`, so the members take turns at an even pace.
    fn send_paced(&mut self) -> Result<(), BenchError> {
        self.phase = Phase::Send;
        let plan = self.plan;
        let total = plan.total_lines();
        let chatters = plan.chatters() as u64;
        let start = Instant::now();
        let deadline = start + plan.phase_timeout + plan.duration;
        let line_at = |g: u64| start + Duration::from_secs_f64(g as f64 / plan.rate);
        let mut next: u64 = 0;
        while Instant::now() < deadline {
            let now = Instant::now();
            while next < total && line_at(next) <= now {
                let index = (next % chatters) as usize;
                self.queue_line(index, next / chatters);
                self.flush(index);
                next += 1;
            }
            if next >= total && self.all_flushed() {
                break;
            }
            let wait = if next < total {
                line_at(next).saturating_duration_since(Instant::now())
            } else {
                TICK
            };
            self.turn(wait.min(TICK))?;
        }
        Ok(())
    }

    /// Waits until every expected line arrived, or nothing more arrives.
    fn drain(&mut self) -> Result<(), BenchError> {
        self.phase = Phase::Drain;
        let expected = self.plan.expected_deliveries();
        let deadline = Instant::now() + self.plan.phase_timeout;
        let mut seen = self.delivered_or_not();
        let mut progress_at = Instant::now();
        while self.tracker.counts.delivered < expected {
            let now = Instant::now();
            let current = self.delivered_or_not();
            if current != seen {
                seen = current;
                progress_at = now;
            }
            if now >= deadline || now - progress_at >= DRAIN_QUIET {
                break;
            }
            self.turn(TICK)?;
        }
        Ok(())
    }

    /// Reads every chatting member's socket to WouldBlock or EOF once. A
    /// server that drops a member sends its last bytes and its FIN
    /// together; a short read takes the bytes and waits for an edge that
    /// the FIN, already there, does not raise. This finds those ends.
    fn sweep_chatters(&mut self) -> Result<(), BenchError> {
        self.sweeping = true;
        for index in 0..self.plan.chatters().min(self.members.len()) {
            self.read(index);
        }
        // A member with more than one read budget waiting goes on in the
        // next turns; bounded, since nothing new is being sent.
        let mut turns = 0;
        while !self.again.is_empty() && turns < SWEEP_TURNS {
            self.turn(Duration::ZERO)?;
            turns += 1;
        }
        self.sweeping = false;
        Ok(())
    }

    /// Every chat line that came back, intact or not.
    fn delivered_or_not(&self) -> u64 {
        let counts = &self.tracker.counts;
        counts.delivered + counts.duplicated + counts.garbled
    }

    /// Reads what the stalled members were sent, to learn whether the
    /// server disconnected them (EOF or reset) or still holds them.
    fn check_stalled(&mut self) -> Result<(), BenchError> {
        self.phase = Phase::Check;
        self.reading_stalled = true;
        let open: Vec<usize> = (self.plan.chatters()..self.members.len())
            .filter(|&i| self.members[i].state != State::Closed)
            .collect();
        for &index in &open {
            let stream = &self.members[index].stream;
            let _ = rustix::net::sockopt::set_socket_recv_buffer_size(stream, CHECK_RCVBUF);
        }
        self.again.extend(open);
        let start = Instant::now();
        let mut seen = self.stalled_bytes;
        let mut progress_at = start;
        while self.stalled_disconnected < self.plan.stalled() {
            let now = Instant::now();
            if self.stalled_bytes != seen {
                seen = self.stalled_bytes;
                progress_at = now;
            }
            if now - start >= CHECK_LIMIT || now - progress_at >= CHECK_QUIET {
                break;
            }
            self.turn(TICK)?;
        }
        Ok(())
    }

    fn all_flushed(&self) -> bool {
        self.members
            .iter()
            .all(|m| m.state == State::Closed || m.out_sent == m.out.len())
    }

    /// One wait on the poller and everything it reported.
    fn turn(&mut self, timeout: Duration) -> Result<(), BenchError> {
        self.events.clear();
        let timeout = if self.again.is_empty() {
            timeout
        } else {
            Duration::ZERO
        };
        self.poller
            .wait(&mut self.events, Some(timeout))
            .map_err(io_error)?;
        std::mem::swap(&mut self.again, &mut self.again_spare);
        let mut again = std::mem::take(&mut self.again_spare);
        for index in again.drain(..) {
            self.read(index);
        }
        self.again_spare = again;
        self.ready.clear();
        self.ready.extend(self.events.iter());
        for at in 0..self.ready.len() {
            let event = self.ready[at];
            if event.key >= LOG_KEY {
                self.drain_server_log(event.key - LOG_KEY)?;
            } else {
                self.member_event(event.key, event.readable, event.writable);
            }
        }
        if Instant::now() >= self.next_progress {
            self.next_progress = Instant::now() + PROGRESS_EVERY;
            self.progress();
        }
        Ok(())
    }

    /// Reads and drops what the server logged; a closed log is left alone.
    fn drain_server_log(&mut self, at: usize) -> Result<(), BenchError> {
        let Some(&Some(log)) = self.server_logs.get(at) else {
            return Ok(());
        };
        for _ in 0..16 {
            match rustix::io::read(log, &mut self.scratch[..]) {
                Ok(0) => {
                    let _ = self.poller.delete(log);
                    self.server_logs[at] = None;
                    return Ok(());
                }
                Ok(_) => continue,
                Err(Errno::AGAIN) => return Ok(()),
                Err(Errno::INTR) => continue,
                Err(error) => return Err(io_error(error.into())),
            }
        }
        Ok(())
    }

    fn member_event(&mut self, index: usize, readable: bool, writable: bool) {
        let Some(member) = self.members.get_mut(index) else {
            return;
        };
        match member.state {
            State::Closed => return,
            State::Connecting => match rustix::net::sockopt::socket_error(&member.stream) {
                Ok(Ok(())) => member.state = State::AwaitingPrompt,
                _ => {
                    self.close(index);
                    return;
                }
            },
            _ => {}
        }
        if writable {
            if self.bursting && index < self.plan.chatters() {
                self.pump(index);
            } else {
                self.flush(index);
            }
        }
        if readable {
            self.read(index);
        }
    }

    /// Burst: prepares and writes lines until the socket is full or this
    /// member has sent all of its lines.
    fn pump(&mut self, index: usize) {
        let lines = self.plan.lines_of(index);
        let size = self.plan.size;
        loop {
            if !self.flush(index) {
                return;
            }
            let now_us = self.micros_now();
            let member = &mut self.members[index];
            if member.next_seq >= lines {
                return;
            }
            while member.out.len() < OUT_CHUNK && member.next_seq < lines {
                push_chat_line(&mut member.out, index, member.next_seq, now_us, size);
                member.next_seq += 1;
                self.lines_sent += 1;
            }
            self.first_send_us.get_or_insert(now_us);
        }
    }

    /// Paced: one line, stamped now.
    fn queue_line(&mut self, index: usize, seq: u64) {
        let now_us = self.micros_now();
        let size = self.plan.size;
        let member = &mut self.members[index];
        if member.state == State::Closed {
            return;
        }
        push_chat_line(&mut member.out, index, seq, now_us, size);
        member.next_seq = seq + 1;
        self.lines_sent += 1;
        self.first_send_us.get_or_insert(now_us);
    }

    /// Writes what is pending; true when nothing is left.
    fn flush(&mut self, index: usize) -> bool {
        let member = &mut self.members[index];
        while member.out_sent < member.out.len() {
            match (&member.stream).write(&member.out[member.out_sent..]) {
                Ok(n) => member.out_sent += n,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => return false,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => {
                    self.close(index);
                    return false;
                }
            }
        }
        member.out.clear();
        member.out_sent = 0;
        member.state != State::Closed
    }

    /// Reads until the socket is empty (edge-triggered) or this turn's
    /// budget is spent.
    fn read(&mut self, index: usize) {
        let mut budget = READ_BUDGET;
        loop {
            let member = &mut self.members[index];
            let skip = member.state == State::Closed
                || member.state == State::Connecting
                || (member.stalled && member.state == State::Joined && !self.reading_stalled);
            if skip {
                return;
            }
            let carried = member.carry.len();
            self.scratch[..carried].copy_from_slice(&member.carry);
            let room = &mut self.scratch[carried..carried + SCRATCH_BYTES];
            match (&member.stream).read(room) {
                Ok(0) => {
                    self.close(index);
                    return;
                }
                Ok(n) => {
                    let now_us = self.micros_now();
                    self.consume(index, carried + n, now_us);
                    // A short read emptied the socket: on Linux, data that
                    // arrives later raises a new edge, so the read that
                    // would only say WouldBlock is saved. Not while looking
                    // for the end of the stalled members: a FIN that came
                    // with the last data raises no new edge.
                    if n < SCRATCH_BYTES && !self.reading_stalled && !self.sweeping {
                        return;
                    }
                    if n >= budget {
                        self.again.push(index);
                        return;
                    }
                    budget -= n;
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => return,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => {
                    self.close(index);
                    return;
                }
            }
        }
    }

    /// Handles the complete lines in `scratch[..len]` for member `index`
    /// and keeps the partial one.
    fn consume(&mut self, index: usize, len: usize, now_us: u64) {
        let size = self.plan.size;
        let Bench {
            members,
            scratch,
            tracker,
            latency,
            ..
        } = self;
        let member = &mut members[index];
        let bytes = &scratch[..len];
        if member.stalled && self.reading_stalled && member.state == State::Joined {
            self.stalled_bytes += len as u64;
            member.carry.clear();
            return;
        }
        let mut at = 0;
        while at < len {
            match member.state {
                State::AwaitingPrompt | State::AwaitingWelcome => {
                    let Some(end) = bytes[at..].iter().position(|&b| b == b'\n') else {
                        break;
                    };
                    at += end + 1;
                    if member.state == State::AwaitingWelcome {
                        member.state = State::Joined;
                        self.joined += 1;
                        self.connecting -= 1;
                    }
                }
                State::Joined => {
                    let Some((line, used)) = parse_line(&bytes[at..], size) else {
                        break;
                    };
                    at += used;
                    if member.stalled {
                        continue;
                    }
                    match line {
                        Line::Chat { sender, .. } if !self.plan.admits(index, sender as usize) => {
                            // Mute or ignore should have kept it away.
                            tracker.garbled();
                        }
                        Line::Chat {
                            sender,
                            seq,
                            micros,
                        } => {
                            tracker.record(index, sender, seq);
                            latency.record(now_us.saturating_sub(micros));
                            self.last_delivery_us = now_us;
                        }
                        Line::Notice => {
                            self.notices += 1;
                            self.last_notice = Some(Instant::now());
                            let after_settling = matches!(self.phase, Phase::Send | Phase::Drain);
                            if after_settling {
                                let line = &bytes[at - used..at];
                                let dropped = match self.too_slow.find(line) {
                                    Some(Dropped::Named(named)) => self.dropped.get_mut(named),
                                    Some(Dropped::Myself) => self.dropped.get_mut(index),
                                    None => None,
                                };
                                if let Some(dropped) = dropped {
                                    *dropped = true;
                                }
                            }
                            if after_settling && !self.stalled_announced.is_empty() {
                                let line = &bytes[at - used..at];
                                let first_stalled = self.plan.chatters();
                                for named in member_names(line) {
                                    if let Some(seen) = named
                                        .checked_sub(first_stalled)
                                        .and_then(|k| self.stalled_announced.get_mut(k))
                                    {
                                        *seen = true;
                                    }
                                }
                            }
                        }
                        Line::Garbled => tracker.garbled(),
                        Line::Foreign => tracker.foreign(),
                    }
                }
                State::Connecting | State::Closed => break,
            }
        }
        member.carry.clear();
        // The prompt is the last line of the server's first words: when a
        // read ends exactly at a line's end, the name goes out.
        if member.state == State::AwaitingPrompt && at == len && len > 0 {
            push_name(&mut member.out, index);
            member.state = State::AwaitingWelcome;
            self.flush(index);
            return;
        }
        if len - at > MAX_CARRY {
            tracker.garbled();
        } else {
            member.carry.extend_from_slice(&bytes[at..len]);
        }
    }

    /// The one way a member's connection ends: out of the poller, marked.
    fn close(&mut self, index: usize) {
        let member = &mut self.members[index];
        let _ = self.poller.delete(&member.stream);
        match member.state {
            State::Closed => return,
            State::Joined if member.stalled => self.stalled_disconnected += 1,
            State::Joined => self.chatters_disconnected += 1,
            _ => {
                self.failed += 1;
                self.connecting -= 1;
            }
        }
        member.state = State::Closed;
    }

    fn note(&self, id: &str, args: &[(&str, String)]) {
        if self.quiet {
            return;
        }
        let args: Vec<_> = args
            .iter()
            .map(|(name, value)| (*name, value.as_str().into()))
            .collect();
        crate::cli::print_error("chatroom-bench", &self.localizer.tr(id, &args));
    }

    fn progress(&self) {
        let phase = self.localizer.tr(self.phase.message_id(), &[]);
        let plan = self.plan;
        let secs = format!("{:.0}", self.epoch.elapsed().as_secs_f64());
        match self.phase {
            Phase::Join | Phase::Settle => self.note(
                "bench-progress-join",
                &[
                    ("phase", phase),
                    ("secs", secs),
                    ("joined", self.joined.to_string()),
                    ("members", plan.members.to_string()),
                    ("notices", self.notices.to_string()),
                ],
            ),
            Phase::Send | Phase::Drain | Phase::Check => self.note(
                "bench-progress-chat",
                &[
                    ("phase", phase),
                    ("secs", secs),
                    ("sent", self.lines_sent.to_string()),
                    ("lines", plan.total_lines().to_string()),
                    ("delivered", self.tracker.counts.delivered.to_string()),
                    ("expected", plan.expected_deliveries().to_string()),
                ],
            ),
        }
    }
}

/// Who a notice says was dropped as too slow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dropped {
    /// The leave notice of member `m<index>`.
    Named(usize),
    /// The member reading the notice was told it is being dropped.
    Myself,
}

/// The server's too-slow notices in every shipped language, recognised
/// through the Fluent messages (`left-too-slow`, `too-slow`), never by
/// their words, so a rewording or the server's language changes nothing.
struct TooSlow {
    left: Vec<Pattern>,
    told: Vec<String>,
}

impl TooSlow {
    fn new() -> TooSlow {
        let localizers: Vec<Localizer> = AVAILABLE
            .iter()
            .filter_map(|tag| parse_lang(tag).ok())
            .map(|lang| Localizer::new(&lang))
            .collect();
        TooSlow {
            left: localizers
                .iter()
                .map(|l| l.pattern("left-too-slow", &[], &["name", "stayed"]))
                .collect(),
            told: localizers.iter().map(|l| l.tr("too-slow", &[])).collect(),
        }
    }

    /// `line` is one whole notice, `* ` and `\n` included.
    fn find(&self, line: &[u8]) -> Option<Dropped> {
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let text = std::str::from_utf8(line.strip_prefix(b"* ")?).ok()?;
        if self.told.iter().any(|told| told == text) {
            return Some(Dropped::Myself);
        }
        self.left.iter().find_map(|pattern| {
            let name = *pattern.captures(text)?.first()?;
            let digits = name.strip_prefix('m')?;
            if digits.is_empty() || digits.len() > 9 || !digits.bytes().all(|b| b.is_ascii_digit())
            {
                return None;
            }
            digits.parse().ok().map(Dropped::Named)
        })
    }
}

/// Member indices named in a notice: every `m<digits>` word, whatever
/// language the notice is in.
fn member_names(line: &[u8]) -> impl Iterator<Item = usize> + '_ {
    (0..line.len()).filter_map(move |at| {
        let starts_word = at == 0 || !line[at - 1].is_ascii_alphanumeric();
        if !starts_word || line[at] != b'm' {
            return None;
        }
        let digits = line[at + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let end = at + 1 + digits;
        let ends_word = !matches!(line.get(end), Some(b) if b.is_ascii_alphanumeric());
        if digits == 0 || digits > 9 || !ends_word {
            return None;
        }
        std::str::from_utf8(&line[at + 1..end]).ok()?.parse().ok()
    })
}

impl Drop for Bench<'_> {
    fn drop(&mut self) {
        for member in &self.members {
            if member.state != State::Closed {
                let _ = self.poller.delete(&member.stream);
            }
        }
        for log in self.server_logs.iter().flatten() {
            let _ = self.poller.delete(*log);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{member_names, Dropped, TooSlow};
    use crate::i18n::{parse_lang, Localizer};

    #[test]
    fn too_slow_notices_are_found_in_every_language() {
        let too_slow = TooSlow::new();
        for lang in ["en", "zh-CN"] {
            let localizer = Localizer::new(&parse_lang(lang).unwrap());
            let stayed = [("stayed", "3 s".into())];
            let args = |name: &'static str| [("name", name.into()), stayed[0].clone()];
            let left = localizer.tr("left-too-slow", &args("m42"));
            let line = format!("* {left}\n");
            assert_eq!(too_slow.find(line.as_bytes()), Some(Dropped::Named(42)));
            let told = format!("* {}\n", localizer.tr("too-slow", &[]));
            assert_eq!(too_slow.find(told.as_bytes()), Some(Dropped::Myself));
            let quit = localizer.tr("left-quit", &args("m42"));
            assert_eq!(too_slow.find(format!("* {quit}\n").as_bytes()), None);
            let other = localizer.tr("left-too-slow", &args("bob"));
            assert_eq!(too_slow.find(format!("* {other}\n").as_bytes()), None);
        }
    }

    #[test]
    fn notices_name_members() {
        let names: Vec<usize> = member_names(b"* m950 fell too far behind.\n").collect();
        assert_eq!(names, [950]);
        let names: Vec<usize> = member_names("* m7 离开了，m8。".as_bytes()).collect();
        assert_eq!(names, [7, 8]);
        assert_eq!(member_names(b"* am5 m5x m m12345678901").count(), 0);
    }
}
