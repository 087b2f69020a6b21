//! What changes the room for everyone, as one value: a standalone room
//! carries a `Shared` out at once; a bridged room publishes it (through
//! `RoomEvent::Publish`) and carries it out when the broker hands it back,
//! in the stream's order, on every server alike (`Room::apply`). Whatever
//! only concerns one connection (its language, mute, ignores, a query, a
//! refusal) never becomes a `Shared`.

use std::net::IpAddr;

use super::bans::BanTarget;
use super::events::{LeaveReason, MemberId};
use crate::i18n::Lang;

/// Who did it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Author {
    Member(MemberId),
    /// The operator of some server's console.
    Console,
}

/// One change of the room, with its author.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shared {
    pub author: Author,
    pub op: SharedOp,
}

/// The changes, each already checked by the server that made it (flood
/// control, an operator's mute, the name rules against what it knew);
/// what can have changed since (a name taken meanwhile, a member gone) is
/// checked again when carried out. `M` names the members it refers to:
/// the room's `MemberId`s, or on the broker's stream ids every server
/// knows (`map_members` turns one into the other).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SharedOp<M = MemberId> {
    /// The author, a new member id, asks to join under `name`; it reads
    /// `lang` (for `/whois`).
    Join {
        name: String,
        ip: IpAddr,
        lang: Lang,
    },
    /// The member now reads `lang` (for `/whois`; what it receives is its
    /// own server's business).
    Language {
        lang: Lang,
    },
    Say {
        text: String,
    },
    Action {
        text: String,
    },
    /// `to_name` is what the sender typed, for telling it the member is
    /// gone.
    Private {
        to: M,
        to_name: String,
        text: String,
    },
    Rename {
        name: String,
    },
    /// `None` is back; `Some("")` is away without a reason.
    Away {
        reason: Option<String>,
    },
    /// Quit, lost, too slow or flooding: the member is already closed on
    /// its own server.
    Leave {
        reason: LeaveReason,
    },
    Admin {
        text: String,
    },
    Kick {
        target: M,
        reason: String,
    },
    Silence {
        target: M,
        on: bool,
    },
    Ban {
        targets: Vec<BanTarget>,
        minutes: Option<u64>,
        reason: String,
    },
    Unban {
        target: BanTarget,
    },
}

impl<M> SharedOp<M> {
    /// The same change with its members named by `map`; `None` when `map`
    /// knows one of them not (it left, or joined before this server caught
    /// up).
    pub fn map_members<N>(self, mut map: impl FnMut(M) -> Option<N>) -> Option<SharedOp<N>> {
        Some(match self {
            SharedOp::Private { to, to_name, text } => SharedOp::Private {
                to: map(to)?,
                to_name,
                text,
            },
            SharedOp::Kick { target, reason } => SharedOp::Kick {
                target: map(target)?,
                reason,
            },
            SharedOp::Silence { target, on } => SharedOp::Silence {
                target: map(target)?,
                on,
            },
            SharedOp::Join { name, ip, lang } => SharedOp::Join { name, ip, lang },
            SharedOp::Language { lang } => SharedOp::Language { lang },
            SharedOp::Say { text } => SharedOp::Say { text },
            SharedOp::Action { text } => SharedOp::Action { text },
            SharedOp::Rename { name } => SharedOp::Rename { name },
            SharedOp::Away { reason } => SharedOp::Away { reason },
            SharedOp::Leave { reason } => SharedOp::Leave { reason },
            SharedOp::Admin { text } => SharedOp::Admin { text },
            SharedOp::Ban {
                targets,
                minutes,
                reason,
            } => SharedOp::Ban {
                targets,
                minutes,
                reason,
            },
            SharedOp::Unban { target } => SharedOp::Unban { target },
        })
    }
}

/// How the room reaches the rest of itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// No bridge: changes are carried out at once.
    Standalone,
    /// Bridged, the broker reachable (or being caught up with): changes
    /// are published.
    Up,
    /// Bridged, the broker out of reach: changes are refused with a
    /// notice, except departures, which wait to be published.
    Down,
}

