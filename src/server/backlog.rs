//! The room-wide log of broadcast bytes for one rendering variant (one
//! language): each broadcast is rendered and stored here once, with its
//! `Audience`, and every member of the variant keeps a cursor into it (see
//! `fanout`) instead of a copy. Memory then grows with how far the slowest
//! member is behind, not with backlog x members.
//!
//! Offsets are absolute (`u64`, counted from the variant's start), so a
//! cursor stays valid while the bytes before it are released.

use std::collections::VecDeque;
use std::ops::Range;

use crate::room::Audience;

/// Release the consumed front of the log only once it is this large, so
/// that a lagging member does not cost a `memmove` per loop turn.
const RELEASE_AT: usize = 64 * 1024;
/// Capacity kept after everyone caught up; a burst's peak is given back.
const KEEP_CAPACITY: usize = 256 * 1024;

/// Entries' capacity kept after everyone caught up.
const KEEP_ENTRIES: usize = 4096;

/// One broadcast in the log: where it starts and who it is for. It ends
/// where the next one starts, or at `Backlog::end`.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    pub start: u64,
    pub audience: Audience,
}

#[derive(Debug, Default)]
pub struct Backlog {
    /// The bytes from offset `base` to `end()`.
    bytes: Vec<u8>,
    /// Absolute offset of `bytes[0]`; everything before it was released.
    base: u64,
    /// Every broadcast that ends after `base`, in order. The first may
    /// start before `base` when a member stopped in its middle.
    entries: VecDeque<Entry>,
}

impl Backlog {
    /// Absolute offset just past the last byte: where the next broadcast
    /// starts, and where a member that has everything stands.
    pub fn end(&self) -> u64 {
        self.base + self.bytes.len() as u64
    }

    /// Appends one broadcast and returns where it lies.
    pub fn append(&mut self, bytes: &[u8], audience: Audience) -> Range<u64> {
        let start = self.end();
        self.bytes.extend_from_slice(bytes);
        self.entries.push_back(Entry { start, audience });
        start..self.end()
    }

    /// The bytes at `range`, which must lie at or after the oldest cursor
    /// passed to `release_before` and at or before `end()`.
    pub fn get(&self, range: Range<u64>) -> &[u8] {
        let from = (range.start - self.base) as usize;
        let to = (range.end - self.base) as usize;
        &self.bytes[from..to]
    }

    /// The broadcasts that end after `from`, as (entry, its end), the first
    /// being the one `from` lies in.
    pub fn entries_from(&self, from: u64) -> impl Iterator<Item = (Entry, u64)> + '_ {
        let len = self.entries.len();
        let first = self
            .entries
            .partition_point(|entry| entry.start <= from)
            .saturating_sub(1)
            .min(len);
        let end = self.end();
        let ends = self
            .entries
            .range((first + 1).min(len)..)
            .map(|entry| entry.start)
            .chain(std::iter::once(end));
        self.entries
            .range(first..)
            .copied()
            .zip(ends)
            .filter(move |&(_, entry_end)| entry_end > from)
    }

    /// Drops the bytes before `oldest`, the lowest cursor of any member
    /// (`end()` when every member has everything).
    pub fn release_before(&mut self, oldest: u64) {
        let consumed = (oldest.saturating_sub(self.base) as usize).min(self.bytes.len());
        if consumed == self.bytes.len() {
            self.base = self.end();
            self.bytes.clear();
            self.entries.clear();
            if self.bytes.capacity() > KEEP_CAPACITY {
                self.bytes = Vec::new();
            }
            if self.entries.capacity() > KEEP_ENTRIES {
                self.entries = VecDeque::new();
            }
        } else if consumed >= RELEASE_AT && consumed >= self.bytes.len() / 2 {
            self.bytes.drain(..consumed);
            self.base += consumed as u64;
            let keep_from = self
                .entries
                .partition_point(|entry| entry.start <= self.base)
                .saturating_sub(1);
            self.entries.drain(..keep_from);
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
    use crate::room::{LineKind, MemberId};

    fn chat(sender: u64) -> Audience {
        Audience {
            sender: Some(MemberId(sender)),
            kind: LineKind::Chat,
        }
    }

    #[test]
    fn offsets_survive_release() {
        let mut log = Backlog::default();
        let first = log.append(b"alice: hi\n", chat(1));
        let second = log.append(b"bob: yo\n", chat(2));
        assert_eq!(first, 0..10);
        assert_eq!(log.get(second.clone()), b"bob: yo\n");
        log.release_before(first.end);
        // Too little consumed to be worth a move: still held.
        assert_eq!(log.get(second.clone()), b"bob: yo\n");
        log.release_before(second.end);
        assert_eq!(log.held(), 0);
        assert_eq!(log.end(), 18);
        assert_eq!(log.append(b"x\n", chat(1)), 18..20);
        assert_eq!(log.entries_from(18).count(), 1);
        log.release_before(log.end());
        assert_eq!(log.entries_from(log.end()).count(), 0, "nothing held");
        assert_eq!(Backlog::default().entries_from(0).count(), 0);
    }

    #[test]
    fn a_lagging_reader_keeps_only_what_it_has_not_read() {
        let mut log = Backlog::default();
        let line = [b'a'; 1024];
        for n in 0..200 {
            log.append(&line, chat(n));
        }
        // Stopped in the middle of broadcast 150.
        let lagging_cursor = 150 * 1024 + 10;
        log.release_before(lagging_cursor);
        assert_eq!(log.held(), 50 * 1024 - 10);
        assert_eq!(log.get(lagging_cursor..lagging_cursor + 2), b"aa");
        let (entry, end) = log.entries_from(lagging_cursor).next().expect("entry");
        assert_eq!((entry.start, end), (150 * 1024, 151 * 1024));
        assert_eq!(entry.audience, chat(150));
        assert_eq!(log.entries_from(lagging_cursor).count(), 50);
    }
}
