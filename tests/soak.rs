//! Chaos soak: the real server under hundreds of simulated members who join,
//! chat, stall, leave, vanish and reset at random for a bounded time, then a
//! check of everything they received against what the room promises
//! (PROTOCOL.md, "Order and delivery").
//!
//! One driver thread owns every member's non-blocking socket and one
//! `polling::Poller`. A seeded PRNG picks the operations; the seed is printed
//! so that a failure can be replayed (the operations replay exactly, the
//! timing between them does not).
//!
//! Soundness rests on one fact only: the server handles lines one at a time,
//! so all room traffic has one total order. Member `m0`, the observer, joins
//! first, never chats, never stalls and stays: its stream is that order. The
//! test never assumes anything about the order in which the server reads two
//! different sockets; what it knows about the server's state it learns from
//! a reply on the same socket, or from the observer's stream.
//!
//! Run: `cargo test --test soak` (10 s); the 60 s soak is
//! `cargo test --release --test soak -- --ignored --nocapture`.
//! `CHATROOM_SOAK_SECS`, `CHATROOM_SOAK_SEED` and `CHATROOM_SOAK_MEMBERS`
//! override the duration, the seed and the peak number of members.

mod common;

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chatroom::i18n::Pattern;
use polling::{Event, Events, Poller};

use common::{settings_file, Peer, Server, Text};

#[test]
fn soak_short() {
    Soak::run(Config::from_env(10));
}

#[test]
#[ignore = "a 60 s soak; run with --ignored"]
fn soak_long() {
    Soak::run(Config::from_env(60));
}

/// Small limits so that a stalled member is dropped within seconds, no
/// flood control or per-address cap (every member is on loopback and chats
/// faster than a person). No history: the model expects a member's stream
/// to be the live room from its welcome on (history on joining, also in a
/// busy room, is checked in tests/commands.rs).
const SETTINGS: &str = "lang = \"en\"\n[server]\nmax_line_bytes = 1024\n\
    max_queue_bytes = 65536\nflood_rate = 0\nmax_per_ip = 0\nname_timeout_secs = 0\n\
    history = 0\n";
const MAX_LINE_BYTES: usize = 1024;

/// Operations per second, summed over all members. A member that reads
/// receives about `CHAT_RATE` x 260 bytes/s, far less than what its socket
/// buffers and its 64 KiB queue absorb in the seconds a busy machine may
/// keep the driver off the CPU; a stalled member (4 KiB receive buffer)
/// overflows in about 3 s.
const CONNECT_RATE: f64 = 150.0;
const CHAT_RATE: f64 = 150.0;
const DEPART_RATE: f64 = 40.0;
const STALL_RATE: f64 = 4.0;
const MISC_RATE: f64 = 15.0;
/// Share of members whose socket has a tiny receive buffer and who may stall.
const STALLER_SHARE: f64 = 0.2;
const STALL_MIN: Duration = Duration::from_millis(200);
const STALL_MAX: Duration = Duration::from_millis(5000);
/// Loopback's large segments let the kernel buffer a megabyte or more for
/// a member that stopped reading, more than the room's chat brings in a
/// few seconds; so most stalled members are also sent a flood of private
/// messages, which costs the server one copy each, to get them dropped.
const FLOOD_SHARE: f64 = 0.6;
const FLOOD_MIN_BYTES: usize = 1024 * 1024;
const FLOOD_MAX_BYTES: usize = 8 * 1024 * 1024;
/// Private messages per turn and stalled member (about 1.5 MB/s each).
const FLOOD_LINES_PER_TURN: usize = 16;
/// Longest any phase after the chaos may take before the test fails.
const PHASE_LIMIT: Duration = Duration::from_secs(30);
/// Departed names taken again at the end.
const RETAKES_AT_END: usize = 20;
/// What the server may still hold after every member left, above what it
/// held before the first one came: allocator caches and fragments of small
/// allocations, measured at 2 to 4.5 MiB whether the soak ran 3, 10, 20 or
/// 60 s, so it does not grow with the traffic. The queues of a single
/// second's members would be more: 250 x 64 KiB is 16 MiB.
const RSS_SLACK_KB: u64 = 8 * 1024;
/// Large buffers get their own mappings, returned to the system on free.
const GLIBC_TUNABLES: &str = "glibc.malloc.mmap_threshold=16384:glibc.malloc.trim_threshold=131072";
/// How often the server's memory is sampled.
const RSS_EVERY: Duration = Duration::from_millis(100);
/// Longest wait for events in one turn of the driver's loop.
const TURN: Duration = Duration::from_millis(2);

struct Config {
    duration: Duration,
    seed: u64,
    population: usize,
}

impl Config {
    fn from_env(default_secs: u64) -> Config {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let secs = var("CHATROOM_SOAK_SECS").map_or(default_secs, |v| {
            v.parse().expect("CHATROOM_SOAK_SECS: whole seconds")
        });
        let seed = var("CHATROOM_SOAK_SEED").map_or_else(
            || {
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default();
                now.as_nanos() as u64 ^ u64::from(std::process::id())
            },
            |v| v.parse().expect("CHATROOM_SOAK_SEED: a u64"),
        );
        let population = var("CHATROOM_SOAK_MEMBERS")
            .map_or(250, |v| v.parse().expect("CHATROOM_SOAK_MEMBERS: a count"));
        Config {
            duration: Duration::from_secs(secs),
            seed,
            population,
        }
    }
}

/// splitmix64: small, fast, and good enough to pick operations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64) / ((1u64 << 53) as f64) < p
    }

    fn duration(&mut self, lo: Duration, hi: Duration) -> Duration {
        let span = (hi - lo).as_millis() as usize;
        lo + Duration::from_millis(self.below(span + 1) as u64)
    }
}

/// Spreads `rate` operations per second over the loop turns.
struct Pacer {
    rate: f64,
    done: u64,
}

impl Pacer {
    fn new(rate: f64) -> Pacer {
        Pacer { rate, done: 0 }
    }

    /// Operations due now; at most `cap`, so a driver that was kept off
    /// the CPU catches up gradually instead of in one burst.
    fn due(&mut self, elapsed: Duration, cap: u64) -> u64 {
        let target = (elapsed.as_secs_f64() * self.rate) as u64;
        let due = target.saturating_sub(self.done).min(cap);
        self.done += due;
        due
    }
}

type MemberId = usize;
type NameId = u32;
type ChatId = u32;

const OBSERVER: MemberId = 0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Connected; waiting for the name prompt.
    Prompted,
    /// A name was sent; waiting for the welcome or a rejection.
    Naming,
    Joined,
    /// Left politely (`/quit` or a half-close): reading to EOF.
    Draining,
    Closed,
}

