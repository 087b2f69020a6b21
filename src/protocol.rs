//! The wire format: bytes in, whole lines out, and the cleaning of what a
//! client wrote before anyone else's terminal sees it.
//!
//! Pure: no sockets, no clock. `LineCodec` is fed whatever a `read` returned
//! (any split point) and hands back complete lines; `sanitize` removes
//! everything that could move a cursor, retitle a terminal or hide text.
//!
//! The framing and cleaning rules as a client or bot sees them are written
//! up in `docs/protocol.md` (sections 1 and 3).

/// One item a `LineCodec` yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A complete line, without its `\n` or `\r\n`, invalid UTF-8 replaced
    /// by U+FFFD. Not sanitised: a nickname is checked as received.
    Line(String),
    /// The current line went past `max_line_bytes`; its remaining bytes, up
    /// to and including the next `\n`, are discarded. Yielded once per line.
    TooLong,
}

/// Splits a byte stream into lines of at most `max_line_bytes`.
///
/// Memory is bounded by the limit: an over-long line is never buffered.
#[derive(Debug)]
pub struct LineCodec {
    /// Bytes of the line in progress (never more than `max_line_bytes + 1`:
    /// the extra byte is a `\r` that may turn out to end the line).
    pending: Vec<u8>,
    /// Set after a `TooLong`: drop bytes until the next `\n`.
    discarding: bool,
    max_line_bytes: usize,
}

impl LineCodec {
    pub fn new(max_line_bytes: usize) -> Self {
        LineCodec {
            pending: Vec::new(),
            discarding: false,
            max_line_bytes,
        }
    }

    /// Feeds `bytes` and calls `on_frame` for every complete line or
    /// over-long line they finish. Bytes after the last `\n` stay pending;
    /// if the stream ends there they are simply never yielded.
    pub fn feed(&mut self, mut bytes: &[u8], mut on_frame: impl FnMut(Frame)) {
        while !bytes.is_empty() {
            let newline = bytes.iter().position(|&b| b == b'\n');
            let (chunk, ends_line) = match newline {
                Some(at) => (&bytes[..at], true),
                None => (bytes, false),
            };
            bytes = match newline {
                Some(at) => &bytes[at + 1..],
                None => &[],
            };
            if self.discarding {
                if ends_line {
                    self.discarding = false;
                }
                continue;
            }
            // A line may sit at max_line_bytes plus the `\r` of a `\r\n`.
            let room = self.max_line_bytes + 1 - self.pending.len();
            if chunk.len() > room || (ends_line && self.too_long_with(chunk)) {
                self.pending.clear();
                self.discarding = !ends_line;
                on_frame(Frame::TooLong);
                continue;
            }
            self.pending.extend_from_slice(chunk);
            if !ends_line {
                if self.pending.len() > self.max_line_bytes && self.pending.last() != Some(&b'\r') {
                    self.pending.clear();
                    self.discarding = true;
                    on_frame(Frame::TooLong);
                }
                continue;
            }
            if self.pending.last() == Some(&b'\r') {
                self.pending.pop();
            }
            let line = String::from_utf8_lossy(&self.pending).into_owned();
            self.pending.clear();
            on_frame(Frame::Line(line));
        }
    }

    /// Whether `pending + chunk`, ended by a `\n`, exceeds the limit once a
    /// trailing `\r` is not counted.
    fn too_long_with(&self, chunk: &[u8]) -> bool {
        let total = self.pending.len() + chunk.len();
        let ends_in_cr = chunk.last().or(self.pending.last()) == Some(&b'\r');
        total - usize::from(ends_in_cr) > self.max_line_bytes
    }

    /// All frames of `bytes`, for tests.
    #[cfg(test)]
    pub fn feed_collect(&mut self, bytes: &[u8]) -> Vec<Frame> {
        let mut frames = Vec::new();
        self.feed(bytes, |frame| frames.push(frame));
        frames
    }

    /// Takes what is pending as a last line (the client sends a final line
    /// typed without `\n`; the server never calls this).
    pub fn take_unterminated(&mut self) -> Option<String> {
        if self.discarding || self.pending.is_empty() {
            self.discarding = false;
            self.pending.clear();
            return None;
        }
        if self.pending.last() == Some(&b'\r') {
            self.pending.pop();
        }
        let line = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        Some(line)
    }
}

const ESC: char = '\u{1b}';
const BEL: char = '\u{07}';
/// 8-bit String Terminator.
const ST: char = '\u{9c}';

