//! The operator's bans: by name (lookalikes included, through the name
//! key) or by address and prefix, each until a time or for good, and the
//! text form they are kept in (`bans_file`). Pure: time comes in as an
//! `Instant`, and the file is read and written by the server.
//!
//! The file has one ban per line, fields separated by a TAB:
//! `name<TAB>NAME<TAB>UNTIL<TAB>REASON` or
//! `address<TAB>ADDR/PREFIX<TAB>UNTIL<TAB>REASON`, where UNTIL is Unix
//! seconds or `-` for a ban without end. Lines starting with `#` and empty
//! lines are skipped.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::names::{name_key, validate_name};

/// What a ban applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BanTarget {
    /// A name as the operator typed it (in NFC), and its key.
    Name { name: String, key: String },
    /// An address and how many leading bits must match.
    Address { addr: IpAddr, prefix: u8 },
}

impl BanTarget {
    /// `ADDRESS`, `ADDRESS/PREFIX` or a name; `None` if it is none of them.
    pub fn parse(text: &str) -> Option<BanTarget> {
        if let Some((addr, prefix)) = text.split_once('/') {
            let addr: IpAddr = addr.parse().ok()?;
            let prefix: u8 = prefix.parse().ok()?;
            if prefix > max_prefix(addr) {
                return None;
            }
            return Some(BanTarget::Address { addr, prefix });
        }
        if let Ok(addr) = text.parse::<IpAddr>() {
            let addr = addr.to_canonical();
            return Some(BanTarget::Address {
                addr,
                prefix: max_prefix(addr),
            });
        }
        use unicode_normalization::UnicodeNormalization;
        let name: String = text.nfc().collect();
        validate_name(&name).ok()?;
        let key = name_key(&name);
        Some(BanTarget::Name { name, key })
    }

    /// The ban of one address, as a name ban brings along.
    pub fn address(addr: IpAddr) -> BanTarget {
        let addr = addr.to_canonical();
        BanTarget::Address {
            addr,
            prefix: max_prefix(addr),
        }
    }

    /// Whether the target is loopback addresses only, which are never
    /// banned (as they are never capped).
    pub fn is_loopback(&self) -> bool {
        match *self {
            BanTarget::Address { addr, prefix } => {
                addr.is_loopback() && prefix >= if addr.is_ipv4() { 8 } else { 128 }
            }
            BanTarget::Name { .. } => false,
        }
    }

    fn matches_address(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        match *self {
            BanTarget::Address { addr, prefix } => same_prefix(addr, ip, prefix),
            BanTarget::Name { .. } => false,
        }
    }
}

impl std::fmt::Display for BanTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BanTarget::Name { name, .. } => f.write_str(name),
            BanTarget::Address { addr, prefix } if *prefix == max_prefix(*addr) => {
                write!(f, "{addr}")
            }
            BanTarget::Address { addr, prefix } => write!(f, "{addr}/{prefix}"),
        }
    }
}

fn max_prefix(addr: IpAddr) -> u8 {
    if addr.is_ipv4() {
        32
    } else {
        128
    }
}

/// Whether `a` and `b` share their first `prefix` bits (of one family).
fn same_prefix(a: IpAddr, b: IpAddr, prefix: u8) -> bool {
    let (a, b, width) = match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u32::from(a) as u128, u32::from(b) as u128, 32),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128),
        _ => return false,
    };
    let prefix = u32::from(prefix).min(width);
    if prefix == 0 {
        return true;
    }
    let shift = width - prefix;
    (a >> shift) == (b >> shift)
}

/// One ban.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ban {
    pub target: BanTarget,
    /// When it ends; `None` is until unbanned.
    pub until: Option<Instant>,
    /// Why, as the operator said it; may be empty.
    pub reason: String,
}

impl Ban {
    /// Whole minutes left at `now`, rounded up; `None` for a ban without
    /// end.
    pub fn minutes_left(&self, now: Instant) -> Option<u64> {
        let left = self.until?.saturating_duration_since(now);
        Some(left.as_secs().div_ceil(60).max(1))
    }

    fn active(&self, now: Instant) -> bool {
        self.until.is_none_or(|until| until > now)
    }
}

