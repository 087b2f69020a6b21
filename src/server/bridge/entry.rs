//! The room's stream entries, both ways: a `Shared` change (or one of the
//! bridge's own: hello, present, gone, lost) as the field list of an
//! `XADD`, and a field list read back as an `Entry`. Pure: members are
//! named by `Global` ids (the server that carries them and its number), and
//! the caller maps them to the room's `MemberId`s.
//!
//! Every entry has `s` (the server, 16 hex digits), `q` (its sequence
//! number on that server: a retried `XADD` that had gone through is seen
//! twice and skipped by it) and `k` (the kind). Texts are already cleaned
//! (no control characters), so tabs and newlines can separate list items.

use crate::i18n::Lang;
use crate::room::bans::BanTarget;
use crate::room::{LeaveReason, MemberInfo, SharedOp};

/// A member as every server names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Global {
    pub server: u64,
    pub number: u64,
}

impl Global {
    fn to_field(self) -> String {
        format!("{:016x}:{}", self.server, self.number)
    }

    fn parse(text: &str) -> Option<Global> {
        let (server, number) = text.split_once(':')?;
        Some(Global {
            server: u64::from_str_radix(server, 16).ok()?,
            number: number.parse().ok()?,
        })
    }
}

/// A member of a server, as its `present` entry lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Present {
    pub number: u64,
    pub info: MemberInfo,
}

/// What an entry says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// A server joins the room: the others answer with `Present`.
    Hello,
    /// The members of the sender, as of the `Hello` of `to`, and the
    /// bans in force (target, whole minutes left, reason).
    Present {
        to: u64,
        members: Vec<Present>,
        bans: Vec<(BanTarget, Option<u64>, String)>,
    },
    /// The sender is closing: its members leave.
    Gone,
    /// The sender found that `server` stopped renewing its lease.
    Lost { server: u64 },
    /// A change of the room; members in it are `Global` (see `decode`).
    Change {
        /// The author's number on the sender; `None` is a console.
        author: Option<u64>,
        /// For the history of a server catching up: the author's name.
        name: Option<String>,
        op: WireOp,
    },
}

/// A change as the stream carries it: members named as `Global`s.
pub type WireOp = SharedOp<Global>;

/// An entry read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub server: u64,
    pub seq: u64,
    pub body: Body,
}

/// The field list of an entry: `(name, value)` pairs for `XADD`.
pub fn encode(server: u64, seq: u64, body: &Body) -> Vec<(&'static str, String)> {
    let mut fields = vec![("s", format!("{server:016x}")), ("q", seq.to_string())];
    let mut put = |name: &'static str, value: String| fields.push((name, value));
    match body {
        Body::Hello => put("k", "hello".into()),
        Body::Gone => put("k", "gone".into()),
        Body::Lost { server } => {
            put("k", "lost".into());
            put("t", format!("{server:016x}"));
        }
        Body::Present { to, members, bans } => {
            put("k", "present".into());
            put("t", format!("{to:016x}"));
            let list: Vec<String> = members
                .iter()
                .map(|m| {
                    let info = &m.info;
                    let away = info.away.as_ref().map_or("-".into(), |a| format!("+{a}"));
                    let silenced = if info.silenced { "1" } else { "0" };
                    let lang = info.lang.tag();
                    format!(
                        "{}\t{}\t{}\t{silenced}\t{lang}\t{away}",
                        m.number, info.name, info.ip
                    )
                })
                .collect();
            put("l", list.join("\n"));
            let bans: Vec<String> = bans
                .iter()
                .map(|(target, minutes, reason)| {
                    let minutes = minutes.map_or("-".into(), |m| m.to_string());
                    format!("{target}\t{minutes}\t{reason}")
                })
                .collect();
            put("bn", bans.join("\n"));
        }
        Body::Change { author, name, op } => {
            if let Some(author) = author {
                put("m", author.to_string());
            }
            if let Some(name) = name {
                put("n", name.clone());
            }
            match op {
                SharedOp::Join { name, ip, lang } => {
                    put("k", "join".into());
                    put("j", name.clone());
                    put("a", ip.to_string());
                    put("g", lang.tag().into());
                }
                SharedOp::Language { lang } => {
                    put("k", "lang".into());
                    put("g", lang.tag().into());
                }
                SharedOp::Say { text } => {
                    put("k", "say".into());
                    put("t", text.clone());
                }
                SharedOp::Action { text } => {
                    put("k", "act".into());
                    put("t", text.clone());
                }
                SharedOp::Private { to, to_name, text } => {
                    put("k", "msg".into());
                    put("o", to.to_field());
                    put("j", to_name.clone());
                    put("t", text.clone());
                }
                SharedOp::Rename { name } => {
                    put("k", "nick".into());
                    put("j", name.clone());
                }
                SharedOp::Away { reason } => {
                    put("k", "away".into());
                    if let Some(reason) = reason {
                        put("t", reason.clone());
                    }
                }
                SharedOp::Leave { reason } => {
                    put("k", "leave".into());
                    let code = match reason {
                        LeaveReason::Quit => "quit",
                        LeaveReason::Lost => "lost",
                        LeaveReason::TooSlow => "slow",
                        LeaveReason::Flood => "flood",
                        LeaveReason::Banned => "banned",
                        LeaveReason::Kicked { .. } => "kicked",
                    };
                    put("r", code.into());
                    if let LeaveReason::Kicked { reason } = reason {
                        put("t", reason.clone());
                    }
                }
                SharedOp::Admin { text } => {
                    put("k", "admin".into());
                    put("t", text.clone());
                }
                SharedOp::Kick { target, reason } => {
                    put("k", "kick".into());
                    put("o", target.to_field());
                    put("t", reason.clone());
                }
                SharedOp::Silence { target, on } => {
                    put("k", "silence".into());
                    put("o", target.to_field());
                    put("on", if *on { "1" } else { "0" }.into());
                }
                SharedOp::Ban {
                    targets,
                    minutes,
                    reason,
                } => {
                    put("k", "ban".into());
                    let targets: Vec<String> = targets.iter().map(|t| t.to_string()).collect();
                    put("b", targets.join("\n"));
                    put("min", minutes.map_or("-".into(), |m| m.to_string()));
                    put("t", reason.clone());
                }
                SharedOp::Unban { target } => {
                    put("k", "unban".into());
                    put("b", target.to_string());
                }
            }
        }
    }
    fields
}

