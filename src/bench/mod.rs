//! `chatroom-bench`: a load generator that measures a chat server speaking
//! our protocol, on this machine only.
//!
//! - `mod.rs` (here): the flags, the validated `Plan`, errors, and `run`,
//!   which starts the server if asked and hands the plan to the driver.
//! - `driver`: the event loop (one thread, one `Poller`) and its phases.
//! - `wire`: the chat lines sent and the lines read back, parsed in place.
//! - `stats`: which line reached whom, and latencies (a histogram).
//! - `spawn`: the servers the bench starts itself (one standalone, or
//!   several bridged through a Redis it starts too), and /proc figures.
//! - `report`: the table for people and the JSON for machines.
//!
//! Exit codes: 0 every expected line arrived once, in order, intact; 1
//! some line was lost, duplicated, reordered or garbled; 2 bad usage;
//! 3 the run could not be made (server did not start, members could not
//! join, the event loop failed).

mod driver;
mod report;
mod spawn;
mod stats;
mod wire;

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgGroup, Parser, ValueEnum};
use unic_langid::LanguageIdentifier;

pub use report::Report;

use crate::i18n::{parse_lang, Localizer};
use spawn::{Process, SpawnedBroker, SpawnedServer};

/// Exit code when lines were lost, duplicated, reordered or garbled.
pub const EXIT_LOST: u8 = 1;
/// Exit code for bad usage.
pub const EXIT_USAGE: u8 = 2;
/// Exit code when the measurement could not be made.
pub const EXIT_FAILED: u8 = 3;

/// Most delivery-tracking memory a run may take (one bit per expected
/// delivery plus four bytes per pair of members).
const MAX_TRACKING_BYTES: u128 = 1 << 30;
/// Longest chat line, its `\n` included: the server's default line limit.
const MAX_LINE_SIZE: usize = 4097;
/// The Redis program `--spawn-bridged` starts unless told otherwise, found
/// on PATH. (Spelled in two pieces so that tests/locales.rs, which takes
/// kebab-case literals for message ids, does not.)
const REDIS_SERVER: &str = concat!("redis", "-server");
/// Most servers `--spawn-bridged` starts.
pub const MAX_BRIDGED: u16 = 64;

/// Load generator for chatroom-server: simulated members join, chat and
/// check every line that comes back. Loopback only.
///
/// Exit codes: 0 no line lost, duplicated, reordered or garbled; 1 some
/// were; 2 bad usage; 3 the run failed (server, connections).
#[derive(Debug, Parser)]
#[command(name = "chatroom-bench", version)]
#[command(group(ArgGroup::new("spawning").args(["spawn", "spawn_bridged"]).multiple(false)))]
pub struct BenchArgs {
    /// Server to measure, HOST:PORT on this machine (127.0.0.1, ::1) [default 127.0.0.1:5555];
    /// repeated: servers of one bridged room, the members spread over them in turn
    #[arg(long, value_name = "HOST:PORT", conflicts_with = "spawning")]
    pub addr: Vec<String>,
    /// Start a chatroom-server for the run (flood control off) and stop it after
    #[arg(long)]
    pub spawn: bool,
    /// Start a redis-server and N chatroom-servers bridged into one room
    /// through it (flood control off), spread the members over them in
    /// turn, and stop them all after
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=MAX_BRIDGED as i64))]
    pub spawn_bridged: Option<u16>,
    /// The server program --spawn or --spawn-bridged starts [default: chatroom-server next to this program]
    #[arg(long, value_name = "PATH", requires = "spawning")]
    pub server: Option<PathBuf>,
    /// The Redis program --spawn-bridged starts [default: redis-server on PATH]
    #[arg(
        long,
        value_name = "PATH",
        requires = "spawn_bridged",
        conflicts_with = "spawn"
    )]
    pub redis_server: Option<PathBuf>,
    /// Process id of a server at --addr, to report its CPU time and memory;
    /// repeated: the figures are summed over the servers
    #[arg(long, conflicts_with = "spawning")]
    pub pid: Vec<u32>,
    /// What the members do
    #[arg(long, value_enum, default_value_t = Scenario::Burst)]
    pub scenario: Scenario,
    /// Simulated members
    #[arg(long, default_value_t = 100)]
    pub members: usize,
    /// Lines each chatting member sends (burst, stalled)
    #[arg(long, default_value_t = 100)]
    pub lines: usize,
    /// Bytes per chat line as sent, its newline included
    #[arg(long, default_value_t = 64)]
    pub size: usize,
    /// Lines per second, all members together (paced)
    #[arg(long, default_value_t = 500.0)]
    pub rate: f64,
    /// Seconds of sending (paced)
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Members that never read after joining (stalled [default 10]; paced
    /// [default 0])
    #[arg(long)]
    pub stalled: Option<usize>,
    /// Seconds the members stay joined before memory is measured (idle)
    #[arg(long, default_value_t = 1.0)]
    pub hold: f64,
    /// Longest any one phase may take, in seconds
    #[arg(long, default_value_t = 60)]
    pub phase_timeout: u64,
    /// Print the report as JSON
    #[arg(long)]
    pub json: bool,
    /// No progress lines on stderr
    #[arg(long)]
    pub quiet: bool,
    /// Language: en or zh-CN [default en]
    #[arg(long, value_parser = parse_lang)]
    pub lang: Option<LanguageIdentifier>,
    /// A mixed room (burst, idle): after joining, every other member reads
    /// in zh-CN (/lang), a tenth mute the room (/mute; they then send
    /// nothing), a tenth ignore m0 (/ignore), a tenth turn timestamps on;
    /// what mute and ignore remove is not expected
    #[arg(long)]
    pub mix: bool,
}

