//! Open connections per remote address, for the `max_per_ip` cap: the
//! room's count, so that turning a connection away is the room's decision.
//! Loopback addresses are never capped: local tests and benchmarks hold
//! thousands.

use std::collections::HashMap;
use std::net::IpAddr;

#[derive(Debug, Default)]
pub struct AddressCounts {
    /// Connections open per capped address; an address with none is removed.
    open: HashMap<IpAddr, usize>,
}

impl AddressCounts {
    /// Counts a new connection from `ip`, unless that would pass `max`
    /// (`None` = no cap): then `false`, and nothing is counted.
    pub fn admit(&mut self, ip: IpAddr, max: Option<usize>) -> bool {
        let ip = ip.to_canonical();
        let Some(max) = max else {
            return true;
        };
        if ip.is_loopback() {
            return true;
        }
        let open = self.open.entry(ip).or_default();
        if *open >= max {
            return false;
        }
        *open += 1;
        true
    }

    /// A connection from `ip` that `admit` counted has closed.
    pub fn release(&mut self, ip: IpAddr) {
        let ip = ip.to_canonical();
        if let Some(open) = self.open.get_mut(&ip) {
            *open -= 1;
            if *open == 0 {
                self.open.remove(&ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_each_address_and_frees_on_close() {
        let mut counts = AddressCounts::default();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "2001:db8::1".parse().unwrap();
        assert!(counts.admit(a, Some(2)));
        assert!(counts.admit(a, Some(2)));
        assert!(!counts.admit(a, Some(2)), "a third from the same address");
        assert!(counts.admit(b, Some(2)), "another address is not affected");
        counts.release(a);
        assert!(counts.admit(a, Some(2)));
        counts.release(a);
        counts.release(a);
        counts.release(b);
        assert!(counts.open.is_empty(), "nothing kept for closed addresses");
    }

    #[test]
    fn loopback_and_no_cap_are_uncapped() {
        let mut counts = AddressCounts::default();
        for ip in ["127.0.0.1", "127.3.2.1", "::1", "::ffff:127.0.0.1"] {
            let ip: IpAddr = ip.parse().unwrap();
            for _ in 0..100 {
                assert!(counts.admit(ip, Some(1)), "{ip}");
            }
        }
        let remote: IpAddr = "192.0.2.1".parse().unwrap();
        assert!((0..100).all(|_| counts.admit(remote, None)));
        assert!(counts.open.is_empty());
    }
}
