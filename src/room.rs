//! The sans-IO core of the chat room: who is connected, who has joined under
//! which name, and what each line means.
//!
//! It never sees a socket, a file descriptor, Fluent or the clock: time comes
//! in as `now` for flood control and the name timeout. Inputs are method
//! calls; outputs are a queue of semantic `RoomEvent`s that the reactor
//! drains with `poll_event` after every call, and `next_deadline`, the time
//! the reactor must call `tick` at. Fan-out to sockets is the reactor's job.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use crate::command::{self, Command};
use crate::protocol::{is_removed, sanitize};

/// Identifies one connection for its whole life; never reused.
pub type ClientId = u64;

/// Longest nickname, in Unicode scalar values.
pub const MAX_NAME_CHARS: usize = 32;

/// What the reactor must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoomEvent {
    /// Deliver to one connection. `Welcome` also makes it a member: it
    /// hears every broadcast after it, until its `Close`.
    Send { to: ClientId, notice: Notice },
    /// Deliver to every member except `except`.
    Broadcast {
        except: Option<ClientId>,
        notice: Notice,
    },
    /// `id` hears no more broadcasts: flush what is queued for it, then
    /// close it.
    Close(ClientId),
    /// Tell every connection the room is closed, flush, close all, exit.
    Shutdown,
}

/// Why a member left; the leave notice says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaveReason {
    /// `/quit`, or the client closed its side cleanly.
    Quit,
    /// The connection broke (reset, error).
    Lost,
    /// Its outgoing queue passed `max_queue_bytes`.
    TooSlow,
    /// It kept sending faster than flood control allows.
    Flood,
}

/// Why a nickname was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameProblem {
    TooLong,
    BadCharacters,
    Taken(String),
    Reserved(String),
}

/// Something to tell a user, by meaning; `render` turns it into a line in
/// the server's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    Greeting,
    NamePrompt,
    NameRejected(NameProblem),
    /// A command other than `/help` or `/quit` before joining.
    JoinFirst {
        command: String,
    },
    Welcome {
        name: String,
        others: usize,
    },
    Joined {
        name: String,
    },
    Left {
        name: String,
        reason: LeaveReason,
    },
    Chat {
        from: String,
        text: String,
    },
    Admin {
        text: String,
    },
    Private {
        from: String,
        text: String,
    },
    PrivateSent {
        to: String,
    },
    PrivateUsage,
    PrivateToSelf,
    NoSuchMember {
        name: String,
    },
    Members {
        names: Vec<String>,
    },
    Help,
    UnknownCommand {
        command: String,
    },
    LineTooLong {
        max_bytes: usize,
    },
    Bye,
    TooSlow,
    /// Flood control is holding this member's lines back (said once per
    /// episode).
    SlowDown,
    /// This member is disconnected for flooding.
    Flooded,
    /// No name was chosen in time.
    NameTimeout {
        seconds: u64,
    },
    RoomFull {
        max_clients: usize,
    },
    /// Sent by the reactor, which knows addresses: too many connections
    /// from this one.
    AddressFull {
        max_per_ip: usize,
    },
    Closed,
}

/// Limits and names the room enforces.
#[derive(Debug, Clone)]
pub struct RoomConfig {
    /// Open connections allowed, joined or not.
    pub max_clients: usize,
    /// Quoted to a sender whose line was too long.
    pub max_line_bytes: usize,
    /// The administrator's label in every language; no member may take one.
    pub reserved_names: Vec<String>,
    /// `None` turns flood control off.
    pub flood: Option<FloodLimit>,
    /// How long a connection may take to choose a name; `None` is forever.
    pub name_timeout: Option<Duration>,
}

/// Flood control: a member may send `burst` lines at once, then `per_second`
/// lines a second. Faster lines are held and released in order as the rate
/// allows; a member with more than `max_held()` lines held is disconnected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FloodLimit {
    pub burst: u32,
    pub per_second: u32,
}

impl FloodLimit {
    /// The time one line costs.
    fn interval(self) -> Duration {
        Duration::from_secs(1) / self.per_second.max(1)
    }

