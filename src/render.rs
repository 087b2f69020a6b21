//! Turns a semantic `Notice` into the bytes a connection receives: one or
//! more complete lines in the connection's language.
//!
//! System notices get the `* ` prefix here, on every line, so that no
//! translation can forget it; chat lines (`name: text`) never have it.
//! The line shapes a reader can rely on are listed in `docs/protocol.md`
//! (section 3).

use std::time::Duration;

use crate::i18n::{Lang, Localizer};
use crate::room::{
    BanRow, ConsoleUsage, LeaveReason, ListEntry, NameProblem, Notice, OperatorRow, Usage,
    MAX_NAME_CHARS,
};

/// Appends `notice`, rendered, to `out`: every line ends in `\n`.
pub fn render(localizer: &Localizer, notice: &Notice, out: &mut String) {
    let tr = |id: &str, args: &crate::i18n::Args<'_>| localizer.tr(id, args);
    let system = match notice {
        Notice::Chat { from, text } => {
            return chat_line(
                out,
                tr("chat-line", &[("name", from.into()), ("text", text.into())]),
            )
        }
        Notice::Admin { text } => {
            return chat_line(out, tr("admin-line", &[("text", text.into())]))
        }
        Notice::Action { from, text } => {
            let line = tr(
                "action-line",
                &[("name", from.into()), ("text", text.into())],
            );
            return chat_line(out, line);
        }
        Notice::Past { at, line } => {
            // Rendered whole first: a room line is one line, and its time
            // goes in front of it.
            let start = out.len();
            render(localizer, line, out);
            out.insert_str(start, &format!("[{at}] "));
            return;
        }
        Notice::Private { from, text } => {
            let line = tr(
                "private-line",
                &[("name", from.into()), ("text", text.into())],
            );
            return chat_line(out, line);
        }
        Notice::Greeting => tr("greeting", &[]),
        Notice::NamePrompt => tr("name-prompt", &[]),
        Notice::NameRejected { problem } => match problem {
            NameProblem::TooLong => tr("name-too-long", &[("max", MAX_NAME_CHARS.into())]),
            NameProblem::BadCharacters => tr("name-bad-characters", &[]),
            NameProblem::Taken(name) => tr("name-taken", &[("name", name.into())]),
            NameProblem::Reserved(name) => tr("name-reserved", &[("name", name.into())]),
        },
        Notice::JoinFirst { command } => tr("join-first", &[("command", command.into())]),
        Notice::Welcome { name, others } => tr(
            "welcome",
            &[("name", name.into()), ("others", (*others).into())],
        ),
        Notice::Joined { name, count } => tr(
            "joined",
            &[("name", name.into()), ("count", (*count).into())],
        ),
        Notice::Left {
            name,
            reason,
            stayed,
        } => {
            let (id, said) = match reason {
                LeaveReason::Quit => ("left-quit", ""),
                LeaveReason::Lost => ("left-lost", ""),
                LeaveReason::TooSlow => ("left-too-slow", ""),
                LeaveReason::Flood => ("left-flood", ""),
                LeaveReason::Kicked { reason } if reason.is_empty() => ("left-kicked", ""),
                LeaveReason::Kicked { reason } => ("left-kicked-reason", reason.as_str()),
                LeaveReason::Banned => ("left-banned", ""),
            };
            let stayed = duration(localizer, *stayed);
            tr(
                id,
                &[
                    ("name", name.into()),
                    ("stayed", stayed.into()),
                    ("reason", said.into()),
                ],
            )
        }
        Notice::PrivateSent { to } => tr("private-sent", &[("name", to.into())]),
        Notice::PrivateUsage => tr("private-usage", &[]),
        Notice::PrivateToSelf => tr("private-to-self", &[]),
        Notice::NoSuchMember { name } => tr("no-such-member", &[("name", name.into())]),
        Notice::Members { members } => {
            let count = members.len();
            let names: Vec<String> = members
                .iter()
                .map(|ListEntry { name, away }| match away.as_deref() {
                    None => name.clone(),
                    Some("") => tr("list-away-no-reason", &[("name", name.into())]),
                    Some(reason) => tr(
                        "list-away",
                        &[("name", name.into()), ("reason", reason.into())],
                    ),
                })
                .collect();
            let names = names.join(&tr("list-separator", &[]));
            tr(
                "members",
                &[("count", count.into()), ("names", names.into())],
            )
        }
        Notice::Help => tr("help", &[]),
        Notice::UnknownCommand { command } => tr("unknown-command", &[("command", command.into())]),
        Notice::LineTooLong { max_bytes } => tr("line-too-long", &[("max", (*max_bytes).into())]),
        Notice::Bye => tr("bye", &[]),
        Notice::TooSlow => tr("too-slow", &[]),
        Notice::SlowDown => tr("flood-held", &[]),
        Notice::Flooded => tr("flooded", &[]),
        Notice::NameTimeout { seconds } => tr("name-timeout", &[("seconds", (*seconds).into())]),
        Notice::AddressFull { max_per_ip } => tr("address-full", &[("max", (*max_per_ip).into())]),
        Notice::RoomFull { max_clients } => tr("room-full", &[("max", (*max_clients).into())]),
        Notice::Closed => tr("room-closed", &[]),
        Notice::Usage { usage } => {
            let id = match usage {
                Usage::Nick => "usage-nick",
                Usage::Me => "usage-me",
                Usage::Reply => "usage-reply",
                Usage::Query => "usage-query",
                Usage::Unignore => "usage-unignore",
                Usage::Whois => "usage-whois",
                Usage::Timestamps => "usage-timestamps",
            };
            tr(id, &[])
        }
        Notice::Renamed { old, new } => tr("renamed", &[("old", old.into()), ("new", new.into())]),
        Notice::NickSet { name } => tr("nick-set", &[("name", name.into())]),
        Notice::NoOneToReply => tr("no-one-to-reply", &[]),
        Notice::QueryStarted { name } => tr("query-started", &[("name", name.into())]),
        Notice::QueryEnded { name } => tr("query-ended", &[("name", name.into())]),
        Notice::QueryRenamed { old, new } => {
            tr("query-renamed", &[("old", old.into()), ("new", new.into())])
        }
        Notice::QueryPartnerLeft { name } => tr("query-partner-left", &[("name", name.into())]),
        Notice::MutedRoom => tr("muted-room", &[]),
        Notice::UnmutedRoom => tr("unmuted-room", &[]),
        Notice::StillMuted => tr("still-muted", &[]),
        Notice::Ignoring { name } => tr("ignoring", &[("name", name.into())]),
        Notice::Unignored { name } => tr("unignored", &[("name", name.into())]),
        Notice::NotIgnoring { name } => tr("not-ignoring", &[("name", name.into())]),
        Notice::IgnoreList { names } => {
            let count = names.len();
            let names = names.join(&tr("list-separator", &[]));
            tr(
                "ignore-list",
                &[("count", count.into()), ("names", names.into())],
            )
        }
        Notice::IgnoreSelf => tr("ignore-self", &[]),
        Notice::AwaySet { reason: None } => tr("away-set", &[]),
        Notice::AwaySet {
            reason: Some(reason),
        } => tr("away-set-reason", &[("reason", reason.into())]),
        Notice::Back => tr("back", &[]),
        Notice::PeerAway { name, reason } => away_line(localizer, name, reason.as_deref()),
        Notice::Whois {
            name,
            in_room,
            idle,
            away,
            lang,
        } => {
            let first = tr(
                "whois",
                &[
                    ("name", name.into()),
                    ("in_room", duration(localizer, *in_room).into()),
                    ("idle", duration(localizer, *idle).into()),
                    ("language", language_name(localizer, *lang).into()),
                ],
            );
            let second = match away {
                None => tr("whois-here", &[("name", name.into())]),
                Some(reason) => away_line(localizer, name, Some(reason)),
            };
            format!("{first}\n{second}")
        }
        Notice::Motd { text } => tr("motd", &[("text", text.into())]),
        Notice::NoMotd => tr("no-motd", &[]),
        Notice::LangSet { .. } => tr("lang-set", &[]),
        Notice::LangUnknown { asked } => {
            let list = Lang::all()
                .map(|lang| format!("{} ({})", lang.tag(), language_name(localizer, lang)))
                .collect::<Vec<_>>()
                .join(&tr("list-separator", &[]));
            if asked.is_empty() {
                tr("lang-usage", &[("list", list.into())])
            } else {
                tr(
                    "lang-unknown",
                    &[("asked", asked.into()), ("list", list.into())],
                )
            }
        }
        Notice::TimestampsSet { on: true } => tr("timestamps-on", &[]),
        Notice::TimestampsSet { on: false } => tr("timestamps-off", &[]),
        Notice::History { count } => tr("history", &[("count", (*count).into())]),
        Notice::KickedYou { reason } if reason.is_empty() => tr("kicked-you", &[]),
        Notice::KickedYou { reason } => tr("kicked-you-reason", &[("reason", reason.into())]),
        Notice::BannedYou { minutes, reason } => {
            let how_long = ban_length(localizer, *minutes);
            if reason.is_empty() {
                tr("banned-you", &[("how_long", how_long.into())])
            } else {
                tr(
                    "banned-you-reason",
                    &[("how_long", how_long.into()), ("reason", reason.into())],
                )
            }
        }
        Notice::SilencedYou => tr("silenced-you", &[]),
        Notice::UnsilencedYou => tr("unsilenced-you", &[]),
        Notice::Silenced => tr("silenced", &[]),
        Notice::BrokerDown => tr("broker-down", &[]),
        Notice::BrokerBack => tr("broker-back", &[]),
        Notice::CutOff => tr("cut-off", &[]),
        Notice::NotSent => tr("not-sent", &[]),
        Notice::NameBanned { name, minutes } => tr(
            "name-banned",
            &[
                ("name", name.into()),
                ("how_long", ban_length(localizer, *minutes).into()),
            ],
        ),
        Notice::AddressBanned { minutes } => tr(
            "address-banned",
            &[("how_long", ban_length(localizer, *minutes).into())],
        ),
        Notice::ConsoleHelp => tr("console-help", &[]),
        Notice::ConsoleUnknown { command } => tr("console-unknown", &[("command", command.into())]),
        Notice::ConsoleUsage { usage } => {
            let id = match usage {
                ConsoleUsage::Kick => "console-usage-kick",
                ConsoleUsage::Ban => "console-usage-ban",
                ConsoleUsage::Unban => "console-usage-unban",
                ConsoleUsage::Mute => "console-usage-mute",
                ConsoleUsage::Unmute => "console-usage-unmute",
                ConsoleUsage::Say => "console-usage-say",
            };
            tr(id, &[])
        }
        Notice::ConsoleMembers { rows } => {
            let mut text = tr("console-members", &[("count", rows.len().into())]);
            for row in rows {
                text.push('\n');
                text.push_str(&operator_row(localizer, row));
            }
            text
        }
        Notice::ConsoleKicked { name } => tr("console-kicked", &[("name", name.into())]),
        Notice::ConsoleBanned {
            target,
            minutes,
            kicked,
        } => tr(
            "console-banned",
            &[
                ("target", target.into()),
                ("how_long", ban_length(localizer, *minutes).into()),
                ("kicked", (*kicked).into()),
            ],
        ),
        Notice::ConsoleUnbanned { target } => tr("console-unbanned", &[("target", target.into())]),
        Notice::ConsoleNotBanned { target } => {
            tr("console-not-banned", &[("target", target.into())])
        }
        Notice::ConsoleBans { rows } => {
            let mut text = tr("console-bans", &[("count", rows.len().into())]);
            for BanRow {
                target,
                minutes,
                reason,
            } in rows
            {
                text.push('\n');
                text.push_str(&tr(
                    "console-ban-row",
                    &[
                        ("target", target.into()),
                        ("how_long", ban_length(localizer, *minutes).into()),
                        ("reason", reason.into()),
                    ],
                ));
            }
            text
        }
        Notice::ConsoleLoopback { target } => tr("console-loopback", &[("target", target.into())]),
        Notice::ConsoleMuted { name } => tr("console-muted", &[("name", name.into())]),
        Notice::ConsoleUnmuted { name } => tr("console-unmuted", &[("name", name.into())]),
        Notice::ConsoleMotdSet => tr("console-motd-set", &[]),
        Notice::ConsoleMotdCleared => tr("console-motd-cleared", &[]),
    };
    for line in system.lines() {
        out.push_str("* ");
        out.push_str(line);
        out.push('\n');
    }
}

