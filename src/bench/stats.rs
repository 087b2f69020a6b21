//! What the bench counts: which chat line reached whom (exactly, one bit
//! per expected delivery) and how long it took (a log-bucket histogram).
//!
//! Pure bookkeeping: no sockets, no clock. Nothing here allocates per line;
//! all memory is taken once, sized by members x lines.

/// Latencies below this many microseconds get a bucket each.
const LINEAR_LIMIT: u64 = 1024;
/// Above `LINEAR_LIMIT`, each power of two is split into 2^SUB_BITS
/// buckets, so a reported percentile is within 1/64 (1.6%) of the truth.
const SUB_BITS: u32 = 6;
const LINEAR_LOG: u32 = LINEAR_LIMIT.trailing_zeros();
const BUCKETS: usize = LINEAR_LIMIT as usize + (((64 - LINEAR_LOG) as usize) << SUB_BITS);

/// Latencies in microseconds, kept as counts per bucket (about 35 KiB).
#[derive(Debug, Clone)]
pub struct Histogram {
    buckets: Vec<u64>,
    count: u64,
    max: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            buckets: vec![0; BUCKETS],
            count: 0,
            max: 0,
        }
    }
}

fn bucket_of(value: u64) -> usize {
    if value < LINEAR_LIMIT {
        return value as usize;
    }
    let log = 63 - value.leading_zeros();
    let sub = (value >> (log - SUB_BITS)) & ((1 << SUB_BITS) - 1);
    LINEAR_LIMIT as usize + (((log - LINEAR_LOG) as usize) << SUB_BITS) + sub as usize
}

/// The smallest value that falls in `bucket`.
fn bucket_floor(bucket: usize) -> u64 {
    if (bucket as u64) < LINEAR_LIMIT {
        return bucket as u64;
    }
    let above = bucket - LINEAR_LIMIT as usize;
    let log = (above >> SUB_BITS) as u32 + LINEAR_LOG;
    let sub = (above & ((1 << SUB_BITS) - 1)) as u64;
    (1u64 << log) | (sub << (log - SUB_BITS))
}

impl Histogram {
    pub fn record(&mut self, micros: u64) {
        self.buckets[bucket_of(micros)] += 1;
        self.count += 1;
        self.max = self.max.max(micros);
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    pub fn max(&self) -> Option<u64> {
        (self.count > 0).then_some(self.max)
    }

    /// The latency that `fraction` (0.5, 0.99, ...) of the samples do not
    /// exceed: the top of its bucket, capped by the true maximum.
    pub fn percentile(&self, fraction: f64) -> Option<u64> {
        if self.count == 0 {
            return None;
        }
        let rank = ((fraction * self.count as f64).ceil() as u64).clamp(1, self.count);
        let mut seen = 0;
        for (bucket, &n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= rank {
                let top = bucket_floor(bucket + 1).saturating_sub(1);
                return Some(top.min(self.max));
            }
        }
        Some(self.max)
    }
}

/// Per receiver and sender: which sequence numbers arrived, and the highest.
/// `lines == 0` (no chat, as in `idle`) allocates nothing.
#[derive(Debug, Default)]
pub struct DeliveryTracker {
    members: usize,
    lines: usize,
    /// One bit per (receiver, sender, seq): set when that line arrived.
    seen: Vec<u64>,
    /// Per (receiver, sender): the highest seq seen plus one (0: none yet).
    highest: Vec<u32>,
    pub counts: Counts,
}

/// What arrived, line by line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Distinct chat lines that reached a member other than their sender.
    pub delivered: u64,
    /// A line that reached the same member again.
    pub duplicated: u64,
    /// A line that arrived after a later line of the same sender.
    pub out_of_order: u64,
    /// A chat line from one of our members that did not parse, had the
    /// wrong length, named another sender than its payload, or a sequence
    /// number never sent.
    pub garbled: u64,
    /// Lines that are neither our chat lines nor notices (someone else in
    /// the room, an administrator line): reported, not judged.
    pub foreign: u64,
}

