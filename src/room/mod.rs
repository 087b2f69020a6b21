//! The sans-IO core of the chat room: who is connected, who has joined under
//! which name, what each line means, and who receives what. It never sees a
//! socket, a file descriptor, Fluent or the clock.
//!
//! # How the server drives it
//! In the manner of quinn-proto's `Connection`:
//! - **Inputs** are method calls, each with the time where time matters:
//!   `connect` (a new connection and its address), `line` (one complete
//!   line, as received), `line_too_long`, `disconnect` (the connection
//!   ended, or the fan-out found it too slow), `admin_line` (the console),
//!   `set_language`, `shutdown`.
//! - **The clock**: `set_clock` at the start of every loop turn, with the
//!   monotonic `now` (for inputs that carry no time, such as how long a
//!   departing member stayed) and the local time of day (for history and
//!   timestamps: the room never reads a clock or knows a time zone).
//! - **Events**: after every input, drain `poll_event` until `None` and
//!   carry the events out in order. The room decides who (`Send` to one
//!   connection; `Subscribe`, `Broadcast` with an `Audience`, `Rules`,
//!   `Unsubscribe` for the room feed) and every policy (room full, address
//!   full, too slow, closing); the fan-out decides how the bytes get there.
//!   The contract of each event is on `RoomEvent`.
//! - **Deadlines**: `next_deadline` is when the room next has work of its
//!   own (a held line may go, a name is overdue); call `tick(now)` at or
//!   after it, then drain the events again.
//!
//! - **Bridged** (several servers, one room): after `set_link(Link::Up)`
//!   every change meant for everyone (a join, a line, a rename, a leave,
//!   an operator's command: `shared::SharedOp`) is not carried out but
//!   queued as `RoomEvent::Publish`; the bridge carries it to the broker
//!   and hands it back, with everyone else's, through `apply`, in the
//!   broker's order. Members of other servers get ids from
//!   `allocate_member` and have no connection here; `adopt` and
//!   `remember` take in the room as it was when this server joined it.
//!   `Link::Down` refuses changes with `Notice::NotSent` (departures
//!   wait). Standalone, `apply` follows each change at once.
//!
//! Per connection the events come in this order: `Send`s before joining;
//! at the welcome (and the message of the day and history, which are
//! `Send`s) `Subscribe`; then broadcasts, replies, `Rules`, `Language` and
//! `Timestamps` in any order; on leaving `Discard` (only if too slow), the
//! last `Send`s, `Unsubscribe`, `Close`. After `Close` the room has
//! forgotten the connection: a later `disconnect` for it does nothing.
//!
//! Submodules: `events` (the vocabulary), `names` (name rules and
//! uniqueness), `flood` (flood control), `addresses` (the `max_per_ip`
//! counts), `history` (the last room lines and the time of day), `bans`,
//! `operator` (the console's commands), `shared` (the changes for
//! everyone, and how the room reaches the rest of itself).

mod addresses;
pub mod bans;
pub mod events;
mod flood;
pub mod history;
pub mod names;
mod operator;
pub mod shared;

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use addresses::AddressCounts;
use bans::Bans;
pub use events::{
    Audience, BanRow, ConnId, ConsoleUsage, LeaveReason, LineKind, ListEntry, LogEntry, MemberId,
    NameProblem, Notice, NoticeKind, OperatorRow, RoomEvent, SkipRules, Usage,
};
pub use flood::FloodLimit;
use flood::{Offer, Pacer};
use history::History;
pub use history::LocalTime;
use names::Names;
pub use names::{validate_name, MAX_NAME_CHARS};
pub use shared::{Author, Link, Shared, SharedOp};

use crate::command::{self, Command};
use crate::i18n::Lang;
use crate::protocol::sanitize;
use crate::timers::Timers;

/// Limits and names the room enforces.
#[derive(Debug, Clone)]
pub struct RoomConfig {
    /// Open connections allowed, joined or not.
    pub max_clients: usize,
    /// Quoted to a sender whose line was too long.
    pub max_line_bytes: usize,
    /// Open connections allowed per remote address (loopback is never
    /// capped); `None` is no cap.
    pub max_per_ip: Option<usize>,
    /// The administrator's label in every language; no member may take one
    /// or anything like it.
    pub reserved_names: Vec<String>,
    /// `None` turns flood control off.
    pub flood: Option<FloodLimit>,
    /// How long a connection may take to choose a name; `None` is forever.
    pub name_timeout: Option<Duration>,
    /// The language a connection receives until it asks for another.
    pub lang: Lang,
    /// Room lines replayed to a member on joining; 0 is none.
    pub history: usize,
    /// Whether room lines reach a connection with `[HH:MM] ` until it
    /// says otherwise.
    pub timestamps: bool,
    /// The message of the day; empty is none.
    pub motd: String,
}

/// What the room will do at a deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum RoomTimer {
    /// The connection must have chosen a name by now.
    NameDeadline(ConnId),
    /// The member's next held line may go.
    HeldLines(MemberId),
}

/// One open connection, joined or not.
#[derive(Debug)]
struct Connection {
    /// Its remote address, for the `max_per_ip` count.
    ip: IpAddr,
    /// What it is rendered in; the room keeps it for `/whois`.
    lang: Lang,
    /// Whether room lines reach it with `[HH:MM] `.
    timestamps: bool,
    /// Set from its welcome on.
    member: Option<MemberId>,
}

/// Lines kept for a connection whose join is on its way to the broker;
/// more are dropped (a person does not type that fast).
const MAX_WAITING_LINES: usize = 64;

/// A joined member.
#[derive(Debug)]
struct Member {
    /// The connection that carries it; `None` for a member of another
    /// server, or one of this server whose departure is on its way.
    conn: Option<ConnId>,
    /// Its address, for the operator's `/list` and `/ban`.
    ip: IpAddr,
    /// The name as chosen (NFC).
    name: String,
    pacer: Pacer,
    /// When it joined, for `/whois` and how long it stayed.
    joined_at: Instant,
    /// When it last sent a line, for the idle time of `/whois`.
    last_line_at: Instant,
    /// Set by `/away`: the reason, perhaps empty.
    away: Option<String>,
    /// What it reads, for `/whois`.
    lang: Lang,
    /// What the fan-out skips for it: `/mute` and `/ignore`.
    rules: SkipRules,
    /// Inside a `/query`: whom its plain lines go to.
    query: Option<MemberId>,
    /// Who last wrote to it privately, for `/reply`.
    reply_to: Option<MemberId>,
    /// Muted by the operator: it reads, but its lines are refused.
    silenced: bool,
}

/// What a server joining the room learns of a member already there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberInfo {
    pub name: String,
    pub ip: IpAddr,
    /// Set by `/away`: the reason, perhaps empty.
    pub away: Option<String>,
    /// Muted by the operator.
    pub silenced: bool,
    pub lang: Lang,
}

/// The room's state.
#[derive(Debug)]
pub struct Room {
    config: RoomConfig,
    /// Every open connection the room has not closed.
    connections: HashMap<ConnId, Connection>,
    /// Joined members; ordered so that walks over them are repeatable.
    members: BTreeMap<MemberId, Member>,
    names: Names,
    addresses: AddressCounts,
    timers: Timers<RoomTimer>,
    /// The next member id to hand out.
    next_member: u64,
    /// Set by `shutdown`; after it every input is ignored.
    closed: bool,
    events: VecDeque<RoomEvent>,
    /// The last room lines, replayed on joining.
    history: History,
    /// The message of the day; empty is none. Set by the console's
    /// `/motd` too.
    motd: String,
    /// The operator's bans.
    bans: Bans,
    /// The latest time an input or `set_clock` brought; `None` before any.
    now: Option<Instant>,
    /// The local time of day at `now`, from `set_clock`.
    local: LocalTime,
    /// Whether changes are carried out at once, published or refused.
    link: Link,
    /// Bridged: the connections whose join is on its way, by the id it
    /// was published under.
    joining: HashMap<MemberId, ConnId>,
    /// The same connections, with the lines that arrived while the join
    /// was on its way: taken up again once it is answered, in order. Kept
    /// apart from `Connection`, which every idle member has.
    waiting: HashMap<ConnId, VecDeque<String>>,
    /// Bridged: joins on their way whose connection closed meanwhile; if
    /// the join is accepted, the member leaves at once.
    abandoned: HashSet<MemberId>,
    /// Bridged: members of this server closed here whose leave is not
    /// back from the broker yet.
    departing: HashSet<MemberId>,
}

impl Member {
    fn new(conn: Option<ConnId>, ip: IpAddr, name: String, lang: Lang, now: Instant) -> Member {
        Member {
            conn,
            ip,
            name,
            lang,
            pacer: Pacer::default(),
            joined_at: now,
            last_line_at: now,
            away: None,
            rules: SkipRules::default(),
            query: None,
            reply_to: None,
            silenced: false,
        }
    }
}

impl Room {
    pub fn new(config: RoomConfig) -> Self {
        Room {
            history: History::new(config.history),
            motd: config.motd.clone(),
            bans: Bans::default(),
            names: Names::new(&config.reserved_names),
            config,
            connections: HashMap::new(),
            members: BTreeMap::new(),
            addresses: AddressCounts::default(),
            timers: Timers::default(),
            next_member: 1,
            closed: false,
            events: VecDeque::new(),
            now: None,
            local: LocalTime::default(),
            link: Link::Standalone,
            joining: HashMap::new(),
            waiting: HashMap::new(),
            abandoned: HashSet::new(),
            departing: HashSet::new(),
        }
    }

    /// Bridged: how the broker can be reached now. Members are told when
    /// it goes out of reach and when it is back.
    pub fn set_link(&mut self, link: Link) {
        let was = std::mem::replace(&mut self.link, link);
        if self.closed || was == link || was == Link::Standalone && link == Link::Up {
            return;
        }
        let audience = Audience {
            sender: None,
            kind: LineKind::Notice,
        };
        match link {
            Link::Down => self.broadcast(audience, Notice::BrokerDown),
            Link::Up => self.broadcast(audience, Notice::BrokerBack),
            Link::Standalone => {}
        }
    }

    /// Bridged: a fresh id for a member of another server, before its join
    /// is carried out.
    pub fn allocate_member(&mut self) -> MemberId {
        let member = MemberId(self.next_member);
        self.next_member += 1;
        member
    }

