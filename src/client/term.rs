//! The terminal's mode while the editor runs: raw (every key as bytes, no
//! echo, no signals from keys), with bracketed paste on. `RawMode` is a
//! guard: dropping it gives the terminal back as it was, and a panic hook
//! does the same before the panic message is printed, so every way out of
//! the program (leaving, the server closing or vanishing, SIGTERM, SIGHUP
//! through the signal pipe, a panic) leaves a working shell behind.
//!
//! Only the termios of fd 0 and a few escape sequences written to fd 1;
//! never reopens /dev/tty.

use std::io;
use std::sync::Mutex;

use rustix::termios::{self, OptionalActions, Termios};

/// Asks the terminal to mark pastes (`ESC [ 200 ~` ... `ESC [ 201 ~`).
const PASTE_ON: &[u8] = b"\x1b[?2004h";
/// Paste marks off, attributes reset.
const PASTE_OFF: &[u8] = b"\x1b[?2004l\x1b[0m";

/// The settings to restore, for the panic hook, which cannot reach the
/// guard. `None` once restored.
static SAVED: Mutex<Option<Termios>> = Mutex::new(None);

/// The terminal in raw mode until dropped.
#[derive(Debug)]
pub struct RawMode {
    _private: (),
}

impl RawMode {
    /// Puts the terminal on stdin in raw mode and turns bracketed paste on.
    pub fn enter() -> io::Result<RawMode> {
        let stdin = rustix::stdio::stdin();
        let saved = termios::tcgetattr(stdin)?;
        let mut raw = saved.clone();
        raw.make_raw();
        if let Ok(mut slot) = SAVED.lock() {
            *slot = Some(saved);
        }
        install_panic_hook();
        termios::tcsetattr(stdin, OptionalActions::Now, &raw)?;
        write_all(PASTE_ON);
        Ok(RawMode { _private: () })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        restore();
    }
}

/// Gives the terminal back, once; later calls do nothing.
fn restore() {
    let saved = SAVED.lock().ok().and_then(|mut slot| slot.take());
    if let Some(saved) = saved {
        write_all(PASTE_OFF);
        // After SIGHUP the terminal may be gone: nothing to restore then.
        let _ = termios::tcsetattr(rustix::stdio::stdin(), OptionalActions::Now, &saved);
    }
}

/// Restores the terminal before the default hook prints the panic, so the
/// message is readable and the shell works afterwards.
fn install_panic_hook() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}

/// A few bytes straight to fd 1 (small: a terminal takes them at once;
/// errors mean the terminal is gone).
fn write_all(mut bytes: &[u8]) {
    while !bytes.is_empty() {
        match rustix::io::write(rustix::stdio::stdout(), bytes) {
            Ok(0) | Err(_) => return,
            Ok(n) => bytes = &bytes[n..],
        }
    }
}

/// The terminal's width in columns; 0 when unknown (the editor then
/// assumes 80).
pub fn width() -> usize {
    termios::tcgetwinsize(rustix::stdio::stdout())
        .map(|size| usize::from(size.ws_col))
        .unwrap_or(0)
}
