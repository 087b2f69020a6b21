//! The line editor of the terminal client: sans-IO. Bytes typed go in;
//! the line being edited, its cursor, what to do (send a line, leave, ring
//! the bell) and the input row to draw come out. No fd, no clock, no
//! terminal: the caller reads keys, writes rows and says when a lone ESC
//! has waited long enough.
//!
//! Keys are decoded by `termina::Parser` (escape sequences and UTF-8 split
//! across reads, bracketed paste). The line is a `String` edited at
//! grapheme-cluster boundaries (unicode-segmentation), so a combining mark
//! or an emoji sequence moves and erases as one character; widths come
//! from unicode-width. What is hand-written here is the policy: which key
//! does what, paste, history, completion and sideways scrolling.

use termina::event::{KeyCode, KeyEvent, KeyEventKind, Modifiers};
use termina::{Event, Parser};
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

use crate::protocol::sanitize;

/// The commands Tab completes at the start of a line, as the server's
/// `/help` lists them.
pub const COMMANDS: &[&str] = &["/help", "/list", "/msg", "/quit"];

/// Lines kept for Up/Down.
const HISTORY: usize = 500;
/// Longest line the editor holds, in bytes; typing past it rings the bell.
/// Far above any server's `max_line_bytes`, which explains a refusal.
const MAX_LINE: usize = 64 * 1024;

/// What the user's keys asked for, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// A line to send (Enter on a non-empty line, or a pasted line).
    Send(String),
    /// Enter, Ctrl-D or Ctrl-C on an empty line.
    Leave,
    /// Nothing to do for that key (no completion, line full).
    Bell,
}

/// The input row as it should look: the visible part of the prompt and
/// the line, and the column (from 0) where the cursor goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub prompt: String,
    pub text: String,
    pub cursor: usize,
}

/// Tab pressed again after an ambiguous completion cycles the candidates.
#[derive(Debug, Clone)]
struct Cycle {
    /// Byte where the completed word starts.
    start: usize,
    candidates: Vec<String>,
    /// The candidate now in the line.
    index: usize,
}

#[derive(Debug)]
pub struct Editor {
    keys: Parser,
    /// The line being edited; never holds a control character.
    text: String,
    /// Byte offset of the cursor in `text`, always on a grapheme boundary.
    cursor: usize,
    /// Lines sent this session, oldest first.
    history: Vec<String>,
    /// The history entry shown, while browsing with Up/Down.
    browsing: Option<usize>,
    /// What was being typed when Up was first pressed; Down past the
    /// newest entry gives it back.
    draft: String,
    /// Names Tab completes (the members the client knows of).
    names: Vec<String>,
    /// Set by an ambiguous Tab, cleared by any other key.
    cycle: Option<Cycle>,
    prompt: String,
    prompt_width: usize,
    /// Terminal columns.
    width: usize,
    /// The first column of `text` shown: a long line scrolls sideways.
    scroll: usize,
    /// Cleared while the line cannot be sent (the server is not taking
    /// what we send): Enter then keeps the line and rings.
    can_send: bool,
    /// Set when the last byte fed was ESC: it may be the Escape key or the
    /// start of a sequence, which only a pause tells apart (`flush_escape`).
    escape_pending: bool,
}