    /// The name of `member`, if it is in the room.
    pub fn member_name(&self, member: MemberId) -> Option<String> {
        self.members.get(&member).map(|m| m.name.clone())
    }

    /// Bridged: whether `member` is in the room now.
    pub fn has_member(&self, member: MemberId) -> bool {
        self.members.contains_key(&member)
    }

    /// Bridged: the members this server carries (also those whose
    /// departure is on its way), with what another server needs to know
    /// of them.
    pub fn own_members(&self) -> Vec<(MemberId, MemberInfo)> {
        self.members
            .iter()
            .filter(|(id, state)| state.conn.is_some() || self.departing.contains(*id))
            .map(|(&id, m)| {
                let info = MemberInfo {
                    name: m.name.clone(),
                    ip: m.ip,
                    away: m.away.clone(),
                    silenced: m.silenced,
                    lang: m.lang,
                };
                (id, info)
            })
            .collect()
    }

    /// Bridged, when catching up: a member of another server already in
    /// the room, taken in without a join notice.
    pub fn adopt(&mut self, member: MemberId, info: MemberInfo) {
        if self.members.contains_key(&member) || self.names.check(&info.name, None).is_err() {
            return;
        }
        let now = self.now.unwrap_or_else(Instant::now);
        self.names.claim(&info.name, member);
        let mut state = Member::new(None, info.ip, info.name, info.lang, now);
        state.away = info.away;
        state.silenced = info.silenced;
        self.members.insert(member, state);
    }

    /// Bridged, when catching up: a room line from before this server
    /// joined the room, for the history, at the time of day it was said.
    pub fn remember(&mut self, at: LocalTime, notice: &Notice) {
        self.history.push(at, notice);
    }

    /// Makes a change: at once when standalone, else published (and
    /// carried out when it comes back), or refused, with a notice to its
    /// author, while the broker is out of reach. `false` when refused.
    fn commit(&mut self, author: Author, op: SharedOp) -> bool {
        match self.link {
            Link::Standalone => self.apply(author, op),
            Link::Up => self
                .events
                .push_back(RoomEvent::Publish(Shared { author, op })),
            // Only for `/whois`: not worth a refusal.
            Link::Down if matches!(op, SharedOp::Language { .. }) => {}
            Link::Down if matches!(op, SharedOp::Leave { .. }) => {
                self.events
                    .push_back(RoomEvent::Publish(Shared { author, op }));
            }
            Link::Down => {
                match author {
                    Author::Member(member) => self.tell_member(member, Notice::NotSent),
                    Author::Console => self.events.push_back(RoomEvent::Console(Notice::NotSent)),
                }
                return false;
            }
        }
        true
    }

    /// Sends to `member` if this server carries it.
    fn tell_member(&mut self, member: MemberId, notice: Notice) {
        if let Some(conn) = self.members.get(&member).and_then(|m| m.conn) {
            self.send(conn, notice);
        }
    }

    /// Carries out a change, on every server in the same order when
    /// bridged. `author` is the id as this room knows it.
    pub fn apply(&mut self, author: Author, op: SharedOp) {
        if self.closed {
            return;
        }
        let Author::Member(member) = author else {
            match op {
                SharedOp::Admin { text } => {
                    let audience = Audience {
                        sender: None,
                        kind: LineKind::Admin,
                    };
                    self.broadcast(audience, Notice::Admin { text });
                }
                SharedOp::Kick { target, reason } => {
                    self.depart(target, LeaveReason::Kicked { reason });
                }
                SharedOp::Silence { target, on } => self.apply_silence(target, on),
                SharedOp::Ban {
                    targets,
                    minutes,
                    reason,
                } => self.apply_ban(targets, minutes, reason),
                SharedOp::Unban { target } => {
                    let removed = self.bans.remove(&target);
                    if removed {
                        self.bans_changed();
                    }
                }
                _ => {}
            }
            return;
        };
        if let SharedOp::Join { name, ip, lang } = op {
            self.apply_join(member, name, ip, lang);
            return;
        }
        let Some(state) = self.members.get_mut(&member) else {
            return;
        };
        let now = self.now.unwrap_or(state.last_line_at);
        let from = state.name.clone();
        let conn = state.conn;
        match op {
            SharedOp::Join { .. } => {}
            SharedOp::Say { text } => {
                state.last_line_at = now;
                let audience = Audience {
                    sender: Some(member),
                    kind: LineKind::Chat,
                };
                self.broadcast(audience, Notice::Chat { from, text });
            }
            SharedOp::Action { text } => {
                state.last_line_at = now;
                let audience = Audience {
                    sender: Some(member),
                    kind: LineKind::Action,
                };
                self.broadcast(audience, Notice::Action { from, text });
            }
            SharedOp::Private { to, to_name, text } => {
                state.last_line_at = now;
                self.apply_private(member, conn, from, to, to_name, text);
            }
            SharedOp::Rename { name } => self.apply_rename(member, conn, &name),
            SharedOp::Away { reason } => {
                state.away = reason.clone();
                if let Some(conn) = conn {
                    let notice = match reason {
                        Some(reason) => Notice::AwaySet {
                            reason: (!reason.is_empty()).then_some(reason),
                        },
                        None => Notice::Back,
                    };
                    self.send(conn, notice);
                }
            }
            SharedOp::Leave { reason } => self.depart(member, reason),
            SharedOp::Language { lang } => state.lang = lang,
            SharedOp::Admin { .. }
            | SharedOp::Kick { .. }
            | SharedOp::Silence { .. }
            | SharedOp::Ban { .. }
            | SharedOp::Unban { .. } => {}
        }
    }

    /// The time at the start of a loop turn: `now` for what carries no
    /// time of its own (how long a departing member stayed), `local` the
    /// time of day that room lines are stamped with.
    pub fn set_clock(&mut self, now: Instant, local: LocalTime) {
        self.note_time(now);
        self.local = local;
    }

    /// Keeps the latest time seen; inputs may come with slightly older
    /// times than `set_clock` (a deadline passed this turn).
    fn note_time(&mut self, now: Instant) {
        self.now = Some(self.now.map_or(now, |seen| seen.max(now)));
    }

    /// Next thing for the server to do; `None` once the queue is drained.
    pub fn poll_event(&mut self) -> Option<RoomEvent> {
        self.events.pop_front()
    }

    /// The name `conn` joined under, if it has joined.
    pub fn name_of(&self, conn: ConnId) -> Option<&str> {
        let member = self.member_of(conn)?;
        self.members.get(&member).map(|m| m.name.as_str())
    }

    /// The member `conn` carries, if it has joined.
    pub fn member_of(&self, conn: ConnId) -> Option<MemberId> {
        self.connections.get(&conn)?.member
    }

    /// When `tick` has work: a held line may go, or a name is overdue.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// Carries out what is due at `now`: held lines the rate now allows, in
    /// order, and closing connections that took too long to choose a name.
    pub fn tick(&mut self, now: Instant) {
        self.note_time(now);
        while let Some(timer) = self.timers.pop_due(now) {
            match timer {
                RoomTimer::NameDeadline(conn) => {
                    if self.member_of(conn).is_none() && self.connections.contains_key(&conn) {
                        let seconds = self.config.name_timeout.unwrap_or_default().as_secs();
                        self.send(conn, Notice::NameTimeout { seconds });
                        self.close(conn);
                    }
                }
                RoomTimer::HeldLines(member) => self.release_held(member, now),
            }
        }
    }

    /// A new connection from `ip` at `now`: greet it, or turn it away if
    /// the room is full or its address has too many connections.
    pub fn connect(&mut self, conn: ConnId, ip: IpAddr, now: Instant) {
        self.note_time(now);
        let connection = Connection {
            ip,
            lang: self.config.lang,
            timestamps: self.config.timestamps,
            member: None,
        };
        if self.closed {
            self.events.push_back(RoomEvent::Close { conn });
            return;
        }
        if self.connections.len() >= self.config.max_clients {
            let max_clients = self.config.max_clients;
            self.send(conn, Notice::RoomFull { max_clients });
            self.events.push_back(RoomEvent::Close { conn });
            return;
        }
        if let Some(ban) = self.bans.on_address(ip, now) {
            let minutes = ban.minutes_left(now);
            self.send(conn, Notice::AddressBanned { minutes });
            self.events.push_back(RoomEvent::Close { conn });
            return;
        }
        if !self.addresses.admit(ip, self.config.max_per_ip) {
            let max_per_ip = self.config.max_per_ip.unwrap_or_default();
            self.send(conn, Notice::AddressFull { max_per_ip });
            self.events.push_back(RoomEvent::Close { conn });
            return;
        }
        self.connections.insert(conn, connection);
        if let Some(timeout) = self.config.name_timeout {
            self.timers
                .set(RoomTimer::NameDeadline(conn), now + timeout);
        }
        self.send(conn, Notice::Greeting);
        self.send(conn, Notice::NamePrompt);
    }

    /// One complete line from `conn`, as received (not yet cleaned), at
    /// `now`.
    pub fn line(&mut self, conn: ConnId, raw: &str, now: Instant) {
        if self.closed {
            return;
        }
        self.note_time(now);
        if let Some(waiting) = self.waiting.get_mut(&conn) {
            if waiting.len() < MAX_WAITING_LINES {
                waiting.push_back(raw.to_string());
            }
            return;
        }
        let Some(connection) = self.connections.get(&conn) else {
            return;
        };
        match connection.member {
            None => self.choose_name(conn, raw, now),
            Some(member) => self.member_line(member, raw, now),
        }
    }

    /// `conn` sent a line longer than `max_line_bytes`.
    pub fn line_too_long(&mut self, conn: ConnId) {
        if self.closed || !self.connections.contains_key(&conn) {
            return;
        }
        let max_bytes = self.config.max_line_bytes;
        self.send(conn, Notice::LineTooLong { max_bytes });
    }

    /// From now on `conn` receives everything in `lang`.
    pub fn set_language(&mut self, conn: ConnId, lang: Lang) {
        if let Some(connection) = self.connections.get_mut(&conn) {
            connection.lang = lang;
            let member = connection.member;
            self.events.push_back(RoomEvent::Language { conn, lang });
            if let Some(member) = member {
                self.commit(Author::Member(member), SharedOp::Language { lang });
            }
        }
    }