/// What one member of a `--mix` room does after joining.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Profile {
    /// Reads the room in Chinese.
    pub zh: bool,
    /// Has muted the room: receives no chat line.
    pub muted: bool,
    /// Ignores member 0: receives none of its lines.
    pub ignores_first: bool,
    /// Has timestamps on.
    pub stamps: bool,
}

impl Profile {
    /// The commands that set it up, one line each, in order; each gets one
    /// notice in reply.
    pub fn commands(self) -> impl Iterator<Item = &'static str> {
        [
            (self.zh, "/lang zh-CN\n"),
            (self.muted, "/mute\n"),
            (self.ignores_first, "/ignore m0\n"),
            (self.stamps, "/timestamps on\n"),
        ]
        .into_iter()
        .filter_map(|(on, line)| on.then_some(line))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    /// Each member sends --lines lines as fast as the server takes them
    Burst,
    /// --rate lines per second spread over the members for --duration seconds
    Paced,
    /// Members join and stay: join time and server memory per member
    Idle,
    /// --stalled members never read while the others chat as in burst
    /// (with paced, --stalled members never read while the others chat at
    /// --rate)
    Stalled,
}

impl Scenario {
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Burst => "burst",
            Scenario::Paced => "paced",
            Scenario::Idle => "idle",
            Scenario::Stalled => "stalled",
        }
    }
}

/// Where the servers come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Servers already running: one room, members spread over them in
    /// turn (one address: a standalone room, or one server of a bridge).
    Addrs(Vec<SocketAddr>),
    /// One standalone server started for the run.
    Spawn(PathBuf),
    /// A Redis and `servers` chatroom-servers bridged through it.
    SpawnBridged {
        server: PathBuf,
        redis: PathBuf,
        servers: usize,
    },
}

/// A checked run: every number consistent with every other.
#[derive(Debug, Clone)]
pub struct Plan {
    pub scenario: Scenario,
    pub target: Target,
    /// `--pid`: the servers at `--addr` to look at in /proc.
    pub pids: Vec<u32>,
    pub members: usize,
    stalled: usize,
    lines: usize,
    pub size: usize,
    pub rate: f64,
    pub duration: Duration,
    pub hold: Duration,
    pub phase_timeout: Duration,
    /// `--mix`: members spread over languages, mute, ignore, timestamps.
    pub mix: bool,
}