/// How a member's connection ended (or is ending).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Exit {
    Quit,
    HalfClose,
    /// The whole socket closed: a FIN, or a reset if data was unread.
    Fin,
    Reset,
    /// Dropped by the server for not reading.
    TooSlow,
    /// Closed before choosing a name.
    Abandoned,
}

impl Exit {
    /// Everything a member sent before this exit reaches the room.
    fn delivers_all(exit: Option<Exit>) -> bool {
        matches!(exit, None | Some(Exit::Quit | Exit::HalfClose))
    }

    /// The member read everything the room sent it until its departure.
    fn reads_all(exit: Option<Exit>) -> bool {
        Exit::delivers_all(exit)
    }

    fn allowed_reasons(self) -> &'static [Reason] {
        match self {
            Exit::Quit | Exit::HalfClose => &[Reason::Quit],
            // A close with unread data is a reset; a write to a closed
            // socket fails: either may reach the server first.
            Exit::Fin => &[Reason::Quit, Reason::Lost],
            Exit::Reset => &[Reason::Lost],
            Exit::TooSlow => &[Reason::TooSlow],
            Exit::Abandoned => &[],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reason {
    Quit,
    Lost,
    TooSlow,
}

/// One line of room traffic, as every member must see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Traffic {
    Joined(NameId),
    Left(NameId, Reason),
    Chat(ChatId),
}

/// The first name a new member tries.
#[derive(Debug, Clone)]
enum Plan {
    Own,
    /// A name another member holds (maybe in other case): must be refused.
    Collide,
    /// The name of a departed member: must be accepted.
    Retake,
}

struct Member {
    stream: Option<TcpStream>,
    own_name: String,
    plan: Plan,
    /// The name last sent at the prompt.
    attempt: Option<String>,
    /// The member whose name this one is trying, pinned until refused.
    holder: Option<MemberId>,
    name: Option<String>,
    phase: Phase,
    exit: Option<Exit>,
    inbuf: Vec<u8>,
    out: Vec<u8>,
    /// Poller interest (readable, writable); `None` after an event fired.
    armed: Option<(bool, bool)>,
    /// Room traffic received after the welcome.
    traffic: Vec<Traffic>,
    /// Chats sent, in order.
    chats: Vec<ChatId>,
    may_stall: bool,
    stalled_until: Option<Instant>,
    /// Bytes of private messages still to send it while it stalls.
    flood_left: usize,
    ever_stalled: bool,
    /// Name attempts of others that rely on this member holding its name.
    pins: usize,
    lists_asked: usize,
    lists_got: usize,
    last_list: Option<Vec<String>>,
    long_lines: usize,
    long_line_errors: usize,
    got_bye: bool,
    /// In the observer's stream: where this member joined and left.
    observed_join: Option<usize>,
    observed_leave: Option<(usize, Reason)>,
}

impl Member {
    fn new(id: MemberId, stream: Option<TcpStream>, plan: Plan, may_stall: bool) -> Member {
        Member {
            stream,
            own_name: format!("m{id}"),
            plan,
            attempt: None,
            holder: None,
            name: None,
            phase: Phase::Prompted,
            exit: None,
            inbuf: Vec::new(),
            out: Vec::new(),
            armed: None,
            traffic: Vec::new(),
            chats: Vec::new(),
            may_stall,
            stalled_until: None,
            flood_left: 0,
            ever_stalled: false,
            pins: 0,
            lists_asked: 0,
            lists_got: 0,
            last_list: None,
            long_lines: 0,
            long_line_errors: 0,
            got_bye: false,
            observed_join: None,
            observed_leave: None,
        }
    }

    /// Joined, connected, not leaving, not stalled: may act.
    fn is_active(&self) -> bool {
        self.phase == Phase::Joined && self.exit.is_none() && self.stalled_until.is_none()
    }
}

/// A private message, text `<from>#p<k> ` and `pad` times `x`.
struct PrivateRecord {
    sender: MemberId,
    target: MemberId,
    pad: usize,
    received: bool,
}

fn private_text(from: &str, k: usize, pad: usize) -> String {
    let mut text = format!("{from}#p{k} ");
    text.extend(std::iter::repeat_n('x', pad));
    text
}

struct ChatRecord {
    sender: MemberId,
    /// The text every other member must receive after `sender: `.
    expected: String,
}

#[derive(Default, Debug)]
struct Stats {
    connects: u64,
    joins: u64,
    collisions: u64,
    retakes: u64,
    abandons: u64,
    chats: u64,
    hostile_chats: u64,
    blank_lines: u64,
    lists: u64,
    long_lines: u64,
    quits: u64,
    half_closes: u64,
    fins: u64,
    resets: u64,
    stalls: u64,
    privates_sent: u64,
    privates_received: u64,
    too_slow_drops: u64,
    lines_received: u64,
    lines_checked: u64,
    checks_passed: u64,
    peak_members: usize,
    rss_baseline_kb: u64,
    rss_peak_kb: u64,
    rss_after_kb: u64,
    server_cpu_ms: u64,
}

/// The server's notices as the soak recognises them: rendered from their
/// message ids (never English words), once, with the names left open.
struct Notices {
    text: Text,
    greeting: String,
    prompt: String,
    taken: Pattern,
    joined: Pattern,
    /// Most specific first, though a name cannot hold the words of another.
    left: [(Pattern, Reason); 3],
    private_line: Pattern,
    replies_to_floods: [Pattern; 2],
    private_to_self: String,
    line_too_long: String,
    bye: String,
    too_slow: String,
}

impl Notices {
    fn new(text: Text) -> Notices {
        let bare = |id: &str| text.tr(id, &[]);
        let named = |id: &str| text.pattern(id, &[], &["name"]);
        let stayed = |id: &str| text.pattern(id, &[], &["name", "stayed"]);
        Notices {
            greeting: text.notice("greeting", &[]),
            prompt: text.notice("name-prompt", &[]),
            taken: named("name-taken"),
            // A join's count and a stay's length are left open too: the
            // name is what the soak checks (capture 0).
            joined: text.pattern("joined", &[], &["name", "count"]),
            left: [
                (stayed("left-lost"), Reason::Lost),
                (stayed("left-too-slow"), Reason::TooSlow),
                (stayed("left-quit"), Reason::Quit),
            ],
            private_line: text.pattern("private-line", &[], &["name", "text"]),
            replies_to_floods: [named("private-sent"), named("no-such-member")],
            private_to_self: bare("private-to-self"),
            line_too_long: text.tr("line-too-long", &[("max", MAX_LINE_BYTES.into())]),
            bye: bare("bye"),
            too_slow: bare("too-slow"),
            text,
        }
    }
}

struct Soak {
    config: Config,
    notices: Notices,
    rng: Rng,
    server: Server,
    poller: Poller,
    events: Events,
    ready: Vec<(MemberId, bool, bool)>,
    members: Vec<Member>,
    /// Members with an open socket.
    live: Vec<MemberId>,
    stalled: Vec<MemberId>,
    names: HashMap<String, NameId>,
    name_list: Vec<String>,
    /// Who sent which name at the prompt (own names and retakes).
    attempts: HashMap<String, MemberId>,
    /// Who holds each name, as the observer's stream tells.
    holders: HashMap<NameId, MemberId>,
    /// Names whose departure the observer saw, free to be taken again.
    free_names: Vec<String>,
    /// Cleared once the streams are checked and the end game begins.
    observing: bool,
    chats: Vec<ChatRecord>,
    privates: Vec<PrivateRecord>,
    failures: Vec<String>,
    stats: Stats,
    scratch: Vec<u8>,
    next_rss: Instant,
}

impl Soak {
    fn run(config: Config) {
        eprintln!(
            "soak: seed {} ({} s, {} members; replay with CHATROOM_SOAK_SEED={})",
            config.seed,
            config.duration.as_secs(),
            config.population,
            config.seed
        );
        let path = settings_file(SETTINGS);
        let path = path.to_str().expect("utf-8 path").to_string();
        let server = start_server(&path);
        let mut soak = Soak {
            rng: Rng(config.seed),
            config,
            notices: Notices::new(Text::en()),
            server,
            poller: Poller::new().expect("poller"),
            events: Events::new(),
            ready: Vec::new(),
            members: Vec::new(),
            live: Vec::new(),
            stalled: Vec::new(),
            names: HashMap::new(),
            name_list: Vec::new(),
            attempts: HashMap::new(),
            holders: HashMap::new(),
            free_names: Vec::new(),
            observing: true,
            chats: Vec::new(),
            privates: Vec::new(),
            failures: Vec::new(),
            stats: Stats::default(),
            scratch: vec![0; 64 * 1024],
            next_rss: Instant::now(),
        };
        soak.stats.rss_baseline_kb = soak.rss_kb();
        soak.join_observer();
        soak.chaos();
        soak.settle();
        soak.check_streams();
        soak.check_privates();
        soak.check_names_free_at_end();
        soak.everyone_leaves();
        soak.check_memory();
        soak.report();
    }