    /// `conn` is gone or must go. Idempotent: a second call does nothing, so
    /// every departure is announced exactly once.
    pub fn disconnect(&mut self, conn: ConnId, reason: LeaveReason) {
        let Some(connection) = self.connections.get(&conn) else {
            return;
        };
        let Some(member) = connection.member else {
            self.close(conn);
            return;
        };
        // Lines held back were accepted: they go out before the departure,
        // unless holding them is why the member goes.
        if reason != LeaveReason::Flood {
            self.act_held(member);
        }
        self.close_member(member, &reason);
        self.commit(Author::Member(member), SharedOp::Leave { reason });
    }

    /// Carries out, now, the lines flood control held back for `member`.
    fn act_held(&mut self, member: MemberId) {
        let held = self
            .members
            .get_mut(&member)
            .map(|m| m.pacer.take_held())
            .unwrap_or_default();
        for line in held {
            self.act(member, &line);
        }
    }

    /// This server's part of a departure: the member is told why (when
    /// there is something to tell) and closed. The room's part, `depart`,
    /// follows at once when standalone, when the leave is back when
    /// bridged.
    fn close_member(&mut self, member: MemberId, reason: &LeaveReason) {
        self.timers.cancel(RoomTimer::HeldLines(member));
        let Some(conn) = self.members.get_mut(&member).and_then(|m| m.conn.take()) else {
            return;
        };
        if self.link != Link::Standalone {
            self.departing.insert(member);
        }
        match reason {
            LeaveReason::TooSlow => {
                // What it is owed would only hold the notice back.
                self.events.push_back(RoomEvent::Discard { conn });
                self.send(conn, Notice::TooSlow);
            }
            LeaveReason::Flood => self.send(conn, Notice::Flooded),
            LeaveReason::Kicked { reason } => {
                let reason = reason.clone();
                self.send(conn, Notice::KickedYou { reason });
            }
            // The ban told it already, with how long it lasts.
            LeaveReason::Banned | LeaveReason::Quit => {}
            // Its connection is still open only when bridged and the other
            // servers gave this one up.
            LeaveReason::Lost => {
                if self.link != Link::Standalone {
                    self.send(conn, Notice::CutOff);
                }
            }
        }
        // Unsubscribed first: a member never hears its own leave notice.
        self.close(conn);
    }

    /// The room's part of a departure: the name is free, everyone is told,
    /// and what others held about the member ends.
    fn depart(&mut self, member: MemberId, reason: LeaveReason) {
        if !self.members.contains_key(&member) {
            return;
        }
        // Kicked, banned or given up by the others while still here: its
        // lines held back were accepted and go first, as on any departure.
        if self.members.get(&member).is_some_and(|m| m.conn.is_some()) {
            self.act_held(member);
        }
        self.close_member(member, &reason);
        self.departing.remove(&member);
        let Some(Member {
            name, joined_at, ..
        }) = self.members.remove(&member)
        else {
            return;
        };
        self.names.release(&name);
        let stayed = self.now.map_or(Duration::ZERO, |now| {
            now.saturating_duration_since(joined_at)
        });
        let audience = Audience {
            sender: None,
            kind: LineKind::Notice,
        };
        self.broadcast(
            audience,
            Notice::Left {
                name: name.clone(),
                reason,
                stayed,
            },
        );
        self.forget_member(member, &name);
    }

    /// What other members hold about a member that left: a query with it
    /// ends (they are told), an ignore of it ends, a `/reply` to it has
    /// nobody to go to.
    fn forget_member(&mut self, gone: MemberId, name: &str) {
        let mut told = Vec::new();
        let mut rules = Vec::new();
        for state in self.members.values_mut() {
            if state.query == Some(gone) {
                state.query = None;
                told.extend(state.conn);
            }
            if state.reply_to == Some(gone) {
                state.reply_to = None;
            }
            if state.rules.ignored.contains(&gone) {
                state.rules.ignored.retain(|&id| id != gone);
                if let Some(conn) = state.conn {
                    rules.push((conn, state.rules.clone()));
                }
            }
        }
        for conn in told {
            let name = name.to_string();
            self.send(conn, Notice::QueryPartnerLeft { name });
        }
        for (conn, rules) in rules {
            self.events.push_back(RoomEvent::Rules { conn, rules });
        }
    }

    /// A line typed on the server's console. An empty one closes the room;
    /// one starting with `/` is a console command (`//` escapes it).
    pub fn admin_line(&mut self, raw: &str) {
        if self.closed {
            return;
        }
        if raw.is_empty() {
            self.shutdown();
            return;
        }
        let raw = match raw.strip_prefix('/') {
            Some(rest) if !rest.starts_with('/') => {
                self.console_command(rest);
                return;
            }
            Some(escaped) => escaped,
            None => raw,
        };
        self.say_as_admin(raw);
    }

    /// An administrator message to everyone.
    fn say_as_admin(&mut self, raw: &str) {
        let text = sanitize(raw);
        if !text.trim().is_empty() {
            self.commit(Author::Console, SharedOp::Admin { text });
        }
    }

    /// Closes the room (empty console line, a signal): every connection is
    /// told, members through the feed (the closing line is stored once),
    /// then closed.
    pub fn shutdown(&mut self) {
        if self.closed {
            return;
        }
        self.closed = true;
        self.events.push_back(RoomEvent::Shutdown);
        let audience = Audience {
            sender: None,
            kind: LineKind::Notice,
        };
        self.broadcast(audience, Notice::Closed);
        let mut conns: Vec<ConnId> = self.connections.keys().copied().collect();
        conns.sort_unstable();
        for conn in conns {
            if self.member_of(conn).is_none() {
                self.send(conn, Notice::Closed);
            }
            self.close(conn);
        }
        self.members.clear();
    }

    /// The room is done with `conn`: it leaves the feed (if a member) and
    /// is closed once flushed; the room forgets it.
    fn close(&mut self, conn: ConnId) {
        let Some(connection) = self.connections.remove(&conn) else {
            return;
        };
        // A join on its way: if it is accepted, the member leaves at once.
        if self.waiting.remove(&conn).is_some() {
            let joining = self.joining.iter().find(|(_, c)| **c == conn);
            if let Some((&member, _)) = joining {
                self.joining.remove(&member);
                self.abandoned.insert(member);
            }
        }
        self.timers.cancel(RoomTimer::NameDeadline(conn));
        self.addresses.release(connection.ip);
        if connection.member.is_some() {
            self.events.push_back(RoomEvent::Unsubscribe { conn });
        }
        self.events.push_back(RoomEvent::Close { conn });
    }

    fn send(&mut self, to: ConnId, notice: Notice) {
        self.events.push_back(RoomEvent::Send { to, notice });
    }

    /// Queues a line for the room; a room line (chat, action,
    /// administrator line) is also kept for the history, at this turn's
    /// time of day, in the same order as it is queued.
    fn broadcast(&mut self, audience: Audience, notice: Notice) {
        if matches!(
            audience.kind,
            LineKind::Chat | LineKind::Action | LineKind::Admin
        ) {
            self.history.push(self.local, &notice);
        }
        self.events
            .push_back(RoomEvent::Broadcast { audience, notice });
    }

    fn choose_name(&mut self, conn: ConnId, raw: &str, now: Instant) {
        if raw.is_empty() {
            self.close(conn);
            return;
        }
        if let Some(word) = raw.strip_prefix('/') {
            match command::parse(raw) {
                Command::Help => self.send(conn, Notice::Help),
                Command::Quit => {
                    self.send(conn, Notice::Bye);
                    self.close(conn);
                    return;
                }
                Command::Lang(tag) => {
                    // The prompt follows, in the new language, unless
                    // nothing changed and nothing was said.
                    if !self.change_language(conn, tag, false) {
                        return;
                    }
                }
                _ => {
                    let command = word.split(' ').next().unwrap_or_default();
                    let command = format!("/{}", sanitize(command));
                    self.send(conn, Notice::JoinFirst { command });
                }
            }
            self.send(conn, Notice::NamePrompt);
            return;
        }
        let name = match self.names.check(raw, None) {
            Ok(name) => name,
            Err(problem) => {
                self.send(conn, Notice::NameRejected { problem });
                self.send(conn, Notice::NamePrompt);
                return;
            }
        };
        if let Some(ban) = self.bans.on_name(&name, now) {
            let minutes = ban.minutes_left(now);
            self.send(conn, Notice::NameBanned { name, minutes });
            self.send(conn, Notice::NamePrompt);
            return;
        }
        if self.link == Link::Down {
            self.send(conn, Notice::NotSent);
            self.send(conn, Notice::NamePrompt);
            return;
        }
        self.timers.cancel(RoomTimer::NameDeadline(conn));
        let member = self.allocate_member();
        if let Some(connection) = self.connections.get(&conn) {
            let (ip, lang) = (connection.ip, connection.lang);
            self.joining.insert(member, conn);
            self.waiting.insert(conn, VecDeque::new());
            self.commit(Author::Member(member), SharedOp::Join { name, ip, lang });
        }
    }

    /// A join comes back (or, standalone, is made): the name is checked
    /// again against everyone who joined before, on every server.
    fn apply_join(&mut self, member: MemberId, raw: String, ip: IpAddr, lang: Lang) {
        let conn = self.joining.remove(&member);
        let waiting = conn
            .and_then(|conn| self.waiting.remove(&conn))
            .unwrap_or_default();
        let abandoned = self.abandoned.remove(&member);
        let now = self.now.unwrap_or_else(Instant::now);
        let refused = match self.names.check(&raw, None) {
            Err(problem) => Some(Notice::NameRejected { problem }),
            Ok(name) => self.bans.on_name(&name, now).map(|ban| {
                let minutes = ban.minutes_left(now);
                Notice::NameBanned { name, minutes }
            }),
        };
        if let Some(notice) = refused {
            if let Some(conn) = conn {
                if let Some(timeout) = self.config.name_timeout {
                    self.timers
                        .set(RoomTimer::NameDeadline(conn), now + timeout);
                }
                self.send(conn, notice);
                self.send(conn, Notice::NamePrompt);
                self.take_up(conn, waiting, now);
            }
            return;
        }
        let name = raw;
        let others = self.members.len();
        self.names.claim(&name, member);
        if let Some(connection) = conn.and_then(|conn| self.connections.get_mut(&conn)) {
            connection.member = Some(member);
        }
        self.members
            .insert(member, Member::new(conn, ip, name.clone(), lang, now));
        if let Some(conn) = conn {
            self.welcome(conn, member, &name, others);
        }
        let audience = Audience {
            sender: Some(member),
            kind: LineKind::Notice,
        };
        let count = self.members.len();
        self.broadcast(audience, Notice::Joined { name, count });
        if abandoned {
            // Its connection closed while the join was on its way.
            self.departing.insert(member);
            self.commit(
                Author::Member(member),
                SharedOp::Leave {
                    reason: LeaveReason::Quit,
                },
            );
        }
        if let Some(conn) = conn {
            self.take_up(conn, waiting, now);
        }
    }

