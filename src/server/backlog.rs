//! The room-wide log of broadcast bytes: each broadcast is rendered and
//! stored here once, and every member keeps a cursor into it (see
//! `conn::Feed`) instead of a copy. Memory then grows with how far the
//! slowest member is behind, not with backlog x members.
//!
//! Offsets are absolute (`u64`, counted from the server's start), so a
//! cursor stays valid while the bytes before it are released.

use std::ops::Range;

/// Release the consumed front of the log only once it is this large, so
/// that a lagging member does not cost a `memmove` per loop turn.
const RELEASE_AT: usize = 64 * 1024;
/// Capacity kept after everyone caught up; a burst's peak is given back.
const KEEP_CAPACITY: usize = 256 * 1024;

#[derive(Debug, Default)]
pub struct Backlog {
    /// The bytes from offset `base` to `end()`.
    bytes: Vec<u8>,
    /// Absolute offset of `bytes[0]`; everything before it was released.
    base: u64,
}

impl Backlog {
    /// Absolute offset just past the last byte: where the next broadcast
    /// starts, and where a member that has everything stands.
    pub fn end(&self) -> u64 {
        self.base + self.bytes.len() as u64
    }

    /// Appends one broadcast and returns where it lies.
    pub fn append(&mut self, bytes: &[u8]) -> Range<u64> {
        let start = self.end();
        self.bytes.extend_from_slice(bytes);
        start..self.end()
    }

    /// The bytes at `range`, which must lie at or after the oldest cursor
    /// passed to `release_before` and at or before `end()`.
    pub fn get(&self, range: Range<u64>) -> &[u8] {
        let from = (range.start - self.base) as usize;
        let to = (range.end - self.base) as usize;
        &self.bytes[from..to]
    }

    /// Drops the bytes before `oldest`, the lowest cursor of any member
    /// (`end()` when every member has everything).
    pub fn release_before(&mut self, oldest: u64) {
        let consumed = (oldest.saturating_sub(self.base) as usize).min(self.bytes.len());
        if consumed == self.bytes.len() {
            self.base = self.end();
            self.bytes.clear();
            if self.bytes.capacity() > KEEP_CAPACITY {
                self.bytes = Vec::new();
            }
        } else if consumed >= RELEASE_AT && consumed >= self.bytes.len() / 2 {
            self.bytes.drain(..consumed);
            self.base += consumed as u64;
        }
    }

    /// Bytes held, for tests.
    #[cfg(test)]
    pub fn held(&self) -> usize {
        self.bytes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_survive_release() {
        let mut log = Backlog::default();
        let first = log.append(b"alice: hi\n");
        let second = log.append(b"bob: yo\n");
        assert_eq!(first, 0..10);
        assert_eq!(log.get(second.clone()), b"bob: yo\n");
        log.release_before(first.end);
        // Too little consumed to be worth a move: still held.
        assert_eq!(log.get(second.clone()), b"bob: yo\n");
        log.release_before(second.end);
        assert_eq!(log.held(), 0);
        assert_eq!(log.end(), 18);
        assert_eq!(log.append(b"x\n"), 18..20);
    }

    #[test]
    fn a_lagging_reader_keeps_only_what_it_has_not_read() {
        let mut log = Backlog::default();
        let line = [b'a'; 1024];
        for _ in 0..200 {
            log.append(&line);
        }
        let lagging_cursor = 150 * 1024;
        log.release_before(lagging_cursor);
        assert_eq!(log.held(), 50 * 1024);
        assert_eq!(log.get(lagging_cursor..lagging_cursor + 2), b"aa");
    }
}
