//! The servers under test when the bench starts its own: one standalone
//! server (`--spawn`), or a Redis and several servers bridged into one room
//! through it (`--spawn-bridged N`); and what /proc says about a process
//! (CPU time, memory).
//!
//! Every spawned process is owned by a guard that kills and reaps it on
//! drop, on every path out of the bench. A server's stdout (one log line
//! per room event, written with blocking writes) is a non-blocking pipe
//! that the bench's loop keeps draining, so the server never stalls on a
//! full pipe. Redis logs to a file in its own temporary directory.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use polling::{Event, Events, Poller};

use super::BenchError;
use crate::i18n::{parse_lang, Localizer, Pattern, AVAILABLE};

/// How long a spawned server may take to say where it listens.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a bridged server may take, once listening, to join its room.
const JOIN_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one Redis start may take to answer.
const BROKER_TIMEOUT: Duration = Duration::from_secs(5);
/// Ports tried for Redis: a free port found by binding port 0 may be taken
/// by someone else before Redis binds it.
const BROKER_TRIES: usize = 5;
/// Longest log line kept for an error message.
const SHOWN_LINE: usize = 300;

/// The bridged room the spawned servers join: Redis on 127.0.0.1:`port`.
#[derive(Debug, Clone)]
pub struct Bridge {
    pub port: u16,
    pub room: String,
}

/// A `chatroom-server` started for this run; killed and reaped on drop.
#[derive(Debug)]
pub struct SpawnedServer {
    child: Child,
    pub addr: SocketAddr,
    /// The server's stdout, non-blocking; `Bench` drains it.
    pub log: ChildStdout,
    /// Read from `log` but not yet a whole line.
    pending: Vec<u8>,
    /// The temporary settings file, removed on drop.
    settings_path: PathBuf,
}

impl SpawnedServer {
    /// Starts `program` on 127.0.0.1, any free port, with flood control
    /// and the per-address cap off and room for `members` connections,
    /// and waits for its first line (`server-listening`), the first word
    /// of which that reads as an address is where it listens. With a
    /// `bridge` (and this server's number in it), the server joins that
    /// room, and the start waits for its `log-room-joined` line too.
    pub fn start(
        program: &Path,
        members: usize,
        bridge: Option<(&Bridge, usize)>,
    ) -> Result<SpawnedServer, BenchError> {
        let shown = program.display().to_string();
        let name = match bridge {
            None => format!("chatroom-bench-{}.toml", std::process::id()),
            Some((_, index)) => format!("chatroom-bench-{}-{index}.toml", std::process::id()),
        };
        let settings_path = std::env::temp_dir().join(name);
        let settings = settings_text(members, bridge.map(|(bridge, _)| bridge));
        std::fs::write(&settings_path, settings).map_err(|error| {
            BenchError::run("bench-error-temp-file")
                .arg("path", settings_path.display().to_string())
                .io(error)
        })?;
        // The flags repeat the file's host and port: they also win over
        // CHATROOM_HOST and CHATROOM_PORT in the environment.
        let spawned = Command::new(program)
            .args(["--host", "127.0.0.1", "--port", "0", "--config"])
            .arg(&settings_path)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(error) => {
                let _ = std::fs::remove_file(&settings_path);
                return Err(BenchError::run("bench-error-spawn")
                    .arg("path", shown)
                    .io(error));
            }
        };
        let Some(log) = child.stdout.take() else {
            let _ = child.kill();
            let _ = child.wait();
            let _ = std::fs::remove_file(&settings_path);
            return Err(BenchError::run("bench-error-spawn")
                .arg("path", shown)
                .io(io::Error::other("no stdout pipe")));
        };
        let mut server = SpawnedServer {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            log,
            pending: Vec::new(),
            settings_path,
        };
        let io_error = |error: io::Error| BenchError::run("bench-error-io").io(error);
        rustix::io::ioctl_fionbio(&server.log, true).map_err(|e| io_error(e.into()))?;
        let poller = Poller::new().map_err(io_error)?;
        // SAFETY: `log` outlives `poller`, and is deleted from it below
        // before this function returns on any path.
        unsafe { poller.add(&server.log, Event::readable(0)) }.map_err(io_error)?;
        let result = server.read_address(&poller, &shown).and_then(|addr| {
            server.addr = addr;
            match bridge {
                Some((bridge, _)) => server.await_room(&poller, &shown, &bridge.room),
                None => Ok(()),
            }
        });
        let _ = poller.delete(&server.log);
        result.map(|()| server)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Reads the first stdout line and finds the address in it.
    fn read_address(&mut self, poller: &Poller, shown: &str) -> Result<SocketAddr, BenchError> {
        let silent = || {
            BenchError::run("bench-error-server-silent")
                .arg("path", shown.to_string())
                .arg("secs", STARTUP_TIMEOUT.as_secs().to_string())
        };
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        let line = match self.next_line(poller, deadline)? {
            Line::Text(line) => line,
            Line::Timeout => return Err(silent()),
            Line::Exited(status) => {
                return Err(BenchError::run("bench-error-server-exited")
                    .arg("path", shown.to_string())
                    .arg("status", status))
            }
        };
        line.split_whitespace()
            .find_map(|word| word.parse().ok())
            .ok_or_else(silent)
    }

