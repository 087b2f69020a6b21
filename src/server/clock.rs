//! The server's local time of day, for the `[HH:MM] ` of timestamps and
//! history: the one place the server asks the C library about time zones.
//!
//! std knows no time zones, and the room is sans-IO, so the reactor asks
//! here once per loop turn and hands the result to the room and the
//! fan-out. `localtime_r` (reentrant; it reads the zone once, as `TZ` or
//! `/etc/localtime` say) is called at most once per wall-clock minute: the
//! offset is kept, and within the same minute the answer is reused.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::room::LocalTime;

/// Local time of day, recomputed when the wall-clock minute changes.
#[derive(Debug, Default)]
pub struct WallClock {
    /// The Unix minute last converted, and what it was locally.
    last: Option<(u64, LocalTime)>,
}

impl WallClock {
    /// The local time of day now.
    pub fn now(&mut self) -> LocalTime {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        let minute = secs / 60;
        match self.last {
            Some((seen, local)) if seen == minute => local,
            _ => {
                let local = local_time_of(secs);
                self.last = Some((minute, local));
                local
            }
        }
    }
}

/// The local time of day at `secs` after the Unix epoch; UTC if the C
/// library cannot say.
pub fn local_time_of(secs: u64) -> LocalTime {
    let utc = || LocalTime::new(((secs / 3600) % 24) as u32, ((secs / 60) % 60) as u32);
    let Ok(time) = libc::time_t::try_from(secs) else {
        return utc();
    };
    // SAFETY: `tm` is plain data that `localtime_r` fills in; both pointers
    // are valid for the call, and the reentrant form keeps no pointer to
    // either afterwards.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let filled = unsafe { libc::localtime_r(&time, &mut tm) };
    if filled.is_null() {
        return utc();
    }
    LocalTime::new(tm.tm_hour.max(0) as u32, tm.tm_min.max(0) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minute_is_converted_once_and_stays_in_the_day() {
        let mut clock = WallClock::default();
        let first = clock.now();
        assert!(first.hour() < 24 && first.minute() < 60);
        let (minute, _) = clock.last.expect("kept");
        assert_eq!(clock.now(), first, "the same minute, the same answer");
        assert!(clock.last.is_some_and(|(m, _)| m >= minute));
    }
}
