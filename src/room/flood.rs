//! Flood control for one member: a token bucket (GCRA) that lets `burst`
//! lines through at once, then `per_second` a second, and holds faster
//! lines back, in order, until the rate allows them. Time comes in as
//! `now`; nothing here reads the clock.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How fast a member may send. `burst` lines at once, then `per_second`
/// lines a second; a member with more than `max_held()` lines held is
/// flooding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FloodLimit {
    pub burst: u32,
    pub per_second: u32,
}

impl FloodLimit {
    /// The time one line costs.
    fn interval(self) -> Duration {
        Duration::from_secs(1) / self.per_second.max(1)
    }

    /// How far ahead of the rate a member may run: the burst.
    fn tolerance(self) -> Duration {
        self.interval() * self.burst.saturating_sub(1)
    }

    /// Lines held back before the member counts as flooding.
    pub fn max_held(self) -> usize {
        self.burst as usize * 5
    }
}

/// What became of a line offered to the pacer.
#[derive(Debug, PartialEq, Eq)]
pub enum Offer {
    /// Within the limit: carry it out now.
    Now(String),
    /// Held back; `warn` is set the first time in an episode.
    Held { warn: bool },
    /// Too many held: the member is flooding.
    Flooding,
}

/// One member's flood state.
#[derive(Debug, Default)]
pub struct Pacer {
    /// The "theoretical arrival time" of GCRA: a line is within the limit if
    /// it comes no earlier than this minus the burst tolerance. `None` until
    /// the first line.
    paced_until: Option<Instant>,
    /// Lines over the limit, oldest first.
    held: VecDeque<String>,
    /// Told it is sending too fast; not told again until it has paused
    /// long enough to have its whole burst back.
    warned: bool,
}

impl Pacer {
    /// A cleaned line from the member at `now`.
    pub fn offer(&mut self, line: String, now: Instant, limit: FloodLimit) -> Offer {
        if self.held.is_empty() && self.take_turn(now, limit) {
            return Offer::Now(line);
        }
        if self.held.len() >= limit.max_held() {
            return Offer::Flooding;
        }
        self.held.push_back(line);
        Offer::Held {
            warn: !std::mem::replace(&mut self.warned, true),
        }
    }

    /// The next held line, if the rate allows one at `now`.
    pub fn release(&mut self, now: Instant, limit: FloodLimit) -> Option<String> {
        if self.held.is_empty() || !self.take_turn(now, limit) {
            return None;
        }
        self.held.pop_front()
    }

    /// Every held line, for a member leaving (they were accepted).
    pub fn take_held(&mut self) -> VecDeque<String> {
        std::mem::take(&mut self.held)
    }

    /// When a held line may go next; `None` if none is held.
    pub fn next_release(&self, limit: FloodLimit) -> Option<Instant> {
        if self.held.is_empty() {
            return None;
        }
        let at = self.paced_until?;
        Some(at.checked_sub(limit.tolerance()).unwrap_or(at))
    }

    /// Whether a line at `now` is within `limit`; if so, it is counted.
    fn take_turn(&mut self, now: Instant, limit: FloodLimit) -> bool {
        let due = self.paced_until.map_or(now, |at| at.max(now));
        if due > now + limit.tolerance() {
            return false;
        }
        if due == now {
            self.warned = false;
        }
        self.paced_until = Some(due + limit.interval());
        true
    }
}
