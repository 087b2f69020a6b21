//! The bench's side of the wire: the chat lines it sends and the lines it
//! reads back, parsed by hand with no allocation.
//!
//! Member `i` is named `m<i>`. Its line number `seq` is the payload
//! `<i>.<seq>.<micros>` padded with `x` to `size - 1` bytes, plus `\n`: the
//! sender, the sequence number and the send time (microseconds since the
//! bench started) travel with the line. The server relays it to the others
//! as `m<i>: <payload>`, or as the action `** m<i> <payload>` (`/me`), either
//! maybe after a `[HH:MM] ` timestamp (see docs/protocol.md). Lines are told
//! apart by the shapes the protocol fixes, never by a notice's words.

/// Appends `value` in decimal.
pub fn push_decimal(out: &mut Vec<u8>, mut value: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// How many decimal digits `value` has.
pub fn decimal_width(value: u64) -> usize {
    value.checked_ilog10().map_or(1, |log| log as usize + 1)
}

/// The longest a send time can be: microseconds fit in 10 digits for the
/// first 2.7 hours of a run, longer than any run lasts.
pub const MICROS_WIDTH: usize = 10;

/// The shortest `size` whose payload holds every field for these numbers.
pub fn min_line_size(members: usize, lines: usize) -> usize {
    decimal_width(members as u64) + decimal_width(lines as u64) + MICROS_WIDTH + 2 + 1
}

/// Appends one chat line of exactly `size` bytes (its `\n` included).
/// `size` must be at least `min_line_size`.
pub fn push_chat_line(out: &mut Vec<u8>, sender: usize, seq: u64, micros: u64, size: usize) {
    let start = out.len();
    push_decimal(out, sender as u64);
    out.push(b'.');
    push_decimal(out, seq);
    out.push(b'.');
    push_decimal(out, micros);
    let payload_end = start + size - 1;
    out.resize(payload_end.max(out.len()), b'x');
    out.push(b'\n');
}

/// The join line of member `index`.
pub fn push_name(out: &mut Vec<u8>, index: usize) {
    out.push(b'm');
    push_decimal(out, index as u64);
    out.push(b'\n');
}

/// One line read from the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line {
    /// One of our chat lines, whole and consistent.
    Chat { sender: u64, seq: u64, micros: u64 },
    /// A system notice (`* ...`): join and leave notices, replies.
    Notice,
    /// A line that claims to be one of ours but is not intact.
    Garbled,
    /// Any other line.
    Foreign,
}

/// Reads decimal digits at `*at`; `None` if there are none or too many.
fn digits(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let start = *at;
    let mut value: u64 = 0;
    while let Some(&byte) = bytes.get(*at) {
        if !byte.is_ascii_digit() {
            break;
        }
        value = value.checked_mul(10)?.checked_add(u64::from(byte - b'0'))?;
        *at += 1;
    }
    (*at > start).then_some(value)
}

fn expect(bytes: &[u8], at: &mut usize, wanted: u8) -> Option<()> {
    (bytes.get(*at) == Some(&wanted)).then(|| *at += 1)
}

/// Where the next `\n` is, from `from` on.
fn newline(bytes: &[u8], from: usize) -> Option<usize> {
    bytes
        .get(from..)?
        .iter()
        .position(|&b| b == b'\n')
        .map(|at| from + at)
}

/// The length of a `[HH:MM] ` timestamp at the start of `bytes`, or 0.
fn timestamp_len(bytes: &[u8]) -> usize {
    const LEN: usize = "[HH:MM] ".len();
    let Some(stamp) = bytes.get(..LEN) else {
        return 0;
    };
    let digit = |at: usize| stamp[at].is_ascii_digit();
    let shaped = stamp[0] == b'['
        && digit(1)
        && digit(2)
        && stamp[3] == b':'
        && digit(4)
        && digit(5)
        && stamp[6] == b']'
        && stamp[7] == b' ';
    if shaped {
        LEN
    } else {
        0
    }
}

/// Whether `bytes` starts with `m` and a digit: one of our names.
fn starts_with_member(bytes: &[u8]) -> bool {
    bytes.first() == Some(&b'm') && bytes.get(1).is_some_and(u8::is_ascii_digit)
}

/// The first line of `bytes` and its length with its `\n`, or `None` when
/// `bytes` holds no complete line yet. `size` is the length our members'
/// lines have when sent: knowing it, a chat line's end is found by a jump
/// and a check instead of a search. Chat lines (`m<i>: `) and actions
/// (`** m<i> `) may come after a `[HH:MM] ` timestamp.
pub fn parse_line(bytes: &[u8], size: usize) -> Option<(Line, usize)> {
    let stamp = timestamp_len(bytes);
    let line = &bytes[stamp..];
    let chat = if starts_with_member(line) {
        Some((1, b": ".as_slice()))
    } else if line.starts_with(b"** ") && starts_with_member(&line[3..]) {
        Some((4, b" ".as_slice()))
    } else {
        None
    };
    if let Some((digits_at, separator)) = chat {
        return parse_chat(bytes, stamp + digits_at, separator, size).unwrap_or_else(|| {
            let end = newline(bytes, 0)?;
            Some((Line::Garbled, end + 1))
        });
    }
    let end = newline(bytes, 0)?;
    let line = if bytes.starts_with(b"* ") {
        Line::Notice
    } else {
        Line::Foreign
    };
    Some((line, end + 1))
}

