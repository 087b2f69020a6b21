//! The room's vocabulary: the identities it speaks of, the events it asks
//! the server to carry out, and the notices it tells people, by meaning.
//! Nothing here is prose; `render` turns a `Notice` into lines of a
//! language. See `room` for the order in which events come.

use std::time::Duration;

use super::bans::Bans;
use super::shared::Shared;
use crate::i18n::Lang;

pub use super::history::LocalTime;

/// One connection, for its whole life; never reused. The reactor's poller
/// key, and what the room addresses deliveries to.
pub type ConnId = u64;

/// One member of the room, from its welcome to its departure; never reused.
/// Names, ignores, queries and members of other servers refer to this, not
/// to the connection that happens to carry it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MemberId(pub u64);

/// What the server must do, in the order the room queued it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoomEvent {
    /// Deliver `notice` to `to` alone, after everything it is owed so far.
    Send { to: ConnId, notice: Notice },
    /// `conn` joined as `member`: it receives every broadcast queued after
    /// this event that its `SkipRules` admit, until its `Unsubscribe`.
    Subscribe { conn: ConnId, member: MemberId },
    /// `conn` receives no broadcast queued after this event; what it is
    /// owed so far still goes out.
    Unsubscribe { conn: ConnId },
    /// A line for the room: every subscribed connection whose rules admit
    /// `audience` receives it, in its own language.
    Broadcast { audience: Audience, notice: Notice },
    /// From now on, `conn` skips the broadcasts `rules` reject.
    Rules { conn: ConnId, rules: SkipRules },
    /// From now on, everything for `conn` is rendered in `lang`.
    Language { conn: ConnId, lang: Lang },
    /// From now on, room lines (chat, actions, administrator lines) reach
    /// `conn` with `[HH:MM] ` in front, or without.
    Timestamps { conn: ConnId, on: bool },
    /// `conn` fell too far behind: what it is still owed is dropped (a line
    /// cut short is ended), so that what follows can reach it.
    Discard { conn: ConnId },
    /// Send what `conn` is owed (within the linger time), then close it.
    /// Nothing more is read from it.
    Close { conn: ConnId },
    /// For the server's log only: who wrote privately to whom.
    Log(LogEntry),
    /// An answer to a console command, for the operator (the server's
    /// log), in the server's language; no member receives it.
    Console(Notice),
    /// The bans changed: the server keeps `bans` in its `bans_file`.
    BansChanged { bans: Bans },
    /// Bridged only: carry `Shared` to the broker; the room carries it out
    /// when `apply` hands it back (with its author's id as this room knows
    /// it).
    Publish(Shared),
    /// The room is closed: accept nobody; the server ends once every
    /// connection is closed.
    Shutdown,
}

/// Who a broadcast is for, as the fan-out checks it against each member's
/// `SkipRules` while the member's cursor walks the backlog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Audience {
    /// The member whose line it is; it never hears its own line.
    pub sender: Option<MemberId>,
    pub kind: LineKind,
}

/// What kind of line a broadcast is, for mute and ignore.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// `name: text`.
    Chat,
    /// `** name text`.
    Action,
    /// `Administrator: text`.
    Admin,
    /// A system notice (`* …`): joins, leaves, renames.
    Notice,
}

/// Which broadcasts one member skips, besides its own lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SkipRules {
    /// Chat lines and actions from others are skipped.
    pub muted: bool,
    /// Chat lines and actions from these members are skipped.
    pub ignored: Vec<MemberId>,
}

impl SkipRules {
    /// Whether `member`, with these rules, receives a broadcast for
    /// `audience`.
    pub fn admits(&self, member: MemberId, audience: Audience) -> bool {
        let Some(sender) = audience.sender else {
            return true;
        };
        if sender == member {
            return false;
        }
        match audience.kind {
            LineKind::Chat | LineKind::Action => !self.muted && !self.ignored.contains(&sender),
            LineKind::Admin | LineKind::Notice => true,
        }
    }

    /// No rule beyond skipping one's own lines.
    pub fn is_plain(&self) -> bool {
        !self.muted && self.ignored.is_empty()
    }
}

/// A line for the server's log that no member receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogEntry {
    /// A private message (its text is not logged).
    Private { from: String, to: String },
}

/// Why a member left; the leave notice says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaveReason {
    /// The operator's `/kick`, with the reason given (perhaps empty).
    Kicked { reason: String },
    /// The operator's `/ban`.
    Banned,
    /// `/quit`, or the client closed its side cleanly.
    Quit,
    /// The connection broke (reset, error).
    Lost,
    /// It fell more than `max_queue_bytes` behind and did not catch up.
    TooSlow,
    /// It kept sending faster than flood control allows.
    Flood,
}

