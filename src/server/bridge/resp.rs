//! One connection to the broker: a non-blocking socket the reactor's
//! poller watches, commands encoded and replies decoded as RESP2 frames by
//! `redis-protocol` (sans-IO), written in one go per loop turn. Replies
//! come back in the order the commands went; the caller keeps that order.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

use redis_protocol::resp2::decode::decode;
use redis_protocol::resp2::encode::encode_borrowed;
use redis_protocol::resp2::types::{BorrowedFrame, OwnedFrame};
use rustix::net::{self as rnet, AddressFamily, SocketType};

/// Bytes read per call; a long `XREAD` reply takes several.
const READ_CHUNK: usize = 64 * 1024;
/// The largest reply kept undecoded before the connection is given up as
/// broken (a reply of 1000 entries of 4 KiB lines is about 4 MiB).
const MAX_PENDING_REPLY: usize = 64 * 1024 * 1024;

pub struct RespConn {
    stream: TcpStream,
    /// `connect` was still in progress when last looked at.
    connecting: bool,
    /// Encoded commands not yet written, from `written` on.
    out: Vec<u8>,
    written: usize,
    /// Bytes read and not yet decoded into whole frames.
    input: Vec<u8>,
    /// Where the next frame starts in `input`.
    decoded: usize,
}

impl RespConn {
    /// Starts connecting to `addr` without waiting: the socket becomes
    /// writable when the connection is made (or failed).
    pub fn connect(addr: SocketAddr) -> io::Result<RespConn> {
        let family = match addr {
            SocketAddr::V4(_) => AddressFamily::INET,
            SocketAddr::V6(_) => AddressFamily::INET6,
        };
        let socket = rnet::socket_with(
            family,
            SocketType::STREAM,
            rnet::SocketFlags::NONBLOCK | rnet::SocketFlags::CLOEXEC,
            None,
        )?;
        let connecting = match rnet::connect(&socket, &addr) {
            Ok(()) => false,
            Err(rustix::io::Errno::INPROGRESS) => true,
            Err(err) => return Err(err.into()),
        };
        let stream = TcpStream::from(socket);
        let _ = stream.set_nodelay(true);
        Ok(RespConn {
            stream,
            connecting,
            out: Vec::new(),
            written: 0,
            input: Vec::new(),
            decoded: 0,
        })
    }

    /// Queues one command (an array of bulk strings) to be written.
    pub fn command(&mut self, args: &[&[u8]]) {
        let parts: Vec<BorrowedFrame<'_>> = args
            .iter()
            .map(|arg| BorrowedFrame::BulkString(arg))
            .collect();
        let frame = BorrowedFrame::Array(&parts);
        let start = self.out.len();
        self.out.resize(start + frame.encode_len(false), 0);
        // The buffer is sized by the frame's own length: this cannot fail.
        if encode_borrowed(&mut self.out[start..], &frame, false).is_err() {
            self.out.truncate(start);
        }
    }

    /// Whether the connection is made; `Err` if it failed.
    pub fn established(&mut self) -> io::Result<bool> {
        if !self.connecting {
            return Ok(true);
        }
        if let Some(err) = self.stream.take_error()? {
            return Err(err);
        }
        match self.stream.peer_addr() {
            Ok(_) => {
                self.connecting = false;
                Ok(true)
            }
            Err(err) if err.kind() == io::ErrorKind::NotConnected => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// Writes what is queued, as far as the socket takes it.
    pub fn write(&mut self) -> io::Result<()> {
        if self.connecting {
            return Ok(());
        }
        while self.written < self.out.len() {
            match self.stream.write(&self.out[self.written..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.written += n,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
        if self.written == self.out.len() {
            self.out.clear();
            self.written = 0;
        }
        Ok(())
    }

    pub fn wants_write(&self) -> bool {
        self.connecting || self.written < self.out.len()
    }

    /// Reads what has arrived and appends every whole frame to `frames`.
    /// `Err` when the connection ended or broke, or the broker sent what
    /// is not RESP.
    pub fn read(&mut self, frames: &mut Vec<OwnedFrame>) -> io::Result<()> {
        let mut chunk = [0u8; READ_CHUNK];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => {
                    self.input.extend_from_slice(&chunk[..n]);
                    if n < chunk.len() {
                        break;
                    }
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
        loop {
            match decode(&self.input[self.decoded..]) {
                Ok(Some((frame, used))) => {
                    self.decoded += used;
                    frames.push(frame);
                }
                Ok(None) => break,
                Err(err) => {
                    return Err(io::Error::new(io::ErrorKind::InvalidData, err.to_string()))
                }
            }
        }
        self.input.drain(..self.decoded);
        self.decoded = 0;
        if self.input.len() > MAX_PENDING_REPLY {
            return Err(io::ErrorKind::InvalidData.into());
        }
        Ok(())
    }
}

impl AsRawFd for RespConn {
    fn as_raw_fd(&self) -> RawFd {
        self.stream.as_raw_fd()
    }
}

impl AsFd for RespConn {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.stream.as_fd()
    }
}
