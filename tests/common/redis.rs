//! A private `redis-server` for one test: on 127.0.0.1, on a free port, in
//! a fresh directory, with its append only file on (fsync on every write)
//! so that `restart` finds the streams where `kill` left them. Killed by
//! its handle on drop; every wait is bounded.
//!
//! `redis-server` must be installed: `bash .ci/run` installs it. A test
//! never skips for want of it; it fails saying so.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use super::temp_dir;

/// How long a starting Redis may take to answer `PING`.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// How many ports `Redis::start` tries before giving up.
const START_ATTEMPTS: usize = 5;

const INSTALL_HINT: &str =
    "redis-server is needed by the bridge tests and was not found on PATH: run `bash .ci/run`, \
     which installs it (apt-get install redis-server)";

/// A running `redis-server` of our own.
pub struct Redis {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
}

impl Redis {
    /// Starts a Redis on a free port of 127.0.0.1 and waits until it
    /// answers `PING`. Another process may take the port between our
    /// choosing it and Redis binding it: then another port is tried.
    pub fn start() -> Redis {
        let mut failures = Vec::new();
        for _ in 0..START_ATTEMPTS {
            let port = free_port();
            let dir = temp_dir().join("redis");
            std::fs::create_dir_all(&dir).expect("create the redis dir");
            match spawn(port, &dir) {
                Ok(child) => {
                    return Redis {
                        child: Some(child),
                        port,
                        dir,
                    }
                }
                Err(reason) => {
                    failures.push(format!("port {port}: {reason}"));
                    let _ = std::fs::remove_dir_all(&dir);
                }
            }
        }
        panic!("redis-server did not start in {START_ATTEMPTS} attempts: {failures:#?}");
    }

    /// Starts a Redis on this very port (one a test chose, say for a
    /// server started before its broker), in a fresh directory.
    pub fn start_on(port: u16) -> Redis {
        let dir = temp_dir().join("redis");
        std::fs::create_dir_all(&dir).expect("create the redis dir");
        let mut redis = Redis {
            child: None,
            port,
            dir,
        };
        redis.restart();
        redis
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    /// `redis://127.0.0.1:PORT`, for a `[bridge]` table.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Its data directory (the append only file is under it).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Sends one inline command (words without spaces in them) on a fresh
    /// connection and returns the first line of the reply.
    pub fn command(&self, command: &str) -> String {
        let timeout = Duration::from_secs(5);
        let stream =
            TcpStream::connect_timeout(&self.addr(), timeout).expect("connect to the test Redis");
        stream.set_read_timeout(Some(timeout)).expect("timeout");
        let mut writer = stream.try_clone().expect("clone");
        writer
            .write_all(format!("{command}\r\n").as_bytes())
            .expect("send the command");
        let mut line = String::new();
        BufReader::new(stream)
            .read_line(&mut line)
            .expect("the reply");
        line.trim_end().to_string()
    }

    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// SIGKILL, then waits for it to be gone: a broker that dies, not one
    /// that shuts down politely.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            super::wait_child(&mut child);
        }
    }

    /// Starts it again on the same port and directory, so it reloads its
    /// append only file, and waits for `PING`. Kills it first if it is
    /// still running. The port was ours a moment ago; should something
    /// else hold it now, retries for a bounded while.
    pub fn restart(&mut self) {
        self.kill();
        let deadline = Instant::now() + START_TIMEOUT;
        let mut failures = Vec::new();
        loop {
            match spawn(self.port, &self.dir) {
                Ok(child) => {
                    self.child = Some(child);
                    return;
                }
                Err(reason) => failures.push(reason),
            }
            if Instant::now() > deadline {
                panic!(
                    "redis-server did not restart on port {} within {START_TIMEOUT:?}: {failures:#?}",
                    self.port
                );
            }
            thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A port the kernel just gave out for port 0, free again once the
/// listener is dropped (a candidate: someone else may take it first).
fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind port 0");
    listener.local_addr().expect("local addr").port()
}

/// Starts `redis-server` on `port` with its data in `dir`, and waits until
/// it answers `PING` and says it is the process we started (not another
/// Redis that holds the port). On failure the child is killed and the
/// reason returned, with the end of its log.
fn spawn(port: u16, dir: &Path) -> Result<Child, String> {
    let log = dir.join("redis.log");
    let mut command = Command::new("redis-server");
    command
        .arg("--port")
        .arg(port.to_string())
        .args(["--bind", "127.0.0.1"])
        .args(["--save", ""])
        .args(["--appendonly", "yes"])
        .args(["--appendfsync", "always"])
        .arg("--dir")
        .arg(dir)
        .arg("--logfile")
        .arg(&log)
        .args(["--daemonize", "no"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(err) if err.kind() == ErrorKind::NotFound => panic!("{INSTALL_HINT}"),
        Err(err) => panic!("cannot run redis-server ({err}); {INSTALL_HINT}"),
    };
    let deadline = Instant::now() + START_TIMEOUT;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("exited ({status}): {}", log_tail(&log)));
        }
        if let Ok(pid) = ping(addr) {
            if pid == child.id() {
                return Ok(child);
            }
            // Another Redis answers on this port; ours will fail to bind.
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("port held by another redis-server (pid {pid})"));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "no PONG within {START_TIMEOUT:?}: {}",
                log_tail(&log)
            ));
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// `PING` then `INFO server` on a fresh connection: the pid of the Redis
/// that answered `+PONG`.
fn ping(addr: SocketAddr) -> Result<u32, String> {
    let timeout = Duration::from_secs(1);
    let stream = TcpStream::connect_timeout(&addr, timeout).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    stream
        .set_write_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    let mut writer = stream.try_clone().map_err(|e| e.to_string())?;
    let mut reader = BufReader::new(stream);
    writer
        .write_all(b"PING\r\nINFO server\r\n")
        .map_err(|e| e.to_string())?;
    let mut line = String::new();
    reader.read_line(&mut line).map_err(|e| e.to_string())?;
    if line.trim_end() != "+PONG" {
        return Err(format!("PING answered {line:?}"));
    }
    line.clear();
    reader.read_line(&mut line).map_err(|e| e.to_string())?;
    let len: usize = line
        .trim_end()
        .strip_prefix('$')
        .and_then(|len| len.parse().ok())
        .ok_or_else(|| format!("INFO answered {line:?}"))?;
    let mut info = vec![0; len];
    reader.read_exact(&mut info).map_err(|e| e.to_string())?;
    String::from_utf8_lossy(&info)
        .lines()
        .find_map(|line| line.strip_prefix("process_id:"))
        .and_then(|pid| pid.trim().parse().ok())
        .ok_or_else(|| "INFO without process_id".to_string())
}

fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(5)..].join("\n")
}
