//! The fan-out: how the room's lines reach the sockets. The room decides
//! who receives what (its `RoomEvent`s); this module turns that into bytes
//! and writes them, and nothing here decides policy beyond measuring who is
//! too far behind.
//!
//! - A broadcast is rendered once per variant in use and stored once, in
//!   that variant's `Backlog`, with its `Audience`. A variant is a language
//!   and a timestamp choice (`[HH:MM] ` before room lines, or not): with
//!   two languages, at most four renderings of a line, whatever the number
//!   of members. Each member keeps a cursor into its variant's backlog and
//!   applies its `SkipRules` (its own lines, mute, ignore) as the cursor
//!   walks, so filtering never copies per member.
//! - Replies and private messages (`send`) go to a connection's own queue,
//!   each segment marked with the backlog offset it must follow, so they
//!   interleave with the feed in the order the room queued them.
//! - Each connection gets one gathered `sendmsg` with what it is owed. When
//!   a backlog grew, every member is walked; the next walk waits
//!   `WALK_PAUSE` of the last walk's time, so lines that arrive meanwhile
//!   share the writes.
//! - Readers that fall behind slow the room first: while a lagging member
//!   (owing more than `max_queue_bytes / 2`) still reads, or while the
//!   bytes appended since the last walk pass a quarter of it,
//!   `backpressure()` is set and the reactor stops reading members'
//!   sockets, so TCP pushes back on the senders. A member that begins to
//!   lag holds the room `FIRST_HOLD`, then only while it took bytes within
//!   `HOLD_GRACE`, so one that stopped reading does not stall everyone. It
//!   is reported too slow only when it does not catch up: no progress for
//!   `STALL_LIMIT`, still lagging after `LAG_LIMIT`, or owing more than
//!   twice `max_queue_bytes` (the bound on memory) once it no longer holds
//!   the room.
//!
//! Sockets are owned here; the reactor borrows them to read and to
//! register them with the poller.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{self, IoSlice};
use std::net::TcpStream;
use std::ops::Range;
use std::time::{Duration, Instant};

use rustix::net::{SendAncillaryBuffer, SendFlags};

use super::backlog::Backlog;
use crate::i18n::{Lang, Localizers};
use crate::render::render;
use crate::room::{Audience, ConnId, LineKind, LocalTime, MemberId, Notice, SkipRules};

/// The pause after a walk over every member, as a share of the walk's
/// time: latency traded for fewer writes. Measured with chatroom-bench
/// (500 members, 500 lines/s, median of 3): 0.4 gives p99 latency 7.1 ms at
/// 2.9 µs of server CPU per delivery, 0.5 gives 8.6 ms at 2.7 µs; no pause
/// gave about 5.6 ms at 4.0 µs. With 10,000 members joining at once, no
/// pause took 49.5 s (machine busy) for every join to reach everyone, 0.4
/// takes about 3 s.
const WALK_PAUSE: f32 = 0.4;
/// Most slices handed to one `sendmsg`.
const MAX_SLICES: usize = 16;
/// A lagging member that wrote nothing for this long has stalled.
const STALL_LIMIT: Duration = Duration::from_secs(2);
/// A member may lag this long in one stretch, however slowly it reads.
const LAG_LIMIT: Duration = Duration::from_secs(5);
/// A member that begins to lag holds the room back this long to show it
/// still reads; then only while it took bytes within `HOLD_GRACE`. One
/// that stopped reading must not stall everyone until it is dropped.
const FIRST_HOLD: Duration = Duration::from_millis(200);
const HOLD_GRACE: Duration = Duration::from_secs(1);

/// What one connection's flush left to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flushed {
    /// Something or nothing is pending; the reactor re-arms it.
    Waiting,
    /// Fell behind beyond recovery: the room should drop it as too slow.
    TooSlow,
    /// The write failed: the connection is broken.
    Broken,
}

/// Where a member stands in its variant's backlog.
#[derive(Debug)]
struct Feed {
    member: MemberId,
    /// Offset of the next backlog byte that may be owed.
    cursor: u64,
    /// Set at `unsubscribe`: nothing at or after this offset is owed.
    until: Option<u64>,
    rules: SkipRules,
}

impl Feed {
    fn limit(&self, backlog: &Backlog) -> u64 {
        self.until.unwrap_or_else(|| backlog.end())
    }
}

/// Where one of a connection's own segments ends in its `own` buffer,
/// and the feed offset it is owed after.
#[derive(Debug, Clone, Copy)]
struct Mark {
    at: u64,
    end: usize,
}

