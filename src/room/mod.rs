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
//! Per connection the events come in this order: `Send`s before joining;
//! at the welcome `Subscribe`; then broadcasts, replies, `Rules` and
//! `Language` in any order; on leaving `Discard` (only if too slow), the
//! last `Send`s, `Unsubscribe`, `Close`. After `Close` the room has
//! forgotten the connection: a later `disconnect` for it does nothing.
//!
//! Submodules: `events` (the vocabulary), `names` (name rules and
//! uniqueness), `flood` (flood control), `addresses` (the `max_per_ip`
//! counts).

mod addresses;
pub mod events;
mod flood;
pub mod names;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use addresses::AddressCounts;
pub use events::{
    Audience, ConnId, LeaveReason, LineKind, LogEntry, MemberId, NameProblem, Notice, NoticeKind,
    RoomEvent, SkipRules,
};
pub use flood::FloodLimit;
use flood::{Offer, Pacer};
use names::Names;
pub use names::{validate_name, MAX_NAME_CHARS};

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
    /// Set from its welcome on.
    member: Option<MemberId>,
}

/// A joined member.
#[derive(Debug)]
struct Member {
    /// The connection that carries it.
    conn: ConnId,
    /// The name as chosen (NFC).
    name: String,
    pacer: Pacer,
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
}

impl Room {
    pub fn new(config: RoomConfig) -> Self {
        Room {
            names: Names::new(&config.reserved_names),
            config,
            connections: HashMap::new(),
            members: BTreeMap::new(),
            addresses: AddressCounts::default(),
            timers: Timers::default(),
            next_member: 1,
            closed: false,
            events: VecDeque::new(),
        }
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
        let connection = Connection {
            ip,
            lang: self.config.lang,
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
        match self.connections.get(&conn).map(|c| c.member) {
            Some(None) => self.choose_name(conn, raw),
            Some(Some(member)) => self.member_line(member, raw, now),
            None => {}
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
            self.events.push_back(RoomEvent::Language { conn, lang });
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
            let held = self
                .members
                .get_mut(&member)
                .map(|m| m.pacer.take_held())
                .unwrap_or_default();
            for line in held {
                self.act(member, &line);
            }
        }
        self.timers.cancel(RoomTimer::HeldLines(member));
        let Some(Member { name, .. }) = self.members.remove(&member) else {
            return;
        };
        self.names.release(&name);
        match reason {
            LeaveReason::TooSlow => {
                // What it is owed would only hold the notice back.
                self.events.push_back(RoomEvent::Discard { conn });
                self.send(conn, Notice::TooSlow);
            }
            LeaveReason::Flood => self.send(conn, Notice::Flooded),
            LeaveReason::Quit | LeaveReason::Lost => {}
        }
        // Unsubscribed first: a member never hears its own leave notice.
        self.close(conn);
        if !self.closed {
            let audience = Audience {
                sender: None,
                kind: LineKind::Notice,
            };
            self.broadcast(audience, Notice::Left { name, reason });
        }
    }

    /// A line typed on the server's console. An empty one closes the room.
    pub fn admin_line(&mut self, raw: &str) {
        if self.closed {
            return;
        }
        if raw.is_empty() {
            self.shutdown();
            return;
        }
        let text = sanitize(raw);
        if !text.trim().is_empty() {
            let audience = Audience {
                sender: None,
                kind: LineKind::Admin,
            };
            self.broadcast(audience, Notice::Admin { text });
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

    fn broadcast(&mut self, audience: Audience, notice: Notice) {
        self.events
            .push_back(RoomEvent::Broadcast { audience, notice });
    }

    fn choose_name(&mut self, conn: ConnId, raw: &str) {
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
        self.timers.cancel(RoomTimer::NameDeadline(conn));
        let member = MemberId(self.next_member);
        self.next_member += 1;
        let others = self.members.len();
        self.names.claim(&name, member);
        if let Some(connection) = self.connections.get_mut(&conn) {
            connection.member = Some(member);
        }
        self.members.insert(
            member,
            Member {
                conn,
                name: name.clone(),
                pacer: Pacer::default(),
            },
        );
        self.send(
            conn,
            Notice::Welcome {
                name: name.clone(),
                others,
            },
        );
        self.events.push_back(RoomEvent::Subscribe { conn, member });
        let audience = Audience {
            sender: Some(member),
            kind: LineKind::Notice,
        };
        self.broadcast(audience, Notice::Joined { name });
    }

    fn member_line(&mut self, member: MemberId, raw: &str, now: Instant) {
        let line = sanitize(raw);
        if line.trim().is_empty() {
            return;
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
                let conn = state.conn;
                if let Some(at) = state.pacer.next_release(limit) {
                    self.timers.set(RoomTimer::HeldLines(member), at);
                }
                if warn {
                    self.send(conn, Notice::SlowDown);
                }
            }
            Offer::Flooding => {
                let conn = state.conn;
                self.disconnect(conn, LeaveReason::Flood);
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
        let (conn, from) = (state.conn, state.name.clone());
        match command::parse(line) {
            Command::Say(text) => {
                let audience = Audience {
                    sender: Some(member),
                    kind: LineKind::Chat,
                };
                let text = text.to_string();
                self.broadcast(audience, Notice::Chat { from, text });
            }
            Command::Private { to, text } => self.private(conn, member, from, to, text),
            Command::PrivateUsage => self.send(conn, Notice::PrivateUsage),
            Command::Help => self.send(conn, Notice::Help),
            Command::List => {
                let mut names: Vec<String> =
                    self.members.values().map(|m| m.name.clone()).collect();
                names.sort_by_cached_key(|name| name.to_lowercase());
                self.send(conn, Notice::Members { names });
            }
            Command::Quit => {
                self.send(conn, Notice::Bye);
                self.disconnect(conn, LeaveReason::Quit);
            }
            Command::Unknown(word) => {
                let command = format!("/{word}");
                self.send(conn, Notice::UnknownCommand { command });
            }
        }
    }

    fn private(&mut self, conn: ConnId, member: MemberId, from: String, to: &str, text: &str) {
        let Some(target) = self
            .names
            .find(to)
            .and_then(|id| self.members.get(&id).map(|m| (id, m)))
        else {
            let name = to.to_string();
            self.send(conn, Notice::NoSuchMember { name });
            return;
        };
        let (target_id, target_conn, to) = (target.0, target.1.conn, target.1.name.clone());
        if target_id == member {
            self.send(conn, Notice::PrivateToSelf);
            return;
        }
        let text = text.to_string();
        self.events.push_back(RoomEvent::Log(LogEntry::Private {
            from: from.clone(),
            to: to.clone(),
        }));
        self.send(target_conn, Notice::Private { from, text });
        self.send(conn, Notice::PrivateSent { to });
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
        }
    }

    fn room() -> Room {
        Room::new(config())
    }

    /// A remote address (documentation range; nothing is sent to it).
    fn remote(last: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, last])
    }

    /// The tests' clock starts here; later times are offsets from it.
    fn start() -> Instant {
        static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
        *START.get_or_init(Instant::now)
    }

    fn at_ms(ms: u64) -> Instant {
        start() + Duration::from_millis(ms)
    }

    fn drain(room: &mut Room) -> Vec<RoomEvent> {
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
                        name: "小明".into()
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
                    names: vec!["Alice".into(), "bob".into()]
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
}