/// The bans in force.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Bans {
    list: Vec<Ban>,
}

impl Bans {
    pub fn new(list: Vec<Ban>) -> Self {
        Bans { list }
    }

    /// Adds `ban`, replacing a ban of the same target.
    pub fn add(&mut self, ban: Ban) {
        self.list.retain(|old| old.target != ban.target);
        self.list.push(ban);
    }

    /// Removes the ban of `target`; whether there was one.
    pub fn remove(&mut self, target: &BanTarget) -> bool {
        let before = self.list.len();
        self.list.retain(|ban| !same_target(&ban.target, target));
        self.list.len() != before
    }

    /// Whether there is a ban of `target`.
    pub fn contains(&self, target: &BanTarget) -> bool {
        self.list.iter().any(|ban| same_target(&ban.target, target))
    }

    /// Forgets the bans that ran out by `now`; whether any did.
    pub fn expire(&mut self, now: Instant) -> bool {
        let before = self.list.len();
        self.list.retain(|ban| ban.active(now));
        self.list.len() != before
    }

    /// The ban in force on names like `name`.
    pub fn on_name(&self, name: &str, now: Instant) -> Option<&Ban> {
        let key = name_key(name);
        self.list.iter().find(|ban| {
            ban.active(now) && matches!(&ban.target, BanTarget::Name { key: k, .. } if *k == key)
        })
    }

    /// The ban in force on `ip`; loopback addresses are never banned.
    pub fn on_address(&self, ip: IpAddr, now: Instant) -> Option<&Ban> {
        if ip.to_canonical().is_loopback() {
            return None;
        }
        self.list
            .iter()
            .find(|ban| ban.active(now) && ban.target.matches_address(ip))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Ban> {
        self.list.iter()
    }

    /// The file form; `unix_now` is the wall clock at `now`.
    pub fn to_file(&self, now: Instant, unix_now: u64) -> String {
        let mut out = String::from(
            "# chatroom bans: KIND<TAB>TARGET<TAB>UNTIL (Unix seconds, - for none)<TAB>REASON\n",
        );
        for ban in &self.list {
            let kind = match ban.target {
                BanTarget::Name { .. } => "name",
                BanTarget::Address { .. } => "address",
            };
            let until = ban.until.map_or("-".to_string(), |until| {
                (unix_now + until.saturating_duration_since(now).as_secs()).to_string()
            });
            let reason = ban.reason.replace(['\t', '\n', '\r'], " ");
            out.push_str(&format!("{kind}\t{}\t{until}\t{reason}\n", ban.target));
        }
        out
    }

    /// Reads the file form; bans that ran out are left out. The error is
    /// the number of the first line that is not a ban.
    pub fn from_file(text: &str, now: Instant, unix_now: u64) -> Result<Bans, usize> {
        let mut bans = Bans::default();
        for (index, line) in text.lines().enumerate() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = index + 1;
            let mut fields = line.splitn(4, '\t');
            let (Some(kind), Some(target), Some(until)) =
                (fields.next(), fields.next(), fields.next())
            else {
                return Err(bad);
            };
            let reason = fields.next().unwrap_or_default().to_string();
            let target = BanTarget::parse(target).ok_or(bad)?;
            let kind_fits = matches!(
                (kind, &target),
                ("name", BanTarget::Name { .. }) | ("address", BanTarget::Address { .. })
            );
            if !kind_fits {
                return Err(bad);
            }
            let until = match until {
                "-" => None,
                secs => {
                    let secs: u64 = secs.parse().map_err(|_| bad)?;
                    if secs <= unix_now {
                        continue;
                    }
                    Some(now + Duration::from_secs(secs - unix_now))
                }
            };
            bans.add(Ban {
                target,
                until,
                reason,
            });
        }
        Ok(bans)
    }
}

