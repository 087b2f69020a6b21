//! The server under test when the bench starts its own (`--spawn`), and
//! what /proc says about a server process (CPU time, memory).
//!
//! The spawned server is owned by a guard that kills and reaps it on drop,
//! on every path out of the bench. Its stdout (one log line per room event,
//! written with blocking writes) is a non-blocking pipe that the bench's
//! loop keeps draining, so the server never stalls on a full pipe.

use std::io::{self, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use polling::{Event, Events, Poller};

use super::BenchError;

/// How long a spawned server may take to say where it listens.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);

/// A `chatroom-server` started for this run; killed and reaped on drop.
#[derive(Debug)]
pub struct SpawnedServer {
    child: Child,
    pub addr: SocketAddr,
    /// The server's stdout, non-blocking; `Bench` drains it.
    pub log: ChildStdout,
    /// The temporary settings file, removed on drop.
    settings_path: PathBuf,
}

impl SpawnedServer {
    /// Starts `program` on 127.0.0.1, any free port, with flood control
    /// and the per-address cap off and room for `members` connections,
    /// and waits for its first line (`server-listening`), the first word
    /// of which that reads as an address is where it listens.
    pub fn start(program: &Path, members: usize) -> Result<SpawnedServer, BenchError> {
        let shown = program.display().to_string();
        let settings_path =
            std::env::temp_dir().join(format!("chatroom-bench-{}.toml", std::process::id()));
        let settings = format!(
            "[server]\nflood_rate = 0\nmax_per_ip = 0\nmax_clients = {}\n",
            members.max(10_000) + 16
        );
        std::fs::write(&settings_path, settings).map_err(|error| {
            BenchError::run("bench-error-temp-file")
                .arg("path", settings_path.display().to_string())
                .io(error)
        })?;
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
            return Err(BenchError::run("bench-error-spawn")
                .arg("path", shown)
                .io(io::Error::other("no stdout pipe")));
        };
        let mut server = SpawnedServer {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            log,
            settings_path,
        };
        server.addr = server.read_address(&shown)?;
        Ok(server)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Reads the first stdout line and finds the address in it. The pipe
    /// is made non-blocking here, for good.
    fn read_address(&mut self, shown: &str) -> Result<SocketAddr, BenchError> {
        let io_error = |error: io::Error| BenchError::run("bench-error-io").io(error);
        rustix::io::ioctl_fionbio(&self.log, true).map_err(|e| io_error(e.into()))?;
        let poller = Poller::new().map_err(io_error)?;
        // SAFETY: `log` outlives `poller`, and is deleted from it below
        // before this function returns on any path.
        unsafe { poller.add(&self.log, Event::readable(0)) }.map_err(io_error)?;
        let result = self.first_line(&poller, shown);
        let _ = poller.delete(&self.log);
        let line = result?;
        line.split_whitespace()
            .find_map(|word| word.parse().ok())
            .ok_or_else(|| {
                BenchError::run("bench-error-server-silent")
                    .arg("path", shown.to_string())
                    .arg("secs", STARTUP_TIMEOUT.as_secs().to_string())
            })
    }

    fn first_line(&mut self, poller: &Poller, shown: &str) -> Result<String, BenchError> {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        let mut bytes = Vec::new();
        let mut chunk = [0u8; 4096];
        let mut events = Events::new();
        loop {
            match self.log.read(&mut chunk) {
                Ok(0) => {
                    let status = self
                        .child
                        .wait()
                        .map(|status| status.to_string())
                        .unwrap_or_default();
                    return Err(BenchError::run("bench-error-server-exited")
                        .arg("path", shown.to_string())
                        .arg("status", status));
                }
                Ok(n) => {
                    bytes.extend_from_slice(&chunk[..n]);
                    if let Some(end) = bytes.iter().position(|&b| b == b'\n') {
                        return Ok(String::from_utf8_lossy(&bytes[..end]).into_owned());
                    }
                    continue;
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(BenchError::run("bench-error-io").io(error)),
            }
            if Instant::now() >= deadline {
                return Err(BenchError::run("bench-error-server-silent")
                    .arg("path", shown.to_string())
                    .arg("secs", STARTUP_TIMEOUT.as_secs().to_string()));
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

impl Drop for SpawnedServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.settings_path);
    }
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