/// An entry from its field list; `None` for what this version does not
/// understand (it is skipped, so a newer server's kinds do no harm).
pub fn decode(fields: &[(&[u8], &[u8])]) -> Option<Entry> {
    let get = |name: &str| {
        fields
            .iter()
            .find(|(key, _)| *key == name.as_bytes())
            .and_then(|(_, value)| std::str::from_utf8(value).ok())
    };
    let text = |name: &str| get(name).map(str::to_string);
    let hex = |name: &str| get(name).and_then(|v| u64::from_str_radix(v, 16).ok());
    let server = hex("s")?;
    let seq = get("q")?.parse().ok()?;
    let change = |op: WireOp| Body::Change {
        author: get("m").and_then(|m| m.parse().ok()),
        name: text("n"),
        op,
    };
    let body = match get("k")? {
        "hello" => Body::Hello,
        "gone" => Body::Gone,
        "lost" => Body::Lost { server: hex("t")? },
        "present" => Body::Present {
            to: hex("t")?,
            members: get("l")?
                .split('\n')
                .filter(|line| !line.is_empty())
                .filter_map(parse_present)
                .collect(),
            bans: get("bn")
                .unwrap_or_default()
                .split('\n')
                .filter_map(|line| {
                    let mut parts = line.splitn(3, '\t');
                    let target = BanTarget::parse(parts.next()?)?;
                    let minutes = parts.next()?.parse().ok();
                    Some((
                        target,
                        minutes,
                        parts.next().unwrap_or_default().to_string(),
                    ))
                })
                .collect(),
        },
        "join" => change(SharedOp::Join {
            name: text("j")?,
            ip: get("a")?.parse().ok()?,
            lang: Lang::parse(get("g")?)?,
        }),
        "lang" => change(SharedOp::Language {
            lang: Lang::parse(get("g")?)?,
        }),
        "say" => change(SharedOp::Say { text: text("t")? }),
        "act" => change(SharedOp::Action { text: text("t")? }),
        "msg" => change(SharedOp::Private {
            to: Global::parse(get("o")?)?,
            to_name: text("j")?,
            text: text("t")?,
        }),
        "nick" => change(SharedOp::Rename { name: text("j")? }),
        "away" => change(SharedOp::Away { reason: text("t") }),
        "leave" => change(SharedOp::Leave {
            reason: match get("r")? {
                "quit" => LeaveReason::Quit,
                "slow" => LeaveReason::TooSlow,
                "flood" => LeaveReason::Flood,
                "banned" => LeaveReason::Banned,
                "kicked" => LeaveReason::Kicked {
                    reason: text("t").unwrap_or_default(),
                },
                _ => LeaveReason::Lost,
            },
        }),
        "admin" => change(SharedOp::Admin { text: text("t")? }),
        "kick" => change(SharedOp::Kick {
            target: Global::parse(get("o")?)?,
            reason: text("t").unwrap_or_default(),
        }),
        "silence" => change(SharedOp::Silence {
            target: Global::parse(get("o")?)?,
            on: get("on")? == "1",
        }),
        "ban" => change(SharedOp::Ban {
            targets: get("b")?.split('\n').filter_map(BanTarget::parse).collect(),
            minutes: get("min").and_then(|m| m.parse().ok()),
            reason: text("t").unwrap_or_default(),
        }),
        "unban" => change(SharedOp::Unban {
            target: BanTarget::parse(get("b")?)?,
        }),
        _ => return None,
    };
    Some(Entry { server, seq, body })
}

