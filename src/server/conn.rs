//! One client connection's read side and poller state: its address, its
//! line framing, what it is armed for, and whether it is closing. Its
//! socket and everything it is owed live in the fan-out; what the lines
//! mean is the room's business.

use std::io::{self, Read};
use std::net::{SocketAddr, TcpStream};
use std::time::Instant;

use crate::protocol::LineCodec;

/// What a connection is armed for in the poller (oneshot: an event that
/// fires disarms it until the next `modify`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interest {
    pub readable: bool,
    pub writable: bool,
}

/// Result of draining the socket's receive side.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadOutcome {
    /// Nothing more to read now (`WouldBlock`), or the read budget is spent
    /// and the poller will report the rest.
    Open,
    /// The peer closed its side (`read` returned 0).
    Closed,
    /// The connection broke (reset, or another error).
    Broken,
}

#[derive(Debug)]
pub struct Conn {
    pub addr: SocketAddr,
    pub codec: LineCodec,
    /// What the poller is armed for; `None` after an event fired.
    pub armed: Option<Interest>,
    /// Set once the room is done with this connection: flush, then close by
    /// this deadline at the latest. A closing connection is not read.
    pub closing: Option<Instant>,
    /// On the reactor's list of connections to re-arm this turn.
    pub touched: bool,
}

impl Conn {
    pub fn new(addr: SocketAddr, max_line_bytes: usize) -> Self {
        Conn {
            addr,
            codec: LineCodec::new(max_line_bytes),
            armed: None,
            closing: None,
            touched: false,
        }
    }

    /// Reads what `socket` has, up to about `budget` bytes, into `scratch`,
    /// handing each read's bytes and this connection's codec to
    /// `on_frames`. Stops at `WouldBlock`, EOF or an error.
    pub fn read_into(
        &mut self,
        mut socket: &TcpStream,
        scratch: &mut [u8],
        mut budget: usize,
        mut on_frames: impl FnMut(&mut LineCodec, &[u8]),
    ) -> ReadOutcome {
        loop {
            match socket.read(scratch) {
                Ok(0) => return ReadOutcome::Closed,
                Ok(n) => {
                    on_frames(&mut self.codec, &scratch[..n]);
                    budget = budget.saturating_sub(n);
                    if budget == 0 {
                        return ReadOutcome::Open;
                    }
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return ReadOutcome::Open,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return ReadOutcome::Broken,
            }
        }
    }
}
