//! One client connection: its socket, its line framing, its own outgoing
//! queue and its place in the room's backlog. I/O on one socket only; what
//! the lines mean is the room's business.

use std::collections::VecDeque;
use std::io::{self, IoSlice, Read};
use std::net::{SocketAddr, TcpStream};
use std::ops::Range;
use std::time::Instant;

use rustix::net::{SendAncillaryBuffer, SendFlags};

use super::backlog::Backlog;
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

/// How far a member has got through the room's `Backlog`. Exists only
/// while the connection is a member: broadcasts reach it from its welcome
/// until its close.
#[derive(Debug)]
struct Feed {
    /// Offset of the next backlog byte owed to this member.
    cursor: u64,
    /// Ranges after `cursor` that are not for this member (its own lines:
    /// nobody hears their own echo), in order, none starting at `cursor`.
    skips: VecDeque<Range<u64>>,
    /// Total length of `skips`.
    skipped: usize,
}

impl Feed {
    /// Moves the cursor past any skipped range it has reached.
    fn jump_skips(&mut self) {
        while let Some(skip) = self.skips.front() {
            if skip.start != self.cursor {
                break;
            }
            self.cursor = skip.end;
            self.skipped -= (skip.end - skip.start) as usize;
            self.skips.pop_front();
        }
    }

    fn new(cursor: u64) -> Self {
        Feed {
            cursor,
            skips: VecDeque::new(),
            skipped: 0,
        }
    }

    /// Bytes owed up to `end`.
    fn owed_len(&self, end: u64) -> usize {
        (end - self.cursor) as usize - self.skipped
    }

    /// The range just appended at the end is not for this member.
    fn skip(&mut self, range: Range<u64>) {
        if self.cursor == range.start {
            self.cursor = range.end;
            return;
        }
        self.skipped += (range.end - range.start) as usize;
        match self.skips.back_mut() {
            Some(last) if last.end == range.start => last.end = range.end,
            _ => self.skips.push_back(range),
        }
    }

    /// `written` owed bytes were sent.
    fn advance(&mut self, mut written: usize) {
        while written > 0 {
            let segment_end = self.skips.front().map_or(u64::MAX, |skip| skip.start);
            let step = (written as u64).min(segment_end - self.cursor);
            self.cursor += step;
            written -= step as usize;
            self.jump_skips();
        }
    }

    /// The backlog ranges still owed, in order, up to `end`.
    fn owed(&self, end: u64) -> impl Iterator<Item = Range<u64>> + '_ {
        let starts = std::iter::once(self.cursor).chain(self.skips.iter().map(|s| s.end));
        let ends = self
            .skips
            .iter()
            .map(|s| s.start)
            .chain(std::iter::once(end));
        starts
            .zip(ends)
            .map(|(start, end)| start..end)
            .filter(|r| !r.is_empty())
    }
}

#[derive(Debug)]
pub struct Conn {
    pub stream: TcpStream,
    pub addr: SocketAddr,
    pub codec: LineCodec,
    /// Bytes for this peer alone (greeting, replies, private messages), all
    /// owed before anything in `feed`; `out[sent..]` is still to be written.
    /// Allocated only while something is pending, so an idle member costs
    /// little.
    out: Vec<u8>,
    sent: usize,
    /// Where this member stands in the room's backlog; `None` until it
    /// joins, and again once it is closing.
    feed: Option<Feed>,
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

/// Most slices handed to one `writev`.
const MAX_SLICES: usize = 16;

impl Conn {
    pub fn new(stream: TcpStream, addr: SocketAddr, max_line_bytes: usize) -> Self {
        Conn {
            stream,
            addr,
            codec: LineCodec::new(max_line_bytes),
            out: Vec::new(),
            sent: 0,
            feed: None,
            armed: None,
            closing: None,
            touched: false,
            too_slow: false,
        }
    }

    /// Bytes waiting to be written, its own and the backlog's.
    pub fn pending(&self, log: &Backlog) -> usize {
        let own = self.out.len() - self.sent;
        let owed = self
            .feed
            .as_ref()
            .map_or(0, |feed| feed.owed_len(log.end()));
        own + owed
    }

    /// The backlog offset this member still needs, if it is a member.
    pub fn cursor(&self) -> Option<u64> {
        self.feed.as_ref().map(|feed| feed.cursor)
    }

    /// Whether the backlog holds bytes for this member that it has not had.
    pub fn behind(&self, log: &Backlog) -> bool {
        self.feed
            .as_ref()
            .is_some_and(|feed| feed.cursor < log.end())
    }

    /// From now on, every broadcast appended to `log` is owed to this peer.
    pub fn subscribe(&mut self, log: &Backlog) {
        self.feed = Some(Feed::new(log.end()));
    }

    /// The broadcast at `range` (just appended to the backlog) is not for
    /// this member.
    pub fn skip(&mut self, range: Range<u64>) {
        if let Some(feed) = self.feed.as_mut() {
            feed.skip(range);
        }
    }

