//! Settings: `settings.toml` (found as PROTOCOL.md section 1 says) merged
//! with the command line into one validated `Settings`.
//!
//! Precedence: a flag, then its environment variable (`CHATROOM_HOST`,
//! `CHATROOM_PORT`, `CHATROOM_LANG`, both read by clap in `cli`), then the
//! file, then the default.
//!
//! One table, `KEYS`, lists every setting: where it lives, its type (which
//! decides how it is read, what range is allowed and what an error says is
//! allowed, so "0 means off" is decided once, by the type), its default
//! (TOML text, read like a file's value) and its help text (the README's
//! settings table, checked by a test). Adding a setting is one entry in
//! `KEYS` and its field.
//!
//! Pure except for reading the chosen file; errors are values that name
//! the file, the key and the place (line and column), localized by the
//! caller.

use std::num::NonZeroUsize;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::de::{DeString, DeTable, DeValue};
use toml::Spanned;
use unic_langid::LanguageIdentifier;

use crate::i18n::{parse_lang, Localizer, AVAILABLE};

/// The repository's `settings.toml`, built in: used when no file is found.
pub const EMBEDDED: &str = include_str!("../settings.toml");
/// How errors name the built-in copy.
const EMBEDDED_NAME: &str = "settings.toml (built in)";
/// Looked for in the current directory when no `--config` is given.
const LOCAL_FILE: &str = "settings.toml";
/// The largest settings file read: the documented file is 2 KiB, and a
/// device or a wrong path must not be read until memory runs out.
pub const MAX_FILE_BYTES: u64 = 1 << 20;
/// The longest timeout accepted, in seconds (a year): later than that is
/// never in practice, and adding more to a clock could overflow.
const MAX_SECONDS: u64 = 365 * 24 * 3600;
/// The longest `bridge.lease_secs`: a dead server's members must not stay
/// listed for longer than an hour.
const MAX_LEASE_SECS: u64 = 3600;

/// Everything both programs need, complete and checked.
/// `Settings::default()` is the documented defaults, from `KEYS`.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub lang: LanguageIdentifier,
    pub server: ServerSettings,
    pub client: ClientSettings,
    pub bridge: BridgeSettings,
}

/// The `[server]` table. Its `Default` is blank (zeros, empty), the
/// starting point `KEYS` fills: take `Settings::default().server` for the
/// documented defaults.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub max_clients: usize,
    pub max_line_bytes: usize,
    pub max_queue_bytes: usize,
    /// Flood control (`flood_burst`, `flood_rate`).
    pub flood: Flood,
    /// Connections one address may hold open; `None` is no cap. Loopback
    /// is exempt.
    pub max_per_ip: Option<NonZeroUsize>,
    /// How long a connection may take to pick a name; `None` waits forever.
    pub name_timeout: Option<Duration>,
    /// Room lines a member receives on joining; 0 sends none.
    pub history: usize,
    /// Whether room lines carry `[HH:MM] ` unless a connection says.
    pub timestamps: bool,
    /// The message of the day; empty is none.
    pub motd: String,
    /// Where bans are kept across restarts; `None` keeps them in memory.
    pub bans_file: Option<PathBuf>,
}

/// Flood control: `burst` lines at once, then `per_second`; `None` is off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Flood {
    /// At least 1.
    pub burst: usize,
    pub per_second: Option<NonZeroUsize>,
}

/// The `[bridge]` table (PROTOCOL.md section 8); `Default` is blank, as
/// for `ServerSettings`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BridgeSettings {
    /// The broker, `host:port` from `redis://HOST:PORT`; `None` (an empty
    /// `url`) is a standalone server.
    pub broker: Option<String>,
    /// The room's name on the broker: the same broker and room make one
    /// room.
    pub room: String,
    /// How soon the others notice a server that died.
    pub lease: Duration,
}

/// The `[client]` table; `Default` is blank, as for `ServerSettings`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientSettings {
    pub host: String,
    pub port: u16,
    /// When the terminal client rings the bell.
    pub bell: Bell,
}

/// When the terminal client rings the bell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Bell {
    /// On private messages and lines that mention the user.
    #[default]
    Mentions,
    /// On every line from someone else.
    All,
    Off,
}

impl Bell {
    /// The names a settings file uses, in the order of the variants.
    pub const NAMES: &'static [&'static str] = &["mentions", "all", "off"];
    const VALUES: [Bell; 3] = [Bell::Mentions, Bell::All, Bell::Off];

    fn from_name(name: &str) -> Option<Bell> {
        Bell::NAMES
            .iter()
            .position(|n| *n == name)
            .map(|i| Bell::VALUES[i])
    }
}

/// One setting: where it lives, its type, its default and what it means.
pub struct Key {
    /// The table it belongs to (`"server"`, `"client"`), `None` at the top.
    pub table: Option<&'static str>,
    pub name: &'static str,
    /// The type: how a value is read and where it goes.
    kind: Kind,
    /// The default, as TOML text (as the README shows it).
    pub default: &'static str,
    /// What it means, as the README's settings table says it.
    pub help: &'static str,
}