    // ---- the run ----

    fn join_observer(&mut self) {
        self.connect(Plan::Own, false);
        self.wait_until("the observer joins", |s| {
            s.members[OBSERVER].phase == Phase::Joined
        });
    }

    fn chaos(&mut self) {
        let start = Instant::now();
        let end = start + self.config.duration;
        let mut connects = Pacer::new(CONNECT_RATE);
        let mut chats = Pacer::new(CHAT_RATE);
        let mut departures = Pacer::new(DEPART_RATE);
        let mut stalls = Pacer::new(STALL_RATE);
        let mut misc = Pacer::new(MISC_RATE);
        while Instant::now() < end {
            self.turn(TURN);
            let elapsed = start.elapsed();
            for _ in 0..connects.due(elapsed, 20) {
                if self.live.len() <= self.config.population {
                    self.connect_random();
                }
            }
            for _ in 0..chats.due(elapsed, 20) {
                if let Some(id) = self.pick(|m| m.is_active()) {
                    self.chat(id);
                }
            }
            for _ in 0..departures.due(elapsed, 10) {
                if let Some(id) = self.pick(|m| m.is_active() && m.pins == 0) {
                    self.depart(id);
                }
            }
            for _ in 0..stalls.due(elapsed, 5) {
                if let Some(id) = self.pick(|m| m.is_active() && m.pins == 0 && m.may_stall) {
                    self.stall(id);
                }
            }
            for _ in 0..misc.due(elapsed, 5) {
                if let Some(id) = self.pick(|m| m.is_active()) {
                    self.misc(id);
                }
            }
            self.flood_stalled();
        }
    }

    /// Brings the room to rest and every stream to its end: afterwards no
    /// line is in flight and every member that stayed has read all the
    /// room sent.
    fn settle(&mut self) {
        for id in std::mem::take(&mut self.stalled) {
            self.resume(id);
        }
        self.wait_until("new members finish joining and leavers see EOF", |s| {
            s.members.iter().all(|m| {
                matches!(m.phase, Phase::Joined | Phase::Closed)
                    || (m.phase == Phase::Prompted && m.stream.is_none())
            })
        });
        // A /list answer proves the server has handled every earlier line
        // of that member; a stalled member dropped meanwhile sees EOF.
        self.ask_everyone_for_the_list();
        // Departures the driver cannot see end (FIN, reset, too slow) are
        // done once the observer has seen them announced.
        self.wait_until("the observer sees every departure announced", |s| {
            s.members.iter().enumerate().all(|(id, m)| {
                m.name.is_none() || m.exit.is_none() || m.observed_leave.is_some() || id == OBSERVER
            })
        });
        // Now nothing moves: one more answer each, and every stream is whole.
        self.ask_everyone_for_the_list();
    }

    fn ask_everyone_for_the_list(&mut self) {
        for id in self.live.clone() {
            if self.members[id].phase == Phase::Joined && self.members[id].exit.is_none() {
                self.members[id].lists_asked += 1;
                self.send(id, b"/list\n");
            }
        }
        self.wait_until("every member answers /list", |s| {
            s.members.iter().all(|m| {
                m.phase != Phase::Joined || m.exit.is_some() || m.lists_got == m.lists_asked
            })
        });
    }

    /// Every member that stayed leaves politely; then the observer.
    fn everyone_leaves(&mut self) {
        let stayers: Vec<MemberId> = self.stayers().filter(|&id| id != OBSERVER).collect();
        for &id in &stayers {
            self.quit(id);
        }
        self.wait_until("the members that stayed leave", |s| {
            stayers
                .iter()
                .all(|&id| s.members[id].phase == Phase::Closed)
        });
        self.members[OBSERVER].lists_asked += 1;
        self.send(OBSERVER, b"/list\n");
        self.wait_until("the observer's last /list", |s| {
            s.members[OBSERVER].lists_got == s.members[OBSERVER].lists_asked
        });
        let alone = vec![self.members[OBSERVER].own_name.clone()];
        let last = self.members[OBSERVER].last_list.clone();
        self.check(last.as_ref() == Some(&alone), || {
            format!("after everyone left, /list shows {last:?}")
        });
        self.quit(OBSERVER);
        self.wait_until("the observer leaves", |s| {
            s.members[OBSERVER].phase == Phase::Closed
        });
    }

    // ---- operations ----

