//! Property tests of the pure parts that face the network: the line codec,
//! the sanitiser and the command parser, on arbitrary input.
//!
//! Case counts are kept small enough for a debug build to finish in a few
//! seconds; `PROPTEST_CASES=200000 cargo test --release --test properties`
//! runs a longer search. The fuzz targets in `fuzz/` check the same model.

mod model;

use chatroom::command::{parse, Command};
use chatroom::protocol::{sanitize, Frame, LineCodec};
use model::{feed_in_pieces, first_harmful, model_frames};
use proptest::prelude::*;

/// Bytes that hit the codec's edge cases often: newlines, carriage
/// returns, ESC, broken UTF-8 and plain text, in runs of any length.
fn wire_bytes() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        3 => Just(b'\n'),
        3 => Just(b'\r'),
        1 => Just(0x1b),
        2 => 0x80u8..=0xff,
        6 => b'a'..=b'e',
        1 => any::<u8>(),
    ];
    prop::collection::vec(byte, 0..200)
}

/// Text full of what the sanitiser must catch: escape introducers, their
/// final bytes and terminators, C1 controls, bidi and invisible characters.
fn hostile_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("\u{1b}".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just("\u{7}".to_string()),
        Just("\\".to_string()),
        Just("P".to_string()),
        Just("\t".to_string()),
        Just("\u{9b}".to_string()),
        Just("\u{9c}".to_string()),
        Just("\u{9d}".to_string()),
        Just("\u{200d}".to_string()),
        Just("\u{202e}".to_string()),
        Just("\u{2067}".to_string()),
        Just("\u{200f}".to_string()),
        Just("\u{feff}".to_string()),
        "[\\x00-\\x1f\\x7f-\\u{9f}]",
        "[a-z0-9 ;]{0,3}",
        "[\\u{2000}-\\u{2070}]",
        any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

/// 2000 cases a property (about two seconds for all of them in a debug
/// build), or `PROPTEST_CASES` if set.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(2000);
    ProptestConfig::with_cases(cases)
}

