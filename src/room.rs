//! The sans-IO core of the chat room: who is connected, who has joined under
//! which name, and what each line means.
//!
//! It never sees a socket, a file descriptor, Fluent or the clock. Inputs are
//! method calls; outputs are a queue of semantic `RoomEvent`s that the
//! reactor drains with `poll_event` after every call. Fan-out to sockets is
//! the reactor's job: it asks `member_ids` who receives a broadcast.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use crate::command::{self, Command};
use crate::protocol::sanitize;

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
    RoomFull {
        max_clients: usize,
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
}

/// The room's state.
#[derive(Debug)]
pub struct Room {
    config: RoomConfig,
    /// Connected but still choosing a name; they receive no room traffic.
    choosing: HashSet<ClientId>,
    /// Joined members and their names as they chose them; broadcasts walk
    /// it in id order.
    members: BTreeMap<ClientId, String>,
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

    /// Joined members, the recipients of a broadcast.
    pub fn member_ids(&self) -> impl Iterator<Item = ClientId> + '_ {
        self.members.keys().copied()
    }

    /// The name `id` joined under, if it has joined.
    pub fn name_of(&self, id: ClientId) -> Option<&str> {
        self.members.get(&id).map(String::as_str)
    }

    fn connection_count(&self) -> usize {
        self.choosing.len() + self.members.len()
    }

    /// A new connection: greet it, or turn it away if the room is full.
    pub fn connect(&mut self, id: ClientId) {
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
        self.send(id, Notice::Greeting);
        self.send(id, Notice::NamePrompt);
    }

    /// One complete line from `id`, as received (not yet cleaned).
    pub fn line(&mut self, id: ClientId, raw: &str) {
        if self.closed {
            return;
        }
        if self.choosing.contains(&id) {
            self.choose_name(id, raw);
        } else if self.members.contains_key(&id) {
            self.member_line(id, raw);
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
            self.events.push_back(RoomEvent::Close(id));
            return;
        }
        let Some(name) = self.members.remove(&id) else {
            return;
        };
        self.by_name.remove(&name.to_lowercase());
        match reason {
            LeaveReason::TooSlow => self.send(id, Notice::TooSlow),
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
        let others = self.members.len();
        self.by_name.insert(raw.to_lowercase(), id);
        self.members.insert(id, raw.to_string());
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

    fn member_line(&mut self, id: ClientId, raw: &str) {
        let line = sanitize(raw);
        if line.trim().is_empty() {
            return;
        }
        let Some(from) = self.members.get(&id).cloned() else {
            return;
        };
        match command::parse(&line) {
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
                let mut names: Vec<String> = self.members.values().cloned().collect();
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
        let to = self.members.get(&target).cloned().unwrap_or_default();
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
    let allowed = |c: char| c.is_alphanumeric() || matches!(c, '_' | '-' | '.');
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
        })
    }

    fn drain(room: &mut Room) -> Vec<RoomEvent> {
        std::iter::from_fn(|| room.poll_event()).collect()
    }

    fn send(to: ClientId, notice: Notice) -> RoomEvent {
        RoomEvent::Send { to, notice }
    }

    fn joined(room: &mut Room, id: ClientId, name: &str) {
        room.connect(id);
        room.line(id, name);
        drain(room);
    }

    #[test]
    fn connect_greets_and_prompts() {
        let mut room = room();
        room.connect(1);
        assert_eq!(
            drain(&mut room),
            [send(1, Notice::Greeting), send(1, Notice::NamePrompt)]
        );
    }

    #[test]
    fn joining_welcomes_and_announces() {
        let mut room = room();
        joined(&mut room, 1, "alice");
        room.connect(2);
        drain(&mut room);
        room.line(2, "小明");
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
        assert_eq!(room.member_ids().collect::<Vec<_>>(), [1, 2]);
    }

    #[test]
    fn bad_names_are_explained_and_prompted_again() {
        let mut room = room();
        joined(&mut room, 1, "Alice");
        room.connect(2);
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
            room.line(2, name);
            assert_eq!(
                drain(&mut room),
                [
                    send(2, Notice::NameRejected(problem)),
                    send(2, Notice::NamePrompt)
                ],
                "{name:?}"
            );
        }
        room.line(2, &"é".repeat(32));
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
        room.connect(1);
        drain(&mut room);
        room.line(1, "/help");
        assert_eq!(
            drain(&mut room),
            [send(1, Notice::Help), send(1, Notice::NamePrompt)]
        );
        room.line(1, "/list");
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
        room.line(1, "/quit");
        assert_eq!(
            drain(&mut room),
            [send(1, Notice::Bye), RoomEvent::Close(1)]
        );
    }

    #[test]
    fn empty_line_at_prompt_closes_quietly() {
        let mut room = room();
        joined(&mut room, 1, "alice");
        room.connect(2);
        drain(&mut room);
        room.line(2, "");
        assert_eq!(drain(&mut room), [RoomEvent::Close(2)]);
    }

    #[test]
    fn unjoined_connections_hear_nothing() {
        let mut room = room();
        joined(&mut room, 1, "alice");
        room.connect(2);
        drain(&mut room);
        room.line(1, "hi");
        drain(&mut room);
        assert_eq!(room.member_ids().collect::<Vec<_>>(), [1]);
    }

    #[test]
    fn chat_goes_to_others_cleaned_and_named() {
        let mut room = room();
        joined(&mut room, 1, "alice");
        joined(&mut room, 2, "bob");
        room.line(1, "hi\u{1b}[2Jthere");
        room.line(1, "");
        room.line(1, "   ");
        room.line(1, "//slash");
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
        room.line(1, "/msg bob psst");
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
        room.line(1, "@carol hi");
        assert_eq!(
            drain(&mut room),
            [send(
                1,
                Notice::NoSuchMember {
                    name: "carol".into()
                }
            )]
        );
        room.line(1, "@alice hi");
        assert_eq!(drain(&mut room), [send(1, Notice::PrivateToSelf)]);
        room.line(1, "/msg bob");
        assert_eq!(drain(&mut room), [send(1, Notice::PrivateUsage)]);
    }

    #[test]
    fn list_help_and_unknown() {
        let mut room = room();
        joined(&mut room, 1, "bob");
        joined(&mut room, 2, "Alice");
        room.line(2, "/who");
        assert_eq!(
            drain(&mut room),
            [send(
                2,
                Notice::Members {
                    names: vec!["Alice".into(), "bob".into()]
                }
            )]
        );
        room.line(2, "/help");
        assert_eq!(drain(&mut room), [send(2, Notice::Help)]);
        room.line(2, "/dance now");
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
        room.line(1, "/quit");
        room.disconnect(1, LeaveReason::Lost);
        assert_eq!(
            drain(&mut room),
            [
                send(1, Notice::Bye),
                RoomEvent::Close(1),
                RoomEvent::Broadcast {
                    except: None,
                    notice: Notice::Left {
                        name: "alice".into(),
                        reason: LeaveReason::Quit
                    }
                },
            ]
        );
        // the name is free again
        room.connect(3);
        room.line(3, "ALICE");
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
                RoomEvent::Broadcast {
                    except: None,
                    notice: Notice::Left {
                        name: "bob".into(),
                        reason: LeaveReason::TooSlow
                    }
                },
            ]
        );
    }

    #[test]
    fn full_room_turns_connections_away() {
        let mut room = Room::new(RoomConfig {
            max_clients: 2,
            max_line_bytes: 10,
            reserved_names: vec![],
        });
        joined(&mut room, 1, "alice");
        room.connect(2);
        drain(&mut room);
        room.connect(3);
        assert_eq!(
            drain(&mut room),
            [
                send(3, Notice::RoomFull { max_clients: 2 }),
                RoomEvent::Close(3)
            ]
        );
        room.disconnect(2, LeaveReason::Lost);
        drain(&mut room);
        room.connect(4);
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
        room.line(1, "anyone?");
        room.disconnect(1, LeaveReason::Lost);
        room.connect(5);
        assert_eq!(drain(&mut room), [RoomEvent::Close(1), RoomEvent::Close(5)]);
    }
}