/// A notice as one string, lines joined by `\n`, with no trailing newline:
/// for the server's log.
pub fn render_line(localizer: &Localizer, notice: &Notice) -> String {
    let mut out = String::new();
    render(localizer, notice, &mut out);
    out.truncate(out.trim_end_matches('\n').len());
    out
}

/// `NAME is away: REASON`, or without a reason when none was given.
fn away_line(localizer: &Localizer, name: &str, reason: Option<&str>) -> String {
    match reason.filter(|reason| !reason.is_empty()) {
        Some(reason) => localizer.tr(
            "peer-away",
            &[("name", name.into()), ("reason", reason.into())],
        ),
        None => localizer.tr("peer-away-no-reason", &[("name", name.into())]),
    }
}

/// How long a ban lasts: so many minutes, or until it is lifted.
fn ban_length(localizer: &Localizer, minutes: Option<u64>) -> String {
    match minutes {
        Some(minutes) => localizer.tr("ban-minutes", &[("n", minutes.into())]),
        None => localizer.tr("ban-forever", &[]),
    }
}

/// One member in the console's `/list`.
fn operator_row(localizer: &Localizer, row: &OperatorRow) -> String {
    let mut line = localizer.tr(
        "console-member-row",
        &[
            ("name", row.name.as_str().into()),
            ("addr", row.addr.as_str().into()),
            ("stayed", duration(localizer, row.stayed).into()),
        ],
    );
    if let Some(reason) = &row.away {
        line.push_str(&localizer.tr("list-separator", &[]));
        line.push_str(&away_line(localizer, &row.name, Some(reason)));
    }
    if row.muted {
        line.push_str(&localizer.tr("list-separator", &[]));
        line.push_str(&localizer.tr("console-row-muted", &[]));
    }
    line
}