impl DeliveryTracker {
    /// Bytes `new` would take for `members` sending `lines` each.
    pub fn footprint(members: usize, lines: usize) -> u128 {
        let pairs = members as u128 * members as u128;
        pairs * lines as u128 / 8 + if lines > 0 { pairs * 4 } else { 0 }
    }

    pub fn new(members: usize, lines: usize) -> Self {
        if lines == 0 {
            return DeliveryTracker {
                members,
                ..DeliveryTracker::default()
            };
        }
        let pairs = members * members;
        DeliveryTracker {
            members,
            lines,
            seen: vec![0; (pairs * lines).div_ceil(64)],
            highest: vec![0; pairs],
            counts: Counts::default(),
        }
    }

    /// Line `seq` of `sender` arrived at `receiver`.
    pub fn record(&mut self, receiver: usize, sender: u64, seq: u64) {
        let in_range = (sender as usize) < self.members && (seq as usize) < self.lines;
        if !in_range || sender as usize == receiver {
            self.counts.garbled += 1;
            return;
        }
        let (sender, seq) = (sender as usize, seq as usize);
        let pair = receiver * self.members + sender;
        let bit = pair * self.lines + seq;
        let (word, mask) = (bit / 64, 1u64 << (bit % 64));
        if self.seen[word] & mask != 0 {
            self.counts.duplicated += 1;
            return;
        }
        self.seen[word] |= mask;
        self.counts.delivered += 1;
        let next = seq as u32 + 1;
        if next < self.highest[pair] {
            self.counts.out_of_order += 1;
        } else {
            self.highest[pair] = next;
        }
    }

    pub fn garbled(&mut self) {
        self.counts.garbled += 1;
    }

    pub fn foreign(&mut self) {
        self.counts.foreign += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_ordered_and_tight() {
        let mut last = 0;
        for value in (0..5000).chain([1 << 20, (1 << 20) + 12345, u32::MAX as u64, u64::MAX]) {
            let bucket = bucket_of(value);
            assert!(bucket < BUCKETS);
            assert!(bucket >= last || value > 5000);
            last = bucket;
            let floor = bucket_floor(bucket);
            assert!(floor <= value, "{value}: floor {floor}");
            if bucket + 1 < BUCKETS {
                let next = bucket_floor(bucket + 1);
                assert!(value < next, "{value}: next {next}");
                assert!((next - floor) as f64 <= 1.0 + floor as f64 / 64.0);
            }
        }
    }

    #[test]
    fn percentiles_of_a_known_spread() {
        let mut histogram = Histogram::default();
        assert_eq!(histogram.percentile(0.5), None);
        for micros in 1..=1000 {
            histogram.record(micros);
        }
        histogram.record(50_000);
        assert_eq!(histogram.percentile(0.5), Some(501));
        assert_eq!(histogram.percentile(0.99), Some(991));
        assert_eq!(histogram.percentile(1.0), Some(50_000));
        assert_eq!(histogram.max(), Some(50_000));
        assert_eq!(histogram.count(), 1001);
    }

    #[test]
    fn tracker_tells_loss_duplicates_and_reordering_apart() {
        let mut tracker = DeliveryTracker::new(3, 4);
        for seq in 0..4 {
            tracker.record(0, 1, seq);
        }
        tracker.record(0, 2, 1);
        tracker.record(0, 2, 0);
        tracker.record(0, 2, 0);
        tracker.record(0, 0, 0);
        tracker.record(0, 1, 4);
        tracker.record(0, 3, 0);
        let counts = tracker.counts;
        assert_eq!(counts.delivered, 6);
        assert_eq!(counts.out_of_order, 1);
        assert_eq!(counts.duplicated, 1);
        assert_eq!(counts.garbled, 3);
    }

    #[test]
    fn no_chat_allocates_nothing() {
        let tracker = DeliveryTracker::new(10_000, 0);
        assert!(tracker.seen.is_empty() && tracker.highest.is_empty());
        assert_eq!(DeliveryTracker::footprint(10_000, 0), 0);
    }
}
