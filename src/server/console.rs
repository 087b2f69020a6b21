//! The administrator's console: the server's standard input, read without
//! blocking and split into lines by the same codec the sockets use.
//!
//! Never sets O_NONBLOCK on fd 0 (it is shared with the shell): the poller
//! says it is readable, and exactly one `read` follows.
//!
//! When stdin and stdout are both a terminal, the console edits the line
//! with the client's editor, in raw mode: the log (`frame`, which the
//! server's log is drawn through) is printed above the administrator's
//! half-typed line, which is redrawn intact under it, after a prompt saying
//! where a line goes. Up recalls earlier lines; Enter, Ctrl-C or Ctrl-D on
//! an empty line is the empty line that closes the room. The console and
//! the log are separate parts of the reactor but share the one terminal of
//! the process, so its state (`SCREEN`) is kept once per thread here.
//! With anything else on stdin, nothing of this happens.

use std::cell::RefCell;
use std::io::{self, IsTerminal, Write};

use crate::client::editor::{Action, Editor};
use crate::client::term::{self, RawMode};
use crate::i18n::Localizer;
use crate::protocol::{Frame, LineCodec};

/// Console lines may be long pastes; they are cut at this many bytes.
const MAX_CONSOLE_LINE: usize = 64 * 1024;

/// The console's terminal while it edits: the editor and the raw mode.
struct Screen {
    editor: Editor,
    /// Set when the row must be drawn again (a key, a log line).
    dirty: bool,
    /// Set by a key with nothing to do: one bell at the next draw.
    bell: bool,
    /// Gives the terminal back when the screen is dropped.
    _raw: RawMode,
}

thread_local! {
    /// The console's screen, while the console edits in a terminal.
    static SCREEN: RefCell<Option<Screen>> = const { RefCell::new(None) };
}

#[derive(Debug)]
pub struct Console {
    codec: LineCodec,
    buf: Vec<u8>,
    /// Whether this console edits in the terminal (and owns `SCREEN`).
    editing: bool,
}

/// What one read of the console gave.
#[derive(Debug, PartialEq, Eq)]
pub enum ConsoleInput {
    /// Complete lines typed (possibly none yet).
    Lines(Vec<String>),
    /// End of input: the console is detached for good.
    Eof,
}

impl Default for Console {
    fn default() -> Self {
        Console {
            codec: LineCodec::new(MAX_CONSOLE_LINE),
            buf: vec![0; 16 * 1024],
            editing: false,
        }
    }
}

impl Console {
    /// A console for `localizer`'s language: one that edits in the
    /// terminal when stdin and stdout are both one, else a line reader.
    pub fn new(localizer: &Localizer) -> Self {
        let mut console = Console::default();
        if io::stdin().is_terminal() && io::stdout().is_terminal() {
            if let Ok(raw) = RawMode::enter() {
                let mut editor = Editor::new(term::width());
                editor.set_prompt(&format!("{}> ", localizer.tr("console-prompt", &[])));
                SCREEN.with(|screen| {
                    *screen.borrow_mut() = Some(Screen {
                        editor,
                        dirty: true,
                        bell: false,
                        _raw: raw,
                    })
                });
                console.editing = true;
            }
        }
        console
    }

    /// One `read` of fd 0, after the poller said it is readable.
    pub fn read(&mut self) -> io::Result<ConsoleInput> {
        let n = loop {
            match rustix::io::read(rustix::stdio::stdin(), &mut self.buf[..]) {
                Ok(n) => break n,
                Err(rustix::io::Errno::INTR) => continue,
                Err(errno) => return Err(errno.into()),
            }
        };
        if n == 0 {
            return Ok(ConsoleInput::Eof);
        }
        let mut lines = Vec::new();
        if self.editing {
            let mut actions = Vec::new();
            SCREEN.with(|screen| {
                if let Some(screen) = screen.borrow_mut().as_mut() {
                    screen.editor.feed(&self.buf[..n], &mut actions);
                    // A lone ESC does nothing here; drop it at once.
                    if screen.editor.escape_pending() {
                        screen.editor.flush_escape(&mut actions);
                    }
                    screen.dirty = true;
                    for action in actions {
                        match action {
                            Action::Send(line) => lines.push(line),
                            // The empty line that closes the room.
                            Action::Leave => lines.push(String::new()),
                            Action::Bell => screen.bell = true,
                        }
                    }
                }
            });
            return Ok(ConsoleInput::Lines(lines));
        }
        self.codec.feed(&self.buf[..n], |frame| {
            if let Frame::Line(line) = frame {
                lines.push(line);
            }
        });
        Ok(ConsoleInput::Lines(lines))
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        if !self.editing {
            return;
        }
        // Clear the input row, then give the terminal back.
        let screen = SCREEN.with(|screen| screen.borrow_mut().take());
        if screen.is_some() {
            let mut stdout = io::stdout();
            let _ = stdout.write_all(b"\r\x1b[K");
            let _ = stdout.flush();
        }
        drop(screen);
    }
}

/// While the console edits in the terminal: the bytes that print the log
/// lines `log` (each ending in `\n`) above the input row and draw the row
/// again, or `None` when there is nothing to draw. `None` too when the
/// console does not edit: then the log is written as it is.
pub fn frame(log: &[u8]) -> Option<Vec<u8>> {
    SCREEN.with(|screen| {
        let mut screen = screen.borrow_mut();
        let screen = screen.as_mut()?;
        if log.is_empty() && !screen.dirty {
            return None;
        }
        Some(draw(screen, log))
    })
}

/// The bytes that print `log` above the input row and draw the row again:
/// in raw mode a line ends in `\r\n`.
fn draw(screen: &mut Screen, log: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(log.len() + 128);
    out.extend_from_slice(b"\r\x1b[K");
    for &byte in log {
        if byte == b'\n' {
            out.push(b'\r');
        }
        out.push(byte);
    }
    screen.editor.set_width(term::width());
    let row = screen.editor.render();
    out.extend_from_slice(format!("\x1b[1m{}\x1b[22m{}\x1b[K\r", row.prompt, row.text).as_bytes());
    if row.cursor > 0 {
        out.extend_from_slice(format!("\x1b[{}C", row.cursor).as_bytes());
    }
    if std::mem::take(&mut screen.bell) {
        out.push(0x07);
    }
    screen.dirty = false;
    out
}
