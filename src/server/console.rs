//! The administrator's console: the server's standard input, read without
//! blocking and split into lines by the same codec the sockets use.
//!
//! Never sets O_NONBLOCK on fd 0 (it is shared with the shell): the poller
//! says it is readable, and exactly one `read` follows.

use std::io;

use crate::protocol::{Frame, LineCodec};

/// Console lines may be long pastes; they are cut at this many bytes.
const MAX_CONSOLE_LINE: usize = 64 * 1024;

#[derive(Debug)]
pub struct Console {
    codec: LineCodec,
    buf: Vec<u8>,
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
        }
    }
}

impl Console {
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
        self.codec.feed(&self.buf[..n], |frame| {
            if let Frame::Line(line) = frame {
                lines.push(line);
            }
        });
        Ok(ConsoleInput::Lines(lines))
    }
}