#[cfg(test)]
mod tests {
    //! Two bridged rooms joined by a fake stream: what each publishes is
    //! appended to one list, which both carry out in its order, with the
    //! other room's ids mapped as the bridge maps them.
    use std::collections::HashMap;

    use super::*;
    use crate::room::tests::{drain, room, start};
    use crate::room::{ConnId, NameProblem, Notice, Room, RoomEvent};

    /// A room of the fake bridge, with its map of the other's members.
    struct Server {
        room: Room,
        /// The other server's member id -> this room's id.
        theirs: HashMap<MemberId, MemberId>,
        /// What its connections were sent.
        sent: Vec<(ConnId, Notice)>,
        broadcasts: Vec<Notice>,
    }

    impl Server {
        fn new() -> Server {
            let mut room = room();
            room.set_link(Link::Up);
            Server {
                room,
                theirs: HashMap::new(),
                sent: Vec::new(),
                broadcasts: Vec::new(),
            }
        }

        /// Drains events: what is published goes to `stream`, tagged with
        /// the server's index.
        fn drain(&mut self, index: usize, stream: &mut Vec<(usize, Shared)>) {
            for event in drain(&mut self.room) {
                match event {
                    RoomEvent::Publish(shared) => stream.push((index, shared)),
                    RoomEvent::Send { to, notice } => self.sent.push((to, notice)),
                    RoomEvent::Broadcast { notice, .. } => self.broadcasts.push(notice),
                    _ => {}
                }
            }
        }
    }

    /// Both servers carry out the stream, in order, until nothing more is
    /// published.
    fn settle(servers: &mut [Server; 2]) {
        let mut stream = Vec::new();
        for (index, server) in servers.iter_mut().enumerate() {
            server.drain(index, &mut stream);
        }
        while !stream.is_empty() {
            let mut next = Vec::new();
            for (origin, shared) in stream {
                // The origin's ids of the other's own members.
                let back: HashMap<MemberId, MemberId> = servers[origin]
                    .theirs
                    .iter()
                    .map(|(theirs, mine)| (*mine, *theirs))
                    .collect();
                for (index, server) in servers.iter_mut().enumerate() {
                    let map = |server: &Server, id: MemberId| {
                        if index == origin {
                            Some(id)
                        } else {
                            back.get(&id).or(server.theirs.get(&id)).copied()
                        }
                    };
                    let author = match &shared.author {
                        Author::Console => Author::Console,
                        Author::Member(id) if index == origin => Author::Member(*id),
                        Author::Member(id) if matches!(shared.op, SharedOp::Join { .. }) => {
                            let local = server.room.allocate_member();
                            server.theirs.insert(*id, local);
                            Author::Member(local)
                        }
                        Author::Member(id) => match map(server, *id) {
                            Some(local) => Author::Member(local),
                            None => continue,
                        },
                    };
                    let Some(op) = shared.op.clone().map_members(|id| map(server, id)) else {
                        continue;
                    };
                    server.room.apply(author, op);
                    server.drain(index, &mut next);
                }
            }
            stream = next;
        }
    }

    fn join(servers: &mut [Server; 2], index: usize, conn: ConnId, name: &str) {
        let room = &mut servers[index].room;
        room.connect(conn, "127.0.0.1".parse().unwrap(), start());
        room.line(conn, name, start());
    }

    fn welcomed(server: &Server, conn: ConnId) -> bool {
        server
            .sent
            .iter()
            .any(|(to, notice)| *to == conn && matches!(notice, Notice::Welcome { .. }))
    }

    #[test]
    fn two_servers_agree_on_who_got_a_name_and_on_the_order_of_lines() {
        let mut servers = [Server::new(), Server::new()];
        // Both ask for lookalike names before either hears of the other.
        join(&mut servers, 0, 1, "alice");
        join(&mut servers, 1, 1, "Alice");
        settle(&mut servers);
        assert!(welcomed(&servers[0], 1), "the first in the stream wins");
        assert!(!welcomed(&servers[1], 1));
        assert!(servers[1].sent.iter().any(|(to, notice)| *to == 1
            && matches!(
                notice,
                Notice::NameRejected {
                    problem: NameProblem::Taken { .. }
                }
            )));
        // The refused one tries again; its next line was kept meanwhile.
        servers[1].room.line(1, "bob", start());
        servers[1].room.line(1, "hi from b", start());
        servers[0].room.line(1, "hi from a", start());
        settle(&mut servers);
        assert!(welcomed(&servers[1], 1));
        let lines = |server: &Server| -> Vec<String> {
            server
                .broadcasts
                .iter()
                .filter_map(|notice| match notice {
                    Notice::Chat { from, text } => Some(format!("{from}: {text}")),
                    _ => None,
                })
                .collect()
        };
        assert_eq!(lines(&servers[0]), lines(&servers[1]));
        assert_eq!(lines(&servers[0]).len(), 2);
    }