    /// How far ahead of the rate a member may run: the burst.
    fn tolerance(self) -> Duration {
        self.interval() * self.burst.saturating_sub(1)
    }

    /// Lines held back before the member counts as flooding.
    pub fn max_held(self) -> usize {
        self.burst as usize * 5
    }
}

/// A joined member.
#[derive(Debug)]
struct Member {
    /// The name as chosen.
    name: String,
    /// The "theoretical arrival time" of flood control (GCRA): a line is
    /// within the limit if it comes no earlier than this minus the burst
    /// tolerance. `None` until the first line.
    paced_until: Option<Instant>,
    /// Lines over the limit, oldest first, each to be carried out when the
    /// rate allows.
    held: VecDeque<String>,
    /// Told it is sending too fast; not told again until it has paused
    /// long enough to have its whole burst back.
    warned: bool,
}

impl Member {
    /// Whether a line at `now` is within `limit`; if so, it is counted.
    fn take_turn(&mut self, now: Instant, limit: FloodLimit) -> bool {
        let due = self.paced_until.map_or(now, |at| at.max(now));
        if due > now + limit.tolerance() {
            return false;
        }
        if due == now {
            self.warned = false;
        }
        self.paced_until = Some(due + limit.interval());
        true
    }

    /// When the next line will be within `limit`.
    fn next_turn(&self, limit: FloodLimit) -> Option<Instant> {
        let at = self.paced_until?;
        Some(at.checked_sub(limit.tolerance()).unwrap_or(at))
    }
}

/// The room's state.
#[derive(Debug)]
pub struct Room {
    config: RoomConfig,
    /// Connected but still choosing a name; they receive no room traffic.
    choosing: HashSet<ClientId>,
    /// Joined members, by id.
    members: BTreeMap<ClientId, Member>,
    /// Members with lines held by flood control.
    holding: BTreeSet<ClientId>,
    /// When each connection still choosing a name must have chosen one, in
    /// connection order (entries of those who joined or left are skipped).
    name_deadlines: VecDeque<(Instant, ClientId)>,
    /// Lower-cased names of members, for case-insensitive uniqueness and
    /// `/msg` lookup.
    by_name: HashMap<String, ClientId>,
    /// Lower-cased reserved names.
    reserved: Vec<String>,
    /// Set by `shutdown`; after it every input is ignored.
    closed: bool,
    events: VecDeque<RoomEvent>,
}

impl Room {
    pub fn new(config: RoomConfig) -> Self {
        let reserved = config
            .reserved_names
            .iter()
            .map(|n| n.to_lowercase())
            .collect();
        Room {
            config,
            choosing: HashSet::new(),
            members: BTreeMap::new(),
            holding: BTreeSet::new(),
            name_deadlines: VecDeque::new(),
            by_name: HashMap::new(),
            reserved,
            closed: false,
            events: VecDeque::new(),
        }
    }

    /// Next thing for the reactor to do; `None` once the queue is drained.
    pub fn poll_event(&mut self) -> Option<RoomEvent> {
        self.events.pop_front()
    }

    /// The name `id` joined under, if it has joined.
    pub fn name_of(&self, id: ClientId) -> Option<&str> {
        self.members.get(&id).map(|member| member.name.as_str())
    }