impl Plan {
    pub fn from_args(args: &BenchArgs) -> Result<Plan, BenchError> {
        let server = || match &args.server {
            Some(path) => Ok(path.clone()),
            None => default_server()
                .map_err(|error| BenchError::usage("bench-error-no-server").io(error)),
        };
        let target = if args.spawn {
            Target::Spawn(server()?)
        } else if let Some(servers) = args.spawn_bridged {
            Target::SpawnBridged {
                server: server()?,
                redis: args
                    .redis_server
                    .clone()
                    .unwrap_or_else(|| PathBuf::from(REDIS_SERVER)),
                servers: usize::from(servers),
            }
        } else if args.addr.is_empty() {
            Target::Addrs(vec![loopback_addr("127.0.0.1:5555")?])
        } else {
            let addrs = args
                .addr
                .iter()
                .map(|addr| loopback_addr(addr))
                .collect::<Result<Vec<_>, _>>()?;
            Target::Addrs(addrs)
        };
        if let Target::Addrs(addrs) = &target {
            if args.pid.len() > addrs.len() {
                return Err(BenchError::usage("bench-error-pids")
                    .arg("pids", args.pid.len().to_string())
                    .arg("servers", addrs.len().to_string()));
            }
        }
        let stalled = match args.scenario {
            Scenario::Stalled => args.stalled.unwrap_or(10),
            Scenario::Paced => args.stalled.unwrap_or(0),
            Scenario::Burst | Scenario::Idle => 0,
        };
        let lines = match args.scenario {
            Scenario::Idle => 0,
            _ => args.lines,
        };
        let plan = Plan {
            scenario: args.scenario,
            target,
            pids: args.pid.clone(),
            members: args.members,
            stalled,
            lines,
            size: args.size,
            rate: args.rate,
            duration: secs(args.duration)?,
            hold: secs(args.hold)?,
            phase_timeout: Duration::from_secs(args.phase_timeout.max(1)),
            mix: args.mix,
        };
        plan.check()?;
        Ok(plan)
    }

    fn check(&self) -> Result<(), BenchError> {
        let min_members = if self.scenario == Scenario::Idle {
            1
        } else {
            2
        };
        if self.chatters() < min_members || self.stalled >= self.members {
            return Err(BenchError::usage("bench-error-members")
                .arg("min", min_members.to_string())
                .arg("members", self.members.to_string())
                .arg("stalled", self.stalled.to_string()));
        }
        // The deliveries mute and ignore remove are known only when every
        // chatter sends the same number of lines and all read.
        if self.mix && !matches!(self.scenario, Scenario::Burst | Scenario::Idle) {
            return Err(BenchError::usage("bench-error-mix"));
        }
        if self.scenario == Scenario::Paced && !(self.rate > 0.0 && self.total_lines() > 0) {
            return Err(BenchError::usage("bench-error-rate"));
        }
        if self.scenario != Scenario::Idle {
            if self.lines_per_chatter() == 0 {
                return Err(BenchError::usage("bench-error-lines"));
            }
            let min = wire::min_line_size(self.members, self.lines_per_chatter());
            if self.size < min || self.size > MAX_LINE_SIZE {
                return Err(BenchError::usage("bench-error-size")
                    .arg("min", min.to_string())
                    .arg("max", MAX_LINE_SIZE.to_string()));
            }
        }
        let footprint =
            stats::DeliveryTracker::footprint(self.chatters(), self.lines_per_chatter());
        if footprint > MAX_TRACKING_BYTES {
            return Err(BenchError::usage("bench-error-too-big")
                .arg("mib", (footprint >> 20).to_string())
                .arg("limit", (MAX_TRACKING_BYTES >> 20).to_string()));
        }
        Ok(())
    }

    /// How many servers the room has: the members are spread over them.
    pub fn servers(&self) -> usize {
        match &self.target {
            Target::Addrs(addrs) => addrs.len(),
            Target::Spawn(_) => 1,
            Target::SpawnBridged { servers, .. } => *servers,
        }
    }

    /// Members that never read (the `stalled` scenario).
    pub fn stalled(&self) -> usize {
        self.stalled
    }

    /// Members that read, and send in the chatting scenarios.
    pub fn chatters(&self) -> usize {
        self.members - self.stalled
    }

    /// Chat lines of the whole run.
    pub fn total_lines(&self) -> u64 {
        match self.scenario {
            Scenario::Idle => 0,
            Scenario::Paced => (self.rate * self.duration.as_secs_f64()).round() as u64,
            Scenario::Burst | Scenario::Stalled => {
                (0..self.chatters()).map(|index| self.lines_of(index)).sum()
            }
        }
    }

