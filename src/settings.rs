//! Settings: `settings.toml` (found as PROTOCOL.md section 1 says) merged
//! with the command line into one validated `Settings`.
//!
//! Precedence: flag > file > built-in default. Pure except for the one
//! `read_to_string` of the chosen file; errors are values that name the file
//! and the key, localized by the caller.

use std::path::Path;

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

/// Everything both programs need, complete and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub lang: LanguageIdentifier,
    pub server: ServerSettings,
    pub client: ClientSettings,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub max_clients: usize,
    pub max_line_bytes: usize,
    pub max_queue_bytes: usize,
    /// Lines a member may send at once before flood control holds them back.
    pub flood_burst: usize,
    /// Lines per second a member may sustain; 0 turns flood control off.
    pub flood_rate: usize,
    /// Connections one address may hold open; 0 is no cap. Loopback is exempt.
    pub max_per_ip: usize,
    /// Seconds a connection may take to pick a name; 0 waits forever.
    pub name_timeout_secs: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSettings {
    pub host: String,
    pub port: u16,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            lang: unic_langid::langid!("en"),
            server: ServerSettings {
                host: "0.0.0.0".into(),
                port: 5555,
                max_clients: 10_000,
                max_line_bytes: 4096,
                max_queue_bytes: 1 << 20,
                flood_burst: 20,
                flood_rate: 5,
                max_per_ip: 16,
                name_timeout_secs: 60,
            },
            client: ClientSettings {
                host: "127.0.0.1".into(),
                port: 5555,
            },
        }
    }
}

/// Keys a settings file may have, by table, for the unknown-key error.
const TOP_KEYS: &[&str] = &["lang", "server", "client"];
const SERVER_KEYS: &[&str] = &[
    "host",
    "port",
    "max_clients",
    "max_line_bytes",
    "max_queue_bytes",
    "flood_burst",
    "flood_rate",
    "max_per_ip",
    "name_timeout_secs",
];
const CLIENT_KEYS: &[&str] = &["host", "port"];

/// What a refused value should have been.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Allowed {
    Languages,
    Positive,
    /// A whole number, 0 included (0 turns the feature off).
    Whole,
    Port,
    Host,
    Table,
    /// At least this many bytes.
    Queue(usize),
}

/// Why the settings could not be used. Each names the file.
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
    },
    Value {
        path: String,
        key: String,
        value: String,
        allowed: Allowed,
    },
    UnknownKey {
        path: String,
        key: String,
        known: &'static [&'static str],
    },
}

impl SettingsError {
    /// The error as a sentence in `localizer`'s language.
    pub fn localize(&self, localizer: &Localizer) -> String {
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
            SettingsError::Parse { path, detail } => localizer.tr(
                "error-settings-parse",
                &[("path", path.into()), ("reason", detail.into())],
            ),
            SettingsError::Value {
                path,
                key,
                value,
                allowed,
            } => {
                let allowed = match allowed {
                    Allowed::Languages => localizer.tr(
                        "allowed-languages",
                        &[("list", AVAILABLE.join(", ").into())],
                    ),
                    Allowed::Positive => localizer.tr("allowed-positive", &[]),
                    Allowed::Whole => localizer.tr("allowed-whole", &[]),
                    Allowed::Port => localizer.tr("allowed-port", &[]),
                    Allowed::Host => localizer.tr("allowed-host", &[]),
                    Allowed::Table => localizer.tr("allowed-table", &[]),
                    Allowed::Queue(min) => localizer.tr("allowed-queue", &[("min", (*min).into())]),
                };
                localizer.tr(
                    "error-settings-value",
                    &[
                        ("path", path.into()),
                        ("key", key.into()),
                        ("value", value.into()),
                        ("allowed", allowed.into()),
                    ],
                )
            }
            SettingsError::UnknownKey { path, key, known } => localizer.tr(
                "error-settings-unknown-key",
                &[
                    ("path", path.into()),
                    ("key", key.into()),
                    ("known", known.join(", ").into()),
                ],
            ),
        }
    }
}

/// A settings error, and the language the file asked for when that much
/// could be read, so the error can be shown in it.
#[derive(Debug)]
pub struct LoadError {
    pub error: SettingsError,
    pub lang: Option<LanguageIdentifier>,
}