    /// Reads log lines until the server says it joined `room`
    /// (`log-room-joined`, in any language the server may speak).
    fn await_room(&mut self, poller: &Poller, shown: &str, room: &str) -> Result<(), BenchError> {
        let joined: Vec<Pattern> = AVAILABLE
            .iter()
            .filter_map(|tag| parse_lang(tag).ok())
            .map(|lang| {
                Localizer::new(&lang).pattern(
                    "log-room-joined",
                    &[("room", room.into())],
                    &["members", "servers"],
                )
            })
            .collect();
        let deadline = Instant::now() + JOIN_TIMEOUT;
        let mut last = String::new();
        loop {
            match self.next_line(poller, deadline)? {
                Line::Text(line) => {
                    if joined.iter().any(|p| p.captures(&line).is_some()) {
                        return Ok(());
                    }
                    last = line.chars().take(SHOWN_LINE).collect();
                }
                Line::Timeout => {
                    return Err(BenchError::run("bench-error-server-not-joined")
                        .arg("path", shown.to_string())
                        .arg("secs", JOIN_TIMEOUT.as_secs().to_string())
                        .arg("line", last))
                }
                Line::Exited(status) => {
                    return Err(BenchError::run("bench-error-server-exited-joining")
                        .arg("path", shown.to_string())
                        .arg("status", status)
                        .arg("line", last))
                }
            }
        }
    }

    /// The next whole stdout line, without its `\n`.
    fn next_line(&mut self, poller: &Poller, deadline: Instant) -> Result<Line, BenchError> {
        let mut chunk = [0u8; 4096];
        let mut events = Events::new();
        loop {
            if let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
                let line = String::from_utf8_lossy(&self.pending[..end]).into_owned();
                self.pending.drain(..=end);
                return Ok(Line::Text(line));
            }
            match self.log.read(&mut chunk) {
                Ok(0) => {
                    let status = self
                        .child
                        .wait()
                        .map(|status| status.to_string())
                        .unwrap_or_default();
                    return Ok(Line::Exited(status));
                }
                Ok(n) => {
                    self.pending.extend_from_slice(&chunk[..n]);
                    continue;
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(BenchError::run("bench-error-io").io(error)),
            }
            if Instant::now() >= deadline {
                return Ok(Line::Timeout);
            }
            events.clear();
            poller
                .wait_deadline(&mut events, deadline)
                .map_err(|error| BenchError::run("bench-error-io").io(error))?;
            poller
                .modify(&self.log, Event::readable(0))
                .map_err(|error| BenchError::run("bench-error-io").io(error))?;
        }
    }
}

/// What reading a server's log came to.
enum Line {
    Text(String),
    Timeout,
    /// The server exited (its exit status, as shown).
    Exited(String),
}

/// The settings of a spawned server: loopback, any free port, flood
/// control and the per-address cap off, room for `members`; with a
/// bridge, its `[bridge]` table.
fn settings_text(members: usize, bridge: Option<&Bridge>) -> String {
    let mut text = format!(
        "[server]\nhost = \"127.0.0.1\"\nport = 0\nflood_rate = 0\nmax_per_ip = 0\nmax_clients = {}\n",
        members.max(10_000) + 16
    );
    if let Some(bridge) = bridge {
        text.push_str(&format!(
            "\n[bridge]\nurl = \"redis://127.0.0.1:{}\"\nroom = \"{}\"\nlease_secs = 10\n",
            bridge.port, bridge.room
        ));
    }
    text
}

impl Drop for SpawnedServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.settings_path);
    }
}

