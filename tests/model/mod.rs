//! A reference model of `LineCodec` and the checks every sanitised line
//! must pass, shared by the property tests (`tests/properties.rs`) and the
//! fuzz targets (`fuzz/`), so both hold the code to the same contract.
//!
//! The model is written for clarity, not speed: it sees the whole input at
//! once, which is exactly what the codec must agree with whatever the split.
#![allow(dead_code)]

use chatroom::protocol::{Frame, LineCodec};

/// What PROTOCOL.md section 2 says a whole input must give: each `\n`-ended
/// segment, less one trailing `\r`, is a `Line` if it fits `max_line_bytes`
/// and one `TooLong` otherwise; an unterminated tail gives `TooLong` as soon
/// as it cannot fit any more, and nothing otherwise.
pub fn model_frames(input: &[u8], max_line_bytes: usize) -> Vec<Frame> {
    let mut frames = Vec::new();
    let mut segments = input.split(|&b| b == b'\n').peekable();
    while let Some(segment) = segments.next() {
        let is_tail = segments.peek().is_none();
        let body = segment.strip_suffix(b"\r").unwrap_or(segment);
        if body.len() > max_line_bytes {
            frames.push(Frame::TooLong);
        } else if !is_tail {
            frames.push(Frame::Line(String::from_utf8_lossy(body).into_owned()));
        }
    }
    frames
}

/// Feeds `input` to a fresh codec in pieces cut at `cuts` (any order, any
/// value: each is taken modulo the length) and collects the frames.
pub fn feed_in_pieces(input: &[u8], cuts: &[usize], max_line_bytes: usize) -> Vec<Frame> {
    let mut cuts: Vec<usize> = cuts.iter().map(|cut| cut % (input.len() + 1)).collect();
    cuts.sort_unstable();
    let mut codec = LineCodec::new(max_line_bytes);
    let mut frames = Vec::new();
    let mut start = 0;
    for cut in cuts.into_iter().chain([input.len()]) {
        codec.feed(&input[start..cut], |frame| frames.push(frame));
        start = cut;
    }
    frames
}

/// Why `c` must never reach another member's terminal, or `None`.
pub fn harmful(c: char) -> Option<&'static str> {
    match c {
        '\u{1b}' => Some("ESC"),
        '\n' => None,
        '\0'..='\u{1f}' | '\u{7f}' => Some("C0 control or DEL"),
        '\u{80}'..='\u{9f}' => Some("C1 control"),
        '\u{202a}'..='\u{202e}' => Some("bidi embedding or override"),
        '\u{2066}'..='\u{2069}' => Some("bidi isolate"),
        '\u{061c}' | '\u{200e}' | '\u{200f}' => Some("bidi mark"),
        '\u{200b}' | '\u{2060}'..='\u{2064}' | '\u{feff}' => Some("zero-width character"),
        '\u{206a}'..='\u{206f}' => Some("deprecated format character"),
        '\u{fff9}'..='\u{fffb}' => Some("interlinear annotation"),
        _ => None,
    }
}

/// The first harmful character of `text`, with its position and reason.
pub fn first_harmful(text: &str) -> Option<(usize, char, &'static str)> {
    text.char_indices()
        .find_map(|(at, c)| harmful(c).map(|why| (at, c, why)))
}