    fn connect_random(&mut self) {
        let may_stall = self.rng.chance(STALLER_SHARE);
        let roll = self.rng.below(100);
        let plan = match roll {
            0..=4 => {
                self.abandon();
                return;
            }
            5..=14 => Plan::Collide,
            15..=24 if !self.free_names.is_empty() => Plan::Retake,
            _ => Plan::Own,
        };
        self.connect(plan, may_stall);
    }

    fn connect(&mut self, plan: Plan, may_stall: bool) {
        let id = self.members.len();
        let stream = match open_socket(self.server.addr, may_stall) {
            Ok(stream) => stream,
            Err(err) => {
                self.fail(format!("member {id} cannot connect: {err}"));
                return;
            }
        };
        // SAFETY: the stream is deleted from the poller in `close`, the only
        // place a registered stream is dropped, or in `Drop for Soak`.
        unsafe { self.poller.add(&stream, Event::readable(id)) }.expect("poller add");
        let mut member = Member::new(id, Some(stream), plan, may_stall);
        member.armed = Some((true, false));
        self.members.push(member);
        self.live.push(id);
        self.stats.connects += 1;
        self.stats.peak_members = self.stats.peak_members.max(self.live.len());
    }

    /// Connects and goes away before choosing a name: no one may hear of it.
    fn abandon(&mut self) {
        let id = self.members.len();
        let stream = match open_socket(self.server.addr, false) {
            Ok(stream) => stream,
            Err(err) => {
                self.fail(format!("member {id} cannot connect: {err}"));
                return;
            }
        };
        if self.rng.chance(0.5) {
            let _ = rustix::net::sockopt::set_socket_linger(&stream, Some(Duration::ZERO));
        }
        drop(stream);
        let mut member = Member::new(id, None, Plan::Own, false);
        member.phase = Phase::Closed;
        member.exit = Some(Exit::Abandoned);
        self.members.push(member);
        self.stats.connects += 1;
        self.stats.abandons += 1;
    }

    fn chat(&mut self, id: MemberId) {
        let name = self.members[id].name.clone().unwrap_or_default();
        let chat_id = self.chats.len() as ChatId;
        let mut wire = format!("{name}#{chat_id} ");
        let mut expected = wire.clone();
        const PIECES: [&str; 12] = ["a", "b", "Z", "0", "7", " ", "é", "小", "ß", "-", ".", "ok"];
        let len = self.rng.below(500);
        while expected.len() < len {
            let piece = PIECES[self.rng.below(PIECES.len())];
            wire.push_str(piece);
            expected.push_str(piece);
        }
        if self.rng.chance(0.1) {
            // Hostile bytes the server must strip: a screen clear, a title
            // change, a bidi override, a NUL; a tab becomes a space.
            wire.push_str("\x1b[2J\x1b]0;owned\x07\u{202e}\0\tend");
            expected.push_str(" end");
            self.stats.hostile_chats += 1;
        }
        wire.push('\n');
        debug_assert!(wire.len() <= MAX_LINE_BYTES);
        self.chats.push(ChatRecord {
            sender: id,
            expected,
        });
        self.members[id].chats.push(chat_id);
        self.send(id, wire.as_bytes());
        self.stats.chats += 1;
    }

    fn misc(&mut self, id: MemberId) {
        match self.rng.below(3) {
            0 => {
                let line: &[u8] = if self.rng.chance(0.5) {
                    b"\n"
                } else {
                    b"  \t \r\n"
                };
                self.send(id, line);
                self.stats.blank_lines += 1;
            }
            1 => {
                self.members[id].lists_asked += 1;
                self.send(id, b"/list\n");
                self.stats.lists += 1;
            }
            _ => {
                let mut line = format!("{}#long ", self.members[id].own_name).into_bytes();
                line.resize(MAX_LINE_BYTES + 1 + self.rng.below(2000), b'x');
                line.push(b'\n');
                self.members[id].long_lines += 1;
                self.send(id, &line);
                self.stats.long_lines += 1;
            }
        }
    }

    fn depart(&mut self, id: MemberId) {
        match self.rng.below(4) {
            0 => {
                self.quit(id);
                self.stats.quits += 1;
            }
            1 => {
                self.members[id].exit = Some(Exit::HalfClose);
                self.members[id].phase = Phase::Draining;
                if let Some(stream) = &self.members[id].stream {
                    let _ = stream.shutdown(Shutdown::Write);
                }
                self.stats.half_closes += 1;
            }
            2 => {
                // Read what is there first, so the close is a FIN more often
                // than not.
                self.read(id);
                self.members[id].exit = Some(Exit::Fin);
                self.close(id);
                self.stats.fins += 1;
            }
            _ => {
                self.members[id].exit = Some(Exit::Reset);
                if let Some(stream) = &self.members[id].stream {
                    rustix::net::sockopt::set_socket_linger(stream, Some(Duration::ZERO))
                        .expect("SO_LINGER");
                }
                self.close(id);
                self.stats.resets += 1;
            }
        }
    }

    fn flood_stalled(&mut self) {
        for i in 0..self.stalled.len() {
            let target = self.stalled[i];
            for _ in 0..FLOOD_LINES_PER_TURN {
                if self.members[target].flood_left == 0 {
                    break;
                }
                match self.pick(|m| m.is_active()) {
                    Some(sender) if sender != target => self.private(sender, target),
                    _ => break,
                }
            }
        }
    }

    fn private(&mut self, sender: MemberId, target: MemberId) {
        let k = self.privates.len();
        let pad = 700 + self.rng.below(250);
        let from = self.members[sender].name.as_deref().unwrap_or_default();
        let to = self.members[target].name.as_deref().unwrap_or_default();
        let line = format!("/msg {to} {}\n", private_text(from, k, pad));
        debug_assert!(line.len() <= MAX_LINE_BYTES);
        let flood_left = &mut self.members[target].flood_left;
        *flood_left = flood_left.saturating_sub(line.len());
        self.privates.push(PrivateRecord {
            sender,
            target,
            pad,
            received: false,
        });
        self.send(sender, line.as_bytes());
        self.stats.privates_sent += 1;
    }

    /// Someone sent `id` a private message: one that was sent to its name,
    /// and only once.
    fn on_private(&mut self, id: MemberId, line: &str, from: &str, text: &str) {
        let parsed = Some((from, text)).and_then(|(from, text)| {
            let rest = text.strip_prefix(from)?.strip_prefix("#p")?;
            let k: usize = rest.split(' ').next()?.parse().ok()?;
            Some((from, text, k))
        });
        let ok = parsed.is_some_and(|(from, text, k)| {
            self.privates.get(k).is_some_and(|record| {
                let sender = self.members[record.sender].name.as_deref();
                let target = self.members[record.target].name.as_deref();
                !record.received
                    && sender == Some(from)
                    && target == self.members[id].name.as_deref()
                    && text == private_text(from, k, record.pad)
            })
        });
        match parsed {
            Some((_, _, k)) if ok => {
                self.privates[k].received = true;
                self.stats.privates_received += 1;
                self.stats.checks_passed += 1;
            }
            _ => self.fail(format!(
                "m{id} got a private message not sent to it (or twice): {line:.80}"
            )),
        }
    }