/// A member owing more than the high-water mark, since when, and when it
/// last took any bytes.
#[derive(Debug, Clone, Copy)]
struct Lag {
    since: Instant,
    progress_at: Instant,
}

impl Lag {
    /// Whether this member, still reading, holds the room back at `now`.
    fn holds_room(self, now: Instant) -> bool {
        now < self.since + FIRST_HOLD
            || (self.progress_at > self.since && now < self.progress_at + HOLD_GRACE)
    }

    /// When `holds_room` turns false, if it is still true at `now`.
    fn hold_ends(self, now: Instant) -> Option<Instant> {
        let first = self.since + FIRST_HOLD;
        let progress = (self.progress_at > self.since).then_some(self.progress_at + HOLD_GRACE);
        let end = progress.map_or(first, |at| at.max(first));
        (now < end).then_some(end)
    }
}

/// One piece of a planned write.
#[derive(Debug, Clone)]
enum Piece {
    /// Bytes of the connection's own buffer.
    Own(Range<usize>),
    /// Backlog bytes.
    Feed(Range<u64>),
}

/// What one connection is owed, in order: its own segments interleaved
/// with its feed. No socket: planning and advancing are pure.
#[derive(Debug, Default)]
struct Queue {
    /// Set from `subscribe` until everything up to `until` was written.
    feed: Option<Feed>,
    /// Bytes for this connection alone (replies, private messages), one
    /// buffer so that a long queue is one allocation; `own[own_sent..]` is
    /// still to be written. Freed when empty, so an idle member costs none.
    own: Vec<u8>,
    own_sent: usize,
    /// The segments of `own` not yet fully written, in order.
    marks: VecDeque<Mark>,
    /// Where the last write stopped inside a line, if it did: a discard
    /// keeps the rest of that line.
    cut: Option<Cut>,
}

/// Which part of a queue a write stopped inside of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cut {
    Own,
    Feed,
}

/// One connection's write side.
#[derive(Debug)]
struct Outlet {
    socket: TcpStream,
    lang: Lang,
    /// Whether room lines reach it with `[HH:MM] `.
    stamps: bool,
    queue: Queue,
    /// Already on the list of connections to flush this turn.
    touched: bool,
    lag: Option<Lag>,
}

impl Outlet {
    /// Its variant's index in `FanOut::variants`.
    fn slot(&self) -> usize {
        slot(self.lang, self.stamps)
    }
}

/// The index of the variant of `lang` with or without timestamps.
fn slot(lang: Lang, stamps: bool) -> usize {
    lang.index() * 2 + usize::from(stamps)
}

impl Queue {
    /// Queues `bytes`, owed after everything owed so far.
    fn push(&mut self, bytes: &[u8], backlog: &Backlog) {
        let at = self.feed.as_ref().map_or(0, |feed| feed.limit(backlog));
        self.own.extend_from_slice(bytes);
        let end = self.own.len();
        match self.marks.back_mut() {
            Some(last) if last.at == at => last.end = end,
            _ => self.marks.push_back(Mark { at, end }),
        }
    }

    fn own_pending(&self) -> usize {
        self.own.len() - self.own_sent
    }

    /// An upper bound of what is owed, in O(1): skipped broadcasts count
    /// too.
    fn owed_bound(&self, backlog: &Backlog) -> usize {
        let feed = self
            .feed
            .as_ref()
            .map_or(0, |feed| (feed.limit(backlog) - feed.cursor) as usize);
        feed + self.own_pending()
    }

    /// Exactly what is owed.
    fn owed_exact(&self, backlog: &Backlog) -> usize {
        let Some(feed) = &self.feed else {
            return self.own_pending();
        };
        let limit = feed.limit(backlog);
        let mut owed = self.own_pending();
        for (entry, end) in backlog.entries_from(feed.cursor) {
            if entry.start >= limit {
                break;
            }
            if entry.start < feed.cursor || feed.rules.admits(feed.member, entry.audience) {
                owed += (end.min(limit) - entry.start.max(feed.cursor)) as usize;
            }
        }
        owed
    }

    /// Whether a write has anything to do: own bytes, or backlog bytes
    /// (perhaps all skipped) after the cursor.
    fn has_work(&self, backlog: &Backlog) -> bool {
        self.own_pending() > 0
            || self
                .feed
                .as_ref()
                .is_some_and(|feed| feed.cursor < feed.limit(backlog))
    }

