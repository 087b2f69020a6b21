//! One client connection: its socket, its line framing and its outgoing
//! queue. I/O on one socket only; what the lines mean is the room's business.

use std::io::{self, Read, Write};
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
    pub stream: TcpStream,
    pub addr: SocketAddr,
    pub codec: LineCodec,
    /// Bytes queued for the peer; `out[sent..]` is still to be written.
    /// Kept only while something is pending, so an idle member costs little.
    out: Vec<u8>,
    sent: usize,
    /// What the poller is armed for; `None` after an event fired.
    pub armed: Option<Interest>,
    /// Set once the room is done with this connection: flush, then close by
    /// this deadline at the latest. A closing connection is not read.
    pub closing: Option<Instant>,
    /// Already on the reactor's list of connections to flush this turn.
    pub touched: bool,
    /// Already reported as over `max_queue_bytes`.
    pub too_slow: bool,
}

impl Conn {
    pub fn new(stream: TcpStream, addr: SocketAddr, max_line_bytes: usize) -> Self {
        Conn {
            stream,
            addr,
            codec: LineCodec::new(max_line_bytes),
            out: Vec::new(),
            sent: 0,
            armed: None,
            closing: None,
            touched: false,
            too_slow: false,
        }
    }

    /// Bytes waiting to be written.
    pub fn pending(&self) -> usize {
        self.out.len() - self.sent
    }

    pub fn queue(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    /// The interest this connection's state calls for.
    pub fn wanted_interest(&self) -> Interest {
        Interest {
            readable: self.closing.is_none(),
            writable: self.pending() > 0,
        }
    }

    /// Writes as much of the queue as the socket takes, in as few calls as
    /// it allows. `Ok` also when the socket is full (`WouldBlock`); `Err`
    /// means the connection is broken.
    pub fn write_pending(&mut self) -> io::Result<()> {
        while self.sent < self.out.len() {
            match self.stream.write(&self.out[self.sent..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.sent += n,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(err),
            }
        }
        if self.sent == self.out.len() {
            // Give the memory back: a burst should not pin its peak size.
            if self.out.capacity() > 64 * 1024 {
                self.out = Vec::new();
            } else {
                self.out.clear();
            }
            self.sent = 0;
        } else if self.sent > self.out.len() / 2 {
            self.out.drain(..self.sent);
            self.sent = 0;
        }
        Ok(())
    }

    /// Reads what the socket has, up to about `budget` bytes, into
    /// `scratch`, handing each read's bytes and this connection's codec to
    /// `on_frames`. Stops at `WouldBlock`, EOF or an error.
    pub fn read_into(
        &mut self,
        scratch: &mut [u8],
        mut budget: usize,
        mut on_frames: impl FnMut(&mut LineCodec, &[u8]),
    ) -> ReadOutcome {
        loop {
            match self.stream.read(scratch) {
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