    /// Lines chatter `index` sends in a burst: none if it muted the room
    /// (the server would not send them: it reminds a muted member instead).
    pub fn lines_of(&self, index: usize) -> u64 {
        if self.profile(index).muted {
            0
        } else {
            self.lines as u64
        }
    }

    /// The most lines one chatter sends.
    pub fn lines_per_chatter(&self) -> usize {
        match self.scenario {
            Scenario::Paced => self.total_lines().div_ceil(self.chatters() as u64) as usize,
            _ => self.lines,
        }
    }

    /// What member `index` does after joining: nothing special unless
    /// `--mix`. Member 0, the one some ignore, is plain; the shares are
    /// fixed (odd members in zh-CN; of each ten, the fourth muted, the
    /// sixth ignoring m0; of each twenty, the eighth and ninth, one per
    /// language, with timestamps), so they spread over every size of run.
    pub fn profile(&self, index: usize) -> Profile {
        if !self.mix || index >= self.chatters() {
            return Profile::default();
        }
        Profile {
            zh: index % 2 == 1,
            muted: index % 10 == 3,
            ignores_first: index % 10 == 5,
            stamps: matches!(index % 20, 7 | 8),
        }
    }

    /// Whether the server should deliver `sender`'s chat lines to
    /// `receiver`.
    pub fn admits(&self, receiver: usize, sender: usize) -> bool {
        let profile = self.profile(receiver);
        receiver != sender && !profile.muted && !(profile.ignores_first && sender == 0)
    }

    /// Deliveries that mute and ignore remove: not expected, and a line
    /// that comes anyway counts as garbled.
    pub fn skipped_deliveries(&self) -> u64 {
        if !self.mix {
            return 0;
        }
        let chatters = self.chatters();
        (0..chatters)
            .map(|receiver| {
                (0..chatters)
                    .filter(|&sender| sender != receiver && !self.admits(receiver, sender))
                    .map(|sender| self.lines_of(sender))
                    .sum::<u64>()
            })
            .sum()
    }

    /// Every line reaches every chatter but its sender, less what mute and
    /// ignore remove.
    pub fn expected_deliveries(&self) -> u64 {
        self.total_lines() * (self.chatters() as u64).saturating_sub(1) - self.skipped_deliveries()
    }
}

fn secs(value: f64) -> Result<Duration, BenchError> {
    Duration::try_from_secs_f64(value)
        .map_err(|_| BenchError::usage("bench-error-seconds").arg("value", value.to_string()))
}

/// `chatroom-server` in the directory of this program.
fn default_server() -> io::Result<PathBuf> {
    let me = std::env::current_exe()?;
    let server = me.with_file_name(format!("chatroom-server{}", std::env::consts::EXE_SUFFIX));
    if server.is_file() {
        Ok(server)
    } else {
        Err(io::Error::new(
            io::ErrorKind::NotFound,
            server.display().to_string(),
        ))
    }
}

/// The first loopback address `text` resolves to; anything else is
/// refused, so the bench can never load someone else's machine.
fn loopback_addr(text: &str) -> Result<SocketAddr, BenchError> {
    let addrs: Vec<SocketAddr> = text
        .to_socket_addrs()
        .map_err(|error| {
            BenchError::usage("bench-error-resolve")
                .arg("addr", text.to_string())
                .io(error)
        })?
        .collect();
    addrs
        .iter()
        .find(|addr| addr.ip().is_loopback())
        .copied()
        .ok_or_else(|| BenchError::usage("bench-error-not-loopback").arg("addr", text.to_string()))
}

/// A failure, as a message id and its arguments; rendered by the binary.
#[derive(Debug)]
pub struct BenchError {
    usage: bool,
    id: &'static str,
    args: Vec<(&'static str, String)>,
    error: Option<io::Error>,
}

impl BenchError {
    pub fn usage(id: &'static str) -> Self {
        BenchError {
            usage: true,
            id,
            args: Vec::new(),
            error: None,
        }
    }