    /// The bytes of a planned piece.
    fn bytes<'a>(&'a self, backlog: &'a Backlog, piece: &Piece) -> &'a [u8] {
        match piece {
            Piece::Own(range) => &self.own[range.clone()],
            Piece::Feed(range) => backlog.get(range.clone()),
        }
    }

    /// Plans the next write into `pieces` (at most `MAX_SLICES`), in the
    /// order owed. Broadcasts the member skips are left out; those before
    /// the first planned backlog piece are jumped over for good.
    fn plan(&mut self, backlog: &Backlog, pieces: &mut Vec<Piece>) {
        pieces.clear();
        let mut pos = self.feed.as_ref().map_or(0, |feed| feed.cursor);
        let mut start = self.own_sent;
        for index in 0..self.marks.len() {
            let Mark { at, end } = self.marks[index];
            if at > pos {
                self.plan_feed(backlog, pos..at, pieces);
                pos = at;
            }
            if pieces.len() == MAX_SLICES {
                return;
            }
            pieces.push(Piece::Own(start..end));
            start = end;
        }
        if let Some(limit) = self.feed.as_ref().map(|feed| feed.limit(backlog)) {
            self.plan_feed(backlog, pos..limit, pieces);
        }
    }

    fn plan_feed(&mut self, backlog: &Backlog, window: Range<u64>, pieces: &mut Vec<Piece>) {
        let Some(feed) = self.feed.as_mut() else {
            return;
        };
        let window = window.start.max(feed.cursor)..window.end;
        if window.is_empty() {
            return;
        }
        let mut planned_feed = pieces.iter().any(|p| matches!(p, Piece::Feed(_)));
        for (entry, end) in backlog.entries_from(window.start) {
            if entry.start >= window.end {
                break;
            }
            let range = entry.start.max(window.start)..end.min(window.end);
            // An entry the cursor is inside was begun: it is finished
            // whatever the rules say now.
            let owed = entry.start < feed.cursor || feed.rules.admits(feed.member, entry.audience);
            if !owed {
                if !planned_feed {
                    feed.cursor = range.end;
                }
                continue;
            }
            match pieces.last_mut() {
                Some(Piece::Feed(last)) if last.end == range.start => last.end = range.end,
                _ => {
                    if pieces.len() == MAX_SLICES {
                        return;
                    }
                    pieces.push(Piece::Feed(range));
                    planned_feed = true;
                }
            }
        }
    }

    /// Marks `written` bytes of `pieces` as sent.
    /// Pieces end where lines end, so a write that stops inside one stops
    /// inside a line.
    fn advance(&mut self, pieces: &[Piece], mut written: usize) {
        if written > 0 {
            self.cut = None;
        }
        for piece in pieces {
            if written == 0 {
                break;
            }
            match piece {
                Piece::Own(range) => {
                    let step = written.min(range.len());
                    written -= step;
                    self.own_sent = range.start + step;
                    if step < range.len() {
                        self.cut = Some(Cut::Own);
                    }
                }
                Piece::Feed(range) => {
                    let len = (range.end - range.start) as usize;
                    let step = written.min(len);
                    written -= step;
                    if let Some(feed) = self.feed.as_mut() {
                        feed.cursor = range.start + step as u64;
                    }
                    if step < len {
                        self.cut = Some(Cut::Feed);
                    }
                }
            }
        }
        while self
            .marks
            .front()
            .is_some_and(|mark| mark.end <= self.own_sent)
        {
            self.marks.pop_front();
        }
        if self.own_sent == self.own.len() {
            // Give the memory back: an idle member should cost no buffer.
            self.own = Vec::new();
            self.own_sent = 0;
            self.marks = VecDeque::new();
        } else if self.own_sent > self.own.len() / 2 {
            self.own.drain(..self.own_sent);
            for mark in &mut self.marks {
                mark.end -= self.own_sent;
            }
            self.own_sent = 0;
        }
    }

    /// Whether the feed has delivered everything it will.
    fn feed_done(&self) -> bool {
        self.feed
            .as_ref()
            .is_some_and(|feed| feed.until.is_some_and(|until| feed.cursor >= until))
    }

    /// Everything owed, taken out in order (for a change of language).
    fn take_all(&mut self, backlog: &Backlog, pieces: &mut Vec<Piece>) -> Vec<u8> {
        let mut owed = Vec::new();
        loop {
            self.plan(backlog, pieces);
            if pieces.is_empty() {
                return owed;
            }
            let before = owed.len();
            for piece in pieces.iter() {
                owed.extend_from_slice(self.bytes(backlog, piece));
            }
            self.advance(pieces, owed.len() - before);
        }
    }
}