/// A `redis-server` started for this run on 127.0.0.1, a free port, no
/// persistence, in a temporary directory; killed, reaped and its directory
/// removed on drop.
#[derive(Debug)]
pub struct SpawnedBroker {
    child: Child,
    pub port: u16,
    dir: PathBuf,
}

impl SpawnedBroker {
    /// Starts `program` on a free loopback port and waits until it answers
    /// as itself (`INFO server` gives its process id); a port someone else
    /// took first makes it exit, and another port is tried, a bounded
    /// number of times.
    pub fn start(program: &Path) -> Result<SpawnedBroker, BenchError> {
        let shown = program.display().to_string();
        let dir = std::env::temp_dir().join(format!("chatroom-bench-{}-redis", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|error| {
            BenchError::run("bench-error-temp-file")
                .arg("path", dir.display().to_string())
                .io(error)
        })?;
        let log = dir.join("redis.log");
        for _ in 0..BROKER_TRIES {
            let port = free_port().map_err(|error| BenchError::run("bench-error-io").io(error))?;
            let spawned = Command::new(program)
                .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
                .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
                .arg("--dir")
                .arg(&dir)
                .arg("--logfile")
                .arg(&log)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn();
            let child = match spawned {
                Ok(child) => child,
                Err(error) => {
                    let _ = std::fs::remove_dir_all(&dir);
                    return Err(BenchError::run("bench-error-broker-spawn")
                        .arg("path", shown)
                        .io(error));
                }
            };
            let mut broker = SpawnedBroker {
                child,
                port,
                dir: dir.clone(),
            };
            if broker.answers(Instant::now() + BROKER_TIMEOUT) {
                return Ok(broker);
            }
            // Dropping `broker` kills it and removes the directory.
            drop(broker);
            let _ = std::fs::create_dir_all(&dir);
        }
        let last: String = std::fs::read_to_string(&log)
            .ok()
            .and_then(|text| {
                text.lines()
                    .last()
                    .map(|l| l.chars().take(SHOWN_LINE).collect())
            })
            .unwrap_or_default();
        let _ = std::fs::remove_dir_all(&dir);
        Err(BenchError::run("bench-error-broker-failed")
            .arg("path", shown)
            .arg("tries", BROKER_TRIES.to_string())
            .arg("line", last))
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Whether this Redis, and not another program on its port, answers
    /// before `deadline`.
    fn answers(&mut self, deadline: Instant) -> bool {
        let me = format!("process_id:{}\r\n", self.pid());
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return false;
            }
            if let Ok(info) = redis_info(self.addr()) {
                return info.contains(&me);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

impl Drop for SpawnedBroker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A port nobody listens on right now, found by binding port 0.
fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The text of `INFO server` from the Redis at `addr` (one bulk string).
fn redis_info(addr: SocketAddr) -> io::Result<String> {
    let timeout = Duration::from_millis(500);
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.write_all(b"INFO server\r\n")?;
    let mut reply = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        reply.extend_from_slice(&chunk[..n]);
        if let Some(body) = bulk_string(&reply)? {
            return Ok(String::from_utf8_lossy(body).into_owned());
        }
    }
}

/// The body of the RESP bulk string `$LEN\r\nBODY\r\n` once `reply` holds
/// all of it; `None` while it is incomplete; an error if it is not one.
fn bulk_string(reply: &[u8]) -> io::Result<Option<&[u8]>> {
    let not_bulk = || io::Error::new(io::ErrorKind::InvalidData, "not a bulk string");
    let Some(end) = reply.windows(2).position(|w| w == b"\r\n") else {
        return Ok(None);
    };
    let header = reply[..end].strip_prefix(b"$").ok_or_else(not_bulk)?;
    let len: usize = std::str::from_utf8(header)
        .ok()
        .and_then(|text| text.parse().ok())
        .ok_or_else(not_bulk)?;
    let body = end + 2;
    Ok(reply
        .get(body..body + len)
        .filter(|_| reply.len() >= body + len + 2))
}

/// A process the bench can look at in /proc: the server (by pid) or the
/// bench itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Process {
    Pid(u32),
    Myself,
}

impl Process {
    fn proc_file(self, name: &str) -> Option<String> {
        let path = match self {
            Process::Pid(pid) => format!("/proc/{pid}/{name}"),
            Process::Myself => format!("/proc/self/{name}"),
        };
        std::fs::read_to_string(path).ok()
    }

    /// User plus system CPU time so far, in seconds.
    pub fn cpu_seconds(self) -> Option<f64> {
        cpu_seconds_from_stat(&self.proc_file("stat")?)
    }

    /// Peak resident memory (VmHWM), in KiB.
    pub fn peak_rss_kib(self) -> Option<u64> {
        status_kib(&self.proc_file("status")?, "VmHWM:")
    }

    /// Resident memory now (VmRSS), in KiB.
    pub fn rss_kib(self) -> Option<u64> {
        status_kib(&self.proc_file("status")?, "VmRSS:")
    }
}

/// `figure` summed over `processes`: known only when it is known for
/// each of them, and there is at least one.
pub fn summed<T: std::iter::Sum>(
    processes: &[Process],
    figure: impl Fn(Process) -> Option<T>,
) -> Option<T> {
    if processes.is_empty() {
        return None;
    }
    processes.iter().map(|&process| figure(process)).sum()
}

/// utime + stime (fields 14 and 15 of /proc/PID/stat) in seconds. The
/// fields are counted after the command name's closing `)`, since the name
/// itself may hold spaces.
fn cpu_seconds_from_stat(stat: &str) -> Option<f64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    let ticks = rustix::param::clock_ticks_per_second().max(1);
    Some((utime + stime) as f64 / ticks as f64)
}

/// A `Key:   1234 kB` line of /proc/PID/status.
fn status_kib(status: &str, key: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with(key))?;
    line[key.len()..].split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cpu_and_memory_of_this_process() {
        let me = Process::Myself;
        assert!(me.cpu_seconds().is_some());
        assert!(me.peak_rss_kib().unwrap() >= me.rss_kib().unwrap() / 2);
    }