/// A setting's type, with the field it fills. The type alone decides what
/// is allowed and what an error says is allowed.
enum Kind {
    Lang(fn(&mut Settings) -> &mut LanguageIdentifier),
    /// A non-empty host name or address.
    Host(fn(&mut Settings) -> &mut String),
    Port(fn(&mut Settings) -> &mut u16),
    /// A whole number, `min` or more.
    Number {
        min: usize,
        field: fn(&mut Settings) -> &mut usize,
    },
    /// A whole number, 0 meaning off (or no limit).
    OffOrNumber(fn(&mut Settings) -> &mut Option<NonZeroUsize>),
    /// Whole seconds up to `MAX_SECONDS`, 0 meaning off.
    Seconds(fn(&mut Settings) -> &mut Option<Duration>),
    Bool(fn(&mut Settings) -> &mut bool),
    /// One line of text without control characters.
    Text(fn(&mut Settings) -> &mut String),
    /// A file path; empty is none.
    Path(fn(&mut Settings) -> &mut Option<PathBuf>),
    /// `redis://HOST:PORT` (the port defaults to 6379), kept as
    /// `HOST:PORT`; empty is none.
    RedisUrl(fn(&mut Settings) -> &mut Option<String>),
    /// A name of letters, digits, `-`, `_` and `.`, at most 64 bytes.
    RoomName(fn(&mut Settings) -> &mut String),
    /// Whole seconds, 1 to `MAX_LEASE_SECS`.
    LeaseSeconds(fn(&mut Settings) -> &mut Duration),
    Bell(fn(&mut Settings) -> &mut Bell),
}

/// Every setting. The README's settings table is these rows.
pub const KEYS: &[Key] = &[
    Key {
        table: None,
        name: "lang",
        kind: Kind::Lang(|s| &mut s.lang),
        default: "\"en\"",
        help: "`en` or `zh-CN`, for everything the programs print and the server sends",
    },
    Key {
        table: Some("server"),
        name: "host",
        kind: Kind::Host(|s| &mut s.server.host),
        default: "\"0.0.0.0\"",
        help: "address to listen on (`127.0.0.1`: this machine only; `::`: IPv6 and IPv4)",
    },
    Key {
        table: Some("server"),
        name: "port",
        kind: Kind::Port(|s| &mut s.server.port),
        default: "5555",
        help: "port to listen on, 0 for any free one",
    },
    Key {
        table: Some("server"),
        name: "max_clients",
        kind: Kind::Number {
            min: 1,
            field: |s| &mut s.server.max_clients,
        },
        default: "10000",
        help: "open connections at once, joined or not; one more is told the room is full",
    },
    Key {
        table: Some("server"),
        name: "max_line_bytes",
        kind: Kind::Number {
            min: 1,
            field: |s| &mut s.server.max_line_bytes,
        },
        default: "4096",
        help: "longest line accepted, without its line ending",
    },
    Key {
        table: Some("server"),
        name: "max_queue_bytes",
        kind: Kind::Number {
            min: 1,
            field: |s| &mut s.server.max_queue_bytes,
        },
        default: "1048576",
        help: "how far one client may fall behind: past half of it the room stops reading new lines until it catches up; it is disconnected when it makes no progress for 2 s, lags 5 s, or owes twice this (at least twice `max_line_bytes`)",
    },
    Key {
        table: Some("server"),
        name: "flood_burst",
        kind: Kind::Number {
            min: 1,
            field: |s| &mut s.server.flood.burst,
        },
        default: "20",
        help: "lines a member may send at once before flood control holds them back",
    },
    Key {
        table: Some("server"),
        name: "flood_rate",
        kind: Kind::OffOrNumber(|s| &mut s.server.flood.per_second),
        default: "5",
        help: "lines per second a member may sustain after the burst; `0` turns flood control off",
    },
    Key {
        table: Some("server"),
        name: "max_per_ip",
        kind: Kind::OffOrNumber(|s| &mut s.server.max_per_ip),
        default: "16",
        help: "open connections per remote address; `0` is no cap; loopback (`127.0.0.0/8`, `::1`) is never capped",
    },
    Key {
        table: Some("server"),
        name: "name_timeout_secs",
        kind: Kind::Seconds(|s| &mut s.server.name_timeout),
        default: "60",
        help: "seconds a new connection has to choose a name before it is closed; `0` waits forever",
    },
    Key {
        table: Some("server"),
        name: "history",
        kind: Kind::Number {
            min: 0,
            field: |s| &mut s.server.history,
        },
        default: "20",
        help: "room lines (chat, actions, administrator lines) a member is shown on joining; `0` shows none",
    },
    Key {
        table: Some("server"),
        name: "timestamps",
        kind: Kind::Bool(|s| &mut s.server.timestamps),
        default: "false",
        help: "whether room lines reach a connection prefixed with the time, `[HH:MM] `, until it says otherwise",
    },
    Key {
        table: Some("server"),
        name: "motd",
        kind: Kind::Text(|s| &mut s.server.motd),
        default: "\"\"",
        help: "the message of the day, shown after the welcome; empty is none",
    },
    Key {
        table: Some("server"),
        name: "bans_file",
        kind: Kind::Path(|s| &mut s.server.bans_file),
        default: "\"\"",
        help: "file that keeps bans across restarts (read at start, rewritten on every change); empty keeps them in memory only",
    },
    Key {
        table: Some("client"),
        name: "host",
        kind: Kind::Host(|s| &mut s.client.host),
        default: "\"127.0.0.1\"",
        help: "server the client connects to",
    },
    Key {
        table: Some("client"),
        name: "port",
        kind: Kind::Port(|s| &mut s.client.port),
        default: "5555",
        help: "its port",
    },
    Key {
        table: Some("client"),
        name: "bell",
        kind: Kind::Bell(|s| &mut s.client.bell),
        default: "\"mentions\"",
        help: "when the terminal client rings the bell: `mentions` (private messages and lines naming you), `all` (every line) or `off`",
    },
    Key {
        table: Some("bridge"),
        name: "url",
        kind: Kind::RedisUrl(|s| &mut s.bridge.broker),
        default: "\"\"",
        help: "the Redis server that joins several servers into one room, `\"redis://HOST:PORT\"`; empty (the default) is a standalone server",
    },
    Key {
        table: Some("bridge"),
        name: "room",
        kind: Kind::RoomName(|s| &mut s.bridge.room),
        default: "\"lobby\"",
        help: "the room's name on that Redis: servers with the same `url` and `room` are one room",
    },
    Key {
        table: Some("bridge"),
        name: "lease_secs",
        kind: Kind::LeaseSeconds(|s| &mut s.bridge.lease),
        default: "10",
        help: "how soon, in seconds, the other servers announce the members of a server that died as lost",
    },
];