    /// When `tick` has work: a held line may go, or a name is overdue.
    pub fn next_deadline(&self) -> Option<Instant> {
        let name = self.name_deadlines.front().map(|&(at, _)| at);
        let held = self.config.flood.and_then(|limit| {
            self.holding
                .iter()
                .filter_map(|id| self.members.get(id)?.next_turn(limit))
                .min()
        });
        match (name, held) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Carries out what is due at `now`: held lines the rate now allows, in
    /// order, and closing connections that took too long to choose a name.
    pub fn tick(&mut self, now: Instant) {
        while let Some(&(at, id)) = self.name_deadlines.front() {
            if at > now {
                break;
            }
            self.name_deadlines.pop_front();
            if self.choosing.remove(&id) {
                let seconds = self.config.name_timeout.unwrap_or_default().as_secs();
                self.send(id, Notice::NameTimeout { seconds });
                self.events.push_back(RoomEvent::Close(id));
            }
        }
        let Some(limit) = self.config.flood else {
            return;
        };
        for id in std::mem::take(&mut self.holding) {
            while let Some(member) = self.members.get_mut(&id) {
                if member.held.is_empty() {
                    break;
                }
                if !member.take_turn(now, limit) {
                    self.holding.insert(id);
                    break;
                }
                let Some(line) = member.held.pop_front() else {
                    break;
                };
                self.act(id, &line);
            }
        }
    }

    fn connection_count(&self) -> usize {
        self.choosing.len() + self.members.len()
    }

    /// A new connection at `now`: greet it, or turn it away if the room is
    /// full.
    pub fn connect(&mut self, id: ClientId, now: Instant) {
        if self.closed {
            self.events.push_back(RoomEvent::Close(id));
            return;
        }
        if self.connection_count() >= self.config.max_clients {
            let max_clients = self.config.max_clients;
            self.send(id, Notice::RoomFull { max_clients });
            self.events.push_back(RoomEvent::Close(id));
            return;
        }
        self.choosing.insert(id);
        if let Some(timeout) = self.config.name_timeout {
            self.name_deadlines.push_back((now + timeout, id));
        }
        self.send(id, Notice::Greeting);
        self.send(id, Notice::NamePrompt);
    }

    /// One complete line from `id`, as received (not yet cleaned), at
    /// `now`.
    pub fn line(&mut self, id: ClientId, raw: &str, now: Instant) {
        if self.closed {
            return;
        }
        if self.choosing.contains(&id) {
            self.choose_name(id, raw);
        } else if self.members.contains_key(&id) {
            self.member_line(id, raw, now);
        }
    }

    /// `id` sent a line longer than `max_line_bytes`.
    pub fn line_too_long(&mut self, id: ClientId) {
        if self.closed || !self.is_connected(id) {
            return;
        }
        let max_bytes = self.config.max_line_bytes;
        self.send(id, Notice::LineTooLong { max_bytes });
    }

    /// `id` is gone or must go. Idempotent: a second call does nothing, so
    /// every departure is announced exactly once.
    pub fn disconnect(&mut self, id: ClientId, reason: LeaveReason) {
        if self.choosing.remove(&id) {
            self.forget_met_deadlines();
            self.events.push_back(RoomEvent::Close(id));
            return;
        }
        // Lines held back were accepted: they go out before the departure,
        // unless holding them is why the member goes.
        if reason != LeaveReason::Flood {
            let held = self
                .members
                .get_mut(&id)
                .map(|member| std::mem::take(&mut member.held))
                .unwrap_or_default();
            for line in held {
                self.act(id, &line);
            }
        }
        self.holding.remove(&id);
        let Some(Member { name, .. }) = self.members.remove(&id) else {
            return;
        };
        self.by_name.remove(&name.to_lowercase());
        match reason {
            LeaveReason::TooSlow => self.send(id, Notice::TooSlow),
            LeaveReason::Flood => self.send(id, Notice::Flooded),
            LeaveReason::Quit | LeaveReason::Lost => {}
        }
        // Close first: from it on, `id` hears no broadcast, its own leave
        // notice included.
        self.events.push_back(RoomEvent::Close(id));
        if !self.closed {
            self.broadcast(None, Notice::Left { name, reason });
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
            self.broadcast(None, Notice::Admin { text });
        }
    }

    /// Close the room (empty console line, SIGINT, SIGTERM).
    pub fn shutdown(&mut self) {
        if self.closed {
            return;
        }
        self.closed = true;
        self.events.push_back(RoomEvent::Shutdown);
    }

    /// Drops name deadlines at the front that no longer apply (the
    /// connection joined or left), so `next_deadline` does not wake the
    /// reactor for nothing.
    fn forget_met_deadlines(&mut self) {
        while let Some(&(_, id)) = self.name_deadlines.front() {
            if self.choosing.contains(&id) {
                break;
            }
            self.name_deadlines.pop_front();
        }
    }

    fn is_connected(&self, id: ClientId) -> bool {
        self.choosing.contains(&id) || self.members.contains_key(&id)
    }

    fn send(&mut self, to: ClientId, notice: Notice) {
        self.events.push_back(RoomEvent::Send { to, notice });
    }

    fn broadcast(&mut self, except: Option<ClientId>, notice: Notice) {
        self.events
            .push_back(RoomEvent::Broadcast { except, notice });
    }

    fn choose_name(&mut self, id: ClientId, raw: &str) {
        if raw.is_empty() {
            self.disconnect(id, LeaveReason::Quit);
            return;
        }
        if let Some(word) = raw.strip_prefix('/') {
            match command::parse(raw) {
                Command::Help => self.send(id, Notice::Help),
                Command::Quit => {
                    self.send(id, Notice::Bye);
                    self.disconnect(id, LeaveReason::Quit);
                    return;
                }
                _ => {
                    let command = word.split(' ').next().unwrap_or_default();
                    let command = format!("/{}", sanitize(command));
                    self.send(id, Notice::JoinFirst { command });
                }
            }
            self.send(id, Notice::NamePrompt);
            return;
        }
        if let Err(problem) = self.check_name(raw) {
            self.send(id, Notice::NameRejected(problem));
            self.send(id, Notice::NamePrompt);
            return;
        }
        self.choosing.remove(&id);
        self.forget_met_deadlines();
        let others = self.members.len();
        self.by_name.insert(raw.to_lowercase(), id);
        let member = Member {
            name: raw.to_string(),
            paced_until: None,
            held: VecDeque::new(),
            warned: false,
        };
        self.members.insert(id, member);
        self.send(
            id,
            Notice::Welcome {
                name: raw.to_string(),
                others,
            },
        );
        self.broadcast(
            Some(id),
            Notice::Joined {
                name: raw.to_string(),
            },
        );
    }

    fn check_name(&self, name: &str) -> Result<(), NameProblem> {
        validate_name(name)?;
        let key = name.to_lowercase();
        if self.reserved.contains(&key) {
            return Err(NameProblem::Reserved(name.to_string()));
        }
        if self.by_name.contains_key(&key) {
            return Err(NameProblem::Taken(name.to_string()));
        }
        Ok(())
    }

    fn member_line(&mut self, id: ClientId, raw: &str, now: Instant) {
        let line = sanitize(raw);
        if line.trim().is_empty() {
            return;
        }
        if let Some(limit) = self.config.flood {
            let Some(member) = self.members.get_mut(&id) else {
                return;
            };
            if !member.held.is_empty() || !member.take_turn(now, limit) {
                if member.held.len() >= limit.max_held() {
                    self.disconnect(id, LeaveReason::Flood);
                    return;
                }
                member.held.push_back(line);
                self.holding.insert(id);
                if !std::mem::replace(&mut member.warned, true) {
                    self.send(id, Notice::SlowDown);
                }
                return;
            }
        }
        self.act(id, &line);
    }

    /// Carries out a member's cleaned, non-blank line.
    fn act(&mut self, id: ClientId, line: &str) {
        let Some(from) = self.members.get(&id).map(|member| member.name.clone()) else {
            return;
        };
        match command::parse(line) {
            Command::Say(text) => self.broadcast(
                Some(id),
                Notice::Chat {
                    from,
                    text: text.to_string(),
                },
            ),
            Command::Private { to, text } => self.private(id, from, to, text),
            Command::PrivateUsage => self.send(id, Notice::PrivateUsage),
            Command::Help => self.send(id, Notice::Help),
            Command::List => {
                let mut names: Vec<String> = self
                    .members
                    .values()
                    .map(|member| member.name.clone())
                    .collect();
                names.sort_by_cached_key(|name| name.to_lowercase());
                self.send(id, Notice::Members { names });
            }
            Command::Quit => {
                self.send(id, Notice::Bye);
                self.disconnect(id, LeaveReason::Quit);
            }
            Command::Unknown(word) => {
                let command = format!("/{word}");
                self.send(id, Notice::UnknownCommand { command });
            }
        }
    }

    fn private(&mut self, id: ClientId, from: String, to: &str, text: &str) {
        let Some(&target) = self.by_name.get(&to.to_lowercase()) else {
            let name = to.to_string();
            self.send(id, Notice::NoSuchMember { name });
            return;
        };
        if target == id {
            self.send(id, Notice::PrivateToSelf);
            return;
        }
        let to = self
            .members
            .get(&target)
            .map(|member| member.name.clone())
            .unwrap_or_default();
        let text = text.to_string();
        self.send(target, Notice::Private { from, text });
        self.send(id, Notice::PrivateSent { to });
    }
}

/// The nickname rules of PROTOCOL.md, without uniqueness: 1 to 32
/// characters, each alphanumeric or one of `_`, `-`, `.`.
pub fn validate_name(name: &str) -> Result<(), NameProblem> {
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(NameProblem::TooLong);
    }
    // Letters that draw nothing (Hangul fillers) would let `alice` + filler
    // pass for alice.
    let allowed = |c: char| (c.is_alphanumeric() || matches!(c, '_' | '-' | '.')) && !is_removed(c);
    if name.is_empty() || !name.chars().all(allowed) {
        return Err(NameProblem::BadCharacters);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room() -> Room {
        Room::new(RoomConfig {
            max_clients: 10,
            max_line_bytes: 4096,
            reserved_names: vec!["Administrator".into(), "管理员".into()],
            flood: None,
            name_timeout: None,
        })
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

    fn send(to: ClientId, notice: Notice) -> RoomEvent {
        RoomEvent::Send { to, notice }
    }

    /// The leave notice every member gets.
    fn left(name: &str, reason: LeaveReason) -> RoomEvent {
        RoomEvent::Broadcast {
            except: None,
            notice: Notice::Left {
                name: name.into(),
                reason,
            },
        }
    }

    fn joined(room: &mut Room, id: ClientId, name: &str) {
        room.connect(id, start());
        room.line(id, name, start());
        drain(room);
    }

    #[test]
    fn connect_greets_and_prompts() {
        let mut room = room();
        room.connect(1, start());
        assert_eq!(
            drain(&mut room),
            [send(1, Notice::Greeting), send(1, Notice::NamePrompt)]
        );
    }

    #[test]
    fn joining_welcomes_and_announces() {
        let mut room = room();
        joined(&mut room, 1, "alice");
        room.connect(2, start());
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
                RoomEvent::Broadcast {
                    except: Some(2),
                    notice: Notice::Joined {
                        name: "小明".into()
                    }
                },
            ]
        );
        assert!(room.name_of(1).is_some());
        assert_eq!(room.name_of(2), Some("小明"));
    }