impl LoadError {
    /// The error as a sentence in the language the flags ask for, else the
    /// one the file asked for, else English.
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
        let table: toml::Table = text.parse().map_err(|err: toml::de::Error| LoadError {
            error: SettingsError::Parse {
                path: name.to_string(),
                detail: err.message().trim().to_string() + &location(text, err.span()),
            },
            lang: None,
        })?;
        let mut file = FileReader {
            path: name,
            lang: None,
        };
        let mut settings = Settings::default();
        // The language first, so that later errors can be shown in it.
        if let Some(value) = table.get("lang") {
            settings.lang = file.lang(value)?;
            file.lang = Some(settings.lang.clone());
        }
        for (key, value) in &table {
            match key.as_str() {
                "lang" => {}
                "server" => {
                    let server = &mut settings.server;
                    for (key, value) in file.table("server", value)? {
                        let key_path = format!("server.{key}");
                        match key.as_str() {
                            "host" => server.host = file.host(&key_path, value)?,
                            "port" => server.port = file.port(&key_path, value)?,
                            "max_clients" => {
                                server.max_clients = file.positive(&key_path, value)?
                            }
                            "max_line_bytes" => {
                                server.max_line_bytes = file.positive(&key_path, value)?
                            }
                            "max_queue_bytes" => {
                                server.max_queue_bytes = file.positive(&key_path, value)?
                            }
                            "flood_burst" => {
                                server.flood_burst = file.positive(&key_path, value)?
                            }
                            "flood_rate" => server.flood_rate = file.whole(&key_path, value)?,
                            "max_per_ip" => server.max_per_ip = file.whole(&key_path, value)?,
                            "name_timeout_secs" => {
                                server.name_timeout_secs = file.whole(&key_path, value)?
                            }
                            _ => return Err(file.unknown(key_path, SERVER_KEYS)),
                        }
                    }
                }
                "client" => {
                    let client = &mut settings.client;
                    for (key, value) in file.table("client", value)? {
                        let key_path = format!("client.{key}");
                        match key.as_str() {
                            "host" => client.host = file.host(&key_path, value)?,
                            "port" => client.port = file.port(&key_path, value)?,
                            _ => return Err(file.unknown(key_path, CLIENT_KEYS)),
                        }
                    }
                }
                _ => return Err(file.unknown(key.clone(), TOP_KEYS)),
            }
        }
        let server = &settings.server;
        let min_queue = server.max_line_bytes.saturating_mul(2);
        if server.max_queue_bytes < min_queue {
            let value = toml::Value::Integer(server.max_queue_bytes as i64);
            return Err(file.refuse("server.max_queue_bytes", &value, Allowed::Queue(min_queue)));
        }
        Ok(settings)
    }
}

/// Reads typed values out of one file, and words errors about it.
struct FileReader<'a> {
    path: &'a str,
    /// The language the file asked for, once known.
    lang: Option<LanguageIdentifier>,
}

impl FileReader<'_> {
    fn refuse(&self, key: &str, value: &toml::Value, allowed: Allowed) -> LoadError {
        LoadError {
            error: SettingsError::Value {
                path: self.path.to_string(),
                key: key.to_string(),
                value: value.to_string(),
                allowed,
            },
            lang: self.lang.clone(),
        }
    }

    fn unknown(&self, key: String, known: &'static [&'static str]) -> LoadError {
        LoadError {
            error: SettingsError::UnknownKey {
                path: self.path.to_string(),
                key,
                known,
            },
            lang: self.lang.clone(),
        }
    }

    fn lang(&self, value: &toml::Value) -> Result<LanguageIdentifier, LoadError> {
        value
            .as_str()
            .and_then(|text| parse_lang(text).ok())
            .ok_or_else(|| self.refuse("lang", value, Allowed::Languages))
    }

    fn table<'v>(&self, key: &str, value: &'v toml::Value) -> Result<&'v toml::Table, LoadError> {
        value
            .as_table()
            .ok_or_else(|| self.refuse(key, value, Allowed::Table))
    }

    fn host(&self, key: &str, value: &toml::Value) -> Result<String, LoadError> {
        match value.as_str() {
            Some(host) if !host.trim().is_empty() => Ok(host.to_string()),
            _ => Err(self.refuse(key, value, Allowed::Host)),
        }
    }

    fn port(&self, key: &str, value: &toml::Value) -> Result<u16, LoadError> {
        value
            .as_integer()
            .and_then(|port| u16::try_from(port).ok())
            .ok_or_else(|| self.refuse(key, value, Allowed::Port))
    }

    fn whole(&self, key: &str, value: &toml::Value) -> Result<usize, LoadError> {
        value
            .as_integer()
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| self.refuse(key, value, Allowed::Whole))
    }

    fn positive(&self, key: &str, value: &toml::Value) -> Result<usize, LoadError> {
        value
            .as_integer()
            .and_then(|n| usize::try_from(n).ok())
            .filter(|&n| n > 0)
            .ok_or_else(|| self.refuse(key, value, Allowed::Positive))
    }
}