impl Key {
    /// `server.port`, or `lang` at the top.
    pub fn path(&self) -> String {
        match self.table {
            Some(table) => format!("{table}.{}", self.name),
            None => self.name.to_string(),
        }
    }

    /// What a value of this key may be.
    fn allowed(&self) -> Allowed {
        match self.kind {
            Kind::Lang(_) => Allowed::Languages,
            Kind::Host(_) => Allowed::Host,
            Kind::Port(_) => Allowed::Port,
            Kind::Number { min: 0, .. } | Kind::OffOrNumber(_) => Allowed::Whole,
            Kind::Number { min: 1, .. } => Allowed::Positive,
            Kind::Number { min, .. } => Allowed::AtLeast(min),
            Kind::Seconds(_) => Allowed::Seconds(MAX_SECONDS),
            Kind::Bool(_) => Allowed::Bool,
            Kind::Text(_) => Allowed::Text,
            Kind::Path(_) => Allowed::Path,
            Kind::RedisUrl(_) => Allowed::RedisUrl,
            Kind::RoomName(_) => Allowed::RoomName,
            Kind::LeaseSeconds(_) => Allowed::LeaseSeconds(MAX_LEASE_SECS),
            Kind::Bell(_) => Allowed::Choice(Bell::NAMES),
        }
    }

    /// Reads `value` into its field of `settings`; `Err` when the type
    /// does not allow it.
    fn apply(&self, settings: &mut Settings, value: &DeValue<'_>) -> Result<(), Allowed> {
        let refused = || self.allowed();
        match self.kind {
            Kind::Lang(field) => {
                let lang = value.as_str().and_then(|text| parse_lang(text).ok());
                *field(settings) = lang.ok_or_else(refused)?;
            }
            Kind::Host(field) => match value.as_str() {
                Some(host) if !host.trim().is_empty() => *field(settings) = host.to_string(),
                _ => return Err(refused()),
            },
            Kind::Port(field) => {
                let port = integer(value).and_then(|n| u16::try_from(n).ok());
                *field(settings) = port.ok_or_else(refused)?;
            }
            Kind::Number { min, field } => {
                let n = integer(value).and_then(|n| usize::try_from(n).ok());
                *field(settings) = n.filter(|&n| n >= min).ok_or_else(refused)?;
            }
            Kind::OffOrNumber(field) => {
                let n = integer(value).and_then(|n| usize::try_from(n).ok());
                *field(settings) = NonZeroUsize::new(n.ok_or_else(refused)?);
            }
            Kind::Seconds(field) => {
                let secs = integer(value).and_then(|n| u64::try_from(n).ok());
                let secs = secs.filter(|&n| n <= MAX_SECONDS).ok_or_else(refused)?;
                *field(settings) = (secs > 0).then(|| Duration::from_secs(secs));
            }
            Kind::Bool(field) => *field(settings) = value.as_bool().ok_or_else(refused)?,
            Kind::Text(field) => match value.as_str() {
                Some(text) if !text.chars().any(char::is_control) => {
                    *field(settings) = text.to_string()
                }
                _ => return Err(refused()),
            },
            Kind::Path(field) => match value.as_str() {
                Some("") => *field(settings) = None,
                Some(path) if !path.chars().any(char::is_control) => {
                    *field(settings) = Some(PathBuf::from(path))
                }
                _ => return Err(refused()),
            },
            Kind::RedisUrl(field) => match value.as_str() {
                Some("") => *field(settings) = None,
                Some(url) => *field(settings) = Some(parse_redis_url(url).ok_or_else(refused)?),
                None => return Err(refused()),
            },
            Kind::RoomName(field) => match value.as_str() {
                Some(room) if is_room_name(room) => *field(settings) = room.to_string(),
                _ => return Err(refused()),
            },
            Kind::LeaseSeconds(field) => {
                let secs = integer(value).and_then(|n| u64::try_from(n).ok());
                let secs = secs.filter(|n| (1..=MAX_LEASE_SECS).contains(n));
                *field(settings) = Duration::from_secs(secs.ok_or_else(refused)?);
            }
            Kind::Bell(field) => {
                let bell = value.as_str().and_then(Bell::from_name);
                *field(settings) = bell.ok_or_else(refused)?;
            }
        }
        Ok(())
    }
}