/// A language's own name (`English`, `简体中文`).
fn language_name(localizer: &Localizer, lang: Lang) -> String {
    localizer.tr("language-name", &[("tag", lang.tag().into())])
}

/// How long something lasted, as a person would say it: seconds under a
/// minute, minutes under an hour, else hours and minutes.
pub fn duration(localizer: &Localizer, duration: Duration) -> String {
    let secs = duration.as_secs();
    let (hours, minutes) = (secs / 3600, secs / 60 % 60);
    if secs < 60 {
        localizer.tr("duration-seconds", &[("n", secs.into())])
    } else if secs < 3600 {
        localizer.tr("duration-minutes", &[("n", minutes.into())])
    } else if minutes == 0 {
        localizer.tr("duration-hours", &[("hours", hours.into())])
    } else {
        localizer.tr(
            "duration-hours-minutes",
            &[("hours", hours.into()), ("minutes", minutes.into())],
        )
    }
}

fn chat_line(out: &mut String, line: String) {
    out.push_str(&line);
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::parse_lang;
    use crate::room::{LocalTime, NoticeKind};

    /// Samples of every kind of notice: the match is exhaustive, so a new
    /// notice does not compile until it has samples here.
    fn samples(kind: NoticeKind) -> Vec<Notice> {
        let name = || "alice".to_string();
        match kind {
            NoticeKind::Greeting => vec![Notice::Greeting],
            NoticeKind::NamePrompt => vec![Notice::NamePrompt],
            NoticeKind::NameRejected => [
                NameProblem::TooLong,
                NameProblem::BadCharacters,
                NameProblem::Taken(name()),
                NameProblem::Reserved(name()),
            ]
            .into_iter()
            .map(|problem| Notice::NameRejected { problem })
            .collect(),
            NoticeKind::JoinFirst => vec![Notice::JoinFirst {
                command: "/list".into(),
            }],
            NoticeKind::Welcome => [0, 1, 12]
                .into_iter()
                .map(|others| Notice::Welcome {
                    name: name(),
                    others,
                })
                .collect(),
            NoticeKind::Joined => [2, 3]
                .into_iter()
                .map(|count| Notice::Joined {
                    name: name(),
                    count,
                })
                .collect(),
            NoticeKind::Left => [
                LeaveReason::Quit,
                LeaveReason::Lost,
                LeaveReason::TooSlow,
                LeaveReason::Flood,
                LeaveReason::Kicked {
                    reason: String::new(),
                },
                LeaveReason::Kicked {
                    reason: "rude".into(),
                },
                LeaveReason::Banned,
            ]
            .into_iter()
            .flat_map(|reason| {
                [0, 1, 59, 60, 3600, 3660, 7322].map(|secs| Notice::Left {
                    name: name(),
                    reason: reason.clone(),
                    stayed: Duration::from_secs(secs),
                })
            })
            .collect(),
            NoticeKind::Chat => vec![Notice::Chat {
                from: name(),
                text: "hi".into(),
            }],
            NoticeKind::Admin => vec![Notice::Admin { text: "hi".into() }],
            NoticeKind::Private => vec![Notice::Private {
                from: name(),
                text: "hi".into(),
            }],
            NoticeKind::PrivateSent => vec![Notice::PrivateSent { to: name() }],
            NoticeKind::PrivateUsage => vec![Notice::PrivateUsage],
            NoticeKind::PrivateToSelf => vec![Notice::PrivateToSelf],
            NoticeKind::NoSuchMember => vec![Notice::NoSuchMember { name: name() }],
            NoticeKind::Members => {
                let entry = |name: &str, away: Option<&str>| ListEntry {
                    name: name.into(),
                    away: away.map(String::from),
                };
                vec![
                    Notice::Members {
                        members: vec![entry("alice", None)],
                    },
                    Notice::Members {
                        members: vec![
                            entry("alice", Some("")),
                            entry("bob", Some("lunch")),
                            entry("carol", None),
                        ],
                    },
                ]
            }
            NoticeKind::Help => vec![Notice::Help],
            NoticeKind::UnknownCommand => vec![Notice::UnknownCommand {
                command: "/x".into(),
            }],
            NoticeKind::LineTooLong => vec![Notice::LineTooLong { max_bytes: 4096 }],
            NoticeKind::Bye => vec![Notice::Bye],
            NoticeKind::TooSlow => vec![Notice::TooSlow],
            NoticeKind::SlowDown => vec![Notice::SlowDown],
            NoticeKind::Flooded => vec![Notice::Flooded],
            NoticeKind::NameTimeout => vec![Notice::NameTimeout { seconds: 60 }],
            NoticeKind::RoomFull => vec![Notice::RoomFull { max_clients: 10 }],
            NoticeKind::AddressFull => vec![Notice::AddressFull { max_per_ip: 16 }],
            NoticeKind::Closed => vec![Notice::Closed],
            NoticeKind::Usage => [
                Usage::Nick,
                Usage::Me,
                Usage::Reply,
                Usage::Query,
                Usage::Unignore,
                Usage::Whois,
                Usage::Timestamps,
            ]
            .into_iter()
            .map(|usage| Notice::Usage { usage })
            .collect(),
            NoticeKind::Action => vec![Notice::Action {
                from: name(),
                text: "waves".into(),
            }],
            NoticeKind::Renamed => vec![Notice::Renamed {
                old: name(),
                new: "bob".into(),
            }],
            NoticeKind::NickSet => vec![Notice::NickSet { name: name() }],
            NoticeKind::NoOneToReply => vec![Notice::NoOneToReply],
            NoticeKind::QueryStarted => vec![Notice::QueryStarted { name: name() }],
            NoticeKind::QueryEnded => vec![Notice::QueryEnded { name: name() }],
            NoticeKind::QueryRenamed => vec![Notice::QueryRenamed {
                old: name(),
                new: "bob".into(),
            }],
            NoticeKind::QueryPartnerLeft => vec![Notice::QueryPartnerLeft { name: name() }],
            NoticeKind::MutedRoom => vec![Notice::MutedRoom],
            NoticeKind::UnmutedRoom => vec![Notice::UnmutedRoom],
            NoticeKind::StillMuted => vec![Notice::StillMuted],
            NoticeKind::Ignoring => vec![Notice::Ignoring { name: name() }],
            NoticeKind::Unignored => vec![Notice::Unignored { name: name() }],
            NoticeKind::NotIgnoring => vec![Notice::NotIgnoring { name: name() }],
            NoticeKind::IgnoreList => [0, 1, 2]
                .into_iter()
                .map(|n| Notice::IgnoreList {
                    names: ["alice", "bob"][..n]
                        .iter()
                        .map(|s| s.to_string())
                        .collect(),
                })
                .collect(),
            NoticeKind::IgnoreSelf => vec![Notice::IgnoreSelf],
            NoticeKind::AwaySet => vec![
                Notice::AwaySet { reason: None },
                Notice::AwaySet {
                    reason: Some("lunch".into()),
                },
            ],
            NoticeKind::Back => vec![Notice::Back],
            NoticeKind::PeerAway => vec![
                Notice::PeerAway {
                    name: name(),
                    reason: None,
                },
                Notice::PeerAway {
                    name: name(),
                    reason: Some("lunch".into()),
                },
            ],
            NoticeKind::Whois => Lang::all()
                .flat_map(|lang| {
                    [None, Some(String::new()), Some("lunch".to_string())].map(|away| {
                        Notice::Whois {
                            name: name(),
                            in_room: Duration::from_secs(3725),
                            idle: Duration::from_secs(42),
                            away,
                            lang,
                        }
                    })
                })
                .collect(),
            NoticeKind::Motd => vec![Notice::Motd {
                text: "be kind".into(),
            }],
            NoticeKind::NoMotd => vec![Notice::NoMotd],
            NoticeKind::LangSet => Lang::all().map(|lang| Notice::LangSet { lang }).collect(),
            NoticeKind::LangUnknown => vec![
                Notice::LangUnknown { asked: "fr".into() },
                Notice::LangUnknown {
                    asked: String::new(),
                },
            ],
            NoticeKind::TimestampsSet => vec![
                Notice::TimestampsSet { on: true },
                Notice::TimestampsSet { on: false },
            ],
            NoticeKind::History => {
                vec![Notice::History { count: 1 }, Notice::History { count: 20 }]
            }
            NoticeKind::Past => vec![
                Notice::Past {
                    at: LocalTime::new(9, 5),
                    line: Box::new(Notice::Chat {
                        from: name(),
                        text: "hi".into(),
                    }),
                },
                Notice::Past {
                    at: LocalTime::new(23, 59),
                    line: Box::new(Notice::Action {
                        from: name(),
                        text: "waves".into(),
                    }),
                },
            ],
            NoticeKind::KickedYou => vec![
                Notice::KickedYou {
                    reason: String::new(),
                },
                Notice::KickedYou {
                    reason: "rude".into(),
                },
            ],
            NoticeKind::BannedYou => vec![
                Notice::BannedYou {
                    minutes: Some(30),
                    reason: "spam".into(),
                },
                Notice::BannedYou {
                    minutes: None,
                    reason: String::new(),
                },
            ],
            NoticeKind::SilencedYou => vec![Notice::SilencedYou],
            NoticeKind::UnsilencedYou => vec![Notice::UnsilencedYou],
            NoticeKind::Silenced => vec![Notice::Silenced],
            NoticeKind::BrokerDown => vec![Notice::BrokerDown],
            NoticeKind::BrokerBack => vec![Notice::BrokerBack],
            NoticeKind::CutOff => vec![Notice::CutOff],
            NoticeKind::NotSent => vec![Notice::NotSent],
            NoticeKind::NameBanned => vec![
                Notice::NameBanned {
                    name: name(),
                    minutes: Some(1),
                },
                Notice::NameBanned {
                    name: name(),
                    minutes: None,
                },
            ],
            NoticeKind::AddressBanned => vec![Notice::AddressBanned { minutes: Some(5) }],
            NoticeKind::ConsoleHelp => vec![Notice::ConsoleHelp],
            NoticeKind::ConsoleUnknown => vec![Notice::ConsoleUnknown {
                command: "/dance".into(),
            }],
            NoticeKind::ConsoleUsage => [
                ConsoleUsage::Kick,
                ConsoleUsage::Ban,
                ConsoleUsage::Unban,
                ConsoleUsage::Mute,
                ConsoleUsage::Unmute,
                ConsoleUsage::Say,
            ]
            .into_iter()
            .map(|usage| Notice::ConsoleUsage { usage })
            .collect(),
            NoticeKind::ConsoleMembers => vec![
                Notice::ConsoleMembers { rows: vec![] },
                Notice::ConsoleMembers {
                    rows: vec![OperatorRow {
                        name: name(),
                        addr: "192.0.2.1".into(),
                        stayed: Duration::from_secs(75),
                        away: Some("lunch".into()),
                        muted: true,
                    }],
                },
            ],
            NoticeKind::ConsoleKicked => vec![Notice::ConsoleKicked { name: name() }],
            NoticeKind::ConsoleBanned => vec![Notice::ConsoleBanned {
                target: name(),
                minutes: Some(10),
                kicked: 1,
            }],
            NoticeKind::ConsoleUnbanned => vec![Notice::ConsoleUnbanned { target: name() }],
            NoticeKind::ConsoleNotBanned => vec![Notice::ConsoleNotBanned { target: name() }],
            NoticeKind::ConsoleBans => vec![Notice::ConsoleBans {
                rows: vec![BanRow {
                    target: "192.0.2.0/24".into(),
                    minutes: None,
                    reason: "bots".into(),
                }],
            }],
            NoticeKind::ConsoleLoopback => vec![Notice::ConsoleLoopback {
                target: "127.0.0.1".into(),
            }],
            NoticeKind::ConsoleMuted => vec![Notice::ConsoleMuted { name: name() }],
            NoticeKind::ConsoleUnmuted => vec![Notice::ConsoleUnmuted { name: name() }],
            NoticeKind::ConsoleMotdSet => vec![Notice::ConsoleMotdSet],
            NoticeKind::ConsoleMotdCleared => vec![Notice::ConsoleMotdCleared],
        }
    }

    fn all_notices() -> Vec<Notice> {
        NoticeKind::ALL
            .iter()
            .flat_map(|&kind| samples(kind))
            .collect()
    }

    #[test]
    fn every_notice_renders_as_prefixed_lines_in_both_languages() {
        for lang in ["en", "zh-CN"] {
            let localizer = Localizer::new(&parse_lang(lang).unwrap());
            for notice in all_notices() {
                let mut out = String::new();
                render(&localizer, &notice, &mut out);
                assert!(out.ends_with('\n'), "{lang} {notice:?}: {out:?}");
                assert!(
                    !out.contains(['\u{2068}', '\u{2069}', '{', '}']),
                    "{lang} {out:?}"
                );
                let is_chat = matches!(
                    notice,
                    Notice::Chat { .. }
                        | Notice::Admin { .. }
                        | Notice::Private { .. }
                        | Notice::Action { .. }
                        | Notice::Past { .. }
                );
                if let Notice::Action { .. } = notice {
                    assert!(out.starts_with("** "), "{lang} {out:?}");
                }
                if let Notice::Past { at, .. } = &notice {
                    assert!(out.starts_with(&format!("[{at}] ")), "{lang} {out:?}");
                }
                for line in out.lines() {
                    assert_eq!(line.starts_with("* "), !is_chat, "{lang} {line:?}");
                }
            }
        }
    }

    #[test]
    fn chat_has_the_same_shape_in_every_language() {
        for lang in ["en", "zh-CN"] {
            let localizer = Localizer::new(&parse_lang(lang).unwrap());
            let notice = Notice::Chat {
                from: "小明".into(),
                text: "你好 hi".into(),
            };
            assert_eq!(render_line(&localizer, &notice), "小明: 你好 hi");
        }
        let zh = Localizer::new(&parse_lang("zh-CN").unwrap());
        assert_eq!(
            render_line(
                &zh,
                &Notice::Admin {
                    text: "注意".into()
                }
            ),
            "管理员: 注意"
        );
    }

    #[test]
    fn welcome_counts_others_in_digits() {
        // Whatever the wording: the count is there as digits, in both
        // languages (the English plural for one writes its 1 itself).
        for lang in ["en", "zh-CN"] {
            let localizer = Localizer::new(&parse_lang(lang).unwrap());
            for others in [0, 1, 12, 10_000] {
                let line = render_line(
                    &localizer,
                    &Notice::Welcome {
                        name: "a".into(),
                        others,
                    },
                );
                let digits = line
                    .split(|c: char| !c.is_ascii_digit())
                    .any(|run| run == others.to_string());
                assert!(digits, "{lang} {others}: {line}");
            }
        }
    }
}
