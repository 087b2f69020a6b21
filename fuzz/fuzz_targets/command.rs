//! Fuzzes the command parser on any line, as the room calls it: after
//! `sanitize`, and also raw. It must not panic, and what it returns must
//! be slices of that line in the shapes `Command` promises.
#![no_main]

use chatroom::command::{parse, Command};
use chatroom::protocol::sanitize;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let raw = String::from_utf8_lossy(data);
    check(&raw);
    check(&sanitize(&raw));
});

fn check(line: &str) {
    match parse(line) {
        Command::Say(text) => {
            assert!(line.ends_with(text));
            if !line.starts_with(['/', '@']) {
                assert_eq!(text, line);
            }
        }
        Command::Private { to, text } => {
            assert!(!to.is_empty() && !to.contains(' '));
            assert!(!text.trim().is_empty() && !text.starts_with(' '));
            assert!(line.ends_with(text) && line.contains(to));
        }
        Command::Unknown(word) => {
            assert!(!word.contains(' '));
            assert!(line[1..].starts_with(word));
        }
        Command::PrivateUsage | Command::Help | Command::List | Command::Quit => {
            assert!(line.starts_with(['/', '@']));
        }
    }
}