fn parse_present(line: &str) -> Option<Present> {
    // The away reason, free text, comes last.
    let mut parts = line.splitn(6, '\t');
    let number = parts.next()?.parse().ok()?;
    let name = parts.next()?.to_string();
    let ip = parts.next()?.parse().ok()?;
    let silenced = parts.next()? == "1";
    let lang = Lang::parse(parts.next()?)?;
    let away = match parts.next()? {
        "-" => None,
        away => Some(away.strip_prefix('+').unwrap_or(away).to_string()),
    };
    Some(Present {
        number,
        info: MemberInfo {
            name,
            ip,
            away,
            silenced,
            lang,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(body: Body) {
        let fields = encode(0xabc, 7, &body);
        let pairs: Vec<(&[u8], &[u8])> = fields
            .iter()
            .map(|(k, v)| (k.as_bytes(), v.as_bytes()))
            .collect();
        let entry = decode(&pairs).expect("decodes");
        assert_eq!(entry.server, 0xabc);
        assert_eq!(entry.seq, 7);
        assert_eq!(entry.body, body);
    }

    #[test]
    fn every_kind_reads_back_as_written() {
        let member = Global {
            server: 0xfeed,
            number: 42,
        };
        let change = |op| Body::Change {
            author: Some(3),
            name: Some("李雷".into()),
            op,
        };
        round_trip(Body::Hello);
        round_trip(Body::Gone);
        round_trip(Body::Lost { server: 9 });
        round_trip(Body::Present {
            to: 5,
            members: vec![
                Present {
                    number: 1,
                    info: MemberInfo {
                        name: "alice".into(),
                        ip: "192.0.2.1".parse().unwrap(),
                        away: Some("at\tlunch".into()),
                        silenced: true,
                        lang: Lang::parse("zh-CN").unwrap(),
                    },
                },
                Present {
                    number: 2,
                    info: MemberInfo {
                        name: "bob".into(),
                        ip: "::1".parse().unwrap(),
                        away: None,
                        silenced: false,
                        lang: Lang::EN,
                    },
                },
            ],
            bans: vec![
                (
                    BanTarget::parse("mallory").unwrap(),
                    Some(5),
                    "spam\tand more".into(),
                ),
                (
                    BanTarget::parse("192.0.2.0/24").unwrap(),
                    None,
                    String::new(),
                ),
            ],
        });
        round_trip(Body::Present {
            to: 5,
            members: vec![],
            bans: vec![],
        });
        round_trip(change(SharedOp::Join {
            name: "alice".into(),
            ip: "127.0.0.1".parse().unwrap(),
            lang: Lang::parse("zh-CN").unwrap(),
        }));
        round_trip(change(SharedOp::Language { lang: Lang::EN }));
        round_trip(change(SharedOp::Say {
            text: "hi: a=b".into(),
        }));
        round_trip(change(SharedOp::Action {
            text: "waves".into(),
        }));
        round_trip(change(SharedOp::Private {
            to: member,
            to_name: "bob".into(),
            text: "psst".into(),
        }));
        round_trip(change(SharedOp::Rename { name: "al".into() }));
        round_trip(change(SharedOp::Away { reason: None }));
        round_trip(change(SharedOp::Away {
            reason: Some("lunch".into()),
        }));
        for reason in [
            LeaveReason::Quit,
            LeaveReason::Lost,
            LeaveReason::TooSlow,
            LeaveReason::Flood,
            LeaveReason::Banned,
            LeaveReason::Kicked {
                reason: "spam".into(),
            },
        ] {
            round_trip(change(SharedOp::Leave { reason }));
        }
        round_trip(Body::Change {
            author: None,
            name: None,
            op: SharedOp::Admin {
                text: "hello".into(),
            },
        });
        round_trip(change(SharedOp::Kick {
            target: member,
            reason: String::new(),
        }));
        round_trip(change(SharedOp::Silence {
            target: member,
            on: true,
        }));
        round_trip(change(SharedOp::Ban {
            targets: vec![
                BanTarget::parse("mallory").unwrap(),
                BanTarget::parse("192.0.2.0/24").unwrap(),
            ],
            minutes: Some(30),
            reason: "spam".into(),
        }));
        round_trip(change(SharedOp::Unban {
            target: BanTarget::parse("mallory").unwrap(),
        }));
    }

    #[test]
    fn unknown_or_broken_entries_are_skipped() {
        assert_eq!(
            decode(&[(b"s", b"1"), (b"q", b"1"), (b"k", b"future")]),
            None
        );
        assert_eq!(decode(&[(b"q", b"1"), (b"k", b"hello")]), None);
        assert_eq!(
            decode(&[(b"s", b"zz"), (b"q", b"1"), (b"k", b"hello")]),
            None
        );
        assert_eq!(
            decode(&[(b"s", b"1"), (b"q", b"1"), (b"k", b"join"), (b"j", b"x")]),
            None
        );
        assert_eq!(
            decode(&[(b"s", b"1"), (b"q", b"1"), (b"k", b"lang"), (b"g", b"xx")]),
            None,
            "an unknown language"
        );
    }
}