/// `redis://HOST:PORT` as `HOST:PORT` (port 6379 when left out); `None`
/// for anything else (another scheme, a path, a password: not supported).
fn parse_redis_url(url: &str) -> Option<String> {
    let rest = url.strip_prefix("redis://")?;
    if rest.is_empty()
        || rest.contains(['/', '@', '?', '#'])
        || rest.chars().any(char::is_whitespace)
    {
        return None;
    }
    // `[::1]:6379`, `[::1]`, `host:6379`, `host`.
    let (host, port) = if let Some(bracketed) = rest.strip_prefix('[') {
        let (host, after) = bracketed.split_once(']')?;
        (host, after.strip_prefix(':'))
    } else {
        match rest.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (rest, None),
        }
    };
    if host.is_empty() || (host.contains(':') && !rest.starts_with('[')) {
        return None;
    }
    let port: u16 = match port {
        Some(port) => port.parse().ok().filter(|&p| p > 0)?,
        None => 6379,
    };
    if host.contains(':') {
        Some(format!("[{host}]:{port}"))
    } else {
        Some(format!("{host}:{port}"))
    }
}

/// A room name: 1 to 64 bytes of ASCII letters, digits, `-`, `_`, `.`
/// (it becomes part of Redis key names).
fn is_room_name(room: &str) -> bool {
    (1..=64).contains(&room.len())
        && room
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// A TOML integer's value, if `value` is one that fits an `i64`.
fn integer(value: &DeValue<'_>) -> Option<i64> {
    let int = value.as_integer()?;
    i64::from_str_radix(int.as_str(), int.radix()).ok()
}

/// The tables of a settings file: those `KEYS` name, in order.
fn tables() -> Vec<&'static str> {
    let mut tables: Vec<&'static str> = Vec::new();
    for table in KEYS.iter().filter_map(|key| key.table) {
        if !tables.contains(&table) {
            tables.push(table);
        }
    }
    tables
}

/// The names allowed in `table` (`None`: the top level), for the
/// unknown-key error.
fn known_names(table: Option<&str>) -> String {
    let mut names: Vec<&str> = KEYS
        .iter()
        .filter(|key| key.table == table)
        .map(|key| key.name)
        .collect();
    if table.is_none() {
        names.extend(tables());
    }
    names.join(", ")
}

impl Default for Settings {
    /// The documented defaults: every key's `default`.
    fn default() -> Self {
        let mut settings = Settings {
            lang: unic_langid::langid!("en"),
            server: ServerSettings::default(),
            client: ClientSettings::default(),
            bridge: BridgeSettings::default(),
        };
        for key in KEYS {
            let applied = DeValue::parse(key.default)
                .ok()
                .map(|value| key.apply(&mut settings, value.get_ref()));
            debug_assert!(
                matches!(applied, Some(Ok(()))),
                "the default of {}",
                key.path()
            );
        }
        settings
    }
}

/// What a refused value should have been.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Allowed {
    Languages,
    Positive,
    /// A whole number, 0 included (0 turns the feature off).
    Whole,
    /// A whole number, at least this.
    AtLeast(usize),
    /// Whole seconds up to this, 0 turning it off.
    Seconds(u64),
    Port,
    Host,
    Table,
    Bool,
    Text,
    Path,
    RedisUrl,
    RoomName,
    /// Whole seconds from 1 to this.
    LeaseSeconds(u64),
    /// One of these words.
    Choice(&'static [&'static str]),
    /// At least this many bytes.
    Queue(usize),
}

impl Allowed {
    fn localize(&self, localizer: &Localizer) -> String {
        match self {
            Allowed::Languages => localizer.tr(
                "allowed-languages",
                &[("list", AVAILABLE.join(", ").into())],
            ),
            Allowed::Positive => localizer.tr("allowed-positive", &[]),
            Allowed::Whole => localizer.tr("allowed-whole", &[]),
            Allowed::AtLeast(min) => localizer.tr("allowed-at-least", &[("min", (*min).into())]),
            Allowed::Seconds(max) => localizer.tr("allowed-seconds", &[("max", (*max).into())]),
            Allowed::Port => localizer.tr("allowed-port", &[]),
            Allowed::Host => localizer.tr("allowed-host", &[]),
            Allowed::Table => localizer.tr("allowed-table", &[]),
            Allowed::Bool => localizer.tr("allowed-bool", &[]),
            Allowed::Text => localizer.tr("allowed-text", &[]),
            Allowed::Path => localizer.tr("allowed-path", &[]),
            Allowed::RedisUrl => localizer.tr("allowed-redis-url", &[]),
            Allowed::RoomName => localizer.tr("allowed-room-name", &[]),
            Allowed::LeaseSeconds(max) => {
                localizer.tr("allowed-lease-seconds", &[("max", (*max).into())])
            }
            Allowed::Choice(names) => {
                localizer.tr("allowed-choice", &[("list", names.join(", ").into())])
            }
            Allowed::Queue(min) => localizer.tr("allowed-queue", &[("min", (*min).into())]),
        }
    }
}