impl Editor {
    pub fn new(width: usize) -> Self {
        Editor {
            keys: Parser::default(),
            text: String::new(),
            cursor: 0,
            history: Vec::new(),
            browsing: None,
            draft: String::new(),
            names: Vec::new(),
            cycle: None,
            prompt: String::new(),
            prompt_width: 0,
            width: usable_width(width),
            scroll: 0,
            can_send: true,
            escape_pending: false,
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The cursor as a byte offset into `text`.
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    pub fn set_prompt(&mut self, prompt: &str) {
        self.prompt = prompt.to_string();
        self.prompt_width = prompt.width();
    }

    pub fn set_width(&mut self, width: usize) {
        self.width = usable_width(width);
    }

    /// The names Tab offers, replacing the previous ones.
    pub fn set_names(&mut self, names: impl IntoIterator<Item = String>) {
        self.names = names.into_iter().collect();
    }

    /// Whether Enter may send the line now.
    pub fn set_can_send(&mut self, can_send: bool) {
        self.can_send = can_send;
    }

    /// Whether a lone ESC waits for `flush_escape`.
    pub fn escape_pending(&self) -> bool {
        self.escape_pending
    }

    /// Takes bytes read from the terminal; what they ask for is appended
    /// to `actions`. A key split across reads waits for the rest.
    pub fn feed(&mut self, bytes: &[u8], actions: &mut Vec<Action>) {
        if bytes.is_empty() {
            return;
        }
        self.escape_pending = bytes.last() == Some(&0x1b);
        self.keys.parse(bytes, true);
        self.drain(actions);
    }

    /// After a pause with nothing more typed, a pending ESC is the Escape
    /// key (which does nothing), not the start of a sequence.
    pub fn flush_escape(&mut self, actions: &mut Vec<Action>) {
        self.escape_pending = false;
        self.keys.parse(b"", false);
        self.drain(actions);
    }

    fn drain(&mut self, actions: &mut Vec<Action>) {
        while let Some(event) = self.keys.pop() {
            match event {
                Event::Key(key) if key.kind != KeyEventKind::Release => self.key(key, actions),
                Event::Paste(text) => {
                    self.cycle = None;
                    self.paste(&text, actions);
                }
                _ => {}
            }
        }
    }

    fn key(&mut self, key: KeyEvent, actions: &mut Vec<Action>) {
        let ctrl = key.modifiers.contains(Modifiers::CONTROL);
        let alt = key.modifiers.contains(Modifiers::ALT);
        if key.code != KeyCode::Tab {
            self.cycle = None;
        }
        match key.code {
            KeyCode::Char(c) if ctrl => self.control(c, actions),
            KeyCode::Char(_) if alt => {}
            KeyCode::Char(c) => self.insert_typed(c, actions),
            KeyCode::Enter => self.enter(actions),
            KeyCode::Backspace => self.backspace(),
            KeyCode::Delete => self.delete(),
            KeyCode::Left => self.cursor = self.prev_boundary(),
            KeyCode::Right => self.cursor = self.next_boundary(),
            KeyCode::Home => self.cursor = 0,
            KeyCode::End => self.cursor = self.text.len(),
            KeyCode::Up => self.history_up(),
            KeyCode::Down => self.history_down(),
            KeyCode::Tab => self.complete(actions),
            _ => {}
        }
    }

    /// A key with Ctrl held. termina reports the C0 bytes this way too:
    /// 0x08 is Ctrl-H, 0x0A (a bare line feed) Ctrl-J.
    fn control(&mut self, c: char, actions: &mut Vec<Action>) {
        match c {
            'a' => self.cursor = 0,
            'e' => self.cursor = self.text.len(),
            'b' => self.cursor = self.prev_boundary(),
            'f' => self.cursor = self.next_boundary(),
            'h' => self.backspace(),
            'j' | 'm' => self.enter(actions),
            'd' if self.text.is_empty() => actions.push(Action::Leave),
            'd' => self.delete(),
            'c' if self.text.is_empty() => actions.push(Action::Leave),
            'c' => self.clear(),
            'u' => {
                self.text.drain(..self.cursor);
                self.cursor = 0;
            }
            'k' => self.text.truncate(self.cursor),
            'w' => {
                let start = word_start(&self.text[..self.cursor]);
                self.text.drain(start..self.cursor);
                self.cursor = start;
            }
            'p' => self.history_up(),
            'n' => self.history_down(),
            _ => {}
        }
    }

    fn enter(&mut self, actions: &mut Vec<Action>) {
        if self.text.is_empty() {
            actions.push(Action::Leave);
            return;
        }
        if !self.can_send {
            actions.push(Action::Bell);
            return;
        }
        let line = std::mem::take(&mut self.text);
        self.clear();
        self.remember(&line);
        actions.push(Action::Send(line));
    }

    /// Empties the line and leaves the history alone.
    fn clear(&mut self) {
        self.text.clear();
        self.cursor = 0;
        self.browsing = None;
        self.scroll = 0;
    }

    fn remember(&mut self, line: &str) {
        if self.history.last().map(String::as_str) != Some(line) {
            self.history.push(line.to_string());
            if self.history.len() > HISTORY {
                self.history.remove(0);
            }
        }
        self.browsing = None;
        self.draft.clear();
    }

    fn insert_typed(&mut self, c: char, actions: &mut Vec<Action>) {
        let mut buf = [0u8; 4];
        let cleaned = sanitize(c.encode_utf8(&mut buf));
        self.insert(&cleaned, actions);
    }

    /// Inserts cleaned text at the cursor, as far as the line has room.
    fn insert(&mut self, text: &str, actions: &mut Vec<Action>) {
        if text.is_empty() {
            return;
        }
        if self.text.len() + text.len() > MAX_LINE {
            actions.push(Action::Bell);
            return;
        }
        self.text.insert_str(self.cursor, text);
        self.cursor += text.len();
        // A combining mark typed after a letter joins its cluster: keep
        // the cursor on a boundary.
        if !self.is_boundary(self.cursor) {
            self.cursor = self.next_boundary();
        }
    }

    /// A bracketed paste: taken whole. Each pasted line break sends the
    /// line so far; blank lines are skipped (a paste never leaves); a TAB
    /// is a space, as the server would make it; the text after the last
    /// break stays in the line to edit.
    fn paste(&mut self, text: &str, actions: &mut Vec<Action>) {
        let text = text.replace("\r\n", "\n").replace('\r', "\n");
        let mut pieces = text.split('\n').peekable();
        while let Some(piece) = pieces.next() {
            self.insert(&sanitize(piece), actions);
            if pieces.peek().is_some() {
                let line = std::mem::take(&mut self.text);
                self.clear();
                if !line.trim().is_empty() {
                    self.remember(&line);
                    actions.push(Action::Send(line));
                }
            }
        }
    }

    fn backspace(&mut self) {
        let start = self.prev_boundary();
        self.text.drain(start..self.cursor);
        self.cursor = start;
    }

    fn delete(&mut self) {
        let end = self.next_boundary();
        self.text.drain(self.cursor..end);
    }

    fn history_up(&mut self) {
        let index = match self.browsing {
            None if self.history.is_empty() => return,
            None => {
                self.draft = self.text.clone();
                self.history.len() - 1
            }
            Some(0) => return,
            Some(i) => i - 1,
        };
        self.browsing = Some(index);
        self.show(self.history[index].clone());
    }

    fn history_down(&mut self) {
        let Some(index) = self.browsing else {
            return;
        };
        if index + 1 < self.history.len() {
            self.browsing = Some(index + 1);
            self.show(self.history[index + 1].clone());
        } else {
            self.browsing = None;
            let draft = std::mem::take(&mut self.draft);
            self.show(draft);
        }
    }

    fn show(&mut self, text: String) {
        self.text = text;
        self.cursor = self.text.len();
    }

    /// Tab: completes the word before the cursor from the commands (a word
    /// starting with `/` at the start of the line) or the names (after an
    /// optional `@`). One candidate is inserted with a space after it;
    /// several extend the word to what they share, then each further Tab
    /// shows the next.
    fn complete(&mut self, actions: &mut Vec<Action>) {
        if let Some(mut cycle) = self.cycle.take() {
            cycle.index = (cycle.index + 1) % cycle.candidates.len();
            self.replace_word(cycle.start, &format!("{} ", cycle.candidates[cycle.index]));
            self.cycle = Some(cycle);
            return;
        }
        let start = word_start_at_space(&self.text[..self.cursor]);
        let word = &self.text[start..self.cursor];
        let (prefix, stem) = match word.strip_prefix('@') {
            Some(rest) if start == 0 => ("@", rest),
            _ => ("", word),
        };
        let candidates: Vec<String> = if start == 0 && word.starts_with('/') {
            COMMANDS
                .iter()
                .filter(|command| starts_with_ignoring_case(command, word))
                .map(|command| command.to_string())
                .collect()
        } else {
            let mut names: Vec<String> = self
                .names
                .iter()
                .filter(|name| starts_with_ignoring_case(name, stem))
                .map(|name| format!("{prefix}{name}"))
                .collect();
            names.sort_by_key(|name| name.to_lowercase());
            names.dedup();
            names
        };
        match candidates.len() {
            0 => actions.push(Action::Bell),
            1 => self.replace_word(start, &format!("{} ", candidates[0])),
            _ => {
                let shared = shared_prefix(&candidates);
                if shared.chars().count() > word.chars().count() {
                    self.replace_word(start, &shared);
                } else {
                    self.replace_word(start, &format!("{} ", candidates[0]));
                    self.cycle = Some(Cycle {
                        start,
                        candidates,
                        index: 0,
                    });
                }
            }
        }
    }

    /// Replaces `text[start..cursor]` with `with`; the cursor follows it.
    fn replace_word(&mut self, start: usize, with: &str) {
        self.text.replace_range(start..self.cursor, with);
        self.cursor = start + with.len();
    }

    fn is_boundary(&self, at: usize) -> bool {
        at == self.text.len() || self.text.grapheme_indices(true).any(|(i, _)| i == at)
    }

    fn prev_boundary(&self) -> usize {
        self.text[..self.cursor]
            .grapheme_indices(true)
            .next_back()
            .map_or(0, |(i, _)| i)
    }

    fn next_boundary(&self) -> usize {
        self.text[self.cursor..]
            .graphemes(true)
            .next()
            .map_or(self.cursor, |g| self.cursor + g.len())
    }

    /// The input row for the terminal's width: the prompt, then the part
    /// of the line around the cursor that fits, one column left free at
    /// the right so the terminal never wraps the row.
    pub fn render(&mut self) -> Row {
        let mut prompt = self.prompt.clone();
        let mut prompt_width = self.prompt_width;
        // A prompt that leaves no room for typing is dropped.
        if prompt_width + 8 > self.width {
            prompt.clear();
            prompt_width = 0;
        }
        let room = self.width - prompt_width - 1;
        let cells: Vec<(usize, &str, usize)> = self
            .text
            .grapheme_indices(true)
            .map(|(i, g)| (i, g, g.width()))
            .collect();
        // Column where each cluster starts, and the line's total width.
        let mut starts = Vec::with_capacity(cells.len());
        let mut column = 0;
        let mut cursor_column = 0;
        for &(i, _, width) in &cells {
            if i == self.cursor {
                cursor_column = column;
            }
            starts.push(column);
            column += width;
        }
        let total = column;
        if self.cursor >= self.text.len() {
            cursor_column = total;
        }
        // The first cluster starting at or after `column`.
        let first_at = |column: usize| {
            starts
                .iter()
                .copied()
                .find(|&s| s >= column)
                .unwrap_or(total)
        };
        if cursor_column < self.scroll {
            self.scroll = cursor_column;
        }
        if cursor_column > self.scroll + room {
            self.scroll = first_at(cursor_column - room);
        }
        // Scrolled further than needed (text was deleted): pull back.
        if total < self.scroll + room {
            self.scroll = first_at(total.saturating_sub(room)).min(self.scroll);
        }
        let mut text = String::new();
        for (&(_, g, width), &start) in cells.iter().zip(&starts) {
            if start >= self.scroll && start + width <= self.scroll + room {
                text.push_str(g);
            }
        }
        Row {
            prompt,
            text,
            cursor: prompt_width + cursor_column - self.scroll,
        }
    }
}

/// Widths below this are treated as this: the row always has some room.
fn usable_width(width: usize) -> usize {
    match width {
        0 => 80,
        w => w.max(10),
    }
}

/// Start of the word before the end of `text` for Ctrl-W: trailing spaces,
/// then everything back to the previous space.
fn word_start(text: &str) -> usize {
    let trimmed = text.trim_end_matches(' ');
    trimmed.rfind(' ').map_or(0, |i| i + 1)
}

/// Start of the word that ends at the end of `text` (empty after a space).
fn word_start_at_space(text: &str) -> usize {
    text.rfind(' ').map_or(0, |i| i + 1)
}

fn starts_with_ignoring_case(text: &str, prefix: &str) -> bool {
    let mut chars = text.chars().flat_map(char::to_lowercase);
    prefix
        .chars()
        .flat_map(char::to_lowercase)
        .all(|p| chars.next() == Some(p))
}

/// The longest start the candidates share, ignoring case, spelled as the
/// first one spells it.
fn shared_prefix(candidates: &[String]) -> String {
    let first = &candidates[0];
    let mut end = first.len();
    for other in &candidates[1..] {
        let same = first
            .char_indices()
            .zip(other.chars())
            .find(|((_, a), b)| !a.to_lowercase().eq(b.to_lowercase()))
            .map_or(first.len().min(other.len()), |((i, _), _)| i);
        end = end.min(same);
    }
    let mut end = end.min(first.len());
    while !first.is_char_boundary(end) {
        end -= 1;
    }
    first[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEFT: &[u8] = b"\x1b[D";
    const RIGHT: &[u8] = b"\x1b[C";
    const UP: &[u8] = b"\x1b[A";
    const DOWN: &[u8] = b"\x1b[B";
    const HOME: &[u8] = b"\x1b[H";
    const END: &[u8] = b"\x1b[F";
    const DELETE: &[u8] = b"\x1b[3~";
    const BACKSPACE: &[u8] = b"\x7f";

    fn editor() -> Editor {
        Editor::new(80)
    }

    /// Feeds each chunk as a separate read; returns the actions.
    fn feed(editor: &mut Editor, chunks: &[&[u8]]) -> Vec<Action> {
        let mut actions = Vec::new();
        for chunk in chunks {
            editor.feed(chunk, &mut actions);
        }
        actions
    }

    fn typed(chunks: &[&[u8]]) -> Editor {
        let mut editor = editor();
        feed(&mut editor, chunks);
        editor
    }

    /// The text and the cursor as `|` inside it.
    fn shown(editor: &Editor) -> String {
        let mut text = editor.text().to_string();
        text.insert(editor.cursor(), '|');
        text
    }

    fn paste(text: &str) -> Vec<u8> {
        format!("\x1b[200~{text}\x1b[201~").into_bytes()
    }

    #[test]
    fn typing_and_moving() {
        let mut e = typed(&[b"helo", LEFT, b"l"]);
        assert_eq!(shown(&e), "hell|o");
        feed(&mut e, &[HOME, b">", END, b"!"]);
        assert_eq!(shown(&e), ">hello!|");
        feed(&mut e, &[b"\x01", RIGHT, b"\x05", LEFT, LEFT]);
        assert_eq!(shown(&e), ">hell|o!");
        feed(&mut e, &[b"\x02", b"\x06", b"\x06"]);
        assert_eq!(shown(&e), ">hello|!");
    }

    #[test]
    fn deleting() {
        let mut e = typed(&[b"one two  three", LEFT, LEFT]);
        feed(&mut e, &[BACKSPACE]);
        assert_eq!(shown(&e), "one two  th|ee");
        feed(&mut e, &[DELETE]);
        assert_eq!(shown(&e), "one two  th|e");
        feed(&mut e, &[b"\x17"]);
        assert_eq!(shown(&e), "one two  |e", "Ctrl-W: the word before");
        feed(&mut e, &[b"\x17"]);
        assert_eq!(shown(&e), "one |e", "Ctrl-W: spaces, then the word");
        feed(&mut e, &[b"\x0b"]);
        assert_eq!(shown(&e), "one |", "Ctrl-K: to the end");
        feed(&mut e, &[LEFT, b"\x15"]);
        assert_eq!(shown(&e), "| ", "Ctrl-U: to the start");
        feed(&mut e, &[b"\x08"]);
        assert_eq!(shown(&e), "| ", "Backspace at the start does nothing");
        feed(&mut e, &[b"\x04"]);
        assert_eq!(shown(&e), "|", "Ctrl-D deletes under the cursor");
    }

    #[test]
    fn enter_sends_and_leaves() {
        let mut e = editor();
        assert_eq!(feed(&mut e, &[b"hi\r"]), vec![Action::Send("hi".into())]);
        assert_eq!(shown(&e), "|");
        assert_eq!(feed(&mut e, &[b"\r"]), vec![Action::Leave]);
        assert_eq!(feed(&mut e, &[b"x\n"]), vec![Action::Send("x".into())]);
        // While the server takes nothing, Enter keeps the line.
        e.set_can_send(false);
        assert_eq!(feed(&mut e, &[b"held\r"]), vec![Action::Bell]);
        assert_eq!(shown(&e), "held|");
        e.set_can_send(true);
        assert_eq!(feed(&mut e, &[b"\r"]), vec![Action::Send("held".into())]);
    }

    #[test]
    fn ctrl_c_clears_then_leaves_and_ctrl_d_leaves_on_empty() {
        let mut e = typed(&[b"half typed"]);
        assert_eq!(feed(&mut e, &[b"\x03"]), vec![]);
        assert_eq!(shown(&e), "|");
        assert_eq!(feed(&mut e, &[b"\x03"]), vec![Action::Leave]);
        let mut e = editor();
        assert_eq!(feed(&mut e, &[b"\x04"]), vec![Action::Leave]);
    }

    #[test]
    fn wide_characters_move_and_erase_whole() {
        let mut e = typed(&["你好世界".as_bytes(), LEFT, LEFT, BACKSPACE]);
        assert_eq!(shown(&e), "你|世界");
        let row = e.render();
        assert_eq!(row.text, "你世界");
        assert_eq!(row.cursor, 2, "after one wide character");
        feed(&mut e, &["中".as_bytes()]);
        assert_eq!(e.render().cursor, 4);
        feed(&mut e, &[DELETE]);
        assert_eq!(shown(&e), "你中|界");
        let mut e = typed(&["a😀b".as_bytes(), LEFT]);
        assert_eq!(e.render().cursor, 3);
        feed(&mut e, &[BACKSPACE]);
        assert_eq!(shown(&e), "a|b");
    }

    #[test]
    fn combining_marks_are_one_character() {
        // e + COMBINING ACUTE ACCENT, typed as two keys.
        let mut e = typed(&[b"cafe", "\u{301}".as_bytes(), b"!"]);
        assert_eq!(shown(&e), "cafe\u{301}!|");
        feed(&mut e, &[LEFT, LEFT]);
        assert_eq!(shown(&e), "caf|e\u{301}!");
        assert_eq!(e.render().cursor, 3);
        feed(&mut e, &[DELETE]);
        assert_eq!(shown(&e), "caf|!");
        // An emoji with a skin tone and a ZWJ family are one cluster each.
        let e = typed(&["👍🏽👨\u{200d}👩\u{200d}👧".as_bytes(), BACKSPACE]);
        assert_eq!(shown(&e), "👍🏽|");
    }

    #[test]
    fn utf8_and_escapes_split_across_reads() {
        let bytes = "你".as_bytes();
        let mut e = typed(&[&bytes[..1], &bytes[1..2], &bytes[2..], b"\x1b", b"[", b"D"]);
        assert_eq!(shown(&e), "|你");
        assert!(!e.escape_pending());
        feed(&mut e, &[b"\x1b"]);
        assert!(e.escape_pending());
        let mut actions = Vec::new();
        e.flush_escape(&mut actions);
        feed(&mut e, &[b"x"]);
        assert_eq!(shown(&e), "x|你", "a lone ESC is dropped, not an escape");
    }

    #[test]
    fn an_input_method_commit_is_taken_whole() {
        let mut e = typed(&["中文输入".as_bytes()]);
        assert_eq!(shown(&e), "中文输入|");
        assert_eq!(e.render().cursor, 8);
    }

    #[test]
    fn a_paste_sends_its_lines_in_order_and_keeps_the_rest() {
        let mut e = typed(&[b"say: "]);
        let actions = feed(&mut e, &[&paste("one\r\ntwo\n\n  \nthree\tfour\nrest")]);
        assert_eq!(
            actions,
            vec![
                Action::Send("say: one".into()),
                Action::Send("two".into()),
                Action::Send("three four".into()),
            ]
        );
        assert_eq!(shown(&e), "rest|");
        // A paste of blank lines does not leave.
        let mut e = editor();
        assert_eq!(feed(&mut e, &[&paste("\n\n\n")]), vec![]);
        // A pasted TAB is text, not completion.
        let mut e = editor();
        e.set_names(["alice".to_string()]);
        feed(&mut e, &[&paste("a\tb")]);
        assert_eq!(shown(&e), "a b|");
        // Escape sequences in a paste are not keys.
        let mut e = editor();
        feed(&mut e, &[&paste("x\x1b[2Jy")]);
        assert_eq!(shown(&e), "xy|");
    }

    #[test]
    fn a_paste_split_across_reads() {
        let bytes = paste("first\nsecond\n");
        let (a, b) = bytes.split_at(9);
        let mut e = editor();
        assert_eq!(
            feed(&mut e, &[a, b]),
            vec![Action::Send("first".into()), Action::Send("second".into())]
        );
    }

    #[test]
    fn history_up_down_and_the_draft() {
        let mut e = typed(&[b"first\r", b"second\r", b"draft"]);
        feed(&mut e, &[UP]);
        assert_eq!(shown(&e), "second|");
        feed(&mut e, &[UP, UP]);
        assert_eq!(shown(&e), "first|", "stops at the oldest");
        feed(&mut e, &[DOWN]);
        assert_eq!(shown(&e), "second|");
        feed(&mut e, &[DOWN]);
        assert_eq!(shown(&e), "draft|", "down past the newest: the draft");
        feed(&mut e, &[DOWN]);
        assert_eq!(shown(&e), "draft|");
        // A recalled line is sent again as it is.
        let actions = feed(&mut e, &[b"\x15", UP, b"\r"]);
        assert_eq!(actions, vec![Action::Send("second".into())]);
        feed(&mut e, &[UP, UP]);
        assert_eq!(shown(&e), "first|", "the same line twice is kept once");
    }

    #[test]
    fn tab_completes_names_and_commands() {
        let mut e = editor();
        e.set_names(["alice".into(), "Albert".into(), "bob".into(), "小明".into()]);
        feed(&mut e, &[b"hi b\t"]);
        assert_eq!(shown(&e), "hi bob |");
        feed(&mut e, &[b"\x15", b"/l\t"]);
        assert_eq!(shown(&e), "/list |");
        feed(&mut e, &[b"\x15", b"/M\t"]);
        assert_eq!(shown(&e), "/msg |");
        feed(&mut e, &[b"\t"]);
        assert_eq!(shown(&e), "/msg Albert |", "no word: every name, in turn");
        feed(&mut e, &[b"\t"]);
        assert_eq!(shown(&e), "/msg alice |");
        let mut e = editor();
        e.set_names(["alice".into(), "Albert".into(), "小明".into()]);
        feed(&mut e, &[b"@A\t"]);
        assert_eq!(
            shown(&e),
            "@Al|",
            "the shared start, as the first spells it"
        );
        feed(&mut e, &[b"\t"]);
        assert_eq!(shown(&e), "@Albert |");
        feed(&mut e, &[b"\t"]);
        assert_eq!(shown(&e), "@alice |");
        feed(&mut e, &[b"\t"]);
        assert_eq!(shown(&e), "@Albert |", "cycles round");
        feed(&mut e, &[b"\x15", "小".as_bytes(), b"\t"]);
        assert_eq!(shown(&e), "小明 |");
        let actions = feed(&mut e, &[b" zz\t"]);
        assert_eq!(actions, vec![Action::Bell]);
        // Completing in the middle keeps what follows.
        let mut e = editor();
        e.set_names(["carol".into()]);
        feed(&mut e, &[b"hi c, ok", LEFT, LEFT, LEFT, LEFT, b"\t"]);
        assert_eq!(shown(&e), "hi carol |, ok");
    }

    #[test]
    fn the_row_shows_the_prompt_and_the_cursor() {
        let mut e = editor();
        e.set_prompt("alice> ");
        feed(&mut e, &[b"hello", LEFT]);
        assert_eq!(
            e.render(),
            Row {
                prompt: "alice> ".into(),
                text: "hello".into(),
                cursor: 11
            }
        );
    }

    #[test]
    fn a_long_line_scrolls_sideways_in_one_row() {
        let mut e = Editor::new(20);
        e.set_prompt("> ");
        let line: String = ('a'..='z').collect();
        feed(&mut e, &[line.as_bytes()]);
        // 20 columns: 2 of prompt, 17 of text, the last one kept free.
        let row = e.render();
        assert_eq!(row.text, "jklmnopqrstuvwxyz");
        assert_eq!(row.cursor, 19);
        feed(&mut e, &[HOME]);
        let row = e.render();
        assert_eq!(row.text, "abcdefghijklmnopq");
        assert_eq!(row.cursor, 2);
        // Wide characters never straddle the edge.
        let mut e = Editor::new(20);
        e.set_prompt("> ");
        feed(&mut e, &["一二三四五六七八九十".as_bytes()]);
        let row = e.render();
        assert_eq!(row.text, "三四五六七八九十");
        assert_eq!(row.cursor, 18);
        assert!(row.prompt.width() + row.text.width() < 20);
        // Deleting pulls the view back.
        feed(&mut e, &[b"\x15", b"ab"]);
        let row = e.render();
        assert_eq!((row.text.as_str(), row.cursor), ("ab", 4));
        // A resize is taken at the next render.
        let mut e = Editor::new(80);
        feed(&mut e, &[line.as_bytes()]);
        e.set_width(12);
        assert_eq!(e.render().text, "pqrstuvwxyz");
    }

    #[test]
    fn control_characters_never_enter_the_line() {
        let mut e = typed(&[b"a\x1b[31mb", "\u{202e}c\u{200b}".as_bytes()]);
        assert_eq!(shown(&e), "abc|");
        feed(&mut e, &[b"\x1a\x1c"]);
        assert_eq!(shown(&e), "abc|", "Ctrl-Z and others do nothing");
    }
}
