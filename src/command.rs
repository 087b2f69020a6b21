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
        _ => Command::Unknown(word),
    }
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
            ("小明 你好", Command::Say("小明 你好")),
        ];
        for (line, expected) in cases {
            assert_eq!(parse(line), expected, "{line:?}");
        }
    }
}