    /// The lines `conn` sent while its join was on its way, in order (a
    /// line that asks for a name again makes the rest wait again).
    fn take_up(&mut self, conn: ConnId, lines: VecDeque<String>, now: Instant) {
        for line in lines {
            self.line(conn, &line, now);
        }
    }

    /// What a new member receives alone: the welcome, the message of the
    /// day, the history; then it is subscribed.
    fn welcome(&mut self, conn: ConnId, member: MemberId, name: &str, others: usize) {
        self.send(
            conn,
            Notice::Welcome {
                name: name.to_string(),
                others,
            },
        );
        if !self.motd.is_empty() {
            let text = self.motd.clone();
            self.send(conn, Notice::Motd { text });
        }
        // The history goes to the joiner alone, before it is subscribed:
        // every room line queued so far is in it, every later one reaches
        // it through the feed, so none is doubled or missed. The cost is
        // the history's length, whatever the number of members.
        if !self.history.is_empty() {
            let count = self.history.len();
            let past: Vec<Notice> = self.history.replay().collect();
            self.send(conn, Notice::History { count });
            for notice in past {
                self.send(conn, notice);
            }
        }
        self.events.push_back(RoomEvent::Subscribe { conn, member });
    }

    fn member_line(&mut self, member: MemberId, raw: &str, now: Instant) {
        let line = sanitize(raw);
        if line.trim().is_empty() {
            return;
        }
        if let Some(state) = self.members.get_mut(&member) {
            state.last_line_at = now;
        }
        let Some(limit) = self.config.flood else {
            self.act(member, &line);
            return;
        };
        let Some(state) = self.members.get_mut(&member) else {
            return;
        };
        match state.pacer.offer(line, now, limit) {
            Offer::Now(line) => self.act(member, &line),
            Offer::Held { warn } => {
                if let Some(at) = state.pacer.next_release(limit) {
                    self.timers.set(RoomTimer::HeldLines(member), at);
                }
                if warn {
                    self.tell_member(member, Notice::SlowDown);
                }
            }
            Offer::Flooding => {
                if let Some(conn) = state.conn {
                    self.disconnect(conn, LeaveReason::Flood);
                }
            }
        }
    }

    /// Carries out the held lines of `member` that the rate allows at `now`.
    fn release_held(&mut self, member: MemberId, now: Instant) {
        let Some(limit) = self.config.flood else {
            return;
        };
        while let Some(state) = self.members.get_mut(&member) {
            let Some(line) = state.pacer.release(now, limit) else {
                if let Some(at) = state.pacer.next_release(limit) {
                    self.timers.set(RoomTimer::HeldLines(member), at);
                }
                return;
            };
            self.act(member, &line);
        }
    }

    /// Carries out a member's cleaned, non-blank line.
    fn act(&mut self, member: MemberId, line: &str) {
        let Some(state) = self.members.get(&member) else {
            return;
        };
        // Only a member carried here speaks through this server.
        let Some(conn) = state.conn else {
            return;
        };
        let silenced = state.silenced;
        let command = command::parse(line);
        let speaks = matches!(
            command,
            Command::Say(_)
                | Command::Private { .. }
                | Command::Me(Some(_))
                | Command::Reply(Some(_))
        );
        if silenced && speaks {
            self.send(conn, Notice::Silenced);
            return;
        }
        match command {
            Command::Say(text) => self.say(member, conn, text),
            Command::Private { to, text } => self.private(conn, member, to, text),
            Command::PrivateUsage => self.send(conn, Notice::PrivateUsage),
            Command::Help => self.send(conn, Notice::Help),
            Command::List => {
                let mut members: Vec<ListEntry> = self
                    .members
                    .values()
                    .map(|m| ListEntry {
                        name: m.name.clone(),
                        away: m.away.clone(),
                    })
                    .collect();
                members.sort_by_cached_key(|entry| entry.name.to_lowercase());
                self.send(conn, Notice::Members { members });
            }
            Command::Quit => {
                self.send(conn, Notice::Bye);
                self.disconnect(conn, LeaveReason::Quit);
            }
            Command::Nick(None) => self.usage(conn, Usage::Nick),
            Command::Nick(Some(new)) => self.rename(member, conn, new),
            Command::Me(None) => self.usage(conn, Usage::Me),
            Command::Me(Some(text)) => {
                if self.is_muted(member) {
                    self.send(conn, Notice::StillMuted);
                    return;
                }
                let text = text.to_string();
                self.commit(Author::Member(member), SharedOp::Action { text });
            }
            Command::Reply(None) => self.usage(conn, Usage::Reply),
            Command::Reply(Some(text)) => {
                let to = state
                    .reply_to
                    .and_then(|id| self.members.get(&id))
                    .map(|m| m.name.clone());
                match to {
                    Some(to) => self.private(conn, member, &to, text),
                    None => self.send(conn, Notice::NoOneToReply),
                }
            }
            Command::Query(name) => self.query(member, conn, name),
            Command::Mute => self.set_muted(member, conn, true),
            Command::Unmute => self.set_muted(member, conn, false),
            Command::ToggleMute => {
                let muted = self.is_muted(member);
                self.set_muted(member, conn, !muted);
            }
            Command::Ignore(None) => {
                let names = state
                    .rules
                    .ignored
                    .iter()
                    .filter_map(|id| self.members.get(id))
                    .map(|m| m.name.clone())
                    .collect();
                self.send(conn, Notice::IgnoreList { names });
            }
            Command::Ignore(Some(name)) => self.ignore(member, conn, name, true),
            Command::Unignore(None) => self.usage(conn, Usage::Unignore),
            Command::Unignore(Some(name)) => self.ignore(member, conn, name, false),
            Command::Away(reason) => {
                let reason = Some(reason.unwrap_or_default().to_string());
                self.commit(Author::Member(member), SharedOp::Away { reason });
            }
            Command::Back => {
                self.commit(Author::Member(member), SharedOp::Away { reason: None });
            }
            Command::Whois(None) => self.usage(conn, Usage::Whois),
            Command::Whois(Some(name)) => self.whois(conn, name),
            Command::Motd => {
                if self.motd.is_empty() {
                    self.send(conn, Notice::NoMotd);
                } else {
                    let text = self.motd.clone();
                    self.send(conn, Notice::Motd { text });
                }
            }
            Command::Lang(tag) => {
                self.change_language(conn, tag, true);
            }
            Command::Timestamps(None) => self.usage(conn, Usage::Timestamps),
            Command::Timestamps(Some(on)) => {
                if let Some(connection) = self.connections.get_mut(&conn) {
                    connection.timestamps = on;
                }
                self.events.push_back(RoomEvent::Timestamps { conn, on });
                self.send(conn, Notice::TimestampsSet { on });
            }
            Command::Unknown(word) => {
                let command = format!("/{word}");
                self.send(conn, Notice::UnknownCommand { command });
            }
        }
    }

    fn usage(&mut self, conn: ConnId, usage: Usage) {
        self.send(conn, Notice::Usage { usage });
    }

    fn is_muted(&self, member: MemberId) -> bool {
        self.members.get(&member).is_some_and(|m| m.rules.muted)
    }

    /// A plain line: to the query's partner inside a query, else to the
    /// room, unless the member muted the room (it would talk to a room it
    /// cannot hear).
    fn say(&mut self, member: MemberId, conn: ConnId, text: &str) {
        let partner = self
            .members
            .get(&member)
            .and_then(|m| m.query)
            .and_then(|id| self.members.get(&id))
            .map(|m| m.name.clone());
        if let Some(partner) = partner {
            self.private(conn, member, &partner, text);
            return;
        }
        if self.is_muted(member) {
            self.send(conn, Notice::StillMuted);
            return;
        }
        let text = text.to_string();
        self.commit(Author::Member(member), SharedOp::Say { text });
    }

    /// The member and name `name` means (lookalikes included), or the
    /// `no-such-member` error to `conn`.
    fn find_member(&mut self, conn: ConnId, name: &str) -> Option<(MemberId, String)> {
        let found = self
            .names
            .find(name)
            .and_then(|id| self.members.get(&id).map(|m| (id, m.name.clone())));
        if found.is_none() {
            let name = name.to_string();
            self.send(conn, Notice::NoSuchMember { name });
        }
        found
    }

    /// `/nick NEW`: under the joining rules; the old name is free at once.
    fn rename(&mut self, member: MemberId, conn: ConnId, raw: &str) {
        let new = match self.names.check(raw, Some(member)) {
            Ok(new) => new,
            Err(problem) => {
                self.send(conn, Notice::NameRejected { problem });
                return;
            }
        };
        self.commit(Author::Member(member), SharedOp::Rename { name: new });
    }

    /// A rename comes back (or, standalone, is made): checked again
    /// against every name taken meanwhile.
    fn apply_rename(&mut self, member: MemberId, conn: Option<ConnId>, raw: &str) {
        let new = match self.names.check(raw, Some(member)) {
            Ok(new) => new,
            Err(problem) => {
                if let Some(conn) = conn {
                    self.send(conn, Notice::NameRejected { problem });
                }
                return;
            }
        };
        let Some(state) = self.members.get_mut(&member) else {
            return;
        };
        let old = std::mem::replace(&mut state.name, new.clone());
        if let Some(conn) = conn {
            self.send(conn, Notice::NickSet { name: new.clone() });
        }
        if old == new {
            return;
        }
        self.names.release(&old);
        self.names.claim(&new, member);
        let audience = Audience {
            sender: Some(member),
            kind: LineKind::Notice,
        };
        self.broadcast(
            audience,
            Notice::Renamed {
                old: old.clone(),
                new: new.clone(),
            },
        );
        // The queries follow the member; their owners hear it besides the
        // room's notice, since their lines now go to the new name.
        let partners: Vec<ConnId> = self
            .members
            .values()
            .filter(|m| m.query == Some(member))
            .filter_map(|m| m.conn)
            .collect();
        for partner in partners {
            let (old, new) = (old.clone(), new.clone());
            self.send(partner, Notice::QueryRenamed { old, new });
        }
    }