    pub fn run(id: &'static str) -> Self {
        BenchError {
            usage: false,
            ..BenchError::usage(id)
        }
    }

    pub fn arg(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.args.push((name, value.into()));
        self
    }

    /// The cause, shown as `$reason`.
    pub fn io(mut self, error: io::Error) -> Self {
        self.error = Some(error);
        self
    }

    pub fn exit_code(&self) -> u8 {
        if self.usage {
            EXIT_USAGE
        } else {
            EXIT_FAILED
        }
    }

    pub fn localize(&self, localizer: &Localizer) -> String {
        let mut args: Vec<(&str, fluent_bundle::FluentValue<'_>)> = self
            .args
            .iter()
            .map(|(name, value)| (*name, value.as_str().into()))
            .collect();
        if let Some(error) = &self.error {
            args.push(("reason", localizer.io_reason(error).into()));
        }
        localizer.tr(self.id, &args)
    }
}

/// Runs the plan: starts the servers (and the broker) if asked, drives
/// the members, and returns the report. Everything spawned is stopped on
/// every path, the servers before the broker.
pub fn run(plan: &Plan, localizer: &Localizer, quiet: bool) -> Result<Report, BenchError> {
    crate::server::raise_fd_limit();
    // Declared first, so dropped last: the servers go before their broker.
    let mut broker: Option<SpawnedBroker> = None;
    let mut servers: Vec<SpawnedServer> = Vec::new();
    let addrs = match &plan.target {
        Target::Spawn(program) => {
            servers.push(SpawnedServer::start(program, plan.members, None)?);
            servers.iter().map(|server| server.addr).collect()
        }
        Target::SpawnBridged {
            server,
            redis,
            servers: count,
        } => {
            let started = broker.insert(SpawnedBroker::start(redis)?);
            let bridge = spawn::Bridge {
                port: started.port,
                room: format!("bench-{}", std::process::id()),
            };
            for index in 0..*count {
                let spawned = SpawnedServer::start(server, plan.members, Some((&bridge, index)))?;
                servers.push(spawned);
            }
            servers.iter().map(|server| server.addr).collect()
        }
        Target::Addrs(addrs) => addrs.clone(),
    };
    let pids: Vec<u32> = if servers.is_empty() {
        plan.pids.clone()
    } else {
        servers.iter().map(SpawnedServer::pid).collect()
    };
    let bench = driver::Bench::new(
        plan,
        localizer,
        addrs.clone(),
        servers.iter().map(|server| &server.log).collect(),
        pids.iter().copied().map(Process::Pid).collect(),
        broker.as_ref().map(|broker| Process::Pid(broker.pid())),
        quiet,
    )?;
    let observed = bench.run()?;
    let broker_addr = broker.as_ref().map(|broker| broker.addr());
    Ok(Report::new(plan, addrs, pids, broker_addr, observed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn plan(args: &[&str]) -> Result<Plan, BenchError> {
        let mut all = vec!["chatroom-bench", "--addr", "127.0.0.1:5555"];
        all.extend_from_slice(args);
        Plan::from_args(&BenchArgs::parse_from(all))
    }

    /// The documented bursts of large lines and of many lines fit the
    /// bench's own limits (line size, tracking memory).
    #[test]
    fn the_documented_bursts_are_valid_plans() {
        let big = plan(&[
            "--scenario",
            "burst",
            "--members",
            "100",
            "--lines",
            "100",
            "--size",
            "2048",
        ])
        .expect("100 members x 100 lines of 2048 bytes");
        assert_eq!(big.expected_deliveries(), 100 * 100 * 99);
        assert_eq!(big.size, 2048);
        let many = plan(&["--members", "10", "--lines", "100000"]).expect("10 x 100000 lines");
        assert_eq!(many.expected_deliveries(), 10 * 100_000 * 9);
        assert!(
            plan(&["--size", "4098"]).is_err(),
            "over the server's line limit"
        );
    }

    fn bare(args: &[&str]) -> Result<Plan, String> {
        let mut all = vec!["chatroom-bench"];
        all.extend_from_slice(args);
        let args = BenchArgs::try_parse_from(all).map_err(|e| e.kind().to_string())?;
        Plan::from_args(&args).map_err(|e| e.id.to_string())
    }

    #[test]
    fn addresses_repeat_and_spawning_picks_one_way() {
        let two = bare(&["--addr", "127.0.0.1:5001", "--addr", "127.0.0.1:5002"]).expect("two");
        let addrs = ["127.0.0.1:5001", "127.0.0.1:5002"].map(|a| a.parse().unwrap());
        assert_eq!(two.target, Target::Addrs(addrs.to_vec()));
        assert_eq!(two.servers(), 2);
        let default = bare(&[]).expect("default");
        assert_eq!(
            default.target,
            Target::Addrs(vec!["127.0.0.1:5555".parse().unwrap()])
        );
        let pids = bare(&[
            "--addr",
            "127.0.0.1:1",
            "--addr",
            "127.0.0.1:2",
            "--pid",
            "7",
        ]);
        assert_eq!(pids.expect("one pid of two").pids, [7]);
        assert_eq!(
            bare(&["--addr", "127.0.0.1:1", "--pid", "7", "--pid", "8"]).unwrap_err(),
            "bench-error-pids"
        );
        assert_eq!(
            bare(&["--addr", "127.0.0.1:1", "--addr", "192.0.2.1:1"]).unwrap_err(),
            "bench-error-not-loopback"
        );
        let bridged = bare(&[
            "--spawn-bridged",
            "3",
            "--server",
            "/x/chatroom-server",
            "--redis-server",
            "/y/redis",
        ])
        .expect("bridged");
        assert_eq!(
            bridged.target,
            Target::SpawnBridged {
                server: "/x/chatroom-server".into(),
                redis: "/y/redis".into(),
                servers: 3
            }
        );
        assert_eq!(bridged.servers(), 3);
        let on_path = bare(&["--spawn-bridged", "2", "--server", "/x/s"]).expect("on PATH");
        assert!(
            matches!(on_path.target, Target::SpawnBridged { ref redis, .. } if redis == Path::new("redis-server"))
        );
        for conflict in [
            &["--spawn", "--spawn-bridged", "2"][..],
            &["--addr", "127.0.0.1:1", "--spawn-bridged", "2"],
            &["--addr", "127.0.0.1:1", "--spawn"],
            &["--spawn-bridged", "2", "--pid", "1"],
            &["--spawn", "--redis-server", "/y/redis"],
            &["--redis-server", "/y/redis"],
            &["--server", "/x/s"],
            &["--spawn-bridged", "0"],
            &["--spawn-bridged", "65"],
        ] {
            assert!(bare(conflict).is_err(), "{conflict:?}");
        }
    }

    #[test]
    fn a_mixed_room_expects_what_mute_and_ignore_leave() {
        let mixed = plan(&["--members", "100", "--lines", "10", "--mix"]).expect("plan");
        let profiles: Vec<Profile> = (0..100).map(|i| mixed.profile(i)).collect();
        let count = |f: fn(&Profile) -> bool| profiles.iter().filter(|p| f(p)).count();
        assert_eq!(count(|p| p.zh), 50);
        assert_eq!(count(|p| p.muted), 10);
        assert_eq!(count(|p| p.ignores_first), 10);
        assert_eq!(count(|p| p.stamps), 10);
        assert_eq!(profiles[0], Profile::default(), "m0 is plain");
        // The ten muted send nothing; each hears none of the 90 others'
        // 10 lines; the ten ignoring m0 miss its 10 lines.
        assert_eq!(mixed.total_lines(), 90 * 10);
        assert_eq!(mixed.skipped_deliveries(), 10 * 90 * 10 + 10 * 10);
        assert_eq!(
            mixed.expected_deliveries(),
            900 * 99 - mixed.skipped_deliveries()
        );
        assert!(!mixed.admits(3, 1) && !mixed.admits(5, 0) && mixed.admits(5, 1));
        assert_eq!(
            mixed.profile(7).commands().collect::<Vec<_>>(),
            ["/lang zh-CN\n", "/timestamps on\n"]
        );
        assert!(plan(&["--scenario", "paced", "--mix"]).is_err());
        assert_eq!(plan(&[]).expect("plain").skipped_deliveries(), 0);
    }
}