    /// No more broadcasts for this peer: what it is owed up to now is
    /// copied into its own queue.
    pub fn unsubscribe(&mut self, log: &Backlog) {
        self.take_owed(log);
        self.feed = None;
    }

    /// Queues bytes for this peer alone, after everything owed to it so far.
    pub fn queue(&mut self, bytes: &[u8], log: &Backlog) {
        self.take_owed(log);
        self.out.extend_from_slice(bytes);
    }

    /// Copies the backlog bytes owed into `out`, keeping their order with
    /// what is queued after them. Rare: only a reply or a private message
    /// to a member that is behind.
    fn take_owed(&mut self, log: &Backlog) {
        let Some(feed) = self.feed.as_mut() else {
            return;
        };
        for range in feed.owed(log.end()) {
            self.out.extend_from_slice(log.get(range));
        }
        feed.cursor = log.end();
        feed.skips.clear();
        feed.skipped = 0;
    }

    /// The interest this connection's state calls for.
    pub fn wanted_interest(&self, log: &Backlog) -> Interest {
        Interest {
            readable: self.closing.is_none(),
            writable: self.pending(log) > 0,
        }
    }

    /// Writes as much of what is pending as the socket takes, with one
    /// `writev` per call over its own queue and the backlog. `Ok` also when
    /// the socket is full (`WouldBlock`); `Err` means the connection is
    /// broken.
    pub fn write_pending(&mut self, log: &Backlog) -> io::Result<()> {
        loop {
            let mut slices = [IoSlice::new(&[]); MAX_SLICES];
            let mut count = 0;
            if self.sent < self.out.len() {
                slices[0] = IoSlice::new(&self.out[self.sent..]);
                count = 1;
            }
            let mut more_than_fits = false;
            if let Some(feed) = &self.feed {
                for range in feed.owed(log.end()) {
                    if count == MAX_SLICES {
                        more_than_fits = true;
                        break;
                    }
                    slices[count] = IoSlice::new(log.get(range));
                    count += 1;
                }
            }
            if count == 0 {
                break;
            }
            let offered: usize = slices[..count].iter().map(|slice| slice.len()).sum();
            // sendmsg rather than writev: the same gather, without the file
            // layer's position lock (7% of the server's time in a profile).
            let sent = rustix::net::sendmsg(
                &self.stream,
                &slices[..count],
                &mut SendAncillaryBuffer::default(),
                SendFlags::NOSIGNAL,
            )
            .map_err(io::Error::from);
            match sent {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(written) => {
                    self.advance(written);
                    // A short write means the socket is full: asking again
                    // would only cost a syscall that says so.
                    if written < offered || !more_than_fits {
                        break;
                    }
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(err),
            }
        }
        if self.sent == self.out.len() {
            // Give the memory back: broadcasts come through the backlog, so
            // this queue is seldom used, and an idle member should cost
            // no buffer at all.
            self.out = Vec::new();
            self.sent = 0;
        } else if self.sent > self.out.len() / 2 {
            self.out.drain(..self.sent);
            self.sent = 0;
        }
        if let Some(feed) = self.feed.as_mut() {
            if feed.skips.is_empty() && feed.skips.capacity() > 16 {
                feed.skips = VecDeque::new();
            }
        }
        Ok(())
    }

    /// Marks `written` bytes as sent: first its own queue, then the backlog.
    fn advance(&mut self, written: usize) {
        let own = written.min(self.out.len() - self.sent);
        self.sent += own;
        if let Some(feed) = self.feed.as_mut() {
            feed.advance(written - own);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// What `feed` would write next, joined.
    fn owed_bytes(feed: &Feed, log: &Backlog) -> Vec<u8> {
        feed.owed(log.end())
            .flat_map(|range| log.get(range).to_vec())
            .collect()
    }

    #[test]
    fn own_lines_are_skipped_and_partial_writes_resume() {
        let mut log = Backlog::default();
        let mut feed = Feed::new(log.end());
        // Caught up when its own line is appended: the cursor just moves.
        let own = log.append(b"me: first\n");
        feed.skip(own);
        assert_eq!(feed.owed_len(log.end()), 0);
        log.append(b"bob: a\n");
        let own = log.append(b"me: b\n");
        feed.skip(own);
        let own = log.append(b"me: c\n");
        feed.skip(own);
        log.append(b"eve: d\n");
        assert_eq!(feed.skips.len(), 1, "adjacent own lines merge");
        assert_eq!(owed_bytes(&feed, &log), b"bob: a\neve: d\n");
        assert_eq!(feed.owed_len(log.end()), 14);
        // The socket took 3 bytes, then the rest.
        feed.advance(3);
        assert_eq!(owed_bytes(&feed, &log), b": a\neve: d\n");
        feed.advance(4);
        assert_eq!(owed_bytes(&feed, &log), b"eve: d\n");
        assert!(feed.skips.is_empty(), "the skip was jumped");
        feed.advance(7);
        assert_eq!(feed.cursor, log.end());
        assert_eq!(feed.owed_len(log.end()), 0);
    }
}