/// A place in a settings file, counted from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub line: usize,
    pub column: usize,
}

impl Place {
    /// The place of byte `offset` of `text` (columns count characters).
    fn of(text: &str, offset: usize) -> Place {
        let before = text.get(..offset).unwrap_or(text);
        Place {
            line: before.matches('\n').count() + 1,
            column: before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1,
        }
    }
}

/// Why the settings could not be used. Each names the file; those found
/// in the file's text also say where.
#[derive(Debug)]
pub enum SettingsError {
    Read {
        path: String,
        error: std::io::Error,
    },
    /// Not a regular file (a device, a directory, a pipe).
    NotFile {
        path: String,
    },
    /// Over `MAX_FILE_BYTES`.
    TooBig {
        path: String,
    },
    Parse {
        path: String,
        detail: String,
        at: Option<Place>,
    },
    Value {
        path: String,
        key: String,
        value: String,
        allowed: Allowed,
        at: Option<Place>,
    },
    UnknownKey {
        path: String,
        key: String,
        known: String,
        at: Option<Place>,
    },
}

impl SettingsError {
    /// The error as a sentence in `localizer`'s language.
    pub fn localize(&self, localizer: &Localizer) -> String {
        // The id without a place, or its `-at` form with line and column.
        let tr = |id: &str, at: &Option<Place>, args: &mut Vec<(&str, _)>| match at {
            None => localizer.tr(id, args),
            Some(place) => {
                args.push(("line", place.line.into()));
                args.push(("column", place.column.into()));
                localizer.tr(&format!("{id}-at"), args)
            }
        };
        match self {
            SettingsError::Read { path, error } => localizer.tr(
                "error-settings-read",
                &[
                    ("path", path.into()),
                    ("reason", localizer.io_reason(error).into()),
                ],
            ),
            SettingsError::NotFile { path } => localizer.tr(
                "error-settings-not-file",
                &[("path", path.into()), ("max", MAX_FILE_BYTES.into())],
            ),
            SettingsError::TooBig { path } => localizer.tr(
                "error-settings-too-big",
                &[("path", path.into()), ("max", MAX_FILE_BYTES.into())],
            ),
            SettingsError::Parse { path, detail, at } => tr(
                "error-settings-parse",
                at,
                &mut vec![("path", path.into()), ("reason", detail.into())],
            ),
            SettingsError::Value {
                path,
                key,
                value,
                allowed,
                at,
            } => tr(
                "error-settings-value",
                at,
                &mut vec![
                    ("path", path.into()),
                    ("key", key.into()),
                    ("value", value.into()),
                    ("allowed", allowed.localize(localizer).into()),
                ],
            ),
            SettingsError::UnknownKey {
                path,
                key,
                known,
                at,
            } => tr(
                "error-settings-unknown-key",
                at,
                &mut vec![
                    ("path", path.into()),
                    ("key", key.into()),
                    ("known", known.into()),
                ],
            ),
        }
    }
}

/// A settings error, and the language the file asked for when that much
/// could be read, so the error can be shown in it.
#[derive(Debug)]
pub struct LoadError {
    /// Boxed: a `Result` carrying it stays small.
    pub error: Box<SettingsError>,
    pub lang: Option<LanguageIdentifier>,
}

impl LoadError {
    /// The error as a sentence in the language the flags (or the
    /// environment) ask for, else the one the file asked for, else English.
    pub fn sentence(&self, flag_lang: Option<&LanguageIdentifier>) -> String {
        let lang = flag_lang
            .or(self.lang.as_ref())
            .cloned()
            .unwrap_or_default();
        self.error.localize(&Localizer::new(&lang))
    }
}

impl Settings {
    /// Reads `--config PATH` (must exist), else `./settings.toml` if there
    /// is one, else the built-in copy.
    pub fn load(config: Option<&Path>) -> Result<Settings, LoadError> {
        let (name, text) = match config {
            Some(path) => (path.display().to_string(), read(path)?),
            None if Path::new(LOCAL_FILE).is_file() => {
                (LOCAL_FILE.to_string(), read(Path::new(LOCAL_FILE))?)
            }
            None => (EMBEDDED_NAME.to_string(), EMBEDDED.to_string()),
        };
        Settings::from_toml(&name, &text)
    }