/// Rendering variant state: one per language and timestamp choice,
/// indexed by `slot`.
#[derive(Debug, Default)]
struct Variant {
    backlog: Backlog,
    /// Bytes appended since the last walk: what any member may have come
    /// to owe beyond what that walk measured.
    appended: usize,
    /// Subscribed members rendered in this variant; broadcasts are
    /// rendered for it only while there are some.
    members: usize,
}

#[derive(Debug)]
pub struct FanOut {
    localizers: Localizers,
    /// What a new connection is rendered in.
    default_lang: Lang,
    /// Whether a new connection gets timestamps.
    default_stamps: bool,
    /// The time of day room lines are stamped with, set every turn.
    local: LocalTime,
    /// Indexed by `slot`.
    variants: Vec<Variant>,
    outlets: HashMap<ConnId, Outlet, BuildHasherDefault<IdHasher>>,
    /// Connections to flush this turn.
    touched: Vec<ConnId>,
    /// A broadcast was appended and not yet walked to everyone.
    grew: bool,
    /// The earliest time of the next walk over every member.
    next_walk_at: Instant,
    max_queue_bytes: usize,
    /// Members lagging, in no order; checked against the limits.
    lagging: Vec<ConnId>,
    /// Reused render buffer.
    line: String,
    /// Reused buffer for the timestamped rendering.
    stamped: String,
    /// Reused write plan.
    pieces: Vec<Piece>,
}

impl FanOut {
    pub fn new(default_lang: Lang, default_stamps: bool, max_queue_bytes: usize) -> Self {
        FanOut {
            localizers: Localizers::default(),
            default_lang,
            default_stamps,
            local: LocalTime::default(),
            variants: Lang::all()
                .flat_map(|_| [Variant::default(), Variant::default()])
                .collect(),
            outlets: HashMap::default(),
            touched: Vec::new(),
            grew: false,
            next_walk_at: Instant::now(),
            max_queue_bytes,
            lagging: Vec::new(),
            line: String::new(),
            stamped: String::new(),
            pieces: Vec::with_capacity(MAX_SLICES),
        }
    }

    /// Takes over the write side of a new connection.
    pub fn open(&mut self, conn: ConnId, socket: TcpStream) {
        let outlet = Outlet {
            socket,
            lang: self.default_lang,
            stamps: self.default_stamps,
            queue: Queue::default(),
            touched: false,
            lag: None,
        };
        self.outlets.insert(conn, outlet);
    }

    /// The connection's socket, to read from and to register.
    pub fn socket(&self, conn: ConnId) -> Option<&TcpStream> {
        self.outlets.get(&conn).map(|outlet| &outlet.socket)
    }

    /// Forgets a connection and gives its socket back to be closed.
    pub fn remove(&mut self, conn: ConnId) -> Option<TcpStream> {
        let outlet = self.outlets.remove(&conn)?;
        if let Some(feed) = &outlet.queue.feed {
            if feed.until.is_none() {
                self.variants[outlet.slot()].members -= 1;
            }
            // Its cursor may have held the backlog back: the next walk
            // releases what nobody needs.
            self.grew = true;
        }
        Some(outlet.socket)
    }

    /// Queues `notice` for `to` alone, after everything it is owed so far.
    pub fn send(&mut self, to: ConnId, notice: &Notice) {
        let Some(outlet) = self.outlets.get_mut(&to) else {
            return;
        };
        self.line.clear();
        render(self.localizers.get(outlet.lang), notice, &mut self.line);
        let backlog = &self.variants[outlet.slot()].backlog;
        outlet.queue.push(self.line.as_bytes(), backlog);
        touch(&mut self.touched, outlet, to);
    }

    /// From now on `conn` is owed the broadcasts its rules admit.
    pub fn subscribe(&mut self, conn: ConnId, member: MemberId) {
        let Some(outlet) = self.outlets.get_mut(&conn) else {
            return;
        };
        let variant = &mut self.variants[outlet.slot()];
        variant.members += 1;
        outlet.queue.feed = Some(Feed {
            member,
            cursor: variant.backlog.end(),
            until: None,
            rules: SkipRules::default(),
        });
    }

    /// `conn` is owed no broadcast after this point. Its cursor stays: what
    /// it is owed is not copied.
    pub fn unsubscribe(&mut self, conn: ConnId) {
        let Some(outlet) = self.outlets.get_mut(&conn) else {
            return;
        };
        let variant = &mut self.variants[outlet.slot()];
        if let Some(feed) = outlet
            .queue
            .feed
            .as_mut()
            .filter(|feed| feed.until.is_none())
        {
            feed.until = Some(variant.backlog.end());
            variant.members -= 1;
        }
        touch(&mut self.touched, outlet, conn);
    }

