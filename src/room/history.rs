//! The room's recent lines, replayed to a member on joining, and the local
//! time of day they carry. Sans-IO like the rest of the room: the time of
//! day comes in from the reactor (`Room::set_clock`), nothing here reads a
//! clock or knows a time zone.
//!
//! Only room lines are kept (chat, actions, administrator lines): never
//! private messages or notices. The buffer is room-wide and bounded by the
//! `history` setting, so it costs the same whatever the number of members,
//! and a join replays it as sends to the joiner alone.

use std::collections::VecDeque;
use std::fmt;

use super::events::Notice;

/// A local time of day to the minute, as the server's clock showed it:
/// what `[HH:MM] ` prints.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalTime {
    /// Minutes since local midnight, below 24 * 60.
    minutes: u16,
}

impl LocalTime {
    /// The time `hour:minute`; out-of-range values wrap into the day, so
    /// no caller can make an impossible time.
    pub fn new(hour: u32, minute: u32) -> LocalTime {
        let minutes = (hour % 24) * 60 + minute % 60;
        LocalTime {
            minutes: minutes as u16,
        }
    }

    pub fn hour(self) -> u16 {
        self.minutes / 60
    }

    pub fn minute(self) -> u16 {
        self.minutes % 60
    }
}

/// `HH:MM`, 24-hour, two digits each.
impl fmt::Display for LocalTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.hour(), self.minute())
    }
}

/// The last room lines, oldest first, each with the time it was sent.
#[derive(Debug, Default)]
pub struct History {
    lines: VecDeque<(LocalTime, Notice)>,
    /// Most lines kept; 0 keeps none.
    capacity: usize,
}

impl History {
    pub fn new(capacity: usize) -> History {
        History {
            lines: VecDeque::new(),
            capacity,
        }
    }

    /// Remembers a room line, forgetting the oldest past the capacity.
    pub fn push(&mut self, at: LocalTime, line: &Notice) {
        if self.capacity == 0 {
            return;
        }
        if self.lines.len() == self.capacity {
            self.lines.pop_front();
        }
        self.lines.push_back((at, line.clone()));
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The kept lines, oldest first, each as it will be replayed.
    pub fn replay(&self) -> impl Iterator<Item = Notice> + '_ {
        self.lines.iter().map(|(at, line)| Notice::Past {
            at: *at,
            line: Box::new(line.clone()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat(text: &str) -> Notice {
        Notice::Chat {
            from: "alice".into(),
            text: text.into(),
        }
    }

    #[test]
    fn local_time_prints_two_digits_each() {
        assert_eq!(LocalTime::new(9, 5).to_string(), "09:05");
        assert_eq!(LocalTime::new(23, 59).to_string(), "23:59");
        assert_eq!(LocalTime::new(24, 60).to_string(), "00:00");
    }

    #[test]
    fn keeps_the_last_lines_in_order() {
        let mut history = History::new(2);
        for text in ["a", "b", "c"] {
            history.push(LocalTime::new(10, 0), &chat(text));
        }
        let texts: Vec<Notice> = history.replay().collect();
        let at = LocalTime::new(10, 0);
        assert_eq!(
            texts,
            [
                Notice::Past {
                    at,
                    line: Box::new(chat("b"))
                },
                Notice::Past {
                    at,
                    line: Box::new(chat("c"))
                }
            ]
        );
        let mut off = History::new(0);
        off.push(at, &chat("a"));
        assert!(off.is_empty());
    }
}