    /// Parses and checks one file's text; `name` is how errors call it.
    /// Keys left out keep their defaults.
    pub fn from_toml(name: &str, text: &str) -> Result<Settings, LoadError> {
        let document = DeTable::parse(text).map_err(|err| LoadError {
            error: Box::new(SettingsError::Parse {
                path: name.to_string(),
                detail: err.message().trim().to_string(),
                at: err.span().map(|span| Place::of(text, span.start)),
            }),
            lang: None,
        })?;
        let mut file = FileReader {
            path: name,
            text,
            lang: None,
        };
        let mut settings = Settings::default();
        let root = document.get_ref();
        // The language first, so that later errors can be shown in it.
        if let Some((key, value)) = root.iter().find(|(key, _)| key.get_ref() == "lang") {
            file.apply(&mut settings, None, key, value)?;
            file.lang = Some(settings.lang.clone());
        }
        let tables = tables();
        for (key, value) in root {
            let name = key.get_ref().as_ref();
            if name == "lang" {
                continue;
            }
            if !tables.contains(&name) {
                file.apply(&mut settings, None, key, value)?;
                continue;
            }
            let Some(table) = value.get_ref().as_table() else {
                return Err(file.refuse(name.to_string(), value, Allowed::Table));
            };
            let table_name = tables.iter().copied().find(|t| *t == name);
            for (key, value) in table {
                file.apply(&mut settings, table_name, key, value)?;
            }
        }
        let server = &settings.server;
        let min_queue = server.max_line_bytes.saturating_mul(2);
        if server.max_queue_bytes < min_queue {
            let error = SettingsError::Value {
                path: name.to_string(),
                key: "server.max_queue_bytes".to_string(),
                value: server.max_queue_bytes.to_string(),
                allowed: Allowed::Queue(min_queue),
                at: None,
            };
            return Err(LoadError {
                error: Box::new(error),
                lang: file.lang,
            });
        }
        Ok(settings)
    }
}

/// Reads one file's keys into `Settings`, and words errors about it.
struct FileReader<'a> {
    path: &'a str,
    /// The file's text, for places and for showing refused values.
    text: &'a str,
    /// The language the file asked for, once known.
    lang: Option<LanguageIdentifier>,
}

impl FileReader<'_> {
    /// Applies `key = value` found in `table`.
    fn apply(
        &self,
        settings: &mut Settings,
        table: Option<&'static str>,
        key: &Spanned<DeString<'_>>,
        value: &Spanned<DeValue<'_>>,
    ) -> Result<(), LoadError> {
        let name = key.get_ref().as_ref();
        let path = match table {
            Some(table) => format!("{table}.{name}"),
            None => name.to_string(),
        };
        let Some(setting) = KEYS.iter().find(|k| k.table == table && k.name == name) else {
            return Err(LoadError {
                error: Box::new(SettingsError::UnknownKey {
                    path: self.path.to_string(),
                    key: path,
                    known: known_names(table),
                    at: Some(self.place(key.span())),
                }),
                lang: self.lang.clone(),
            });
        };
        setting
            .apply(settings, value.get_ref())
            .map_err(|allowed| self.refuse(path, value, allowed))
    }

    fn refuse(&self, key: String, value: &Spanned<DeValue<'_>>, allowed: Allowed) -> LoadError {
        LoadError {
            error: Box::new(SettingsError::Value {
                path: self.path.to_string(),
                key,
                value: self.shown(value.span()),
                allowed,
                at: Some(self.place(value.span())),
            }),
            lang: self.lang.clone(),
        }
    }

    fn place(&self, span: Range<usize>) -> Place {
        Place::of(self.text, span.start)
    }

    /// A value as the file wrote it, shortened to one line of a few words.
    fn shown(&self, span: Range<usize>) -> String {
        const MAX_CHARS: usize = 40;
        let written = self.text.get(span).unwrap_or_default();
        let first_line = written.lines().next().unwrap_or_default();
        let mut shown: String = first_line.chars().take(MAX_CHARS).collect();
        if shown.len() < written.len() {
            shown.push('…');
        }
        shown
    }
}

/// Reads a settings file: a regular file of at most `MAX_FILE_BYTES`.
/// Anything else (a device such as `/dev/zero`, a directory, a pipe) is
/// refused before it is opened; the opened file is checked again, and
/// read no further than the limit, in case it changed meanwhile.
fn read(path: &Path) -> Result<String, LoadError> {
    use std::io::Read;
    let shown = path.display().to_string();
    let refuse = |error| LoadError {
        error: Box::new(error),
        lang: None,
    };
    let io_error = |error| {
        refuse(SettingsError::Read {
            path: shown.clone(),
            error,
        })
    };
    let check = |meta: std::fs::Metadata| {
        if !meta.is_file() {
            Err(refuse(SettingsError::NotFile {
                path: shown.clone(),
            }))
        } else if meta.len() > MAX_FILE_BYTES {
            Err(refuse(SettingsError::TooBig {
                path: shown.clone(),
            }))
        } else {
            Ok(())
        }
    };
    check(std::fs::metadata(path).map_err(io_error)?)?;
    let file = std::fs::File::open(path).map_err(io_error)?;
    check(file.metadata().map_err(io_error)?)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io_error)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(refuse(SettingsError::TooBig {
            path: shown.clone(),
        }));
    }
    String::from_utf8(bytes)
        .map_err(|err| io_error(std::io::Error::new(std::io::ErrorKind::InvalidData, err)))
}

/// The flags that override the file (given on the command line or through
/// the environment), as each program's command line gives them.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub lang: Option<LanguageIdentifier>,
}