    /// The time of day from now on; the reactor sets it every turn.
    pub fn set_clock(&mut self, local: LocalTime) {
        self.local = local;
    }

    /// Appends a broadcast to every variant's backlog that has members,
    /// rendered once per language (the timestamped variant puts the time
    /// in front of that rendering). Returns it rendered in `log_lang`,
    /// without the time, for the log.
    pub fn broadcast(&mut self, audience: Audience, notice: &Notice, log_lang: Lang) -> &str {
        let room_line = matches!(
            audience.kind,
            LineKind::Chat | LineKind::Action | LineKind::Admin
        );
        // The log's language last, so that `line` holds it at the end.
        let others = Lang::all().filter(|&lang| lang != log_lang);
        for lang in others.chain(std::iter::once(log_lang)) {
            let (plain, stamped) = (slot(lang, false), slot(lang, true));
            let plain_used = self.variants[plain].members > 0;
            let stamped_used = self.variants[stamped].members > 0;
            if lang != log_lang && !plain_used && !stamped_used {
                continue;
            }
            self.line.clear();
            render(self.localizers.get(lang), notice, &mut self.line);
            if plain_used {
                let variant = &mut self.variants[plain];
                variant.backlog.append(self.line.as_bytes(), audience);
                variant.appended += self.line.len();
                self.grew = true;
            }
            if stamped_used {
                let bytes = if room_line {
                    self.stamped.clear();
                    self.stamped.push('[');
                    let _ = std::fmt::Write::write_fmt(
                        &mut self.stamped,
                        format_args!("{}", self.local),
                    );
                    self.stamped.push_str("] ");
                    self.stamped.push_str(&self.line);
                    self.stamped.as_bytes()
                } else {
                    self.line.as_bytes()
                };
                let variant = &mut self.variants[stamped];
                variant.backlog.append(bytes, audience);
                variant.appended += bytes.len();
                self.grew = true;
            }
        }
        &self.line
    }

    /// From now on `conn` skips what `rules` reject.
    pub fn set_rules(&mut self, conn: ConnId, rules: SkipRules) {
        if let Some(feed) = self
            .outlets
            .get_mut(&conn)
            .and_then(|o| o.queue.feed.as_mut())
        {
            feed.rules = rules;
        }
    }

    /// From now on everything for `conn` is rendered in `lang`.
    pub fn set_language(&mut self, conn: ConnId, lang: Lang) {
        if let Some(stamps) = self.outlets.get(&conn).map(|outlet| outlet.stamps) {
            self.move_to(conn, lang, stamps);
        }
    }

    /// From now on room lines reach `conn` with `[HH:MM] ` (`on`) or not.
    pub fn set_timestamps(&mut self, conn: ConnId, on: bool) {
        if let Some(lang) = self.outlets.get(&conn).map(|outlet| outlet.lang) {
            self.move_to(conn, lang, on);
        }
    }

    /// Moves `conn` to another variant. What it is owed in the old one is
    /// copied to its own queue (a rare call), and its cursor moves to the
    /// end of the new variant's backlog.
    fn move_to(&mut self, conn: ConnId, lang: Lang, stamps: bool) {
        let Some(outlet) = self.outlets.get_mut(&conn) else {
            return;
        };
        if outlet.lang == lang && outlet.stamps == stamps {
            return;
        }
        let old = outlet.slot();
        let owed = outlet
            .queue
            .take_all(&self.variants[old].backlog, &mut self.pieces);
        outlet.lang = lang;
        outlet.stamps = stamps;
        let new_slot = outlet.slot();
        if let Some(feed) = outlet.queue.feed.as_mut() {
            let new = &mut self.variants[new_slot];
            let end = new.backlog.end();
            if feed.until.is_none() {
                new.members += 1;
                self.variants[old].members -= 1;
            }
            feed.cursor = end;
            feed.until = feed.until.map(|_| end);
        }
        if !owed.is_empty() {
            let end = owed.len();
            outlet.queue.own = owed;
            outlet.queue.marks.push_back(Mark { at: 0, end });
        }
        touch(&mut self.touched, outlet, conn);
    }