    #[test]
    fn bad_names_are_explained_and_prompted_again() {
        let mut room = room();
        joined(&mut room, 1, "Alice");
        room.connect(2, start());
        drain(&mut room);
        let cases = [
            ("ALICE", NameProblem::Taken("ALICE".into())),
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
                    send(2, Notice::NameRejected(problem)),
                    send(2, Notice::NamePrompt)
                ],
                "{name:?}"
            );
        }
        room.line(2, &"é".repeat(32), start());
        assert!(matches!(
            drain(&mut room)[0],
            RoomEvent::Send {
                notice: Notice::Welcome { .. },
                ..
            }
        ));
        assert!(validate_name("a_b-c.d9").is_ok());
    }

    #[test]
    fn commands_before_joining() {
        let mut room = room();
        room.connect(1, start());
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
            [send(1, Notice::Bye), RoomEvent::Close(1)]
        );
    }

    #[test]
    fn empty_line_at_prompt_closes_quietly() {
        let mut room = room();
        joined(&mut room, 1, "alice");
        room.connect(2, start());
        drain(&mut room);
        room.line(2, "", start());
        assert_eq!(drain(&mut room), [RoomEvent::Close(2)]);
    }

    #[test]
    fn unjoined_connections_hear_nothing() {
        let mut room = room();
        joined(&mut room, 1, "alice");
        room.connect(2, start());
        drain(&mut room);
        room.line(1, "hi", start());
        drain(&mut room);
        assert_eq!((room.name_of(1), room.name_of(2)), (Some("alice"), None));
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
            [
                RoomEvent::Broadcast {
                    except: Some(1),
                    notice: Notice::Chat {
                        from: "alice".into(),
                        text: "hithere".into()
                    }
                },
                RoomEvent::Broadcast {
                    except: Some(1),
                    notice: Notice::Chat {
                        from: "alice".into(),
                        text: "/slash".into()
                    }
                },
            ]
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
        assert_eq!(
            drain(&mut room),
            [
                send(1, Notice::Bye),
                RoomEvent::Close(1),
                left("alice", LeaveReason::Quit),
            ]
        );
        // the name is free again
        room.connect(3, start());
        room.line(3, "ALICE", start());
        assert!(matches!(
            drain(&mut room)[2],
            RoomEvent::Send {
                notice: Notice::Welcome { .. },
                ..
            }
        ));
    }

    #[test]
    fn slow_consumer_is_told_announced_and_closed() {
        let mut room = room();
        joined(&mut room, 1, "alice");
        joined(&mut room, 2, "bob");
        room.disconnect(2, LeaveReason::TooSlow);
        assert_eq!(
            drain(&mut room),
            [
                send(2, Notice::TooSlow),
                RoomEvent::Close(2),
                left("bob", LeaveReason::TooSlow),
            ]
        );
    }

    #[test]
    fn full_room_turns_connections_away() {
        let mut room = Room::new(RoomConfig {
            max_clients: 2,
            max_line_bytes: 10,
            reserved_names: vec![],
            flood: None,
            name_timeout: None,
        });
        joined(&mut room, 1, "alice");
        room.connect(2, start());
        drain(&mut room);
        room.connect(3, start());
        assert_eq!(
            drain(&mut room),
            [
                send(3, Notice::RoomFull { max_clients: 2 }),
                RoomEvent::Close(3)
            ]
        );
        room.disconnect(2, LeaveReason::Lost);
        drain(&mut room);
        room.connect(4, start());
        assert_eq!(drain(&mut room)[0], send(4, Notice::Greeting));
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
        room.admin_line("hello all\u{7}");
        assert_eq!(
            drain(&mut room),
            [RoomEvent::Broadcast {
                except: None,
                notice: Notice::Admin {
                    text: "hello all".into()
                }
            }]
        );
        room.admin_line("");
        assert_eq!(drain(&mut room), [RoomEvent::Shutdown]);
        room.line(1, "anyone?", start());
        room.disconnect(1, LeaveReason::Lost);
        room.connect(5, start());
        assert_eq!(drain(&mut room), [RoomEvent::Close(1), RoomEvent::Close(5)]);
    }

    fn flood_room(burst: u32, per_second: u32) -> Room {
        Room::new(RoomConfig {
            flood: Some(FloodLimit { burst, per_second }),
            name_timeout: Some(Duration::from_secs(60)),
            ..room().config
        })
    }

    fn chat(from: ClientId, name: &str, text: &str) -> RoomEvent {
        RoomEvent::Broadcast {
            except: Some(from),
            notice: Notice::Chat {
                from: name.into(),
                text: text.into(),
            },
        }
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
        assert_eq!(
            drain(&mut room),
            [
                send(1, Notice::Flooded),
                RoomEvent::Close(1),
                left("alice", LeaveReason::Flood),
            ],
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
        assert_eq!(
            drain(&mut room),
            [
                chat(1, "alice", "b"),
                send(1, Notice::Bye),
                RoomEvent::Close(1),
                left("alice", LeaveReason::Quit),
            ],
            "each held line in order, then one departure"
        );
    }

    #[test]
    fn choosing_a_name_has_a_deadline() {
        let mut room = flood_room(5, 5);
        room.connect(1, start());
        room.connect(2, at_ms(30_000));
        joined(&mut room, 3, "carol");
        room.line(2, "bob", at_ms(40_000));
        drain(&mut room);
        assert_eq!(room.next_deadline(), Some(at_ms(60_000)));
        room.tick(at_ms(60_000));
        assert_eq!(
            drain(&mut room),
            [
                send(1, Notice::NameTimeout { seconds: 60 }),
                RoomEvent::Close(1)
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