proptest! {
    #![proptest_config(config())]

    /// Any bytes cut at any points give exactly the frames of the model,
    /// hence the same frames as one whole read.
    #[test]
    fn codec_matches_model_at_any_split(
        input in wire_bytes(),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
        max_line_bytes in prop_oneof![0usize..8, 8usize..64],
    ) {
        let whole = feed_in_pieces(&input, &[], max_line_bytes);
        prop_assert_eq!(&whole, &model_frames(&input, max_line_bytes));
        let pieces = feed_in_pieces(&input, &cuts, max_line_bytes);
        prop_assert_eq!(pieces, whole);
    }

    /// Every line yielded fits the limit once its invalid UTF-8 is counted
    /// as the one byte it was, and holds no `\n`.
    #[test]
    fn codec_lines_respect_the_limit(
        input in wire_bytes(),
        max_line_bytes in 0usize..16,
    ) {
        let mut codec = LineCodec::new(max_line_bytes);
        codec.feed(&input, |frame| {
            if let Frame::Line(line) = frame {
                let raw_len = line.chars().map(|c| if c == '\u{fffd}' { 1 } else { c.len_utf8() }).sum::<usize>();
                assert!(raw_len <= max_line_bytes, "{line:?} over {max_line_bytes}");
                assert!(!line.contains('\n'));
            }
        });
    }

    /// Whatever arrives, a line at the limit still gets through afterwards:
    /// no input leaves the codec stuck.
    #[test]
    fn codec_recovers_after_any_input(input in wire_bytes(), max_line_bytes in 1usize..16) {
        let mut codec = LineCodec::new(max_line_bytes);
        codec.feed(&input, |_| {});
        let mut frames = Vec::new();
        codec.feed(b"\n", |_| {});
        let probe = "x".repeat(max_line_bytes);
        codec.feed(format!("{probe}\r\n").as_bytes(), |frame| frames.push(frame));
        prop_assert_eq!(frames, vec![Frame::Line(probe)]);
    }

    /// Arbitrary text: nothing harmful survives, and a second pass changes
    /// nothing.
    #[test]
    fn sanitize_leaves_nothing_harmful_and_is_idempotent(text in any::<String>()) {
        check_sanitize(&text)?;
    }

    #[test]
    fn sanitize_on_hostile_text(text in hostile_text()) {
        check_sanitize(&text)?;
    }

    /// Text with nothing to clean passes through unchanged, and cleaning
    /// only ever removes characters (or turns TAB into a space).
    #[test]
    fn sanitize_only_removes(text in hostile_text()) {
        let clean = sanitize(&text);
        let mut rest = text.chars().map(|c| if c == '\t' { ' ' } else { c });
        for c in clean.chars() {
            prop_assert!(rest.any(|r| r == c), "{:?} is not a subsequence of {:?}", clean, text);
        }
        if !text.contains(['\u{1b}', '\t']) && first_harmful(&text).is_none()
            && !text.chars().any(|c| c.is_control())
        {
            prop_assert_eq!(clean, text);
        }
    }

    /// The parser takes any line without panicking, and every slice it
    /// returns comes from that line.
    #[test]
    fn parse_never_panics(line in any::<String>()) {
        match parse(&line) {
            Command::Say(text) => {
                prop_assert!(line.ends_with(text));
                if !line.starts_with(['/', '@']) {
                    prop_assert_eq!(text, line.as_str());
                }
            }
            Command::Private { to, text } => {
                prop_assert!(!to.is_empty() && !to.contains(' '));
                prop_assert!(!text.trim().is_empty() && !text.starts_with(' '));
                prop_assert!(line.ends_with(text) && line.contains(to));
            }
            Command::Unknown(word) => {
                prop_assert!(!word.contains(' '));
                prop_assert!(line[1..].starts_with(word));
            }
            Command::Nick(Some(text)) => {
                prop_assert!(line.starts_with('/') && !text.trim().is_empty());
                prop_assert!(line.contains(text));
            }
            Command::Query(Some(word))
            | Command::Ignore(Some(word))
            | Command::Unignore(Some(word))
            | Command::Whois(Some(word)) => {
                prop_assert!(line.starts_with('/'));
                prop_assert!(!word.is_empty() && !word.contains(' ') && line.contains(word));
            }
            Command::Me(Some(text)) | Command::Reply(Some(text)) | Command::Away(Some(text)) => {
                prop_assert!(line.starts_with('/'));
                prop_assert!(!text.trim().is_empty() && !text.starts_with(' '));
                prop_assert!(line.contains(text));
            }
            Command::Lang(tag) => {
                prop_assert!(line.starts_with('/') && line.contains(tag));
            }
            Command::PrivateUsage
            | Command::Help
            | Command::List
            | Command::Quit
            | Command::Nick(None)
            | Command::Me(None)
            | Command::Reply(None)
            | Command::Query(None)
            | Command::Mute
            | Command::Unmute
            | Command::ToggleMute
            | Command::Ignore(None)
            | Command::Unignore(None)
            | Command::Away(None)
            | Command::Back
            | Command::Whois(None)
            | Command::Motd
            | Command::Timestamps(_) => {
                prop_assert!(line.starts_with(['/', '@']));
            }
        }
    }

    /// `//text` is the message `/text`, whatever text is.
    #[test]
    fn double_slash_escapes_any_text(text in any::<String>()) {
        let line = format!("//{text}");
        let expected = format!("/{text}");
        prop_assert_eq!(parse(&line), Command::Say(&expected));
    }

    /// A private message written either way parses back to its parts.
    #[test]
    fn private_message_round_trips(
        to in "[\\w.-]{1,32}",
        text in "\\S[^\\n]{0,40}",
        command in prop::sample::select(vec!["/msg ", "/MSG  ", "/m ", "/w ", "/whisper ", "@"]),
    ) {
        prop_assume!(!text.trim().is_empty());
        let line = format!("{command}{to} {text}");
        prop_assert_eq!(parse(&line), Command::Private { to: &to, text: &text });
    }

    /// Command words are case-insensitive, and arguments never change
    /// which command a word names.
    #[test]
    fn command_words_ignore_case_and_arguments(
        word in prop::sample::select(vec!["help", "h", "?", "list", "ls", "who", "quit", "exit", "q"]),
        upper in prop::collection::vec(any::<bool>(), 8),
        args in "( [^\\n]{0,20})?",
    ) {
        let cased: String = word
            .chars()
            .zip(upper.iter().cycle())
            .map(|(c, &up)| if up { c.to_ascii_uppercase() } else { c })
            .collect();
        let plain = format!("/{word}");
        let expected = parse(&plain);
        prop_assert!(matches!(expected, Command::Help | Command::List | Command::Quit));
        let line = format!("/{cased}{args}");
        prop_assert_eq!(parse(&line), expected);
    }
}

fn check_sanitize(text: &str) -> Result<(), TestCaseError> {
    let clean = sanitize(text);
    if let Some((at, c, why)) = first_harmful(&clean) {
        return Err(TestCaseError::fail(format!(
            "{why} {c:?} at byte {at} of {clean:?} (from {text:?})"
        )));
    }
    prop_assert!(!clean.contains(['\n', '\t']), "{:?}", clean);
    prop_assert_eq!(
        sanitize(&clean),
        clean.clone(),
        "not idempotent on {:?}",
        text
    );
    Ok(())
}