    /// Drops what `conn` is still owed, but for the rest of a line it is in
    /// the middle of, so that what is queued next (the reason it is
    /// dropped) can reach it as whole lines.
    pub fn discard(&mut self, conn: ConnId) {
        let Some(outlet) = self.outlets.get_mut(&conn) else {
            return;
        };
        let variant = &mut self.variants[outlet.slot()];
        let queue = &mut outlet.queue;
        let in_own_line = queue.cut == Some(Cut::Own);
        let keep = if in_own_line {
            let rest = &queue.own[queue.own_sent..];
            queue.own_sent
                + rest
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(rest.len(), |i| i + 1)
        } else {
            queue.own_sent
        };
        queue.own.truncate(keep);
        queue.marks.clear();
        if keep > queue.own_sent {
            queue.marks.push_back(Mark { at: 0, end: keep });
        }
        if let Some(feed) = queue.feed.as_mut() {
            let in_feed_line = queue.cut == Some(Cut::Feed);
            let entry_end = in_feed_line
                .then(|| variant.backlog.entries_from(feed.cursor).next())
                .flatten()
                .map(|(_, end)| end);
            if feed.until.is_none() {
                variant.members -= 1;
            }
            feed.until = Some(entry_end.unwrap_or(feed.cursor));
        }
        touch(&mut self.touched, outlet, conn);
    }

    /// Whether `conn` has bytes waiting for its socket.
    pub fn wants_write(&self, conn: ConnId) -> bool {
        self.outlets.get(&conn).is_some_and(|outlet| {
            let backlog = &self.variants[outlet.slot()].backlog;
            outlet.queue.has_work(backlog)
        })
    }

    /// Whether a member that is still reading is so far behind, or may be,
    /// that the room should stop reading new lines until it catches up.
    /// Between walks, what was appended since counts too, so a burst read
    /// in a few turns cannot run far past the high-water mark before the
    /// next walk measures it.
    pub fn backpressure(&self, now: Instant) -> bool {
        let high = LagLimits::new(self.max_queue_bytes).high;
        let holding = |conn: &ConnId| {
            self.outlets
                .get(conn)
                .and_then(|outlet| outlet.lag)
                .is_some_and(|lag| lag.holds_room(now))
        };
        self.lagging.iter().any(holding)
            || self
                .variants
                .iter()
                .any(|variant| variant.appended > high / 2)
    }

    /// The next walk, when one is due, or the next lag check.
    pub fn next_deadline(&self) -> Option<Instant> {
        let walk = self.grew.then_some(self.next_walk_at);
        let lag = self
            .lagging
            .iter()
            .filter_map(|conn| self.outlets.get(conn)?.lag)
            .flat_map(|lag| {
                let checks = [lag.progress_at + STALL_LIMIT, lag.since + LAG_LIMIT];
                let release = lag.hold_ends(Instant::now());
                checks.into_iter().chain(release)
            })
            .min();
        walk.into_iter().chain(lag).min()
    }

    /// Schedules `conn` for a flush this turn.
    pub fn touch(&mut self, conn: ConnId) {
        if let Some(outlet) = self.outlets.get_mut(&conn) {
            touch(&mut self.touched, outlet, conn);
        }
    }

    /// Writes what is owed: to every member when a walk is due, else to the
    /// touched connections. Each flushed connection is reported in `out`;
    /// `false` when there was nothing to do.
    pub fn flush(&mut self, now: Instant, out: &mut Vec<(ConnId, Flushed)>) -> bool {
        let walk_everyone = self.grew && now >= self.next_walk_at;
        let FanOut {
            variants,
            outlets,
            touched,
            pieces,
            lagging,
            max_queue_bytes,
            ..
        } = self;
        let limits = LagLimits::new(*max_queue_bytes);
        if walk_everyone {
            self.grew = false;
            touched.clear();
            let started = Instant::now();
            let mut oldest: Vec<u64> = variants.iter().map(|v| v.backlog.end()).collect();
            for (&conn, outlet) in outlets.iter_mut() {
                let index = outlet.slot();
                let backlog = &variants[index].backlog;
                if outlet.touched || outlet.queue.has_work(backlog) {
                    outlet.touched = false;
                    let flushed = flush_one(outlet, backlog, pieces, now, &limits);
                    track_lag(lagging, conn, outlet);
                    out.push((conn, flushed));
                }
                if let Some(feed) = &outlet.queue.feed {
                    oldest[index] = oldest[index].min(feed.cursor);
                }
            }
            for (variant, oldest) in variants.iter_mut().zip(oldest) {
                variant.backlog.release_before(oldest);
                variant.appended = 0;
            }
            let finished = Instant::now();
            self.next_walk_at = finished + (finished - started).mul_f32(WALK_PAUSE);
            true
        } else if !touched.is_empty() {
            for conn in touched.drain(..) {
                let Some(outlet) = outlets.get_mut(&conn) else {
                    continue;
                };
                outlet.touched = false;
                let backlog = &variants[outlet.slot()].backlog;
                let flushed = flush_one(outlet, backlog, pieces, now, &limits);
                track_lag(lagging, conn, outlet);
                out.push((conn, flushed));
            }
            true
        } else {
            false
        }
    }

