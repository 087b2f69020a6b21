//! Turns one cleaned line from a member into a `Command`.
//!
//! Pure and table-tested; it knows the command words, not what they do.
//! The commands and their aliases, for client and bot writers:
//! `docs/protocol.md`, section 4.

/// What a member's line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command<'a> {
    /// An ordinary message for everyone else (`//text` arrives as `/text`).
    Say(&'a str),
    /// `/msg NAME TEXT` or `@NAME TEXT`.
    Private {
        to: &'a str,
        text: &'a str,
    },
    /// `/msg` or `@` without a name or without text.
    PrivateUsage,
    Help,
    List,
    Quit,
    /// `/nick NEW` (all of the rest, to be checked as a name); `None`
    /// without a name.
    Nick(Option<&'a str>),
    /// `/me TEXT`; `None` without text.
    Me(Option<&'a str>),
    /// `/reply TEXT` (`/r`); `None` without text.
    Reply(Option<&'a str>),
    /// `/query NAME`, or `/query` alone (ends a query).
    Query(Option<&'a str>),
    Mute,
    Unmute,
    /// `/i`: mute if not muted, else unmute.
    ToggleMute,
    /// `/ignore NAME`, or `/ignore` alone (the list).
    Ignore(Option<&'a str>),
    /// `/unignore NAME`; `None` without a name.
    Unignore(Option<&'a str>),
    /// `/away [REASON]`; `None` without a reason.
    Away(Option<&'a str>),
    Back,
    /// `/whois NAME`; `None` without a name.
    Whois(Option<&'a str>),
    Motd,
    /// `/lang L`, as typed (perhaps empty).
    Lang(&'a str),
    /// `/timestamps on|off`; `None` for anything else.
    Timestamps(Option<bool>),
    /// `/word` that is not a command; carries the word for the error line.
    Unknown(&'a str),
}

/// Parses a non-empty line. Leading and trailing spaces of the whole line
/// are kept in messages: a member may indent what they say.
pub fn parse(line: &str) -> Command<'_> {
    if let Some(escaped) = line.strip_prefix("//") {
        return Command::Say(&line[line.len() - escaped.len() - 1..]);
    }
    if let Some(rest) = line.strip_prefix('@') {
        return private(rest);
    }
    let Some(rest) = line.strip_prefix('/') else {
        return Command::Say(line);
    };
    let (word, args) = match rest.split_once(' ') {
        Some((word, args)) => (word, args),
        None => (rest, ""),
    };
    match word.to_ascii_lowercase().as_str() {
        "help" | "h" | "?" => Command::Help,
        "list" | "ls" | "who" => Command::List,
        "quit" | "exit" | "q" => Command::Quit,
        "msg" | "m" | "w" | "whisper" => private(args),
        // The whole rest: a name with a space in it is refused, not cut.
        "nick" => Command::Nick(text(args).map(str::trim_end)),
        "me" => Command::Me(text(args)),
        "reply" | "r" => Command::Reply(text(args)),
        "query" => Command::Query(first_word(args)),
        "mute" => Command::Mute,
        "unmute" => Command::Unmute,
        "i" => Command::ToggleMute,
        "ignore" => Command::Ignore(first_word(args)),
        "unignore" => Command::Unignore(first_word(args)),
        "away" => Command::Away(text(args).map(str::trim_end)),
        "back" => Command::Back,
        "whois" => Command::Whois(first_word(args)),
        "motd" => Command::Motd,
        "lang" => Command::Lang(args.trim()),
        "timestamps" => Command::Timestamps(match args.trim().to_ascii_lowercase().as_str() {
            "on" => Some(true),
            "off" => Some(false),
            _ => None,
        }),
        _ => Command::Unknown(word),
    }
}

/// The first word of a command's arguments (a name), if any.
fn first_word(args: &str) -> Option<&str> {
    args.split(' ').find(|word| !word.is_empty())
}

/// A command's text argument, without the spaces before it; `None` if
/// there is no text.
fn text(args: &str) -> Option<&str> {
    let text = args.trim_start();
    (!text.trim().is_empty()).then_some(text)
}

/// `NAME TEXT` after `/msg` or `@`.
fn private(args: &str) -> Command<'_> {
    let args = args.trim_start();
    match args.split_once(' ') {
        Some((to, text)) if !to.is_empty() && !text.trim().is_empty() => Command::Private {
            to,
            text: text.trim_start(),
        },
        _ => Command::PrivateUsage,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let cases = [
            ("hello", Command::Say("hello")),
            ("  indented", Command::Say("  indented")),
            ("//slash", Command::Say("/slash")),
            ("//", Command::Say("/")),
            ("/help", Command::Help),
            ("/HELP", Command::Help),
            ("/list", Command::List),
            ("/ls", Command::List),
            ("/who", Command::List),
            ("/quit", Command::Quit),
            ("/quit now", Command::Quit),
            (
                "/msg bob hi there",
                Command::Private {
                    to: "bob",
                    text: "hi there",
                },
            ),
            (
                "/msg  bob   hi",
                Command::Private {
                    to: "bob",
                    text: "hi",
                },
            ),
            (
                "@bob hi",
                Command::Private {
                    to: "bob",
                    text: "hi",
                },
            ),
            ("@bob", Command::PrivateUsage),
            ("@bob    ", Command::PrivateUsage),
            ("/msg", Command::PrivateUsage),
            ("/msg bob", Command::PrivateUsage),
            ("/dance", Command::Unknown("dance")),
            ("/", Command::Unknown("")),
            ("a/b", Command::Say("a/b")),
            ("/nick  bob ", Command::Nick(Some("bob"))),
            ("/nick has space", Command::Nick(Some("has space"))),
            ("/NICK", Command::Nick(None)),
            ("/me waves  hi", Command::Me(Some("waves  hi"))),
            ("/me   ", Command::Me(None)),
            ("/r thanks", Command::Reply(Some("thanks"))),
            ("/reply", Command::Reply(None)),
            ("/query 小明", Command::Query(Some("小明"))),
            ("/query", Command::Query(None)),
            ("/mute", Command::Mute),
            ("/unmute", Command::Unmute),
            ("/i", Command::ToggleMute),
            ("/ignore bob", Command::Ignore(Some("bob"))),
            ("/ignore", Command::Ignore(None)),
            ("/unignore bob", Command::Unignore(Some("bob"))),
            ("/unignore ", Command::Unignore(None)),
            (
                "/away lunch, back soon ",
                Command::Away(Some("lunch, back soon")),
            ),
            ("/away", Command::Away(None)),
            ("/back", Command::Back),
            ("/whois bob", Command::Whois(Some("bob"))),
            ("/whois", Command::Whois(None)),
            ("/motd", Command::Motd),
            ("/lang zh-CN", Command::Lang("zh-CN")),
            ("/lang", Command::Lang("")),
            ("/timestamps ON", Command::Timestamps(Some(true))),
            ("/timestamps off", Command::Timestamps(Some(false))),
            ("/timestamps", Command::Timestamps(None)),
            ("/timestamps maybe", Command::Timestamps(None)),
            ("小明 你好", Command::Say("小明 你好")),
        ];
        for (line, expected) in cases {
            assert_eq!(parse(line), expected, "{line:?}");
        }
    }
}
