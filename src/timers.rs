//! A table of deadlines keyed by what they are for: the one timer shape the
//! room (name deadlines, held lines) and the reactor (lingering closes, the
//! accept pause) share. Sans-IO: time comes in as `Instant`s, nothing here
//! reads the clock.
//!
//! Each key has at most one deadline; setting it again moves it. The
//! earliest deadline is found in O(log n), so a loop can ask every turn.

use std::collections::{BTreeSet, HashMap};
use std::hash::Hash;
use std::time::Instant;

#[derive(Debug)]
pub struct Timers<K> {
    /// Deadlines in time order; ties in key order.
    queue: BTreeSet<(Instant, K)>,
    /// The deadline of each key in `queue`, to move or cancel it.
    due: HashMap<K, Instant>,
}

impl<K> Default for Timers<K> {
    fn default() -> Self {
        Timers {
            queue: BTreeSet::new(),
            due: HashMap::new(),
        }
    }
}

impl<K: Copy + Ord + Hash> Timers<K> {
    /// Sets `key` to fire at `at`, replacing its earlier deadline if any.
    pub fn set(&mut self, key: K, at: Instant) {
        if let Some(old) = self.due.insert(key, at) {
            self.queue.remove(&(old, key));
        }
        self.queue.insert((at, key));
    }

    /// Forgets `key`'s deadline, if it has one.
    pub fn cancel(&mut self, key: K) {
        if let Some(old) = self.due.remove(&key) {
            self.queue.remove(&(old, key));
        }
    }

    /// When `key` fires, if it is set.
    pub fn get(&self, key: K) -> Option<Instant> {
        self.due.get(&key).copied()
    }

    /// The earliest deadline.
    pub fn next(&self) -> Option<Instant> {
        self.queue.first().map(|&(at, _)| at)
    }

    /// Takes the earliest key due at `now`; `None` when nothing is due.
    pub fn pop_due(&mut self, now: Instant) -> Option<K> {
        let &(at, key) = self.queue.first()?;
        if at > now {
            return None;
        }
        self.queue.pop_first();
        self.due.remove(&key);
        Some(key)
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn earliest_first_and_moved_deadlines_fire_once() {
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        let mut timers = Timers::default();
        timers.set('a', at(30));
        timers.set('b', at(10));
        timers.set('c', at(20));
        timers.set('a', at(5));
        timers.cancel('c');
        assert_eq!(timers.next(), Some(at(5)));
        assert_eq!(timers.pop_due(at(4)), None);
        assert_eq!(timers.pop_due(at(100)), Some('a'));
        assert_eq!(timers.pop_due(at(100)), Some('b'));
        assert_eq!(timers.pop_due(at(100)), None);
        assert!(timers.is_empty());
    }
}