    #[test]
    fn a_private_message_crosses_and_a_leave_is_announced_once_everywhere() {
        let mut servers = [Server::new(), Server::new()];
        join(&mut servers, 0, 1, "alice");
        join(&mut servers, 1, 1, "bob");
        settle(&mut servers);
        servers[0].room.line(1, "/msg bob psst", start());
        settle(&mut servers);
        assert!(servers[1].sent.iter().any(|(to, notice)| *to == 1
            && *notice
                == Notice::Private {
                    from: "alice".into(),
                    text: "psst".into()
                }));
        assert!(servers[0]
            .sent
            .iter()
            .any(|(to, notice)| *to == 1 && *notice == Notice::PrivateSent { to: "bob".into() }));
        servers[1].room.disconnect(1, LeaveReason::Quit);
        settle(&mut servers);
        for server in &servers {
            let leaves = server
                .broadcasts
                .iter()
                .filter(|notice| matches!(notice, Notice::Left { name, .. } if name == "bob"))
                .count();
            assert_eq!(leaves, 1);
        }
        // The name is free again on the other server.
        join(&mut servers, 0, 2, "bob");
        settle(&mut servers);
        assert!(welcomed(&servers[0], 2));
    }

    #[test]
    fn while_the_broker_is_out_of_reach_lines_are_refused_and_leaves_wait() {
        let mut servers = [Server::new(), Server::new()];
        join(&mut servers, 0, 1, "alice");
        settle(&mut servers);
        servers[0].room.set_link(Link::Down);
        servers[0].room.line(1, "hello?", start());
        let mut stream = Vec::new();
        servers[0].drain(0, &mut stream);
        assert!(stream.is_empty(), "nothing published");
        assert!(servers[0].broadcasts.contains(&Notice::BrokerDown));
        assert!(servers[0].sent.contains(&(1, Notice::NotSent)));
        servers[0].room.disconnect(1, LeaveReason::Quit);
        servers[0].drain(0, &mut stream);
        assert!(
            matches!(
                &stream[..],
                [(
                    0,
                    Shared {
                        op: SharedOp::Leave { .. },
                        ..
                    }
                )]
            ),
            "a departure waits to be published: {stream:?}"
        );
    }

    #[test]
    fn while_the_broker_is_out_of_reach_the_operator_is_refused_too() {
        let mut servers = [Server::new(), Server::new()];
        join(&mut servers, 0, 1, "alice");
        settle(&mut servers);
        servers[0].room.set_link(Link::Down);
        drain(&mut servers[0].room);
        for command in ["/kick alice", "/mute alice", "/ban alice 5", "/say hello"] {
            servers[0].room.admin_line(command);
            let events = drain(&mut servers[0].room);
            assert_eq!(
                events,
                [RoomEvent::Console(Notice::NotSent)],
                "{command}: refused, and not reported as done"
            );
        }
    }

    #[test]
    fn a_connection_that_closes_before_its_join_comes_back_leaves_at_once() {
        let mut servers = [Server::new(), Server::new()];
        join(&mut servers, 0, 1, "alice");
        servers[0].room.disconnect(1, LeaveReason::Lost);
        settle(&mut servers);
        assert!(!welcomed(&servers[0], 1));
        for server in &servers {
            assert!(server
                .broadcasts
                .iter()
                .any(|notice| matches!(notice, Notice::Left { name, .. } if name == "alice")));
        }
        join(&mut servers, 1, 1, "alice");
        settle(&mut servers);
        assert!(welcomed(&servers[1], 1), "the name was freed");
    }
}