/// Why a nickname was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameProblem {
    TooLong,
    BadCharacters,
    /// Taken by a member, or too like a member's name; the name asked for.
    Taken(String),
    /// The administrator's, or too like it; the name asked for.
    Reserved(String),
}

/// Declares `Notice` and, from the same list, `NoticeKind`: its variants
/// without their fields, with `NoticeKind::ALL`. A notice added to the list
/// is in `ALL` by construction, and every exhaustive `match` on
/// `NoticeKind` (the render tests' samples) fails to compile until it
/// handles it.
macro_rules! notices {
    (
        $(#[$enum_meta:meta])*
        pub enum Notice {
            $( $(#[$meta:meta])* $variant:ident $({ $($field:ident : $ty:ty),* $(,)? })? ),* $(,)?
        }
    ) => {
        $(#[$enum_meta])*
        pub enum Notice {
            $( $(#[$meta])* $variant $({ $($field: $ty),* })? ),*
        }

        /// The kind of a `Notice`, without its fields.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum NoticeKind {
            $( $variant ),*
        }

        impl NoticeKind {
            /// Every kind of notice, in declaration order.
            pub const ALL: &'static [NoticeKind] = &[$( NoticeKind::$variant ),*];
        }

        impl Notice {
            pub fn kind(&self) -> NoticeKind {
                match self {
                    $( Notice::$variant { .. } => NoticeKind::$variant ),*
                }
            }
        }
    };
}

notices! {
    /// Something to tell a user, by meaning; `render` turns it into lines
    /// of the connection's language.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum Notice {
        Greeting,
        NamePrompt,
        NameRejected { problem: NameProblem },
        /// A command other than `/help` or `/quit` before joining.
        JoinFirst { command: String },
        Welcome { name: String, others: usize },
        /// `count`: members in the room now, the newcomer included.
        Joined { name: String, count: usize },
        /// `stayed`: from the member's welcome to its departure.
        Left { name: String, reason: LeaveReason, stayed: Duration },
        Chat { from: String, text: String },
        Admin { text: String },
        Private { from: String, text: String },
        PrivateSent { to: String },
        PrivateUsage,
        PrivateToSelf,
        NoSuchMember { name: String },
        Members { members: Vec<ListEntry> },
        Help,
        UnknownCommand { command: String },
        LineTooLong { max_bytes: usize },
        Bye,
        /// To a member dropped for falling too far behind.
        TooSlow,
        /// Flood control is holding this member's lines back (said once per
        /// episode).
        SlowDown,
        /// This member is disconnected for flooding.
        Flooded,
        /// No name was chosen in time.
        NameTimeout { seconds: u64 },
        RoomFull { max_clients: usize },
        /// Too many connections from this one's address.
        AddressFull { max_per_ip: usize },
        Closed,
        // Member commands (PROTOCOL.md section 5).
        /// A command given without what it needs: its usage line.
        Usage { usage: Usage },
        /// `/me`: `** name text`.
        Action { from: String, text: String },
        /// To the others: a member changed its name.
        Renamed { old: String, new: String },
        /// To the member: its new name.
        NickSet { name: String },
        /// `/reply` with nobody to reply to (or they left).
        NoOneToReply,
        QueryStarted { name: String },
        QueryEnded { name: String },
        /// The query's partner changed its name: the query follows.
        QueryRenamed { old: String, new: String },
        /// The query's partner left: the query is over.
        QueryPartnerLeft { name: String },
        MutedRoom,
        UnmutedRoom,
        /// A plain line typed while the room is muted: not sent.
        StillMuted,
        Ignoring { name: String },
        Unignored { name: String },
        NotIgnoring { name: String },
        /// `/ignore` alone: whom this member ignores (perhaps nobody).
        IgnoreList { names: Vec<String> },
        IgnoreSelf,
        /// `/away`: `reason` is `None` when none was given.
        AwaySet { reason: Option<String> },
        Back,
        /// To the sender of a private message: its target is away.
        PeerAway { name: String, reason: Option<String> },
        Whois {
            name: String,
            in_room: Duration,
            idle: Duration,
            away: Option<String>,
            lang: Lang,
        },
        Motd { text: String },
        NoMotd,
        /// Confirms `/lang`, in the new language.
        LangSet { lang: Lang },
        /// `/lang` with a language we do not ship (or none).
        LangUnknown { asked: String },
        TimestampsSet { on: bool },
        /// Before the history replayed on joining: how many lines follow.
        History { count: usize },
        /// A room line from the history: `[HH:MM] ` and the line as sent.
        Past { at: LocalTime, line: Box<Notice> },
        /// To a kicked member, before it is closed.
        KickedYou { reason: String },
        /// To a banned member, before it is closed; `minutes` `None` is
        /// until unbanned.
        BannedYou { minutes: Option<u64>, reason: String },
        /// The operator muted this member: it may read, not speak.
        SilencedYou,
        UnsilencedYou,
        /// A line of a member the operator muted, refused.
        Silenced,
        /// Bridged: the broker (and with it the room's other servers)
        /// cannot be reached; lines are refused until it is back.
        BrokerDown,
        /// Bridged: the broker is reachable again.
        BrokerBack,
        /// Bridged: the other servers gave this one up (the broker was out
        /// of reach for longer than the lease), and with it this member.
        CutOff,
        /// Bridged: a line (or a name, or a command that changes the room)
        /// refused while the broker cannot be reached.
        NotSent,
        /// A name refused while a ban on it (or one like it) lasts.
        NameBanned { name: String, minutes: Option<u64> },
        /// A connection refused while its address is banned.
        AddressBanned { minutes: Option<u64> },
        /// Console answers, for the operator.
        ConsoleHelp,
        ConsoleUnknown { command: String },
        ConsoleUsage { usage: ConsoleUsage },
        ConsoleMembers { rows: Vec<OperatorRow> },
        ConsoleKicked { name: String },
        ConsoleBanned { target: String, minutes: Option<u64>, kicked: usize },
        ConsoleUnbanned { target: String },
        ConsoleNotBanned { target: String },
        ConsoleBans { rows: Vec<BanRow> },
        ConsoleLoopback { target: String },
        ConsoleMuted { name: String },
        ConsoleUnmuted { name: String },
        ConsoleMotdSet,
        ConsoleMotdCleared,
    }
}

/// Which console command a usage line is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsoleUsage {
    Kick,
    Ban,
    Unban,
    Mute,
    Unmute,
    Say,
}

/// One member in the console's `/list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorRow {
    pub name: String,
    pub addr: String,
    pub stayed: Duration,
    /// Set while away: the reason, perhaps empty.
    pub away: Option<String>,
    /// Muted by the operator.
    pub muted: bool,
}

/// One ban in the console's `/bans`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BanRow {
    pub target: String,
    /// Whole minutes left; `None` until unbanned.
    pub minutes: Option<u64>,
    pub reason: String,
}

/// One member in an answer to `/list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListEntry {
    pub name: String,
    /// Set while the member is away: the reason, perhaps empty.
    pub away: Option<String>,
}