/// `<i><separator><i>.<seq>.<micros>xxx\n`, the sender's digits at
/// `digits_at` (after `m`), checked whole; `None` when it is not such a
/// line, `Some(None)` when it may be one but has not all arrived yet.
fn parse_chat(
    bytes: &[u8],
    digits_at: usize,
    separator: &[u8],
    size: usize,
) -> Option<Option<(Line, usize)>> {
    let mut at = digits_at;
    let named = digits(bytes, &mut at)?;
    for &byte in separator {
        expect(bytes, &mut at, byte)?;
    }
    let payload = at;
    let end = payload + size - 1;
    if end >= bytes.len() {
        // Not all here yet, unless a shorter (garbled) line already ended.
        return match newline(bytes, payload) {
            Some(_) => None,
            None => Some(None),
        };
    }
    let sender = digits(bytes, &mut at)?;
    expect(bytes, &mut at, b'.')?;
    let seq = digits(bytes, &mut at)?;
    expect(bytes, &mut at, b'.')?;
    let micros = digits(bytes, &mut at)?;
    // The filler is checked whole (a branch-free fold the compiler
    // vectorizes), so a line cut and joined to the next cannot pass.
    let intact = bytes[end] == b'\n'
        && named == sender
        && at <= end
        && bytes[at..end].iter().fold(0, |acc, &b| acc | (b ^ b'x')) == 0;
    intact.then_some(Some((
        Line::Chat {
            sender,
            seq,
            micros,
        },
        end + 1,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relayed(sender: usize, seq: u64, micros: u64, size: usize) -> Vec<u8> {
        let mut line = format!("m{sender}: ").into_bytes();
        push_chat_line(&mut line, sender, seq, micros, size);
        line
    }

    #[test]
    fn a_chat_line_has_the_size_asked_for() {
        let mut out = Vec::new();
        push_chat_line(&mut out, 12, 3, 456_789, 64);
        assert_eq!(out.len(), 64);
        assert!(out.starts_with(b"12.3.456789xxx") && out.ends_with(b"x\n"));
        assert_eq!(min_line_size(1000, 5), 4 + 1 + 10 + 2 + 1);
        let mut name = Vec::new();
        push_name(&mut name, 42);
        assert_eq!(name, b"m42\n");
    }

    #[test]
    fn relayed_lines_parse_back() {
        let mut bytes = relayed(7, 99, 1_234_567, 64);
        bytes.extend_from_slice(b"* any notice naming m8\nsomeone: hi\n");
        let (line, len) = parse_line(&bytes, 64).unwrap();
        assert_eq!(
            line,
            Line::Chat {
                sender: 7,
                seq: 99,
                micros: 1_234_567
            }
        );
        assert_eq!(len, 4 + 64);
        let rest = &bytes[len..];
        let (line, len) = parse_line(rest, 64).unwrap();
        assert_eq!(line, Line::Notice);
        let (line, _) = parse_line(&rest[len..], 64).unwrap();
        assert_eq!(line, Line::Foreign);
    }

    #[test]
    fn timestamps_and_actions_parse_back() {
        let mut plain = Vec::new();
        push_chat_line(&mut plain, 7, 3, 42, 64);
        let stamped = [b"[09:05] m7: ".as_slice(), &plain].concat();
        let action = [b"** m7 ".as_slice(), &plain].concat();
        let both = [b"[23:59] ** m7 ".as_slice(), &plain].concat();
        for line in [stamped, action, both] {
            let parsed = parse_line(&line, 64);
            let chat = Line::Chat {
                sender: 7,
                seq: 3,
                micros: 42,
            };
            assert_eq!(parsed, Some((chat, line.len())), "{line:?}");
            for cut in 0..line.len() {
                assert_eq!(parse_line(&line[..cut], 64), None, "cut at {cut}");
            }
        }
        // Not quite a stamp, or not one of our names: foreign. One of our
        // names with a broken line after it: garbled.
        assert_eq!(parse_line(b"[9:05] m7: x\n", 64).unwrap().0, Line::Foreign);
        assert_eq!(parse_line(b"** m7\n", 64).unwrap().0, Line::Garbled);
        assert_eq!(
            parse_line(b"** someone waves\n", 64).unwrap().0,
            Line::Foreign
        );
        let impostor = [b"[09:05] ** m8 ".as_slice(), &plain].concat();
        assert_eq!(parse_line(&impostor, 64).unwrap().0, Line::Garbled);
    }

    #[test]
    fn partial_lines_wait_for_more() {
        let bytes = relayed(7, 99, 1, 64);
        for cut in 0..bytes.len() {
            assert_eq!(parse_line(&bytes[..cut], 64), None, "cut at {cut}");
        }
        assert_eq!(parse_line(b"* half a no", 64), None);
    }

    #[test]
    fn damaged_lines_are_garbled() {
        let mut short = relayed(7, 99, 1, 64);
        short.remove(20);
        short.extend_from_slice(&relayed(1, 1, 1, 64));
        assert_eq!(parse_line(&short, 64), Some((Line::Garbled, 67)));
        let (line, _) = parse_line(&short[67..], 64).unwrap();
        assert!(matches!(line, Line::Chat { sender: 1, .. }));

        let mut impostor = relayed(7, 1, 1, 64);
        impostor[1] = b'8';
        assert_eq!(parse_line(&impostor, 64).unwrap().0, Line::Garbled);

        let long = [relayed(7, 1, 1, 65), b"\n".to_vec()].concat();
        assert_eq!(parse_line(&long, 64).unwrap().0, Line::Garbled);
        assert_eq!(parse_line(b"m1: nonsense\n", 64), Some((Line::Garbled, 13)));
    }
}