    /// Members that lagged past the limits at `now`, to be dropped as too
    /// slow; also forgets lagging entries that caught up or left.
    pub fn overdue(&mut self, now: Instant, out: &mut Vec<ConnId>) {
        let outlets = &self.outlets;
        self.lagging.retain(|conn| {
            let Some(lag) = outlets.get(conn).and_then(|outlet| outlet.lag) else {
                return false;
            };
            if now >= lag.progress_at + STALL_LIMIT || now >= lag.since + LAG_LIMIT {
                out.push(*conn);
                return false;
            }
            true
        });
        for conn in out.iter() {
            if let Some(outlet) = self.outlets.get_mut(conn) {
                outlet.lag = None;
            }
        }
    }
}

/// The thresholds of falling behind, from `max_queue_bytes`.
struct LagLimits {
    /// Owing more makes a member lag, and the room stop reading.
    high: usize,
    /// A lagging member owing less has caught up.
    low: usize,
    /// Owing more is too slow at once: the bound on memory.
    hard: usize,
}

impl LagLimits {
    fn new(max_queue_bytes: usize) -> Self {
        LagLimits {
            high: max_queue_bytes / 2,
            low: max_queue_bytes / 4,
            hard: max_queue_bytes.saturating_mul(2),
        }
    }
}

/// Writes what `outlet` is owed (one `sendmsg` per `MAX_SLICES` pieces, as
/// far as the socket takes it) and updates its lag.
fn flush_one(
    outlet: &mut Outlet,
    backlog: &Backlog,
    pieces: &mut Vec<Piece>,
    now: Instant,
    limits: &LagLimits,
) -> Flushed {
    let mut progressed = false;
    loop {
        outlet.queue.plan(backlog, pieces);
        if pieces.is_empty() {
            break;
        }
        let mut slices = [IoSlice::new(&[]); MAX_SLICES];
        let mut offered = 0;
        for (slice, piece) in slices.iter_mut().zip(pieces.iter()) {
            let bytes = outlet.queue.bytes(backlog, piece);
            offered += bytes.len();
            *slice = IoSlice::new(bytes);
        }
        // sendmsg rather than writev: the same gather, without the file
        // layer's position lock (7% of the server's time in a profile).
        let sent = rustix::net::sendmsg(
            &outlet.socket,
            &slices[..pieces.len()],
            &mut SendAncillaryBuffer::default(),
            SendFlags::NOSIGNAL,
        )
        .map_err(io::Error::from);
        match sent {
            Ok(0) => return Flushed::Broken,
            Ok(written) => {
                let full = pieces.len() == MAX_SLICES;
                outlet.queue.advance(pieces, written);
                progressed = true;
                // A short write means the socket is full: asking again
                // would only cost a syscall that says so.
                if written < offered || !full {
                    break;
                }
            }
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return Flushed::Broken,
        }
    }
    if outlet.queue.feed_done() {
        outlet.queue.feed = None;
    }
    let bound = outlet.queue.owed_bound(backlog);
    let owed = if bound > limits.low {
        outlet.queue.owed_exact(backlog)
    } else {
        bound
    };
    match &mut outlet.lag {
        Some(_) if owed < limits.low => outlet.lag = None,
        Some(lag) if progressed => lag.progress_at = now,
        None if owed > limits.high => {
            outlet.lag = Some(Lag {
                since: now,
                progress_at: now,
            })
        }
        _ => {}
    }
    // Past the memory bound only a member that no longer holds the room
    // is dropped: one still reading has the room wait for it, so what it
    // owes stops growing (a burst of private messages to it, read in one
    // turn, can pass the bound before it was ever measured).
    if owed > limits.hard && outlet.lag.is_some_and(|lag| !lag.holds_room(now)) {
        return Flushed::TooSlow;
    }
    Flushed::Waiting
}

/// Keeps `lagging` listing every outlet with a lag.
fn track_lag(lagging: &mut Vec<ConnId>, conn: ConnId, outlet: &Outlet) {
    if outlet.lag.is_some() && !lagging.contains(&conn) {
        lagging.push(conn);
    } else if outlet.lag.is_none() {
        lagging.retain(|&c| c != conn);
    }
}