    /// `/query NAME` starts a query, `/query` alone ends one.
    fn query(&mut self, member: MemberId, conn: ConnId, name: Option<&str>) {
        let Some(name) = name else {
            let partner = self.members.get_mut(&member).and_then(|m| m.query.take());
            match partner.and_then(|id| self.members.get(&id)) {
                Some(partner) => {
                    let name = partner.name.clone();
                    self.send(conn, Notice::QueryEnded { name });
                }
                None => self.usage(conn, Usage::Query),
            }
            return;
        };
        let Some((target, name)) = self.find_member(conn, name) else {
            return;
        };
        if target == member {
            self.send(conn, Notice::PrivateToSelf);
            return;
        }
        if let Some(state) = self.members.get_mut(&member) {
            state.query = Some(target);
        }
        self.send(conn, Notice::QueryStarted { name });
    }

    fn set_muted(&mut self, member: MemberId, conn: ConnId, muted: bool) {
        let Some(state) = self.members.get_mut(&member) else {
            return;
        };
        state.rules.muted = muted;
        let rules = state.rules.clone();
        self.events.push_back(RoomEvent::Rules { conn, rules });
        let notice = if muted {
            Notice::MutedRoom
        } else {
            Notice::UnmutedRoom
        };
        self.send(conn, notice);
    }

    /// `/ignore NAME` (`on`) or `/unignore NAME`.
    fn ignore(&mut self, member: MemberId, conn: ConnId, name: &str, on: bool) {
        let Some((target, name)) = self.find_member(conn, name) else {
            return;
        };
        if target == member {
            let notice = if on {
                Notice::IgnoreSelf
            } else {
                Notice::NotIgnoring { name }
            };
            self.send(conn, notice);
            return;
        }
        let Some(state) = self.members.get_mut(&member) else {
            return;
        };
        let was = state.rules.ignored.contains(&target);
        let notice = match (on, was) {
            (true, _) => Notice::Ignoring { name },
            (false, true) => Notice::Unignored { name },
            (false, false) => Notice::NotIgnoring { name },
        };
        if on != was {
            if on {
                state.rules.ignored.push(target);
            } else {
                state.rules.ignored.retain(|&id| id != target);
            }
            let rules = state.rules.clone();
            self.events.push_back(RoomEvent::Rules { conn, rules });
        }
        self.send(conn, notice);
    }

    fn whois(&mut self, conn: ConnId, name: &str) {
        let Some((target, name)) = self.find_member(conn, name) else {
            return;
        };
        let Some(state) = self.members.get(&target) else {
            return;
        };
        let now = self.now.unwrap_or(state.last_line_at);
        let lang = state.lang;
        let notice = Notice::Whois {
            name,
            in_room: now.saturating_duration_since(state.joined_at),
            idle: now.saturating_duration_since(state.last_line_at),
            away: state.away.clone(),
            lang,
        };
        self.send(conn, notice);
    }

    /// `/lang TAG`: before joining (`joined` false) the caller sends the
    /// prompt again, in the new language. An unknown or missing tag lists
    /// the languages. `false` when nothing was said.
    fn change_language(&mut self, conn: ConnId, tag: &str, joined: bool) -> bool {
        let Some(lang) = Lang::parse(tag) else {
            // Before joining the line is not cleaned yet.
            let asked = sanitize(tag);
            self.send(conn, Notice::LangUnknown { asked });
            return true;
        };
        let current = self.connections.get(&conn).map(|c| c.lang);
        // Before joining, asking for the language already spoken says
        // nothing: the real client sends its own language first thing, and
        // a user of the server's language should see the greeting once.
        if current == Some(lang) && !joined {
            return false;
        }
        if current != Some(lang) {
            self.set_language(conn, lang);
        }
        self.send(conn, Notice::LangSet { lang });
        true
    }

    fn private(&mut self, conn: ConnId, member: MemberId, to: &str, text: &str) {
        let Some((target, to_name)) = self.find_member(conn, to) else {
            return;
        };
        if target == member {
            self.send(conn, Notice::PrivateToSelf);
            return;
        }
        let text = text.to_string();
        self.commit(
            Author::Member(member),
            SharedOp::Private {
                to: target,
                to_name,
                text,
            },
        );
    }

    /// A private message comes back (or, standalone, is sent): the
    /// recipient's server delivers it, the sender's confirms it.
    fn apply_private(
        &mut self,
        member: MemberId,
        conn: Option<ConnId>,
        from: String,
        to: MemberId,
        to_name: String,
        text: String,
    ) {
        let Some(target) = self.members.get_mut(&to) else {
            if let Some(conn) = conn {
                self.send(conn, Notice::NoSuchMember { name: to_name });
            }
            return;
        };
        let target_conn = target.conn;
        let to = target.name.clone();
        // Someone who ignores the sender does not get it, and the sender is
        // not told: it is confirmed as usual.
        let ignored = target.rules.ignored.contains(&member);
        let away = target.away.clone();
        if !ignored {
            target.reply_to = Some(member);
        }
        if conn.is_some() {
            self.events.push_back(RoomEvent::Log(LogEntry::Private {
                from: from.clone(),
                to: to.clone(),
            }));
        }
        if !ignored {
            if let Some(target_conn) = target_conn {
                self.send(
                    target_conn,
                    Notice::Private {
                        from: from.clone(),
                        text,
                    },
                );
            }
        }
        let Some(conn) = conn else {
            return;
        };
        self.send(conn, Notice::PrivateSent { to: to.clone() });
        if let Some(reason) = away {
            let reason = (!reason.is_empty()).then_some(reason);
            self.send(conn, Notice::PeerAway { name: to, reason });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> RoomConfig {
        RoomConfig {
            max_clients: 10,
            max_line_bytes: 4096,
            max_per_ip: None,
            reserved_names: vec!["Administrator".into(), "管理员".into()],
            flood: None,
            name_timeout: None,
            lang: Lang::EN,
            history: 0,
            timestamps: false,
            motd: String::new(),
        }
    }

    pub(super) fn room() -> Room {
        Room::new(config())
    }

    /// A remote address (documentation range; nothing is sent to it).
    pub(super) fn remote(last: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, last])
    }

    /// The tests' clock starts here; later times are offsets from it.
    pub(super) fn start() -> Instant {
        static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
        *START.get_or_init(Instant::now)
    }

    fn at_ms(ms: u64) -> Instant {
        start() + Duration::from_millis(ms)
    }

    pub(super) fn drain(room: &mut Room) -> Vec<RoomEvent> {
        std::iter::from_fn(|| room.poll_event()).collect()
    }

    fn send(to: ConnId, notice: Notice) -> RoomEvent {
        RoomEvent::Send { to, notice }
    }

    fn notice_from(sender: Option<MemberId>) -> Audience {
        Audience {
            sender,
            kind: LineKind::Notice,
        }
    }

    /// The leave notice every member gets.
    fn left(name: &str, reason: LeaveReason) -> RoomEvent {
        RoomEvent::Broadcast {
            audience: notice_from(None),
            notice: Notice::Left {
                name: name.into(),
                reason,
                stayed: Duration::ZERO,
            },
        }
    }

    /// A member's departure from the feed, then its close.
    fn closed_member(conn: ConnId) -> [RoomEvent; 2] {
        [RoomEvent::Unsubscribe { conn }, RoomEvent::Close { conn }]
    }

    fn chat(member: u64, name: &str, text: &str) -> RoomEvent {
        RoomEvent::Broadcast {
            audience: Audience {
                sender: Some(MemberId(member)),
                kind: LineKind::Chat,
            },
            notice: Notice::Chat {
                from: name.into(),
                text: text.into(),
            },
        }
    }

    fn entry(name: &str) -> ListEntry {
        ListEntry {
            name: name.into(),
            away: None,
        }
    }

    fn joined(room: &mut Room, conn: ConnId, name: &str) {
        room.connect(conn, remote(conn as u8), start());
        room.line(conn, name, start());
        drain(room);
    }

    fn is_welcome(event: &RoomEvent) -> bool {
        matches!(
            event,
            RoomEvent::Send {
                notice: Notice::Welcome { .. },
                ..
            }
        )
    }

    #[test]
    fn connect_greets_and_prompts() {
        let mut room = room();
        room.connect(1, remote(1), start());
        assert_eq!(
            drain(&mut room),
            [send(1, Notice::Greeting), send(1, Notice::NamePrompt)]
        );
    }

    #[test]
    fn joining_welcomes_subscribes_and_announces() {
        let mut room = room();
        joined(&mut room, 1, "alice");
        room.connect(2, remote(2), start());
        drain(&mut room);
        room.line(2, "小明", start());
        assert_eq!(
            drain(&mut room),
            [
                send(
                    2,
                    Notice::Welcome {
                        name: "小明".into(),
                        others: 1
                    }
                ),
                RoomEvent::Subscribe {
                    conn: 2,
                    member: MemberId(2)
                },
                RoomEvent::Broadcast {
                    audience: notice_from(Some(MemberId(2))),
                    notice: Notice::Joined {
                        name: "小明".into(),
                        count: 2
                    }
                },
            ]
        );
        assert_eq!(room.name_of(1), Some("alice"));
        assert_eq!(room.name_of(2), Some("小明"));
        assert_eq!(room.member_of(2), Some(MemberId(2)));
    }

    #[test]
    fn bad_names_are_explained_and_prompted_again() {
        let mut room = room();
        joined(&mut room, 1, "Alice");
        room.connect(2, remote(2), start());
        drain(&mut room);
        let cases = [
            ("ALICE", NameProblem::Taken("ALICE".into())),
            ("alicе", NameProblem::Taken("alicе".into())),
            (
                "administrator",
                NameProblem::Reserved("administrator".into()),
            ),
            ("管理员", NameProblem::Reserved("管理员".into())),
            ("has space", NameProblem::BadCharacters),
            ("star*", NameProblem::BadCharacters),
            ("colon:", NameProblem::BadCharacters),
            ("al\u{1b}ice", NameProblem::BadCharacters),
            ("zero\u{200b}width", NameProblem::BadCharacters),
            ("😀", NameProblem::BadCharacters),
            (&"x".repeat(33), NameProblem::TooLong),
        ];
        for (name, problem) in cases {
            room.line(2, name, start());
            assert_eq!(
                drain(&mut room),
                [
                    send(2, Notice::NameRejected { problem }),
                    send(2, Notice::NamePrompt)
                ],
                "{name:?}"
            );
        }
        room.line(2, &"é".repeat(32), start());
        assert!(is_welcome(&drain(&mut room)[0]));
        assert!(validate_name("a_b-c.d9").is_ok());
    }