/// Whether two targets are one ban: names by key, addresses exactly.
fn same_target(a: &BanTarget, b: &BanTarget) -> bool {
    match (a, b) {
        (BanTarget::Name { key: a, .. }, BanTarget::Name { key: b, .. }) => a == b,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("address")
    }

    #[test]
    fn targets_parse_as_addresses_prefixes_or_names() {
        assert_eq!(
            BanTarget::parse("192.0.2.7"),
            Some(BanTarget::Address {
                addr: ip("192.0.2.7"),
                prefix: 32
            })
        );
        assert!(matches!(
            BanTarget::parse("2001:db8::/32"),
            Some(BanTarget::Address { prefix: 32, .. })
        ));
        assert!(matches!(
            BanTarget::parse("alice"),
            Some(BanTarget::Name { .. })
        ));
        assert_eq!(BanTarget::parse("10.0.0.0/33"), None);
        assert_eq!(BanTarget::parse("no such*name"), None);
        assert!(BanTarget::parse("127.0.0.1").expect("target").is_loopback());
        assert!(!BanTarget::parse("127.0.0.0/4")
            .expect("target")
            .is_loopback());
    }

    #[test]
    fn names_addresses_and_prefixes_match_until_they_run_out() {
        let now = Instant::now();
        let mut bans = Bans::default();
        bans.add(Ban {
            target: BanTarget::parse("alice").expect("name"),
            until: Some(now + Duration::from_secs(600)),
            reason: "spam".into(),
        });
        bans.add(Ban {
            target: BanTarget::parse("192.0.2.0/24").expect("net"),
            until: None,
            reason: String::new(),
        });
        assert!(bans.on_name("ALICE", now).is_some());
        assert!(bans.on_name("ａｌｉｃｅ", now).is_some(), "lookalikes too");
        assert!(bans.on_name("bob", now).is_none());
        assert!(bans.on_address(ip("192.0.2.200"), now).is_some());
        assert!(bans.on_address(ip("::ffff:192.0.2.1"), now).is_some());
        assert!(bans.on_address(ip("192.0.3.1"), now).is_none());
        assert_eq!(
            bans.on_name("alice", now).and_then(|b| b.minutes_left(now)),
            Some(10)
        );
        let later = now + Duration::from_secs(601);
        assert!(bans.on_name("alice", later).is_none());
        assert!(bans.expire(later));
        assert_eq!(bans.iter().count(), 1);
        assert!(bans.remove(&BanTarget::parse("192.0.2.0/24").expect("net")));
        assert!(!bans.remove(&BanTarget::parse("192.0.2.0/24").expect("net")));
    }

    #[test]
    fn loopback_is_never_banned_by_address() {
        let now = Instant::now();
        let mut bans = Bans::default();
        bans.add(Ban {
            target: BanTarget::parse("0.0.0.0/0").expect("everything"),
            until: None,
            reason: String::new(),
        });
        assert!(bans.on_address(ip("127.0.0.1"), now).is_none());
        assert!(bans.on_address(ip("::1"), now).is_none());
        assert!(bans.on_address(ip("198.51.100.1"), now).is_some());
    }

    #[test]
    fn the_file_form_round_trips_and_names_the_bad_line() {
        let now = Instant::now();
        let mut bans = Bans::default();
        bans.add(Ban {
            target: BanTarget::parse("小明").expect("name"),
            until: Some(now + Duration::from_secs(120)),
            reason: "tab\there".into(),
        });
        bans.add(Ban {
            target: BanTarget::parse("2001:db8::/48").expect("net"),
            until: None,
            reason: String::new(),
        });
        let text = bans.to_file(now, 1_000_000);
        let back = Bans::from_file(&text, now, 1_000_000).expect("parses");
        assert_eq!(back.iter().count(), 2);
        assert_eq!(
            back.iter().next().map(|b| b.reason.as_str()),
            Some("tab here")
        );
        assert_eq!(
            back.on_name("小明", now).and_then(|b| b.minutes_left(now)),
            Some(2)
        );
        // Run out while the server was down: left out.
        let later = Bans::from_file(&text, now, 1_000_500).expect("parses");
        assert_eq!(later.iter().count(), 1);
        assert_eq!(
            Bans::from_file("# only a comment\n\n", now, 0).map(|b| b.iter().count()),
            Ok(0)
        );
        assert_eq!(
            Bans::from_file("name\talice\t-\n\nrubbish\n", now, 0),
            Err(3)
        );
        assert_eq!(Bans::from_file("address\talice\t-\t\n", now, 0), Err(1));
    }
}