impl Settings {
    /// Applies the server's flags.
    pub fn override_server(&mut self, flags: &Overrides) {
        if let Some(host) = &flags.host {
            self.server.host = host.clone();
        }
        if let Some(port) = flags.port {
            self.server.port = port;
        }
        if let Some(lang) = &flags.lang {
            self.lang = lang.clone();
        }
    }

    /// Applies the client's flags.
    pub fn override_client(&mut self, flags: &Overrides) {
        if let Some(host) = &flags.host {
            self.client.host = host.clone();
        }
        if let Some(port) = flags.port {
            self.client.port = port;
        }
        if let Some(lang) = &flags.lang {
            self.lang = lang.clone();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value_error(text: &str) -> (String, Allowed) {
        match *Settings::from_toml("t.toml", text).unwrap_err().error {
            SettingsError::Value { key, allowed, .. } => (key, allowed),
            other => panic!("{other:?}"),
        }
    }

    fn english(text: &str) -> String {
        let err = Settings::from_toml("t.toml", text).unwrap_err();
        err.error.localize(&Localizer::english())
    }

    #[test]
    fn every_default_parses_and_the_embedded_file_is_the_defaults() {
        let mut blank = Settings {
            lang: unic_langid::langid!("en"),
            server: ServerSettings::default(),
            client: ClientSettings::default(),
            bridge: BridgeSettings::default(),
        };
        for key in KEYS {
            let value = DeValue::parse(key.default).expect(key.name);
            assert_eq!(
                key.apply(&mut blank, value.get_ref()),
                Ok(()),
                "{}",
                key.path()
            );
        }
        assert_eq!(blank, Settings::default());
        assert_eq!(
            Settings::from_toml("x", EMBEDDED).unwrap(),
            Settings::default()
        );
        let defaults = Settings::default();
        assert_eq!(defaults.server.port, 5555);
        assert_eq!(defaults.server.name_timeout, Some(Duration::from_secs(60)));
        assert_eq!(defaults.server.flood.per_second, NonZeroUsize::new(5));
        assert_eq!(defaults.server.history, 20);
        assert_eq!(defaults.server.bans_file, None);
        assert_eq!(defaults.client.bell, Bell::Mentions);
    }

    /// settings.toml sets every key to its default, and the README's
    /// settings table has one row per key: key, default, help.
    #[test]
    fn the_documents_list_every_key_with_its_default() {
        let document = DeTable::parse(EMBEDDED).unwrap();
        let readme = include_str!("../README.md");
        for key in KEYS {
            let value = match key.table {
                None => document.get_ref().get(key.name),
                Some(table) => document
                    .get_ref()
                    .get(table)
                    .and_then(|t| t.get_ref().as_table())
                    .and_then(|t| t.get(key.name)),
            };
            let written = value.map(|v| &EMBEDDED[v.span()]);
            assert_eq!(written, Some(key.default), "settings.toml: {}", key.path());
            let row = format!("| `{}` | `{}` | {} |", key.path(), key.default, key.help);
            assert!(readme.contains(&row), "README lacks the row\n{row}");
        }
    }

    #[test]
    fn missing_keys_take_defaults() {
        let settings = Settings::from_toml("t", "[server]\nport = 7000\n").unwrap();
        assert_eq!(settings.server.port, 7000);
        assert_eq!(settings.server.host, "0.0.0.0");
        assert_eq!(settings.client, Settings::default().client);
        assert_eq!(Settings::from_toml("t", "").unwrap(), Settings::default());
    }

    #[test]
    fn zero_turns_off_what_can_be_off() {
        let text = "[server]\nflood_rate = 0\nmax_per_ip = 0\nname_timeout_secs = 0\nhistory = 0\n";
        let off = Settings::from_toml("t", text).unwrap().server;
        assert_eq!(off.flood.per_second, None);
        assert_eq!(off.flood.burst, 20);
        assert_eq!(off.max_per_ip, None);
        assert_eq!(off.name_timeout, None);
        assert_eq!(off.history, 0);
    }

    #[test]
    fn new_settings_are_read() {
        let text = "[server]\ntimestamps = true\nmotd = \"Welcome, 欢迎\"\n\
                    bans_file = \"/var/lib/chatroom/bans\"\nhistory = 50\n\
                    [client]\nbell = \"off\"\n";
        let settings = Settings::from_toml("t", text).unwrap();
        assert!(settings.server.timestamps);
        assert_eq!(settings.server.motd, "Welcome, 欢迎");
        assert_eq!(
            settings.server.bans_file.as_deref(),
            Some(Path::new("/var/lib/chatroom/bans"))
        );
        assert_eq!(settings.server.history, 50);
        assert_eq!(settings.client.bell, Bell::Off);
    }

    #[test]
    fn flags_override_the_file() {
        let mut settings =
            Settings::from_toml("t", "lang = \"zh-CN\"\n[server]\nport = 7000\n").unwrap();
        let flags = Overrides {
            host: None,
            port: Some(8000),
            lang: Some(parse_lang("en").unwrap()),
        };
        settings.override_server(&flags);
        assert_eq!(settings.server.port, 8000);
        assert_eq!(settings.lang.to_string(), "en");
        assert_eq!(
            settings.client.port, 5555,
            "server flags leave the client alone"
        );
        settings.override_client(&Overrides {
            host: Some("::1".into()),
            ..Overrides::default()
        });
        assert_eq!(settings.client.host, "::1");
    }

    #[test]
    fn bad_values_name_the_key_and_what_is_allowed() {
        let cases = [
            ("lang = \"fr\"", "lang", Allowed::Languages),
            ("lang = 1", "lang", Allowed::Languages),
            ("server = 1", "server", Allowed::Table),
            (
                "[server]\nmax_clients = 0",
                "server.max_clients",
                Allowed::Positive,
            ),
            (
                "[server]\nmax_clients = -5",
                "server.max_clients",
                Allowed::Positive,
            ),
            (
                "[server]\nmax_line_bytes = \"big\"",
                "server.max_line_bytes",
                Allowed::Positive,
            ),
            (
                "[server]\nflood_rate = -1",
                "server.flood_rate",
                Allowed::Whole,
            ),
            (
                "[server]\nmax_per_ip = 1.5",
                "server.max_per_ip",
                Allowed::Whole,
            ),
            (
                "[server]\nflood_burst = 0",
                "server.flood_burst",
                Allowed::Positive,
            ),
            ("[server]\nport = \"x\"", "server.port", Allowed::Port),
            ("[server]\nport = 70000", "server.port", Allowed::Port),
            (
                "[server]\nname_timeout_secs = 9223372036854775807",
                "server.name_timeout_secs",
                Allowed::Seconds(MAX_SECONDS),
            ),
            ("[server]\nhistory = -1", "server.history", Allowed::Whole),
            (
                "[server]\ntimestamps = \"yes\"",
                "server.timestamps",
                Allowed::Bool,
            ),
            (
                "[server]\nmotd = \"a\\u001b[2Jb\"",
                "server.motd",
                Allowed::Text,
            ),
            ("[server]\nmotd = 5", "server.motd", Allowed::Text),
            ("[server]\nbans_file = 5", "server.bans_file", Allowed::Path),
            ("[client]\nhost = \" \"", "client.host", Allowed::Host),
            ("[client]\nhost = 127", "client.host", Allowed::Host),
            (
                "[client]\nbell = \"loud\"",
                "client.bell",
                Allowed::Choice(Bell::NAMES),
            ),
            (
                "[server]\nmax_line_bytes = 100\nmax_queue_bytes = 150",
                "server.max_queue_bytes",
                Allowed::Queue(200),
            ),
        ];
        for (text, key, allowed) in cases {
            assert_eq!(value_error(text), (key.to_string(), allowed), "{text}");
        }
        let err = Settings::from_toml("t.toml", "lang = \"zh-CN\"\n[server]\nmax_clients = 0")
            .unwrap_err();
        assert_eq!(err.lang.map(|l| l.to_string()).as_deref(), Some("zh-CN"));
    }

    #[test]
    fn unknown_keys_are_named_with_the_known_ones_and_the_place() {
        let cases = [
            (
                "prot = 1",
                "prot",
                "lang, server, client",
                "line 1, column 1",
            ),
            (
                "[server]\nprot = 1",
                "server.prot",
                "host, port, max_clients",
                "line 2, column 1",
            ),
            (
                "[client]\n  hots = 1",
                "client.hots",
                "(the settings there are: host, port, bell)",
                "line 2, column 3",
            ),
        ];
        for (text, unknown, known, place) in cases {
            let message = english(text);
            assert!(
                message.contains("t.toml") && message.contains(unknown),
                "{message}"
            );
            assert!(message.contains(known), "{message}");
            assert!(message.contains(place), "{message}");
        }
        let err = Settings::from_toml("t.toml", "lang = \"zh-CN\"\nprot = 1").unwrap_err();
        assert_eq!(err.lang.map(|l| l.to_string()).as_deref(), Some("zh-CN"));
    }

    #[test]
    fn syntax_errors_name_the_file_and_the_place() {
        let message = english("[server]\nport = ");
        assert!(
            message.contains("t.toml") && message.contains("line 2"),
            "{message}"
        );
    }

    #[test]
    fn value_errors_read_as_sentences_with_the_place() {
        assert_eq!(
            english("lang = \"fr\""),
            "in t.toml, line 1, column 8: lang = \"fr\" is not allowed: the languages are en, zh-CN"
        );
        assert_eq!(
            english("[server]\nport = 70000"),
            "in t.toml, line 2, column 8: server.port = 70000 is not allowed: \
             a port number from 0 to 65535"
        );
        let zh = Localizer::new(&parse_lang("zh-CN").unwrap());
        let err = Settings::from_toml("t.toml", "[server]\nport = 70000").unwrap_err();
        let message = err.error.localize(&zh);
        assert!(
            message.contains("第 2 行") && message.contains("第 8 列"),
            "{message}"
        );
        // A long value is shown shortened, on one line.
        let message = english(&format!("lang = \"{}\"", "x".repeat(100)));
        assert!(message.contains("…") && message.len() < 160, "{message}");
    }
}
