//! The chat server: binding the listener and running the reactor over the
//! room. I/O only; the room's rules live in `room`.
//!
//! `reactor` is the loop (accept, read, feed the room, close); `fanout`
//! how the room's events reach the sockets (backlogs per language, member
//! cursors and skip rules, paced `sendmsg`); `backlog` one rendering
//! variant's broadcasts, stored once; `conn` one connection's read side;
//! `console` stdin; `log` stdout, bounded and never waited for; `clock`
//! the local time of day (the only use of the C library's time zones);
//! `bans_file` the operator's bans on disk; `bridge` one room across
//! several servers through Redis (two more sockets in the same loop).

mod backlog;
mod bans_file;
mod bridge;
mod clock;
mod conn;
mod console;
mod fanout;
mod log;
mod reactor;

use std::io;
use std::net::{TcpListener, ToSocketAddrs};

pub use log::Log;
pub use reactor::Limits;

use crate::i18n::{Lang, Localizer, AVAILABLE};
use crate::room::{FloodLimit, Room, RoomConfig};
use crate::settings::{BridgeSettings, ServerSettings};

/// Why the server could not start or had to stop.
#[derive(Debug)]
pub enum ServerError {
    Resolve {
        addr: String,
        error: io::Error,
    },
    Bind {
        addr: String,
        error: io::Error,
    },
    EventLoop(io::Error),
    /// `bans_file` could not be read as bans: a usage problem, exit 2.
    Bans {
        path: String,
        line: Option<usize>,
        error: Option<io::Error>,
    },
}

impl ServerError {
    pub fn localize(&self, localizer: &Localizer) -> String {
        if let ServerError::Bans { path, line, error } = self {
            let path = path.as_str();
            return match (line, error) {
                (Some(line), _) => localizer.tr(
                    "error-bans-line",
                    &[("path", path.into()), ("line", (*line).into())],
                ),
                (None, Some(error)) => {
                    let reason = localizer.io_reason(error);
                    localizer.tr(
                        "error-bans-read",
                        &[("path", path.into()), ("reason", reason.into())],
                    )
                }
                (None, None) => localizer.tr("error-bans-read", &[("path", path.into())]),
            };
        }
        let (id, addr, error) = match self {
            ServerError::Resolve { addr, error } => ("error-resolve", addr.as_str(), error),
            ServerError::Bind { addr, error } => ("error-bind", addr.as_str(), error),
            ServerError::EventLoop(error) => ("error-event-loop", "", error),
            ServerError::Bans { .. } => return String::new(),
        };
        let reason = localizer.io_reason(error);
        localizer.tr(id, &[("addr", addr.into()), ("reason", reason.into())])
    }

    /// The process's exit code: 2 for a bad bans file (like bad settings),
    /// else 1.
    pub fn exit_code(&self) -> u8 {
        match self {
            ServerError::Bans { .. } => 2,
            _ => 1,
        }
    }
}

/// Binds `host:port` (the first address that works).
pub fn bind(host: &str, port: u16) -> Result<TcpListener, ServerError> {
    let shown = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let addrs = (host, port)
        .to_socket_addrs()
        .map_err(|error| ServerError::Resolve {
            addr: shown.clone(),
            error,
        })?;
    let mut last_error = io::Error::from(io::ErrorKind::AddrNotAvailable);
    for addr in addrs {
        match TcpListener::bind(addr) {
            Ok(listener) => return Ok(listener),
            Err(error) => last_error = error,
        }
    }
    Err(ServerError::Bind {
        addr: shown,
        error: last_error,
    })
}

/// Runs the room on `listener` until it is closed from the console or by a
/// signal. `log` receives one line per room event. `use_console` watches
/// stdin for administrator lines.
pub fn run<'a>(
    listener: TcpListener,
    settings: &ServerSettings,
    bridge: &BridgeSettings,
    localizer: &'a Localizer,
    log: Log<'a>,
    use_console: bool,
) -> Result<(), ServerError> {
    let reserved_names = AVAILABLE
        .iter()
        .filter_map(|tag| crate::i18n::parse_lang(tag).ok())
        .map(|lang| Localizer::new(&lang).tr("admin-name", &[]))
        .collect();
    let mut room = Room::new(RoomConfig {
        max_clients: settings.max_clients,
        max_line_bytes: settings.max_line_bytes,
        max_per_ip: settings.max_per_ip.map(std::num::NonZeroUsize::get),
        reserved_names,
        lang: Lang::of(localizer.lang()).unwrap_or(Lang::EN),
        flood: settings.flood.per_second.map(|rate| FloodLimit {
            burst: u32::try_from(settings.flood.burst).unwrap_or(u32::MAX),
            per_second: u32::try_from(rate.get()).unwrap_or(u32::MAX),
        }),
        name_timeout: settings.name_timeout,
        history: settings.history,
        timestamps: settings.timestamps,
        motd: settings.motd.clone(),
    });
    if let Some(path) = &settings.bans_file {
        let bans = bans_file::load(path).map_err(|err| {
            let path = path.display().to_string();
            match err {
                bans_file::BansFileError::Line(line) => ServerError::Bans {
                    path,
                    line: Some(line),
                    error: None,
                },
                bans_file::BansFileError::Read(error) => ServerError::Bans {
                    path,
                    line: None,
                    error: Some(error),
                },
            }
        })?;
        room.load_bans(bans);
    }
    raise_fd_limit();
    let limits = Limits {
        max_line_bytes: settings.max_line_bytes,
        max_queue_bytes: settings.max_queue_bytes,
        timestamps: settings.timestamps,
    };
    let bans_file = settings.bans_file.clone();
    let bridge = bridge.broker.clone().map(|broker| {
        room.set_link(crate::room::Link::Up);
        bridge::Bridge::new(
            broker,
            bridge.room.clone(),
            bridge.lease,
            std::time::Instant::now(),
        )
    });
    let attached = reactor::Attached {
        use_console,
        bans_file,
        bridge,
    };
    reactor::Reactor::new(listener, room, localizer, log, limits, attached)
        .and_then(reactor::Reactor::run)
        .map_err(ServerError::EventLoop)
}

/// Lets the process hold as many connections as the system allows: the
/// soft limit on open files (often 1024) is raised to the hard limit.
/// Failing that, it runs within the old limit. The server and the bench
/// both call it.
pub fn raise_fd_limit() {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let limit = getrlimit(Resource::Nofile);
    if let (Some(current), Some(maximum)) = (limit.current, limit.maximum) {
        if current < maximum {
            let raised = Rlimit {
                current: Some(maximum),
                maximum: Some(maximum),
            };
            let _ = setrlimit(Resource::Nofile, raised);
        }
    }
}