    fn quit(&mut self, id: MemberId) {
        self.members[id].exit = Some(Exit::Quit);
        self.members[id].phase = Phase::Draining;
        self.send(id, b"/quit\n");
    }

    fn stall(&mut self, id: MemberId) {
        let until = Instant::now() + self.rng.duration(STALL_MIN, STALL_MAX);
        let member = &mut self.members[id];
        member.stalled_until = Some(until);
        member.ever_stalled = true;
        member.flood_left = if self.rng.chance(FLOOD_SHARE) {
            FLOOD_MIN_BYTES + self.rng.below(FLOOD_MAX_BYTES - FLOOD_MIN_BYTES)
        } else {
            0
        };
        self.stalled.push(id);
        self.rearm(id);
        self.stats.stalls += 1;
    }

    fn resume(&mut self, id: MemberId) {
        self.members[id].stalled_until = None;
        self.rearm(id);
    }

    /// A random member that `eligible` accepts, if a few tries find one.
    fn pick(&mut self, eligible: impl Fn(&Member) -> bool) -> Option<MemberId> {
        for _ in 0..16 {
            if self.live.is_empty() {
                return None;
            }
            let id = self.live[self.rng.below(self.live.len())];
            if id != OBSERVER && eligible(&self.members[id]) {
                return Some(id);
            }
        }
        None
    }

    // ---- I/O ----

    /// One poller wait and everything it reports; stalls that are over end.
    fn turn(&mut self, timeout: Duration) {
        self.events.clear();
        self.poller
            .wait(&mut self.events, Some(timeout))
            .expect("poller wait");
        self.ready.clear();
        self.ready.extend(
            self.events
                .iter()
                .map(|ev| (ev.key, ev.readable, ev.writable)),
        );
        for i in 0..self.ready.len() {
            let (id, readable, writable) = self.ready[i];
            let member = &mut self.members[id];
            member.armed = None;
            if member.phase == Phase::Closed {
                continue;
            }
            if writable || !member.out.is_empty() {
                self.flush(id);
            }
            if readable && self.members[id].stalled_until.is_none() {
                self.read(id);
            }
            self.rearm(id);
        }
        let now = Instant::now();
        let mut i = 0;
        while i < self.stalled.len() {
            let id = self.stalled[i];
            if self.members[id].stalled_until.is_some_and(|t| t <= now) {
                self.stalled.swap_remove(i);
                self.resume(id);
            } else {
                i += 1;
            }
        }
        if now >= self.next_rss {
            self.next_rss = now + RSS_EVERY;
            let rss = self.rss_kb();
            self.stats.rss_peak_kb = self.stats.rss_peak_kb.max(rss);
        }
    }

    /// Turns the loop until `done` holds; fails the test after `PHASE_LIMIT`.
    fn wait_until(&mut self, what: &str, done: impl Fn(&Soak) -> bool) {
        let deadline = Instant::now() + PHASE_LIMIT;
        while !done(self) {
            if Instant::now() > deadline {
                let pending = self.pending_summary();
                self.fail(format!("timed out waiting until {what}; {pending}"));
                self.report();
            }
            self.turn(TURN);
        }
    }

    /// What the end of the run is still waiting for, for a timeout's message.
    fn pending_summary(&self) -> String {
        let mut joining = Vec::new();
        let mut draining = Vec::new();
        let mut unanswered = Vec::new();
        let mut unannounced = Vec::new();
        for (id, m) in self.members.iter().enumerate() {
            match m.phase {
                Phase::Prompted | Phase::Naming if m.stream.is_some() => joining.push(id),
                Phase::Draining => draining.push(id),
                Phase::Joined if m.exit.is_none() && m.lists_got < m.lists_asked => {
                    unanswered.push(id)
                }
                _ => {}
            }
            if m.name.is_some() && m.exit.is_some() && m.observed_leave.is_none() {
                unannounced.push(id);
            }
        }
        format!(
            "still joining: {joining:?}; still open after leaving: {draining:?}; \
             /list unanswered: {unanswered:?}; departures not announced: {unannounced:?}"
        )
    }

    fn send(&mut self, id: MemberId, bytes: &[u8]) {
        self.members[id].out.extend_from_slice(bytes);
        self.flush(id);
        self.rearm(id);
    }