/// Reads a settings file: a regular file of at most `MAX_FILE_BYTES`.
/// Anything else (a device such as `/dev/zero`, a directory, a pipe) is
/// refused before it is opened; the opened file is checked again, and
/// read no further than the limit, in case it changed meanwhile.
fn read(path: &Path) -> Result<String, LoadError> {
    use std::io::Read;
    let shown = path.display().to_string();
    let refuse = |error| LoadError { error, lang: None };
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

/// " (line L, column C)" for a byte span of `text`, or "".
fn location(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    let Some(span) = span else {
        return String::new();
    };
    let before = text.get(..span.start).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!(" (line {line}, column {column})")
}

/// The flags that override the file, as each program's command line gives
/// them.
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
        match Settings::from_toml("t.toml", text).unwrap_err().error {
            SettingsError::Value { key, allowed, .. } => (key, allowed),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn embedded_file_is_the_defaults() {
        assert_eq!(
            Settings::from_toml("x", EMBEDDED).unwrap(),
            Settings::default()
        );
    }

    #[test]
    fn missing_keys_take_defaults() {
        let settings = Settings::from_toml("t", "[server]\nport = 7000\n").unwrap();
        assert_eq!(settings.server.port, 7000);
        assert_eq!(settings.server.host, "0.0.0.0");
        assert_eq!(settings.server.flood_rate, 5);
        let off = Settings::from_toml("t", "[server]\nflood_rate = 0\nmax_per_ip = 0\n").unwrap();
        assert_eq!((off.server.flood_rate, off.server.max_per_ip), (0, 0));
        assert_eq!(settings.client, Settings::default().client);
        assert_eq!(Settings::from_toml("t", "").unwrap(), Settings::default());
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
            ("[client]\nhost = \" \"", "client.host", Allowed::Host),
            ("[client]\nhost = 127", "client.host", Allowed::Host),
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
    fn unknown_keys_are_named_with_the_known_ones() {
        let cases = [
            ("prot = 1", "prot", "lang, server, client"),
            (
                "[server]\nprot = 1",
                "server.prot",
                "host, port, max_clients",
            ),
            (
                "[client]\nhots = 1",
                "client.hots",
                "(the settings there are: host, port)",
            ),
        ];
        for (text, unknown, known) in cases {
            let err = Settings::from_toml("t.toml", text).unwrap_err();
            let message = err.error.localize(&Localizer::english());
            assert!(
                message.contains("t.toml") && message.contains(unknown),
                "{message}"
            );
            assert!(message.contains(known), "{message}");
        }
        let err = Settings::from_toml("t.toml", "lang = \"zh-CN\"\nprot = 1").unwrap_err();
        assert_eq!(err.lang.map(|l| l.to_string()).as_deref(), Some("zh-CN"));
    }

    #[test]
    fn syntax_errors_name_the_file_and_the_place() {
        let err = Settings::from_toml("t.toml", "[server]\nport = ").unwrap_err();
        let message = err.error.localize(&Localizer::english());
        assert!(
            message.contains("t.toml") && message.contains("line 2"),
            "{message}"
        );
    }

    #[test]
    fn value_errors_read_as_sentences() {
        let err = Settings::from_toml("t.toml", "lang = \"fr\"").unwrap_err();
        let message = err.error.localize(&Localizer::english());
        assert_eq!(
            message,
            "in t.toml, lang = \"fr\" is not allowed: the languages are en, zh-CN"
        );
        let err = Settings::from_toml("t.toml", "[server]\nport = 70000").unwrap_err();
        let message = err.error.localize(&Localizer::english());
        assert_eq!(
            message,
            "in t.toml, server.port = 70000 is not allowed: a port number from 0 to 65535"
        );
    }
}