    #[test]
    fn commands_before_joining() {
        let mut room = room();
        room.connect(1, remote(1), start());
        drain(&mut room);
        room.line(1, "/help", start());
        assert_eq!(
            drain(&mut room),
            [send(1, Notice::Help), send(1, Notice::NamePrompt)]
        );
        room.line(1, "/list", start());
        assert_eq!(
            drain(&mut room),
            [
                send(
                    1,
                    Notice::JoinFirst {
                        command: "/list".into()
                    }
                ),
                send(1, Notice::NamePrompt)
            ]
        );
        room.line(1, "/quit", start());
        assert_eq!(
            drain(&mut room),
            [send(1, Notice::Bye), RoomEvent::Close { conn: 1 }]
        );
    }

    #[test]
    fn empty_line_at_prompt_closes_quietly() {
        let mut room = room();
        joined(&mut room, 1, "alice");
        room.connect(2, remote(2), start());
        drain(&mut room);
        room.line(2, "", start());
        assert_eq!(drain(&mut room), [RoomEvent::Close { conn: 2 }]);
    }

    #[test]
    fn unjoined_connections_are_not_members() {
        let mut room = room();
        joined(&mut room, 1, "alice");
        room.connect(2, remote(2), start());
        drain(&mut room);
        room.line(1, "hi", start());
        drain(&mut room);
        assert_eq!((room.name_of(1), room.name_of(2)), (Some("alice"), None));
        assert_eq!(room.member_of(2), None);
    }

    #[test]
    fn chat_goes_to_others_cleaned_and_named() {
        let mut room = room();
        joined(&mut room, 1, "alice");
        joined(&mut room, 2, "bob");
        room.line(1, "hi\u{1b}[2Jthere", start());
        room.line(1, "", start());
        room.line(1, "   ", start());
        room.line(1, "//slash", start());
        assert_eq!(
            drain(&mut room),
            [chat(1, "alice", "hithere"), chat(1, "alice", "/slash")]
        );
    }

    #[test]
    fn private_messages() {
        let mut room = room();
        joined(&mut room, 1, "alice");
        joined(&mut room, 2, "Bob");
        room.line(1, "/msg bob psst", start());
        assert_eq!(
            drain(&mut room),
            [
                RoomEvent::Log(LogEntry::Private {
                    from: "alice".into(),
                    to: "Bob".into()
                }),
                send(
                    2,
                    Notice::Private {
                        from: "alice".into(),
                        text: "psst".into()
                    }
                ),
                send(1, Notice::PrivateSent { to: "Bob".into() }),
            ]
        );
        room.line(1, "@carol hi", start());
        assert_eq!(
            drain(&mut room),
            [send(
                1,
                Notice::NoSuchMember {
                    name: "carol".into()
                }
            )]
        );
        room.line(1, "@alice hi", start());
        assert_eq!(drain(&mut room), [send(1, Notice::PrivateToSelf)]);
        room.line(1, "/msg bob", start());
        assert_eq!(drain(&mut room), [send(1, Notice::PrivateUsage)]);
    }

    #[test]
    fn list_help_and_unknown() {
        let mut room = room();
        joined(&mut room, 1, "bob");
        joined(&mut room, 2, "Alice");
        room.line(2, "/who", start());
        assert_eq!(
            drain(&mut room),
            [send(
                2,
                Notice::Members {
                    members: vec![entry("Alice"), entry("bob")]
                }
            )]
        );
        room.line(2, "/help", start());
        assert_eq!(drain(&mut room), [send(2, Notice::Help)]);
        room.line(2, "/dance now", start());
        assert_eq!(
            drain(&mut room),
            [send(
                2,
                Notice::UnknownCommand {
                    command: "/dance".into()
                }
            )]
        );
    }

    #[test]
    fn quit_says_bye_announces_once_and_closes() {
        let mut room = room();
        joined(&mut room, 1, "alice");
        joined(&mut room, 2, "bob");
        room.line(1, "/quit", start());
        room.disconnect(1, LeaveReason::Lost);
        let mut expected = vec![send(1, Notice::Bye)];
        expected.extend(closed_member(1));
        expected.push(left("alice", LeaveReason::Quit));
        assert_eq!(drain(&mut room), expected);
        // the name is free again
        room.connect(3, remote(3), start());
        room.line(3, "ALICE", start());
        assert!(is_welcome(&drain(&mut room)[2]));
    }

    #[test]
    fn slow_consumer_loses_its_backlog_is_told_announced_and_closed() {
        let mut room = room();
        joined(&mut room, 1, "alice");
        joined(&mut room, 2, "bob");
        room.disconnect(2, LeaveReason::TooSlow);
        let mut expected = vec![RoomEvent::Discard { conn: 2 }, send(2, Notice::TooSlow)];
        expected.extend(closed_member(2));
        expected.push(left("bob", LeaveReason::TooSlow));
        assert_eq!(drain(&mut room), expected);
    }

    #[test]
    fn full_room_turns_connections_away() {
        let mut room = Room::new(RoomConfig {
            max_clients: 2,
            max_line_bytes: 10,
            ..config()
        });
        joined(&mut room, 1, "alice");
        room.connect(2, remote(2), start());
        drain(&mut room);
        room.connect(3, remote(3), start());
        assert_eq!(
            drain(&mut room),
            [
                send(3, Notice::RoomFull { max_clients: 2 }),
                RoomEvent::Close { conn: 3 }
            ]
        );
        room.disconnect(2, LeaveReason::Lost);
        drain(&mut room);
        room.connect(4, remote(4), start());
        assert_eq!(drain(&mut room)[0], send(4, Notice::Greeting));
    }

    #[test]
    fn an_address_over_its_cap_is_turned_away_but_loopback_never() {
        let mut room = Room::new(RoomConfig {
            max_per_ip: Some(2),
            ..config()
        });
        let home = remote(7);
        room.connect(1, home, start());
        room.connect(2, home, start());
        drain(&mut room);
        room.connect(3, home, start());
        assert_eq!(
            drain(&mut room),
            [
                send(3, Notice::AddressFull { max_per_ip: 2 }),
                RoomEvent::Close { conn: 3 }
            ]
        );
        room.disconnect(1, LeaveReason::Quit);
        drain(&mut room);
        room.connect(4, home, start());
        assert_eq!(drain(&mut room)[0], send(4, Notice::Greeting));
        let loopback = IpAddr::from([127, 0, 0, 1]);
        for conn in 10..15 {
            room.connect(conn, loopback, start());
            assert_eq!(drain(&mut room)[0], send(conn, Notice::Greeting));
        }
    }

    #[test]
    fn long_line_gets_an_error() {
        let mut room = room();
        joined(&mut room, 1, "alice");
        room.line_too_long(1);
        assert_eq!(
            drain(&mut room),
            [send(1, Notice::LineTooLong { max_bytes: 4096 })]
        );
    }

    #[test]
    fn admin_lines_and_shutdown() {
        let mut room = room();
        joined(&mut room, 1, "alice");
        room.connect(2, remote(2), start());
        drain(&mut room);
        room.admin_line("hello all\u{7}");
        assert_eq!(
            drain(&mut room),
            [RoomEvent::Broadcast {
                audience: Audience {
                    sender: None,
                    kind: LineKind::Admin
                },
                notice: Notice::Admin {
                    text: "hello all".into()
                }
            }]
        );
        room.admin_line("");
        let mut expected = vec![
            RoomEvent::Shutdown,
            RoomEvent::Broadcast {
                audience: notice_from(None),
                notice: Notice::Closed,
            },
        ];
        expected.extend(closed_member(1));
        expected.extend([send(2, Notice::Closed), RoomEvent::Close { conn: 2 }]);
        assert_eq!(drain(&mut room), expected, "the closing line once, to all");
        room.line(1, "anyone?", start());
        room.disconnect(1, LeaveReason::Lost);
        room.connect(5, remote(5), start());
        assert_eq!(drain(&mut room), [RoomEvent::Close { conn: 5 }]);
    }

    #[test]
    fn a_language_is_per_connection() {
        let mut room = room();
        room.connect(1, remote(1), start());
        drain(&mut room);
        let zh = Lang::parse("zh-CN").expect("shipped");
        room.set_language(1, zh);
        room.set_language(9, zh);
        assert_eq!(
            drain(&mut room),
            [RoomEvent::Language { conn: 1, lang: zh }]
        );
    }

    fn flood_room(burst: u32, per_second: u32) -> Room {
        Room::new(RoomConfig {
            flood: Some(FloodLimit { burst, per_second }),
            name_timeout: Some(Duration::from_secs(60)),
            ..config()
        })
    }

    #[test]
    fn a_paste_over_the_burst_is_held_then_released_in_order() {
        let mut room = flood_room(3, 2);
        joined(&mut room, 1, "alice");
        joined(&mut room, 2, "bob");
        for n in 0..6 {
            room.line(1, &format!("line {n}"), start());
        }
        let mut expected: Vec<RoomEvent> = (0..3)
            .map(|n| chat(1, "alice", &format!("line {n}")))
            .collect();
        expected.push(send(1, Notice::SlowDown));
        assert_eq!(
            drain(&mut room),
            expected,
            "the burst goes, then one warning"
        );
        // 2 lines a second: the next is due 500 ms after the burst.
        assert_eq!(room.next_deadline(), Some(at_ms(500)));
        room.tick(at_ms(499));
        assert_eq!(drain(&mut room), []);
        room.tick(at_ms(500));
        assert_eq!(drain(&mut room), [chat(1, "alice", "line 3")]);
        // A line typed meanwhile queues behind the held ones.
        room.line(1, "later", at_ms(600));
        room.tick(at_ms(2000));
        assert_eq!(
            drain(&mut room),
            [
                chat(1, "alice", "line 4"),
                chat(1, "alice", "line 5"),
                chat(1, "alice", "later"),
            ]
        );
        assert_eq!(room.next_deadline(), None, "nothing held, no timer");
        // A calm member is never held: one line a second goes at once.
        for second in 10..20 {
            room.line(1, "calm", at_ms(second * 1000));
            assert_eq!(drain(&mut room), [chat(1, "alice", "calm")]);
        }
    }

