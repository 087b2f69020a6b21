//! Turns a semantic `Notice` into the bytes a connection receives: one or
//! more complete lines in the connection's language.
//!
//! System notices get the `* ` prefix here, on every line, so that no
//! translation can forget it; chat lines (`name: text`) never have it.
//! The line shapes a reader can rely on are listed in `docs/protocol.md`
//! (section 3).

use crate::i18n::Localizer;
use crate::room::{LeaveReason, NameProblem, Notice, MAX_NAME_CHARS};

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
        Notice::Joined { name } => tr("joined", &[("name", name.into())]),
        Notice::Left { name, reason } => {
            let id = match reason {
                LeaveReason::Quit => "left-quit",
                LeaveReason::Lost => "left-lost",
                LeaveReason::TooSlow => "left-too-slow",
                LeaveReason::Flood => "left-flood",
            };
            tr(id, &[("name", name.into())])
        }
        Notice::PrivateSent { to } => tr("private-sent", &[("name", to.into())]),
        Notice::PrivateUsage => tr("private-usage", &[]),
        Notice::PrivateToSelf => tr("private-to-self", &[]),
        Notice::NoSuchMember { name } => tr("no-such-member", &[("name", name.into())]),
        Notice::Members { names } => {
            let count = names.len();
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

fn chat_line(out: &mut String, line: String) {
    out.push_str(&line);
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::parse_lang;
    use crate::room::NoticeKind;

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
            NoticeKind::Joined => vec![Notice::Joined { name: name() }],
            NoticeKind::Left => [
                LeaveReason::Quit,
                LeaveReason::Lost,
                LeaveReason::TooSlow,
                LeaveReason::Flood,
            ]
            .into_iter()
            .map(|reason| Notice::Left {
                name: name(),
                reason,
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
            NoticeKind::Members => vec![
                Notice::Members {
                    names: vec![name()],
                },
                Notice::Members {
                    names: vec![name(), "bob".into()],
                },
            ],
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
                    Notice::Chat { .. } | Notice::Admin { .. } | Notice::Private { .. }
                );
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