/// Returns `text` with every escape sequence removed whole, every other
/// control character removed (TAB becomes a space), and bidi controls and
/// invisible characters removed. See PROTOCOL.md section 2.
pub fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ESC => match chars.peek().copied() {
                Some('[') => {
                    chars.next();
                    skip_csi(&mut chars);
                }
                Some(']' | 'P' | 'X' | '^' | '_') => {
                    chars.next();
                    skip_string(&mut chars);
                }
                Some('\u{20}'..='\u{7e}') => {
                    chars.next();
                }
                // A lone ESC: drop it and read what follows as usual.
                _ => {}
            },
            '\u{9b}' => skip_csi(&mut chars),
            '\u{9d}' | '\u{90}' | '\u{98}' | '\u{9e}' | '\u{9f}' => skip_string(&mut chars),
            '\t' => out.push(' '),
            c if is_removed(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// Consumes a CSI body up to and including its final byte (0x40 to 0x7E),
/// or to the end of the line if it has none.
fn skip_csi(chars: &mut impl Iterator<Item = char>) {
    for c in chars.by_ref() {
        if ('\u{40}'..='\u{7e}').contains(&c) {
            return;
        }
    }
}

/// Consumes an OSC, DCS, SOS, PM or APC body up to and including BEL or ST
/// (`ESC \` or 0x9C), or to the end of the line.
fn skip_string(chars: &mut std::iter::Peekable<impl Iterator<Item = char>>) {
    while let Some(c) = chars.next() {
        match c {
            BEL | ST => return,
            ESC if chars.peek() == Some(&'\\') => {
                chars.next();
                return;
            }
            _ => {}
        }
    }
}

/// Characters removed outright: controls, bidi controls and invisibles.
/// ZWNJ and ZWJ stay, since scripts and emoji need them.
///
/// Bidi controls are all of Unicode's Bidi_Control set: the embeddings,
/// overrides and isolates, and also the marks ALM, LRM and RLM, which are as
/// invisible as a zero-width space and can still reorder what surrounds
/// them. Invisible besides: ZWSP, WORD JOINER and the invisible operators
/// after it, the deprecated format characters U+206A to U+206F, BOM, and
/// the interlinear annotation marks, which some renderers use to hide text;
/// the Hangul fillers, letters that draw nothing (a name ending in one looks
/// like the name without it), the soft hyphen, the combining grapheme
/// joiner and the Khmer and Mongolian invisible marks. ZWJ and ZWNJ stay:
/// emoji and several scripts need them.
pub fn is_removed(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
                | '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{200b}'
                | '\u{2060}'..='\u{2064}'
                | '\u{206a}'..='\u{206f}'
                | '\u{feff}'
                | '\u{fff9}'..='\u{fffb}'
                | '\u{115f}'
                | '\u{1160}'
                | '\u{3164}'
                | '\u{ffa0}'
                | '\u{00ad}'
                | '\u{034f}'
                | '\u{17b4}'
                | '\u{17b5}'
                | '\u{180b}'..='\u{180f}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(frames: Vec<Frame>) -> Vec<String> {
        frames
            .into_iter()
            .map(|f| match f {
                Frame::Line(l) => l,
                Frame::TooLong => "<too long>".to_string(),
            })
            .collect()
    }

    #[test]
    fn splits_lines_and_drops_cr() {
        let mut codec = LineCodec::new(100);
        let frames = codec.feed_collect(b"hello\r\nworld\n\npartial");
        assert_eq!(lines(frames), ["hello", "world", ""]);
        assert_eq!(lines(codec.feed_collect(b" end\n")), ["partial end"]);
    }

    #[test]
    fn every_split_point_gives_the_same_lines() {
        let input = "alice\r\nhé 你好\n\u{1b}[2Jx\nlast\r\n".as_bytes();
        let whole = LineCodec::new(64).feed_collect(input);
        for a in 0..=input.len() {
            for b in a..=input.len() {
                let mut codec = LineCodec::new(64);
                let mut frames = codec.feed_collect(&input[..a]);
                frames.extend(codec.feed_collect(&input[a..b]));
                frames.extend(codec.feed_collect(&input[b..]));
                assert_eq!(frames, whole, "split at {a} and {b}");
            }
        }
    }

    #[test]
    fn invalid_utf8_becomes_replacement_character() {
        let mut codec = LineCodec::new(64);
        assert_eq!(
            lines(codec.feed_collect(b"a\xffb\xe4\xbd\n")),
            ["a\u{fffd}b\u{fffd}"]
        );
    }

    #[test]
    fn line_at_the_limit_passes_with_or_without_cr() {
        let mut codec = LineCodec::new(5);
        assert_eq!(
            lines(codec.feed_collect(b"12345\n12345\r\n")),
            ["12345", "12345"]
        );
        // split between the \r and the \n
        assert_eq!(lines(codec.feed_collect(b"12345\r")), Vec::<String>::new());
        assert_eq!(lines(codec.feed_collect(b"\n")), ["12345"]);
    }

    #[test]
    fn over_long_line_is_reported_once_and_discarded() {
        let mut codec = LineCodec::new(5);
        assert_eq!(
            lines(codec.feed_collect(b"123456\nok\n")),
            ["<too long>", "ok"]
        );
        let mut codec = LineCodec::new(5);
        let mut frames = codec.feed_collect(b"1234");
        frames.extend(codec.feed_collect(b"5678"));
        frames.extend(codec.feed_collect(b"9abc"));
        frames.extend(codec.feed_collect(b"def\nnext\n"));
        assert_eq!(lines(frames), ["<too long>", "next"]);
        let mut codec = LineCodec::new(5);
        assert_eq!(lines(codec.feed_collect(b"12345\rx\n")), ["<too long>"]);
    }

    #[test]
    fn pending_memory_is_bounded_by_the_limit() {
        let mut codec = LineCodec::new(8);
        for _ in 0..1000 {
            codec.feed(&[b'x'; 1000], |_| {});
            assert!(codec.pending.len() <= 9);
        }
    }

    #[test]
    fn unterminated_tail_is_available_to_the_client() {
        let mut codec = LineCodec::new(10);
        assert!(codec.feed_collect(b"bye").is_empty());
        assert_eq!(codec.take_unterminated().as_deref(), Some("bye"));
        assert_eq!(codec.take_unterminated(), None);
    }

    #[test]
    fn removes_escape_sequences_whole() {
        assert_eq!(sanitize("hi\x1b[2Jthere"), "hithere");
        assert_eq!(sanitize("a\x1b[1;31mred\x1b[0m"), "ared");
        assert_eq!(sanitize("\x1b]0;title\x07text"), "text");
        assert_eq!(sanitize("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\"), "link");
        assert_eq!(sanitize("\x1b]52;c;aGVsbG8=\x07x"), "x");
        assert_eq!(sanitize("\x1bPqpayload\x1b\\after"), "after");
        assert_eq!(
            sanitize("\x1bX sos \x1b\\a\x1b^pm\x07b\x1b_apc\x1b\\c"),
            "abc"
        );
        assert_eq!(sanitize("a\x1b7b\x1bc"), "ab");
        assert_eq!(sanitize("a\x1b(B"), "aB");
    }

    #[test]
    fn unterminated_sequences_run_to_end_of_line() {
        assert_eq!(sanitize("keep\x1b[12;3"), "keep");
        assert_eq!(sanitize("keep\x1b]0;never ends"), "keep");
        assert_eq!(sanitize("end\x1b"), "end");
    }

    #[test]
    fn c1_forms_are_removed_like_their_escape_forms() {
        assert_eq!(sanitize("a\u{9b}2Jb"), "ab");
        assert_eq!(sanitize("a\u{9d}0;t\u{9c}b"), "ab");
        assert_eq!(sanitize("a\u{90}dcs\u{9c}b\u{85}c"), "abc");
    }

    #[test]
    fn controls_removed_tab_becomes_space() {
        assert_eq!(sanitize("a\tb"), "a b");
        assert_eq!(sanitize("a\0b\x07c\x08d\x7fe\rf"), "abcdef");
    }

    #[test]
    fn bidi_and_invisibles_removed_joiners_kept() {
        assert_eq!(sanitize("a\u{202e}b\u{2066}c\u{2069}d"), "abcd");
        assert_eq!(sanitize("x\u{200b}y\u{2060}z\u{feff}"), "xyz");
        assert_eq!(sanitize("\u{3164}a\u{1160}\u{ffa0}b\u{ad}"), "ab");
        assert_eq!(sanitize("a\u{200e}b\u{200f}c\u{61c}d"), "abcd");
        assert_eq!(sanitize("ad\u{2062}min\u{206e}\u{fff9}x\u{fffb}"), "adminx");
        assert_eq!(sanitize("👩\u{200d}💻 \u{200c}"), "👩\u{200d}💻 \u{200c}");
        assert_eq!(sanitize("你好，世界"), "你好，世界");
    }
}