    #[test]
    fn a_member_who_keeps_flooding_is_disconnected() {
        let mut room = flood_room(2, 1);
        joined(&mut room, 1, "alice");
        joined(&mut room, 2, "bob");
        let limit = FloodLimit {
            burst: 2,
            per_second: 1,
        };
        for n in 0..2 + limit.max_held() {
            room.line(1, &format!("{n}"), start());
        }
        assert_eq!(drain(&mut room).len(), 3, "two lines and one warning");
        room.line(1, "one too many", start());
        let mut expected = vec![send(1, Notice::Flooded)];
        expected.extend(closed_member(1));
        expected.push(left("alice", LeaveReason::Flood));
        assert_eq!(
            drain(&mut room),
            expected,
            "the held flood is dropped, not delivered"
        );
        room.tick(at_ms(60_000));
        assert_eq!(drain(&mut room), []);
    }

    #[test]
    fn held_lines_go_out_before_a_departure() {
        let mut room = flood_room(1, 1);
        joined(&mut room, 1, "alice");
        joined(&mut room, 2, "bob");
        room.line(1, "a", start());
        room.line(1, "b", start());
        room.line(1, "/quit", start());
        drain(&mut room);
        room.disconnect(1, LeaveReason::Quit);
        let mut expected = vec![chat(1, "alice", "b"), send(1, Notice::Bye)];
        expected.extend(closed_member(1));
        expected.push(left("alice", LeaveReason::Quit));
        assert_eq!(
            drain(&mut room),
            expected,
            "each held line in order, then one departure"
        );
    }

    #[test]
    fn choosing_a_name_has_a_deadline() {
        let mut room = flood_room(5, 5);
        room.connect(1, remote(1), start());
        room.connect(2, remote(2), at_ms(30_000));
        joined(&mut room, 3, "carol");
        room.line(2, "bob", at_ms(40_000));
        drain(&mut room);
        assert_eq!(room.next_deadline(), Some(at_ms(60_000)));
        room.tick(at_ms(60_000));
        assert_eq!(
            drain(&mut room),
            [
                send(1, Notice::NameTimeout { seconds: 60 }),
                RoomEvent::Close { conn: 1 }
            ]
        );
        room.tick(at_ms(90_000));
        assert_eq!(
            drain(&mut room),
            [],
            "bob joined in time; carol was never due"
        );
        assert_eq!(room.name_of(2), Some("bob"));
    }

    // Member commands, as conversations (PROTOCOL.md section 5).

    fn member_room() -> Room {
        Room::new(RoomConfig {
            history: 3,
            motd: "be kind".into(),
            ..config()
        })
    }

    fn private(to: ConnId, from: &str, text: &str) -> RoomEvent {
        send(
            to,
            Notice::Private {
                from: from.into(),
                text: text.into(),
            },
        )
    }

    fn log_private(from: &str, to: &str) -> RoomEvent {
        RoomEvent::Log(LogEntry::Private {
            from: from.into(),
            to: to.into(),
        })
    }

    fn sent(to: ConnId, name: &str) -> RoomEvent {
        send(to, Notice::PrivateSent { to: name.into() })
    }

    #[test]
    fn nick_renames_frees_the_old_name_and_tells_everyone() {
        let mut room = room();
        joined(&mut room, 1, "alice");
        joined(&mut room, 2, "bob");
        room.line(1, "/nick Alicia", start());
        assert_eq!(
            drain(&mut room),
            [
                send(
                    1,
                    Notice::NickSet {
                        name: "Alicia".into()
                    }
                ),
                RoomEvent::Broadcast {
                    audience: notice_from(Some(MemberId(1))),
                    notice: Notice::Renamed {
                        old: "alice".into(),
                        new: "Alicia".into()
                    }
                },
            ]
        );
        assert_eq!(room.name_of(1), Some("Alicia"));
        room.line(1, "/nick BOB", start());
        assert_eq!(
            drain(&mut room),
            [send(
                1,
                Notice::NameRejected {
                    problem: NameProblem::Taken("BOB".into())
                }
            )]
        );
        room.line(1, "/nick", start());
        assert_eq!(
            drain(&mut room),
            [send(1, Notice::Usage { usage: Usage::Nick })]
        );
        // The old name is free at once.
        room.connect(3, remote(3), start());
        drain(&mut room);
        room.line(3, "alice", start());
        assert!(is_welcome(&drain(&mut room)[0]));
    }

    #[test]
    fn me_is_an_action_and_a_muted_member_is_reminded() {
        let mut room = room();
        joined(&mut room, 1, "alice");
        joined(&mut room, 2, "bob");
        room.line(1, "/me waves", start());
        assert_eq!(
            drain(&mut room),
            [RoomEvent::Broadcast {
                audience: Audience {
                    sender: Some(MemberId(1)),
                    kind: LineKind::Action
                },
                notice: Notice::Action {
                    from: "alice".into(),
                    text: "waves".into()
                }
            }]
        );
        room.line(1, "/mute", start());
        assert_eq!(
            drain(&mut room),
            [
                RoomEvent::Rules {
                    conn: 1,
                    rules: SkipRules {
                        muted: true,
                        ignored: vec![]
                    }
                },
                send(1, Notice::MutedRoom)
            ]
        );
        room.line(1, "hello?", start());
        room.line(1, "/me shouts", start());
        assert_eq!(
            drain(&mut room),
            [send(1, Notice::StillMuted), send(1, Notice::StillMuted)]
        );
        // Private messages still go and arrive.
        room.line(1, "@bob psst", start());
        assert_eq!(
            drain(&mut room),
            [
                log_private("alice", "bob"),
                private(2, "alice", "psst"),
                sent(1, "bob")
            ]
        );
        room.line(1, "/i", start());
        assert_eq!(
            drain(&mut room),
            [
                RoomEvent::Rules {
                    conn: 1,
                    rules: SkipRules::default()
                },
                send(1, Notice::UnmutedRoom)
            ]
        );
        room.line(1, "/i", start());
        assert_eq!(drain(&mut room)[1], send(1, Notice::MutedRoom));
        room.line(1, "/unmute", start());
        assert_eq!(drain(&mut room)[1], send(1, Notice::UnmutedRoom));
    }

    #[test]
    fn reply_answers_the_last_private_sender() {
        let mut room = room();
        joined(&mut room, 1, "alice");
        joined(&mut room, 2, "bob");
        joined(&mut room, 3, "carol");
        room.line(2, "/r hi", start());
        assert_eq!(drain(&mut room), [send(2, Notice::NoOneToReply)]);
        room.line(1, "/msg bob one", start());
        room.line(3, "/msg bob two", start());
        drain(&mut room);
        room.line(2, "/reply back at you", start());
        assert_eq!(
            drain(&mut room),
            [
                log_private("bob", "carol"),
                private(3, "bob", "back at you"),
                sent(2, "carol")
            ]
        );
        room.line(2, "/r", start());
        assert_eq!(
            drain(&mut room),
            [send(
                2,
                Notice::Usage {
                    usage: Usage::Reply
                }
            )]
        );
        room.disconnect(3, LeaveReason::Quit);
        drain(&mut room);
        room.line(2, "/r still there?", start());
        assert_eq!(drain(&mut room), [send(2, Notice::NoOneToReply)]);
    }

    #[test]
    fn a_query_sends_plain_lines_privately_follows_renames_and_ends() {
        let mut room = room();
        joined(&mut room, 1, "alice");
        joined(&mut room, 2, "bob");
        room.line(1, "/query", start());
        assert_eq!(
            drain(&mut room),
            [send(
                1,
                Notice::Usage {
                    usage: Usage::Query
                }
            )]
        );
        room.line(1, "/query carol", start());
        assert_eq!(
            drain(&mut room),
            [send(
                1,
                Notice::NoSuchMember {
                    name: "carol".into()
                }
            )]
        );
        room.line(1, "/query alice", start());
        assert_eq!(drain(&mut room), [send(1, Notice::PrivateToSelf)]);
        room.line(1, "/query BOB", start());
        assert_eq!(
            drain(&mut room),
            [send(1, Notice::QueryStarted { name: "bob".into() })]
        );
        room.line(1, "just us", start());
        assert_eq!(
            drain(&mut room),
            [
                log_private("alice", "bob"),
                private(2, "alice", "just us"),
                sent(1, "bob")
            ]
        );
        // Commands keep working inside a query.
        room.line(1, "/who", start());
        assert!(matches!(
            &drain(&mut room)[..],
            [RoomEvent::Send {
                notice: Notice::Members { .. },
                ..
            }]
        ));
        room.line(2, "/nick robert", start());
        let events = drain(&mut room);
        assert_eq!(
            events.last(),
            Some(&send(
                1,
                Notice::QueryRenamed {
                    old: "bob".into(),
                    new: "robert".into()
                }
            ))
        );
        room.line(1, "still us", start());
        assert_eq!(drain(&mut room)[1], private(2, "alice", "still us"));
        room.line(1, "/query", start());
        assert_eq!(
            drain(&mut room),
            [send(
                1,
                Notice::QueryEnded {
                    name: "robert".into()
                }
            )]
        );
        room.line(1, "everyone", start());
        assert_eq!(drain(&mut room), [chat(1, "alice", "everyone")]);
        // The partner leaving ends it, after the room's leave notice.
        room.line(1, "/query robert", start());
        drain(&mut room);
        room.disconnect(2, LeaveReason::Quit);
        let events = drain(&mut room);
        assert_eq!(
            events[events.len() - 2..],
            [
                left("robert", LeaveReason::Quit),
                send(
                    1,
                    Notice::QueryPartnerLeft {
                        name: "robert".into()
                    }
                )
            ]
        );
        room.line(1, "back in the room", start());
        assert_eq!(drain(&mut room), [chat(1, "alice", "back in the room")]);
    }