fn touch(touched: &mut Vec<ConnId>, outlet: &mut Outlet, conn: ConnId) {
    if !outlet.touched {
        outlet.touched = true;
        touched.push(conn);
    }
}

/// Hashes connection ids, which are sequential and never chosen by a peer,
/// with one multiplication instead of SipHash: the map is looked up for
/// every event.
#[derive(Default)]
pub struct IdHasher(u64);

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::room::LineKind;

    const ME: MemberId = MemberId(1);

    /// A small deterministic generator for the write sizes and traffic.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    /// Writes up to `budget` bytes of what `queue` plans, as a socket that
    /// takes that much would, and returns them.
    fn write(queue: &mut Queue, backlog: &Backlog, budget: usize) -> Vec<u8> {
        let mut pieces = Vec::new();
        queue.plan(backlog, &mut pieces);
        let mut out = Vec::new();
        for piece in &pieces {
            out.extend_from_slice(queue.bytes(backlog, piece));
        }
        out.truncate(budget);
        queue.advance(&pieces, out.len());
        out
    }

    /// Random traffic from three senders (one of them this member), own
    /// segments in between, and writes of random sizes: what comes out is
    /// exactly what the rules admit, in the order it was queued.
    fn interleaving_holds(rules: SkipRules, seed: u64) {
        let mut rng = Rng(seed);
        let mut backlog = Backlog::default();
        let mut queue = Queue {
            feed: Some(Feed {
                member: ME,
                cursor: 0,
                until: None,
                rules: rules.clone(),
            }),
            ..Queue::default()
        };
        let (mut expected, mut got) = (Vec::new(), Vec::new());
        for step in 0..3000u64 {
            match rng.below(10) {
                0..=4 => {
                    let sender = MemberId(1 + rng.below(3));
                    let kind =
                        [LineKind::Chat, LineKind::Action, LineKind::Notice][rng.below(3) as usize];
                    let audience = Audience {
                        sender: Some(sender),
                        kind,
                    };
                    let line = format!("{sender:?} {kind:?} {step}\n");
                    backlog.append(line.as_bytes(), audience);
                    if rules.admits(ME, audience) {
                        expected.extend_from_slice(line.as_bytes());
                    }
                }
                5 | 6 => {
                    let line = format!("own {step}\n");
                    queue.push(line.as_bytes(), &backlog);
                    expected.extend_from_slice(line.as_bytes());
                }
                _ => {
                    let budget = rng.below(200) as usize;
                    got.extend(write(&mut queue, &backlog, budget));
                }
            }
            if step % 97 == 0 {
                let oldest = queue.feed.as_ref().map_or(backlog.end(), |f| f.cursor);
                backlog.release_before(oldest);
            }
        }
        while queue.has_work(&backlog) {
            got.extend(write(&mut queue, &backlog, 1000));
        }
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&expected)
        );
        assert_eq!(queue.owed_exact(&backlog), 0);
    }

    #[test]
    fn own_lines_are_skipped_and_replies_keep_their_place() {
        for seed in 1..20 {
            interleaving_holds(SkipRules::default(), seed);
        }
    }

    #[test]
    fn mute_and_ignore_are_skipped_as_the_cursor_walks() {
        for seed in 1..20 {
            let muted = SkipRules {
                muted: true,
                ..SkipRules::default()
            };
            interleaving_holds(muted, seed);
            let ignoring = SkipRules {
                ignored: vec![MemberId(2)],
                ..SkipRules::default()
            };
            interleaving_holds(ignoring, seed * 7);
        }
    }

    #[test]
    fn an_unsubscribed_feed_ends_where_it_left_and_owes_nothing_after() {
        let mut backlog = Backlog::default();
        let other = Audience {
            sender: Some(MemberId(2)),
            kind: LineKind::Chat,
        };
        let mut queue = Queue {
            feed: Some(Feed {
                member: ME,
                cursor: 0,
                until: None,
                rules: SkipRules::default(),
            }),
            ..Queue::default()
        };
        backlog.append(b"before\n", other);
        queue.feed.as_mut().expect("feed").until = Some(backlog.end());
        queue.push(b"bye\n", &backlog);
        backlog.append(b"after\n", other);
        assert_eq!(queue.owed_exact(&backlog), 11);
        assert_eq!(write(&mut queue, &backlog, 1000), b"before\nbye\n");
        assert!(queue.feed_done());
        assert!(!queue.has_work(&backlog));
    }
}