    fn flush(&mut self, id: MemberId) {
        let member = &mut self.members[id];
        let Some(stream) = &mut member.stream else {
            return;
        };
        while !member.out.is_empty() {
            match stream.write(&member.out) {
                Ok(n) => {
                    member.out.drain(..n);
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                // The server closed it (too slow): the read side will say.
                Err(_) => {
                    member.out.clear();
                    break;
                }
            }
        }
    }

    fn read(&mut self, id: MemberId) {
        let mut scratch = std::mem::take(&mut self.scratch);
        let ended = loop {
            let Some(stream) = &mut self.members[id].stream else {
                break false;
            };
            match stream.read(&mut scratch) {
                Ok(0) => break true,
                Ok(n) => {
                    self.members[id].inbuf.extend_from_slice(&scratch[..n]);
                    self.take_lines(id);
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => break false,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break true,
            }
        };
        self.scratch = scratch;
        if ended {
            self.ended(id);
        }
    }

    fn take_lines(&mut self, id: MemberId) {
        let mut inbuf = std::mem::take(&mut self.members[id].inbuf);
        let mut start = 0;
        while let Some(end) = inbuf[start..].iter().position(|&b| b == b'\n') {
            let line = &inbuf[start..start + end];
            start += end + 1;
            self.stats.lines_received += 1;
            match std::str::from_utf8(line) {
                Ok(line) => self.on_line(id, line),
                Err(_) => self.fail(format!("m{id} got invalid UTF-8: {line:?}")),
            }
        }
        inbuf.drain(..start);
        self.members[id].inbuf = inbuf;
    }

    /// The server closed this member's connection.
    fn ended(&mut self, id: MemberId) {
        let member = &self.members[id];
        match (member.phase, member.exit) {
            (Phase::Draining, _) => {}
            (Phase::Joined, None) if member.ever_stalled => {
                self.members[id].exit = Some(Exit::TooSlow);
                self.stats.too_slow_drops += 1;
            }
            (phase, exit) => {
                self.fail(format!(
                    "m{id} was disconnected unexpectedly ({phase:?}, {exit:?})"
                ));
                self.members[id].exit.get_or_insert(Exit::Fin);
            }
        }
        let member = &self.members[id];
        if !member.inbuf.is_empty() && !member.ever_stalled {
            let tail = String::from_utf8_lossy(&member.inbuf).into_owned();
            self.fail(format!("m{id} got an incomplete last line {tail:?}"));
        }
        self.close(id);
    }

    /// The one close path: deregister, then drop.
    fn close(&mut self, id: MemberId) {
        let member = &mut self.members[id];
        if let Some(stream) = member.stream.take() {
            let _ = self.poller.delete(&stream);
        }
        member.phase = Phase::Closed;
        member.stalled_until = None;
        if let Some(pos) = self.live.iter().position(|&x| x == id) {
            self.live.swap_remove(pos);
        }
    }

    fn rearm(&mut self, id: MemberId) {
        let member = &mut self.members[id];
        let Some(stream) = &member.stream else {
            return;
        };
        let wanted = (member.stalled_until.is_none(), !member.out.is_empty());
        if member.armed != Some(wanted) {
            self.poller
                .modify(stream, Event::new(id, wanted.0, wanted.1))
                .expect("poller modify");
            member.armed = Some(wanted);
        }
    }

    // ---- what members receive ----

    fn on_line(&mut self, id: MemberId, line: &str) {
        match self.members[id].phase {
            Phase::Prompted | Phase::Naming => self.on_line_before_joining(id, line),
            Phase::Joined | Phase::Draining => self.on_line_as_member(id, line),
            Phase::Closed => {}
        }
    }

    fn on_line_before_joining(&mut self, id: MemberId, line: &str) {
        if line == self.notices.greeting {
            return;
        }
        if line == self.notices.prompt {
            self.choose_name(id);
            return;
        }
        let attempt = self.members[id].attempt.clone().unwrap_or_default();
        let notice = line.strip_prefix("* ").unwrap_or_default();
        if let Some(refused) = self.notices.taken.captures(notice) {
            match self.members[id].holder.take() {
                Some(holder) => {
                    self.members[holder].pins -= 1;
                    self.stats.collisions += 1;
                    self.check(refused[0] == attempt, || {
                        format!("m{id}: refusal {line:?} does not name {attempt}")
                    });
                }
                None => self.fail(format!(
                    "m{id}: the free name {attempt} was refused: {line}"
                )),
            }
            return;
        }
        let welcome_args = [("name", attempt.as_str().into())];
        let localizer = self.notices.text.localizer();
        if localizer
            .number_in("welcome", &welcome_args, "others", notice)
            .is_some()
        {
            let welcomed = attempt.clone();
            if let Some(holder) = self.members[id].holder.take() {
                self.members[holder].pins -= 1;
                self.fail(format!("m{id} took {attempt}, held by m{holder}"));
            }
            self.intern(&welcomed);
            let member = &mut self.members[id];
            member.name = Some(welcomed);
            member.phase = Phase::Joined;
            self.stats.joins += 1;
            return;
        }
        self.fail(format!("m{id} got {line:?} before joining"));
    }

    fn choose_name(&mut self, id: MemberId) {
        let first = self.members[id].attempt.is_none();
        let plan = std::mem::replace(&mut self.members[id].plan, Plan::Own);
        let mut name = self.members[id].own_name.clone();
        match plan {
            Plan::Collide if first => {
                // Only a member that never stalled surely still holds its name.
                if let Some(holder) = self.pick(|m| m.is_active() && !m.ever_stalled) {
                    let held = self.members[holder].name.clone().unwrap_or_default();
                    name = if self.rng.chance(0.5) {
                        held.to_uppercase()
                    } else {
                        held
                    };
                    self.members[holder].pins += 1;
                    self.members[id].holder = Some(holder);
                }
            }
            Plan::Retake if first && !self.free_names.is_empty() => {
                let i = self.rng.below(self.free_names.len());
                name = self.free_names.swap_remove(i);
                self.stats.retakes += 1;
            }
            _ => {}
        }
        if self.members[id].holder.is_none() {
            self.attempts.insert(name.clone(), id);
        }
        let line = format!("{name}\n");
        self.members[id].attempt = Some(name);
        self.members[id].phase = Phase::Naming;
        self.send(id, line.as_bytes());
    }

    fn on_line_as_member(&mut self, id: MemberId, line: &str) {
        if let Some(found) = self.notices.private_line.captures(line) {
            let (from, text) = (found[0].to_string(), found[1].to_string());
            self.on_private(id, line, &from, &text);
            return;
        }
        let traffic = if let Some(notice) = line.strip_prefix("* ") {
            match self.parse_notice(id, notice) {
                Some(traffic) => traffic,
                None => return,
            }
        } else if let Some((name, text)) = line.split_once(": ") {
            match self.parse_chat(name, text) {
                Some(chat) => Traffic::Chat(chat),
                None => {
                    self.fail(format!("m{id} got a chat line no one sent: {line:?}"));
                    return;
                }
            }
        } else {
            self.fail(format!("m{id} got {line:?}"));
            return;
        };
        if id == OBSERVER && self.observing {
            self.observe(traffic);
        }
        self.members[id].traffic.push(traffic);
    }

    /// Room traffic, or `None` for a reply meant for this member only.
    fn parse_notice(&mut self, id: MemberId, notice: &str) -> Option<Traffic> {
        if let Some(found) = self.notices.joined.captures(notice) {
            let name = found[0];
            if let Some(&name) = self.names.get(name) {
                return Some(Traffic::Joined(name));
            }
            // The observer may read a join before the joiner its welcome.
            if self.attempts.contains_key(name) {
                return Some(Traffic::Joined(self.intern(name)));
            }
        }
        for (pattern, reason) in &self.notices.left {
            if let Some(found) = pattern.captures(notice) {
                if let Some(&name) = self.names.get(found[0]) {
                    return Some(Traffic::Left(name, *reason));
                }
            }
        }
        let notices = &self.notices;
        let member = &mut self.members[id];
        if let Some(names) = notices.text.list_names(&format!("* {notice}")) {
            member.lists_got += 1;
            member.last_list = Some(names);
            return None;
        }
        // Answers to the private messages of a flood; the target may have
        // been dropped, and its name taken by the sender itself.
        if notices.replies_to_floods.iter().any(|p| p.matches(notice))
            || notice == notices.private_to_self
        {
            return None;
        }
        if notice == notices.line_too_long {
            member.long_line_errors += 1;
            return None;
        }
        if notice == notices.bye && member.exit == Some(Exit::Quit) {
            member.got_bye = true;
            return None;
        }
        if notice == notices.too_slow && member.ever_stalled {
            return None;
        }
        self.fail(format!("m{id} got an unexpected notice {notice:?}"));
        None
    }

    fn parse_chat(&self, name: &str, text: &str) -> Option<ChatId> {
        let rest = text.strip_prefix(name)?.strip_prefix('#')?;
        let digits = rest.split(' ').next()?;
        let chat: ChatId = digits.parse().ok()?;
        let record = self.chats.get(chat as usize)?;
        let sender = self.members[record.sender].name.as_deref();
        (record.expected == text && sender == Some(name)).then_some(chat)
    }

    /// Follows the observer's stream as it arrives: who holds which name,
    /// and which names are free again.
    fn observe(&mut self, traffic: Traffic) {
        let position = self.members[OBSERVER].traffic.len();
        match traffic {
            Traffic::Joined(name) => {
                let text = self.name_text(name).to_string();
                let Some(&joiner) = self.attempts.get(&text) else {
                    self.fail(format!(
                        "the observer saw {text} join, but no one asked for it"
                    ));
                    return;
                };
                if let Some(holder) = self.holders.insert(name, joiner) {
                    self.fail(format!("{text} joined while m{holder} held it"));
                }
                let before = (
                    self.members[joiner].observed_join,
                    self.members[joiner].observed_leave,
                    position,
                );
                self.check(before.0.is_none(), || {
                    format!("m{joiner} was announced twice as joining (as {text}; {before:?})")
                });
                self.members[joiner].observed_join = Some(position);
            }
            Traffic::Left(name, reason) => {
                let text = self.name_text(name).to_string();
                let Some(leaver) = self.holders.remove(&name) else {
                    self.fail(format!("{text} was announced leaving while no one held it"));
                    return;
                };
                self.members[leaver].observed_leave = Some((position, reason));
                self.free_names.push(text);
            }
            Traffic::Chat(_) => {}
        }
    }

    fn intern(&mut self, name: &str) -> NameId {
        if let Some(&id) = self.names.get(name) {
            return id;
        }
        let id = self.name_list.len() as NameId;
        self.names.insert(name.to_string(), id);
        self.name_list.push(name.to_string());
        id
    }

    fn name_text(&self, id: NameId) -> &str {
        &self.name_list[id as usize]
    }

    fn stayers(&self) -> impl Iterator<Item = MemberId> + '_ {
        self.members
            .iter()
            .enumerate()
            .filter(|(_, m)| m.name.is_some() && m.exit.is_none())
            .map(|(id, _)| id)
    }

    // ---- the invariants ----

    /// Checks every member's stream against the observer's, which is the
    /// room's order.
    fn check_streams(&mut self) {
        let reference = self.members[OBSERVER].traffic.clone();
        let positions: HashMap<ChatId, usize> = reference
            .iter()
            .enumerate()
            .filter_map(|(p, t)| match t {
                Traffic::Chat(c) => Some((*c, p)),
                _ => None,
            })
            .collect();
        self.check(
            positions.len()
                == reference
                    .iter()
                    .filter(|t| matches!(t, Traffic::Chat(_)))
                    .count(),
            || "the observer received some chat line twice".to_string(),
        );
        for id in 0..self.members.len() {
            let member = &self.members[id];
            let Some(name) = member.name.clone() else {
                self.check(member.observed_join.is_none(), || {
                    format!("m{id} never got a welcome but was announced")
                });
                continue;
            };
            if id == OBSERVER {
                continue;
            }
            let exit = self.effective_exit(id);
            let Some(join) = member.observed_join else {
                self.fail(format!("{name} (m{id}) joined but was never announced"));
                continue;
            };
            // Its departure: announced once (`observe` fails a second one),
            // never for a member that stayed, with the reason of its exit.
            let end = match (exit, member.observed_leave) {
                (None, None) => reference.len(),
                (None, Some((p, reason))) => {
                    self.fail(format!(
                        "{name} (m{id}) stayed but was announced as {reason:?} at {p}"
                    ));
                    continue;
                }
                (Some(exit), None) => {
                    self.fail(format!("{name} (m{id}) left ({exit:?}) unannounced"));
                    continue;
                }
                (Some(exit), Some((p, reason))) => {
                    self.check(exit.allowed_reasons().contains(&reason), || {
                        format!("{name} (m{id}) left by {exit:?}, announced as {reason:?}")
                    });
                    p
                }
            };
            // Its chats: accepted in the order sent, all of them unless its
            // connection broke, each inside its membership.
            let sent = self.members[id].chats.clone();
            let accepted = sent
                .iter()
                .take_while(|c| positions.contains_key(c))
                .count();
            for chat in &sent[..accepted] {
                let p = positions[chat];
                self.check(join < p && p < end, || {
                    format!("chat {chat} of m{id} at {p}, outside its membership {join}..{end}")
                });
            }
            let order: Vec<usize> = sent[..accepted].iter().map(|c| positions[c]).collect();
            self.check(order.windows(2).all(|w| w[0] < w[1]), || {
                format!("chats of m{id} were relayed out of order: {order:?}")
            });
            self.check(
                sent[accepted..].iter().all(|c| !positions.contains_key(c)),
                || format!("m{id}: a chat was lost while later ones of the same sender arrived"),
            );
            if Exit::delivers_all(exit) {
                self.check(accepted == sent.len(), || {
                    format!(
                        "{name} (m{id}, {exit:?}): only {accepted} of {} chats relayed",
                        sent.len()
                    )
                });
            }
            // What it received: exactly the room's traffic during its
            // membership, without its own chats; a prefix if it stopped
            // reading early.
            let expected: Vec<Traffic> = reference[join + 1..end]
                .iter()
                .copied()
                .filter(|t| !matches!(t, Traffic::Chat(c) if self.chats[*c as usize].sender == id))
                .collect();
            let got = &self.members[id].traffic;
            let complete = Exit::reads_all(exit);
            let agree = got.len() <= expected.len() && got[..] == expected[..got.len()];
            let ok = agree && (!complete || got.len() == expected.len());
            self.stats.lines_checked += got.len() as u64;
            if !ok {
                let first = got.iter().zip(&expected).position(|(a, b)| a != b);
                let message = format!(
                    "{name} (m{id}, {exit:?}) received {} lines, expected {}{}; first difference at {first:?}: got {:?}, expected {:?}",
                    got.len(),
                    if complete { "" } else { "at most " },
                    expected.len(),
                    first.map(|i| got[i]),
                    first.map(|i| expected[i]),
                );
                self.fail(message);
            } else {
                self.stats.checks_passed += 1;
            }
            let member = &self.members[id];
            let (long_lines, errors, bye) =
                (member.long_lines, member.long_line_errors, member.got_bye);
            if complete {
                self.check(errors == long_lines, || {
                    format!("m{id} sent {long_lines} over-long lines and got {errors} errors")
                });
            }
            if exit == Some(Exit::Quit) {
                self.check(bye, || format!("m{id} quit and got no goodbye"));
            }
        }
        self.stats.lines_checked += reference.len() as u64;
        // No name is held by a member that left: the room's list is exactly
        // the members that stayed, for every one of them.
        let mut stayed: Vec<String> = self
            .stayers()
            .filter_map(|id| self.members[id].name.clone())
            .collect();
        stayed.sort_by_key(|n| n.to_lowercase());
        for id in self.stayers().collect::<Vec<_>>() {
            let list = self.members[id].last_list.clone();
            self.check(list.as_ref() == Some(&stayed), || {
                format!("m{id}'s /list shows {list:?}, but the members are {stayed:?}")
            });
        }
    }

    /// How the member left, as the server saw it: a member that stalled may
    /// have been dropped before the server read the departure the driver
    /// chose for it later.
    fn effective_exit(&self, id: MemberId) -> Option<Exit> {
        let member = &self.members[id];
        if member.ever_stalled && matches!(member.observed_leave, Some((_, Reason::TooSlow))) {
            return Some(Exit::TooSlow);
        }
        member.exit
    }

    /// A member that stalled and recovered lost nothing: every private
    /// message sent to it by a sender whose lines all reached the room
    /// arrived.
    fn check_privates(&mut self) {
        for k in 0..self.privates.len() {
            let record = &self.privates[k];
            let (sender, target, received) = (record.sender, record.target, record.received);
            if self.effective_exit(target).is_none()
                && Exit::delivers_all(self.effective_exit(sender))
            {
                self.check(received, || {
                    format!(
                        "private message {k} from m{sender} never reached m{target}, who stayed"
                    )
                });
            }
        }
    }

    /// Names of departed members can be taken again.
    fn check_names_free_at_end(&mut self) {
        self.observing = false;
        let held: HashSet<String> = self
            .stayers()
            .filter_map(|id| self.members[id].name.clone())
            .collect();
        let mut free: Vec<String> = self
            .members
            .iter()
            .filter_map(|m| m.name.clone())
            .filter(|n| !held.contains(n))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        free.sort();
        for _ in 0..RETAKES_AT_END.min(free.len()) {
            let name = free.swap_remove(self.rng.below(free.len()));
            let mut peer = Peer::connect(self.server.addr);
            peer.expect_line(&self.notices.prompt);
            peer.send(&name);
            let answer = peer.line();
            let welcome = [("name", name.as_str().into())];
            let welcomed = self
                .notices
                .text
                .is_notice_with_number(&answer, "welcome", &welcome, "others");
            self.check(welcomed, || {
                format!("the departed name {name} could not be taken again: {answer:?}")
            });
            peer.send("/quit");
            peer.read_to_eof();
        }
    }

    /// The server's memory after everyone left is back near its baseline.
    fn check_memory(&mut self) {
        let bound = self.stats.rss_baseline_kb + RSS_SLACK_KB;
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            self.stats.rss_after_kb = self.rss_kb();
            if self.stats.rss_after_kb <= bound || Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.stats.server_cpu_ms = self.server_cpu_ms();
        let (after, base) = (self.stats.rss_after_kb, self.stats.rss_baseline_kb);
        self.check(after <= bound, || {
            format!("server RSS {after} kB after everyone left, baseline {base} kB")
        });
    }

    /// User plus system CPU time the server used, from /proc (clock ticks
    /// are 100 Hz on Linux).
    fn server_cpu_ms(&self) -> u64 {
        let path = format!("/proc/{}/stat", self.server.child.id());
        let stat = std::fs::read_to_string(path).unwrap_or_default();
        // Fields after the command name, which is in parentheses.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        (ticks(11) + ticks(12)) * 10
    }

    fn rss_kb(&self) -> u64 {
        let path = format!("/proc/{}/status", self.server.child.id());
        let status = std::fs::read_to_string(path).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    fn check(&mut self, ok: bool, message: impl FnOnce() -> String) {
        if ok {
            self.stats.checks_passed += 1;
        } else {
            self.fail(message());
        }
    }

    fn fail(&mut self, message: String) {
        if self.failures.len() < 1000 {
            self.failures.push(message);
        }
    }

    fn report(&mut self) {
        let mut text = String::new();
        let _ = writeln!(text, "soak: seed {}, {:#?}", self.config.seed, self.stats);
        println!("{text}");
        if !self.failures.is_empty() {
            // The server's own account of its end (a signal, a crash).
            let _ = self.server.child.kill();
            let _ = self.server.child.wait();
            let log = self.server.log.rest();
            let tail = &log[log.len().saturating_sub(10)..];
            eprintln!("soak: the server's log ends with {tail:#?}");
            let shown: Vec<&String> = self.failures.iter().take(30).collect();
            panic!(
                "soak failed (seed {}; replay with CHATROOM_SOAK_SEED={}): {} problems, first ones:\n{:#?}",
                self.config.seed,
                self.config.seed,
                self.failures.len(),
                shown
            );
        }
    }
}

impl Drop for Soak {
    fn drop(&mut self) {
        for member in &self.members {
            if let Some(stream) = &member.stream {
                let _ = self.poller.delete(stream);
            }
        }
    }
}

/// The server with the soak's settings and no console. glibc keeps freed
/// heap memory for reuse, so RSS would show the allocator's high-water mark
/// rather than what the server still holds; buffers of 16 KiB and more
/// get their own mappings, returned on free, so that RSS follows the live
/// queues (other allocators ignore the variable).
fn start_server(settings: &str) -> Server {
    let mut command = Command::new(common::SERVER);
    command
        .args(["--host", "127.0.0.1", "--port", "0", "--config", settings])
        .env("GLIBC_TUNABLES", GLIBC_TUNABLES)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    Server::spawn(command)
}

/// A non-blocking loopback connection; a member that may stall gets a tiny
/// receive buffer so the server, not the kernel, holds its backlog.
fn open_socket(addr: SocketAddr, small_buffer: bool) -> io::Result<TcpStream> {
    use rustix::net::{sockopt, AddressFamily, SocketType};
    let family = if addr.is_ipv4() {
        AddressFamily::INET
    } else {
        AddressFamily::INET6
    };
    let fd = rustix::net::socket(family, SocketType::STREAM, None)?;
    if small_buffer {
        sockopt::set_socket_recv_buffer_size(&fd, 4096)?;
    }
    // Linux bounds a blocking connect by the send timeout.
    sockopt::set_socket_timeout(&fd, sockopt::Timeout::Send, Some(Duration::from_secs(5)))?;
    rustix::net::connect(&fd, &addr)?;
    let stream = TcpStream::from(fd);
    stream.set_nonblocking(true)?;
    Ok(stream)
}