    #[test]
    fn ignore_skips_lines_and_drops_private_messages_silently() {
        let mut room = room();
        joined(&mut room, 1, "alice");
        joined(&mut room, 2, "bob");
        room.line(1, "/ignore", start());
        assert_eq!(
            drain(&mut room),
            [send(1, Notice::IgnoreList { names: vec![] })]
        );
        room.line(1, "/ignore alice", start());
        assert_eq!(drain(&mut room), [send(1, Notice::IgnoreSelf)]);
        // Matched like names: a lookalike is the same member.
        room.line(1, "/ignore ＢＯＢ", start());
        assert_eq!(
            drain(&mut room),
            [
                RoomEvent::Rules {
                    conn: 1,
                    rules: SkipRules {
                        muted: false,
                        ignored: vec![MemberId(2)]
                    }
                },
                send(1, Notice::Ignoring { name: "bob".into() })
            ]
        );
        room.line(2, "/msg alice are you there", start());
        assert_eq!(
            drain(&mut room),
            [log_private("bob", "alice"), sent(2, "alice")],
            "not delivered, confirmed as usual"
        );
        // A rename changes nothing: ignores follow the member.
        room.line(2, "/nick robert", start());
        drain(&mut room);
        room.line(1, "/ignore", start());
        assert_eq!(
            drain(&mut room),
            [send(
                1,
                Notice::IgnoreList {
                    names: vec!["robert".into()]
                }
            )]
        );
        room.line(1, "/unignore robert", start());
        assert_eq!(
            drain(&mut room),
            [
                RoomEvent::Rules {
                    conn: 1,
                    rules: SkipRules::default()
                },
                send(
                    1,
                    Notice::Unignored {
                        name: "robert".into()
                    }
                )
            ]
        );
        room.line(1, "/unignore robert", start());
        assert_eq!(
            drain(&mut room),
            [send(
                1,
                Notice::NotIgnoring {
                    name: "robert".into()
                }
            )]
        );
        room.line(1, "/unignore", start());
        assert_eq!(
            drain(&mut room),
            [send(
                1,
                Notice::Usage {
                    usage: Usage::Unignore
                }
            )]
        );
        // An ignore ends when the ignored member leaves.
        room.line(1, "/ignore robert", start());
        drain(&mut room);
        room.disconnect(2, LeaveReason::Quit);
        let events = drain(&mut room);
        assert_eq!(
            events.last(),
            Some(&RoomEvent::Rules {
                conn: 1,
                rules: SkipRules::default()
            })
        );
    }

    #[test]
    fn away_shows_in_list_and_tells_private_senders() {
        let mut room = room();
        joined(&mut room, 1, "alice");
        joined(&mut room, 2, "bob");
        room.line(2, "/away lunch", start());
        assert_eq!(
            drain(&mut room),
            [send(
                2,
                Notice::AwaySet {
                    reason: Some("lunch".into())
                }
            )]
        );
        room.line(1, "/list", start());
        assert_eq!(
            drain(&mut room),
            [send(
                1,
                Notice::Members {
                    members: vec![
                        entry("alice"),
                        ListEntry {
                            name: "bob".into(),
                            away: Some("lunch".into())
                        }
                    ]
                }
            )]
        );
        room.line(1, "@bob hungry?", start());
        assert_eq!(
            drain(&mut room),
            [
                log_private("alice", "bob"),
                private(2, "alice", "hungry?"),
                sent(1, "bob"),
                send(
                    1,
                    Notice::PeerAway {
                        name: "bob".into(),
                        reason: Some("lunch".into())
                    }
                )
            ]
        );
        room.line(2, "/away", start());
        assert_eq!(
            drain(&mut room),
            [send(2, Notice::AwaySet { reason: None })]
        );
        room.line(1, "@bob now?", start());
        assert_eq!(
            drain(&mut room)[3],
            send(
                1,
                Notice::PeerAway {
                    name: "bob".into(),
                    reason: None
                }
            )
        );
        room.line(2, "/back", start());
        assert_eq!(drain(&mut room), [send(2, Notice::Back)]);
        room.line(1, "@bob back?", start());
        assert_eq!(drain(&mut room).len(), 3, "no away line any more");
    }

    #[test]
    fn whois_tells_time_in_the_room_idle_time_away_and_language() {
        let mut room = room();
        joined(&mut room, 1, "alice");
        room.connect(2, remote(2), at_ms(1_000));
        let zh = Lang::parse("zh-CN").expect("shipped");
        room.line(2, "/lang zh-CN", at_ms(1_000));
        room.line(2, "bob", at_ms(1_000));
        room.line(2, "hello", at_ms(61_000));
        room.line(2, "/away", at_ms(62_000));
        drain(&mut room);
        room.set_clock(at_ms(121_000), LocalTime::new(12, 0));
        room.line(1, "/whois Bob", at_ms(121_000));
        assert_eq!(
            drain(&mut room),
            [send(
                1,
                Notice::Whois {
                    name: "bob".into(),
                    in_room: Duration::from_secs(120),
                    idle: Duration::from_secs(59),
                    away: Some(String::new()),
                    lang: zh,
                }
            )]
        );
        room.line(1, "/whois", start());
        assert_eq!(
            drain(&mut room),
            [send(
                1,
                Notice::Usage {
                    usage: Usage::Whois
                }
            )]
        );
        room.line(1, "/whois nobody", start());
        assert_eq!(
            drain(&mut room),
            [send(
                1,
                Notice::NoSuchMember {
                    name: "nobody".into()
                }
            )]
        );
    }

    #[test]
    fn lang_works_before_joining_and_lists_the_languages_when_unknown() {
        let mut room = room();
        room.connect(1, remote(1), start());
        drain(&mut room);
        // The language already spoken: nothing to say, no second prompt.
        room.line(1, "/lang en", start());
        assert_eq!(drain(&mut room), []);
        let zh = Lang::parse("zh-CN").expect("shipped");
        room.line(1, "/lang zh", start());
        assert_eq!(
            drain(&mut room),
            [
                RoomEvent::Language { conn: 1, lang: zh },
                send(1, Notice::LangSet { lang: zh }),
                send(1, Notice::NamePrompt)
            ]
        );
        room.line(1, "/lang fr\u{1b}[2J", start());
        assert_eq!(
            drain(&mut room),
            [
                send(1, Notice::LangUnknown { asked: "fr".into() }),
                send(1, Notice::NamePrompt)
            ]
        );
        room.line(1, "alice", start());
        drain(&mut room);
        room.line(1, "/lang zh-CN", start());
        assert_eq!(
            drain(&mut room),
            [send(1, Notice::LangSet { lang: zh })],
            "once joined, always confirmed"
        );
        room.line(1, "/lang", start());
        assert_eq!(
            drain(&mut room),
            [send(
                1,
                Notice::LangUnknown {
                    asked: String::new()
                }
            )]
        );
    }

    #[test]
    fn timestamps_are_per_connection() {
        let mut room = room();
        joined(&mut room, 1, "alice");
        room.line(1, "/timestamps on", start());
        assert_eq!(
            drain(&mut room),
            [
                RoomEvent::Timestamps { conn: 1, on: true },
                send(1, Notice::TimestampsSet { on: true })
            ]
        );
        room.line(1, "/timestamps sometimes", start());
        assert_eq!(
            drain(&mut room),
            [send(
                1,
                Notice::Usage {
                    usage: Usage::Timestamps
                }
            )]
        );
    }

    #[test]
    fn joining_shows_the_motd_then_the_history_then_the_live_room() {
        let mut room = member_room();
        room.set_clock(start(), LocalTime::new(9, 5));
        joined(&mut room, 1, "alice");
        joined(&mut room, 2, "bob");
        room.line(1, "one", start());
        room.line(2, "/msg alice secret", start());
        room.line(2, "/me two", start());
        room.set_clock(start(), LocalTime::new(9, 6));
        room.admin_line("three");
        room.line(1, "four", start());
        drain(&mut room);
        room.connect(3, remote(3), start());
        room.line(3, "carol", start());
        let past = |at: LocalTime, line: Notice| {
            send(
                3,
                Notice::Past {
                    at,
                    line: Box::new(line),
                },
            )
        };
        let (early, late) = (LocalTime::new(9, 5), LocalTime::new(9, 6));
        let events = drain(&mut room);
        assert_eq!(
            events[2..],
            [
                send(
                    3,
                    Notice::Welcome {
                        name: "carol".into(),
                        others: 2
                    }
                ),
                send(
                    3,
                    Notice::Motd {
                        text: "be kind".into()
                    }
                ),
                send(3, Notice::History { count: 3 }),
                past(
                    early,
                    Notice::Action {
                        from: "bob".into(),
                        text: "two".into()
                    }
                ),
                past(
                    late,
                    Notice::Admin {
                        text: "three".into()
                    }
                ),
                past(
                    late,
                    Notice::Chat {
                        from: "alice".into(),
                        text: "four".into()
                    }
                ),
                RoomEvent::Subscribe {
                    conn: 3,
                    member: MemberId(3)
                },
                RoomEvent::Broadcast {
                    audience: notice_from(Some(MemberId(3))),
                    notice: Notice::Joined {
                        name: "carol".into(),
                        count: 3
                    }
                },
            ],
            "the last 3 room lines, no private message, no notice"
        );
        room.line(3, "/motd", start());
        assert_eq!(
            drain(&mut room),
            [send(
                3,
                Notice::Motd {
                    text: "be kind".into()
                }
            )]
        );
        let mut quiet = Room::new(config());
        joined(&mut quiet, 1, "alice");
        quiet.line(1, "hi", start());
        quiet.line(1, "/motd", start());
        drain(&mut quiet);
        quiet.connect(2, remote(2), start());
        quiet.line(2, "bob", start());
        let events = drain(&mut quiet);
        assert!(
            matches!(events[3], RoomEvent::Subscribe { .. }),
            "{events:?}"
        );
    }

    #[test]
    fn a_departure_says_how_long_the_member_stayed() {
        let mut room = room();
        joined(&mut room, 1, "alice");
        room.connect(2, remote(2), at_ms(5_000));
        room.line(2, "bob", at_ms(5_000));
        drain(&mut room);
        room.set_clock(at_ms(95_000), LocalTime::default());
        room.disconnect(2, LeaveReason::Lost);
        let events = drain(&mut room);
        assert_eq!(
            events.last(),
            Some(&RoomEvent::Broadcast {
                audience: notice_from(None),
                notice: Notice::Left {
                    name: "bob".into(),
                    reason: LeaveReason::Lost,
                    stayed: Duration::from_secs(90)
                }
            })
        );
    }
}