    #[test]
    fn figures_are_summed_only_when_all_are_known() {
        let me = Process::Myself;
        assert_eq!(summed(&[], Process::peak_rss_kib), None);
        let one = me.peak_rss_kib().unwrap();
        let two = summed(&[me, me], Process::peak_rss_kib).unwrap();
        assert!(two >= 2 * one);
        assert_eq!(
            summed(&[me, Process::Pid(u32::MAX)], Process::peak_rss_kib),
            None
        );
    }

    #[test]
    fn bridged_settings_name_the_broker_and_the_room() {
        let bridge = Bridge {
            port: 6380,
            room: "bench-42".into(),
        };
        let text = settings_text(10, Some(&bridge));
        assert!(text.contains("host = \"127.0.0.1\"\nport = 0\n"), "{text}");
        assert!(text.contains("\n[bridge]\nurl = \"redis://127.0.0.1:6380\"\nroom = \"bench-42\"\nlease_secs = 10\n"), "{text}");
        assert!(!settings_text(10, None).contains("[bridge]"));
        let settings = crate::settings::Settings::from_toml("bench.toml", &text).expect("valid");
        assert_eq!(settings.bridge.broker.as_deref(), Some("127.0.0.1:6380"));
        assert_eq!(settings.bridge.room, "bench-42");
        assert_eq!(settings.bridge.lease, Duration::from_secs(10));
        assert_eq!(settings.server.port, 0);
    }

    #[test]
    fn reads_a_bulk_string_once_it_is_whole() {
        assert_eq!(bulk_string(b"$5\r\nhel").unwrap(), None);
        assert_eq!(bulk_string(b"$5\r\nhello").unwrap(), None);
        assert_eq!(
            bulk_string(b"$5\r\nhello\r\n").unwrap(),
            Some(&b"hello"[..])
        );
        assert_eq!(bulk_string(b"$0\r\n\r\n").unwrap(), Some(&b""[..]));
        assert!(bulk_string(b"-ERR no\r\n").is_err());
        assert_eq!(bulk_string(b"$1").unwrap(), None);
    }

    #[test]
    fn parses_stat_with_a_tricky_name() {
        let stat = "42 (a b) c) S 1 2 3 4 5 6 7 8 9 10 300 200 0 0";
        let ticks = rustix::param::clock_ticks_per_second() as f64;
        assert_eq!(cpu_seconds_from_stat(stat), Some(500.0 / ticks));
        let status = "Name:\tx\nVmHWM:\t  2048 kB\nVmRSS:\t1024 kB\n";
        assert_eq!(status_kib(status, "VmHWM:"), Some(2048));
        assert_eq!(status_kib(status, "VmRSS:"), Some(1024));
        assert_eq!(status_kib(status, "VmSwap:"), None);
    }
}
