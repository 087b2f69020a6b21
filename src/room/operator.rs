//! The operator's console commands (PROTOCOL.md section 6): parsed from a
//! console line that starts with `/`, carried out on the room, answered
//! with `RoomEvent::Console` notices for the server's log. Sans-IO like the
//! rest of the room: time is the room's latest `now`, and the bans file is
//! the server's (`RoomEvent::BansChanged`).

use std::time::{Duration, Instant};

use super::bans::{Ban, BanTarget, Bans};
use super::{
    Author, BanRow, ConsoleUsage, LeaveReason, MemberId, Notice, OperatorRow, Room, RoomEvent,
    SharedOp,
};
use crate::protocol::sanitize;

/// A console line after its `/`, split into what it asks for.
#[derive(Debug, PartialEq, Eq)]
enum ConsoleCommand<'a> {
    Help,
    List,
    Kick {
        name: &'a str,
        reason: &'a str,
    },
    Ban {
        target: &'a str,
        minutes: Option<u64>,
        reason: &'a str,
    },
    Unban(&'a str),
    Bans,
    Mute(&'a str),
    Unmute(&'a str),
    Motd(&'a str),
    Say(&'a str),
    Usage(ConsoleUsage),
    Unknown(&'a str),
}

/// Parses `line`, the console line without its leading `/`.
fn parse(line: &str) -> ConsoleCommand<'_> {
    let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
    let rest = rest.trim();
    let (first, after) = rest.split_once(' ').unwrap_or((rest, ""));
    let after = after.trim();
    match word.to_ascii_lowercase().as_str() {
        "help" | "h" | "?" => ConsoleCommand::Help,
        "list" | "ls" | "who" => ConsoleCommand::List,
        "kick" if !first.is_empty() => ConsoleCommand::Kick {
            name: first,
            reason: after,
        },
        "kick" => ConsoleCommand::Usage(ConsoleUsage::Kick),
        "ban" if !first.is_empty() => {
            let (minutes, reason) = match after.split_once(' ').unwrap_or((after, "")) {
                (number, reason)
                    if !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) =>
                {
                    (number.parse().ok(), reason.trim())
                }
                _ => (None, after),
            };
            ConsoleCommand::Ban {
                target: first,
                minutes,
                reason,
            }
        }
        "ban" => ConsoleCommand::Usage(ConsoleUsage::Ban),
        "unban" if !first.is_empty() => ConsoleCommand::Unban(first),
        "unban" => ConsoleCommand::Usage(ConsoleUsage::Unban),
        "bans" => ConsoleCommand::Bans,
        "mute" if !first.is_empty() => ConsoleCommand::Mute(first),
        "mute" => ConsoleCommand::Usage(ConsoleUsage::Mute),
        "unmute" if !first.is_empty() => ConsoleCommand::Unmute(first),
        "unmute" => ConsoleCommand::Usage(ConsoleUsage::Unmute),
        "motd" => ConsoleCommand::Motd(rest),
        "say" if !rest.is_empty() => ConsoleCommand::Say(rest),
        "say" => ConsoleCommand::Usage(ConsoleUsage::Say),
        _ => ConsoleCommand::Unknown(word),
    }
}

impl Room {
    /// Loads the bans kept from an earlier run (the server read the file).
    pub fn load_bans(&mut self, bans: Bans) {
        self.bans = bans;
    }

    /// Bridged: the bans in force, each with the whole minutes it has
    /// left (`None`: until unbanned), for a server joining the room.
    pub fn bans_in_force(&self) -> Vec<(BanTarget, Option<u64>, String)> {
        let Some(now) = self.now else {
            return Vec::new();
        };
        self.bans
            .iter()
            .filter(|ban| ban.until.is_none_or(|until| until > now))
            .map(|ban| {
                (
                    ban.target.clone(),
                    ban.minutes_left(now),
                    ban.reason.clone(),
                )
            })
            .collect()
    }

    /// Bridged, when catching up: a ban the room already had; kept with
    /// the bans from this server's file (the same target: the later end).
    pub fn adopt_ban(&mut self, target: BanTarget, minutes: Option<u64>, reason: String) {
        let Some(now) = self.now else {
            return;
        };
        let until = minutes.map(|m| now + Duration::from_secs(m.saturating_mul(60)));
        let known = self.bans.iter().find(|ban| ban.target == target);
        let keep = match known {
            None => true,
            Some(ban) => match (ban.until, until) {
                (None, _) => false,
                (Some(_), None) => true,
                (Some(old), Some(new)) => new > old,
            },
        };
        if keep {
            self.bans.add(Ban {
                target,
                until,
                reason,
            });
            self.bans_changed();
        }
    }

    /// A console command: `line` is what followed the `/`.
    pub(super) fn console_command(&mut self, line: &str) {
        let Some(now) = self.now else {
            // The reactor sets the clock before any input; without it no
            // time-bound command can be carried out.
            return;
        };
        if self.bans.expire(now) {
            self.bans_changed();
        }
        match parse(line) {
            ConsoleCommand::Help => self.reply(Notice::ConsoleHelp),
            ConsoleCommand::List => self.console_list(now),
            ConsoleCommand::Kick { name, reason } => {
                let Some(member) = self.console_find(name) else {
                    return;
                };
                let reason = sanitize(reason);
                let name = self.name_of_member(member);
                let kick = SharedOp::Kick {
                    target: member,
                    reason,
                };
                if self.commit(Author::Console, kick) {
                    self.reply(Notice::ConsoleKicked { name });
                }
            }
            ConsoleCommand::Ban {
                target,
                minutes,
                reason,
            } => self.ban(target, minutes, &sanitize(reason), now),
            ConsoleCommand::Unban(text) => {
                let target = text.to_string();
                let found = BanTarget::parse(text).filter(|t| self.bans.contains(t));
                if let Some(found) = found {
                    if self.commit(Author::Console, SharedOp::Unban { target: found }) {
                        self.reply(Notice::ConsoleUnbanned { target });
                    }
                } else {
                    self.reply(Notice::ConsoleNotBanned { target });
                }
            }
            ConsoleCommand::Bans => {
                let rows = self
                    .bans
                    .iter()
                    .map(|ban| BanRow {
                        target: ban.target.to_string(),
                        minutes: ban.minutes_left(now),
                        reason: ban.reason.clone(),
                    })
                    .collect();
                self.reply(Notice::ConsoleBans { rows });
            }
            ConsoleCommand::Mute(name) => self.silence(name, true),
            ConsoleCommand::Unmute(name) => self.silence(name, false),
            ConsoleCommand::Motd(text) => {
                self.motd = sanitize(text).trim().to_string();
                if self.motd.is_empty() {
                    self.reply(Notice::ConsoleMotdCleared);
                } else {
                    self.reply(Notice::ConsoleMotdSet);
                }
            }
            ConsoleCommand::Say(text) => self.say_as_admin(text),
            ConsoleCommand::Usage(usage) => self.reply(Notice::ConsoleUsage { usage }),
            ConsoleCommand::Unknown(word) => {
                let command = format!("/{}", sanitize(word));
                self.reply(Notice::ConsoleUnknown { command });
            }
        }
    }

    fn reply(&mut self, notice: Notice) {
        self.events.push_back(RoomEvent::Console(notice));
    }

    pub(super) fn bans_changed(&mut self) {
        let bans = self.bans.clone();
        self.events.push_back(RoomEvent::BansChanged { bans });
    }

    /// The member named like `name`, or a console reply saying there is
    /// none.
    fn console_find(&mut self, name: &str) -> Option<MemberId> {
        let found = self
            .names
            .find(name)
            .filter(|member| self.members.contains_key(member));
        if found.is_none() {
            let name = sanitize(name);
            self.reply(Notice::NoSuchMember { name });
        }
        found
    }

    fn name_of_member(&self, member: MemberId) -> String {
        self.members
            .get(&member)
            .map(|state| state.name.clone())
            .unwrap_or_default()
    }

    fn console_list(&mut self, now: Instant) {
        let mut rows: Vec<OperatorRow> = self
            .members
            .values()
            .map(|state| OperatorRow {
                name: state.name.clone(),
                addr: state.ip.to_canonical().to_string(),
                stayed: now.saturating_duration_since(state.joined_at),
                away: state.away.clone(),
                muted: state.silenced,
            })
            .collect();
        rows.sort_by_cached_key(|row| row.name.to_lowercase());
        self.reply(Notice::ConsoleMembers { rows });
    }

    /// `/ban`: a name (which also bans the member's address, unless it is
    /// loopback) or an address with a prefix; matching members are
    /// dropped.
    fn ban(&mut self, text: &str, minutes: Option<u64>, reason: &str, now: Instant) {
        let Some(target) = BanTarget::parse(text) else {
            self.reply(Notice::ConsoleUsage {
                usage: ConsoleUsage::Ban,
            });
            return;
        };
        if target.is_loopback() {
            let target = target.to_string();
            self.reply(Notice::ConsoleLoopback { target });
            return;
        }
        let until = minutes.map(|m| now + Duration::from_secs(m.saturating_mul(60)));
        let mut targets = vec![target.clone()];
        if let BanTarget::Name { name, .. } = &target {
            let address = self
                .names
                .find(name)
                .and_then(|member| self.members.get(&member))
                .map(|state| BanTarget::address(state.ip))
                .filter(|address| !address.is_loopback());
            targets.extend(address);
        }
        // Counted before: bridged, the ban is carried out when it comes
        // back from the broker.
        let probe = Bans::new(
            targets
                .iter()
                .map(|target| Ban {
                    target: target.clone(),
                    until,
                    reason: String::new(),
                })
                .collect(),
        );
        let kicked = self
            .members
            .values()
            .filter(|state| {
                probe.on_name(&state.name, now).is_some()
                    || probe.on_address(state.ip, now).is_some()
            })
            .count();
        let ban = SharedOp::Ban {
            targets,
            minutes,
            reason: reason.to_string(),
        };
        if self.commit(Author::Console, ban) {
            let target = target.to_string();
            self.reply(Notice::ConsoleBanned {
                target,
                minutes,
                kicked,
            });
        }
    }

    /// A ban comes back (or, standalone, is made): it is added, and
    /// everyone it now matches goes.
    pub(super) fn apply_ban(
        &mut self,
        targets: Vec<BanTarget>,
        minutes: Option<u64>,
        reason: String,
    ) {
        let Some(now) = self.now else {
            return;
        };
        let until = minutes.map(|m| now + Duration::from_secs(m.saturating_mul(60)));
        for target in targets {
            self.bans.add(Ban {
                target,
                until,
                reason: reason.clone(),
            });
        }
        self.bans_changed();
        let matching: Vec<MemberId> = self
            .members
            .iter()
            .filter(|(_, state)| {
                self.bans.on_name(&state.name, now).is_some()
                    || self.bans.on_address(state.ip, now).is_some()
            })
            .map(|(&member, _)| member)
            .collect();
        for member in matching {
            if let Some(conn) = self.members.get(&member).and_then(|state| state.conn) {
                let reason = reason.clone();
                self.send(conn, Notice::BannedYou { minutes, reason });
            }
            self.depart(member, LeaveReason::Banned);
        }
    }

    fn silence(&mut self, name: &str, on: bool) {
        let Some(member) = self.console_find(name) else {
            return;
        };
        let name = self.name_of_member(member);
        if !self.commit(Author::Console, SharedOp::Silence { target: member, on }) {
            return;
        }
        if on {
            self.reply(Notice::ConsoleMuted { name });
        } else {
            self.reply(Notice::ConsoleUnmuted { name });
        }
    }

    pub(super) fn apply_silence(&mut self, member: MemberId, on: bool) {
        let Some(state) = self.members.get_mut(&member) else {
            return;
        };
        state.silenced = on;
        if let Some(conn) = state.conn {
            let notice = if on {
                Notice::SilencedYou
            } else {
                Notice::UnsilencedYou
            };
            self.send(conn, notice);
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::room::tests::{drain, remote, room, start};
    use crate::room::ConnId;
    use std::net::IpAddr;

    fn join(room: &mut Room, conn: ConnId, ip: IpAddr, name: &str) {
        room.connect(conn, ip, start());
        room.line(conn, name, start());
        drain(room);
    }

    fn console(room: &mut Room) -> Vec<Notice> {
        drain(room)
            .into_iter()
            .filter_map(|event| match event {
                RoomEvent::Console(notice) => Some(notice),
                _ => None,
            })
            .collect()
    }

    fn sent_to(events: &[RoomEvent], conn: ConnId) -> Vec<&Notice> {
        events
            .iter()
            .filter_map(|event| match event {
                RoomEvent::Send { to, notice } if *to == conn => Some(notice),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_kick_tells_the_member_why_and_the_room_gets_the_reason() {
        let mut room = room();
        join(&mut room, 1, remote(1), "alice");
        join(&mut room, 2, remote(2), "bob");
        room.admin_line("/kick BOB being rude");
        let events = drain(&mut room);
        assert_eq!(
            sent_to(&events, 2),
            [&Notice::KickedYou {
                reason: "being rude".into()
            }]
        );
        assert!(events.contains(&RoomEvent::Close { conn: 2 }));
        assert!(events.iter().any(|event| matches!(event,
            RoomEvent::Broadcast { notice: Notice::Left { name, reason: LeaveReason::Kicked { reason }, .. }, .. }
                if name == "bob" && reason == "being rude")));
        assert!(events.contains(&RoomEvent::Console(Notice::ConsoleKicked {
            name: "bob".into()
        })));
        room.admin_line("/kick carol");
        assert_eq!(
            console(&mut room),
            [Notice::NoSuchMember {
                name: "carol".into()
            }]
        );
    }

    #[test]
    fn a_name_ban_keeps_the_name_and_the_address_out_until_it_runs_out() {
        let mut room = room();
        join(&mut room, 1, remote(1), "alice");
        join(&mut room, 2, remote(2), "mallory");
        room.admin_line("/ban mallory 10 spam");
        let events = drain(&mut room);
        assert_eq!(
            sent_to(&events, 2),
            [&Notice::BannedYou {
                minutes: Some(10),
                reason: "spam".into()
            }]
        );
        assert!(
            events.iter().any(
                |event| matches!(event, RoomEvent::BansChanged { bans } if bans.iter().count() == 2)
            ),
            "the name and its address"
        );
        assert!(events.contains(&RoomEvent::Console(Notice::ConsoleBanned {
            target: "mallory".into(),
            minutes: Some(10),
            kicked: 1
        })));
        // The name, and names like it, from anywhere.
        room.connect(3, remote(3), start());
        drain(&mut room);
        room.line(3, "ＭＡＬＬＯＲＹ", start());
        assert_eq!(
            sent_to(&drain(&mut room), 3)[0],
            &Notice::NameBanned {
                name: "ＭＡＬＬＯＲＹ".into(),
                minutes: Some(10)
            }
        );
        // The address, under any name.
        room.connect(4, remote(2), start());
        let events = drain(&mut room);
        assert_eq!(
            sent_to(&events, 4),
            [&Notice::AddressBanned { minutes: Some(10) }]
        );
        assert!(events.contains(&RoomEvent::Close { conn: 4 }));
        // Ten minutes later it is over.
        let later = start() + Duration::from_secs(601);
        room.connect(5, remote(2), later);
        assert_eq!(sent_to(&drain(&mut room), 5)[0], &Notice::Greeting);
        room.line(5, "mallory", later);
        assert!(matches!(
            sent_to(&drain(&mut room), 5)[0],
            Notice::Welcome { .. }
        ));
    }

    #[test]
    fn loopback_is_never_banned_by_address_and_unban_lifts_a_ban() {
        let mut room = room();
        let loopback = IpAddr::from([127, 0, 0, 1]);
        join(&mut room, 1, loopback, "alice");
        room.admin_line("/ban 127.0.0.1");
        assert_eq!(
            console(&mut room),
            [Notice::ConsoleLoopback {
                target: "127.0.0.1".into()
            }]
        );
        room.admin_line("/ban alice");
        let events = drain(&mut room);
        assert!(
            events.iter().any(
                |event| matches!(event, RoomEvent::BansChanged { bans } if bans.iter().count() == 1)
            ),
            "the name only"
        );
        room.connect(2, loopback, start());
        assert_eq!(sent_to(&drain(&mut room), 2)[0], &Notice::Greeting);
        room.admin_line("/bans");
        assert_eq!(
            console(&mut room),
            [Notice::ConsoleBans {
                rows: vec![BanRow {
                    target: "alice".into(),
                    minutes: None,
                    reason: String::new()
                }]
            }]
        );
        room.admin_line("/unban ALICE");
        assert_eq!(
            console(&mut room),
            [Notice::ConsoleUnbanned {
                target: "ALICE".into()
            }]
        );
        room.admin_line("/unban alice");
        assert_eq!(
            console(&mut room),
            [Notice::ConsoleNotBanned {
                target: "alice".into()
            }]
        );
    }

    #[test]
    fn a_muted_member_reads_but_cannot_speak() {
        let mut room = room();
        join(&mut room, 1, remote(1), "alice");
        join(&mut room, 2, remote(2), "bob");
        room.admin_line("/mute bob");
        let events = drain(&mut room);
        assert_eq!(sent_to(&events, 2), [&Notice::SilencedYou]);
        for line in ["hello", "/me waves", "/msg alice psst"] {
            room.line(2, line, start());
            assert_eq!(
                drain(&mut room),
                [RoomEvent::Send {
                    to: 2,
                    notice: Notice::Silenced
                }],
                "{line}"
            );
        }
        room.line(1, "hi bob", start());
        assert!(matches!(drain(&mut room)[0], RoomEvent::Broadcast { .. }));
        room.admin_line("/list");
        let rows = match console(&mut room).pop() {
            Some(Notice::ConsoleMembers { rows }) => rows,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            rows.iter()
                .map(|r| (r.name.as_str(), r.muted))
                .collect::<Vec<_>>(),
            [("alice", false), ("bob", true)]
        );
        assert_eq!(rows[1].addr, "192.0.2.2");
        room.admin_line("/unmute bob");
        drain(&mut room);
        room.line(2, "hello", start());
        assert!(matches!(drain(&mut room)[0], RoomEvent::Broadcast { .. }));
    }

    #[test]
    fn motd_say_escapes_and_unknown_commands() {
        let mut room = room();
        join(&mut room, 1, remote(1), "alice");
        room.admin_line("/motd Welcome all");
        assert_eq!(console(&mut room), [Notice::ConsoleMotdSet]);
        room.line(1, "/motd", start());
        assert_eq!(
            drain(&mut room),
            [RoomEvent::Send {
                to: 1,
                notice: Notice::Motd {
                    text: "Welcome all".into()
                }
            }]
        );
        room.admin_line("/motd");
        assert_eq!(console(&mut room), [Notice::ConsoleMotdCleared]);
        for (line, text) in [("/say /help is how", "/help is how"), ("//slash", "/slash")] {
            room.admin_line(line);
            assert!(
                matches!(&drain(&mut room)[0], RoomEvent::Broadcast { notice: Notice::Admin { text: said }, .. } if said == text),
                "{line}"
            );
        }
        room.admin_line("/dance");
        assert_eq!(
            console(&mut room),
            [Notice::ConsoleUnknown {
                command: "/dance".into()
            }]
        );
        room.admin_line("/kick");
        assert_eq!(
            console(&mut room),
            [Notice::ConsoleUsage {
                usage: ConsoleUsage::Kick
            }]
        );
    }

    #[test]
    fn console_lines_parse() {
        assert_eq!(parse("help"), ConsoleCommand::Help);
        assert_eq!(
            parse("kick bob  being rude"),
            ConsoleCommand::Kick {
                name: "bob",
                reason: "being rude"
            }
        );
        assert_eq!(
            parse("ban 192.0.2.0/24 30 spam bots"),
            ConsoleCommand::Ban {
                target: "192.0.2.0/24",
                minutes: Some(30),
                reason: "spam bots"
            }
        );
        assert_eq!(
            parse("ban bob 2024 was the year"),
            ConsoleCommand::Ban {
                target: "bob",
                minutes: Some(2024),
                reason: "was the year"
            }
        );
        assert_eq!(
            parse("BAN bob rude"),
            ConsoleCommand::Ban {
                target: "bob",
                minutes: None,
                reason: "rude"
            }
        );
        assert_eq!(parse("ban"), ConsoleCommand::Usage(ConsoleUsage::Ban));
        assert_eq!(parse("motd"), ConsoleCommand::Motd(""));
        assert_eq!(
            parse("say /help is a command"),
            ConsoleCommand::Say("/help is a command")
        );
        assert_eq!(parse("dance"), ConsoleCommand::Unknown("dance"));
    }
}
