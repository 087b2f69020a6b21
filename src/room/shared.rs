//! What changes the room for everyone, as one value: a standalone room
//! carries a `Shared` out at once; a bridged room publishes it (through
//! `RoomEvent::Publish`) and carries it out when the broker hands it back,
//! in the stream's order, on every server alike (`Room::apply`). Whatever
//! only concerns one connection (its language, mute, ignores, a query, a
//! refusal) never becomes a `Shared`.

use std::net::IpAddr;

use super::bans::BanTarget;
use super::events::{LeaveReason, MemberId};

/// Who did it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Author {
    Member(MemberId),
    /// The operator of some server's console.
    Console,
}

/// One change of the room, with its author.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shared {
    pub author: Author,
    pub op: SharedOp,
}

/// The changes, each already checked by the server that made it (flood
/// control, an operator's mute, the name rules against what it knew);
/// what can have changed since (a name taken meanwhile, a member gone) is
/// checked again when carried out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SharedOp {
    /// The author, a new member id, asks to join under `name`.
    Join {
        name: String,
        ip: IpAddr,
    },
    Say {
        text: String,
    },
    Action {
        text: String,
    },
    /// `to_name` is what the sender typed, for telling it the member is
    /// gone.
    Private {
        to: MemberId,
        to_name: String,
        text: String,
    },
    Rename {
        name: String,
    },
    /// `None` is back; `Some("")` is away without a reason.
    Away {
        reason: Option<String>,
    },
    /// Quit, lost, too slow or flooding: the member is already closed on
    /// its own server.
    Leave {
        reason: LeaveReason,
    },
    Admin {
        text: String,
    },
    Kick {
        target: MemberId,
        reason: String,
    },
    Silence {
        target: MemberId,
        on: bool,
    },
    Ban {
        targets: Vec<BanTarget>,
        minutes: Option<u64>,
        reason: String,
    },
    Unban {
        target: BanTarget,
    },
}

/// How the room reaches the rest of itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// No bridge: changes are carried out at once.
    Standalone,
    /// Bridged, the broker reachable (or being caught up with): changes
    /// are published.
    Up,
    /// Bridged, the broker out of reach: changes are refused with a
    /// notice, except departures, which wait to be published.
    Down,
}