/// Which command a usage line is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    Nick,
    Me,
    Reply,
    Query,
    Unignore,
    Whois,
    Timestamps,
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: MemberId = MemberId(1);
    const OTHER: MemberId = MemberId(2);

    fn from(sender: MemberId, kind: LineKind) -> Audience {
        Audience {
            sender: Some(sender),
            kind,
        }
    }

    #[test]
    fn skip_rules() {
        let plain = SkipRules::default();
        assert!(!plain.admits(ME, from(ME, LineKind::Chat)));
        assert!(!plain.admits(ME, from(ME, LineKind::Notice)));
        assert!(plain.admits(ME, from(OTHER, LineKind::Chat)));
        let room_notice = Audience {
            sender: None,
            kind: LineKind::Notice,
        };
        let muted = SkipRules {
            muted: true,
            ..SkipRules::default()
        };
        assert!(!muted.admits(ME, from(OTHER, LineKind::Chat)));
        assert!(!muted.admits(ME, from(OTHER, LineKind::Action)));
        assert!(muted.admits(ME, from(OTHER, LineKind::Notice)));
        assert!(muted.admits(ME, room_notice));
        let ignoring = SkipRules {
            ignored: vec![OTHER],
            ..SkipRules::default()
        };
        assert!(!ignoring.admits(ME, from(OTHER, LineKind::Action)));
        assert!(ignoring.admits(ME, from(MemberId(3), LineKind::Chat)));
        assert!(ignoring.admits(ME, from(OTHER, LineKind::Notice)));
    }

    #[test]
    fn every_kind_is_listed_once() {
        for (i, kind) in NoticeKind::ALL.iter().enumerate() {
            assert!(!NoticeKind::ALL[..i].contains(kind), "{kind:?}");
        }
        assert_eq!(Notice::Closed.kind(), NoticeKind::Closed);
    }
}
