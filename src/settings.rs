//! Settings: `settings.toml` (found as PROTOCOL.md section 1 says) merged
//! with the command line into one validated `Settings`.
//!
//! Precedence: flag > file > built-in default. Pure except for the one
//! `read_to_string` of the chosen file; errors are values that name the file
//! and the key, localized by the caller.

use std::path::Path;

use serde::Deserialize;
use unic_langid::LanguageIdentifier;

use crate::i18n::{parse_lang, Localizer, AVAILABLE};

/// The repository's `settings.toml`, built in: used when no file is found.
pub const EMBEDDED: &str = include_str!("../settings.toml");
/// How errors name the built-in copy.
const EMBEDDED_NAME: &str = "settings.toml (built in)";
/// Looked for in the current directory when no `--config` is given.
const LOCAL_FILE: &str = "settings.toml";

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
            },
            client: ClientSettings {
                host: "127.0.0.1".into(),
                port: 5555,
            },
        }
    }
}

/// The file as written: every key optional, unknown keys refused.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct FileSettings {
    lang: Option<String>,
    server: FileServer,
    client: FileClient,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct FileServer {
    host: Option<String>,
    port: Option<u16>,
    max_clients: Option<usize>,
    max_line_bytes: Option<usize>,
    max_queue_bytes: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct FileClient {
    host: Option<String>,
    port: Option<u16>,
}

/// What a refused value should have been.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Allowed {
    Languages,
    Positive,
    NotEmpty,
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
    Parse {
        path: String,
        detail: String,
    },
    Value {
        path: String,
        key: &'static str,
        value: String,
        allowed: Allowed,
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
                    Allowed::NotEmpty => localizer.tr("allowed-not-empty", &[]),
                    Allowed::Queue(min) => localizer.tr("allowed-queue", &[("min", (*min).into())]),
                };
                localizer.tr(
                    "error-settings-value",
                    &[
                        ("path", path.into()),
                        ("key", (*key).into()),
                        ("value", value.into()),
                        ("allowed", allowed.into()),
                    ],
                )
            }
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
    pub fn from_toml(name: &str, text: &str) -> Result<Settings, LoadError> {
        let file: FileSettings = toml::from_str(text).map_err(|err| LoadError {
            error: SettingsError::Parse {
                path: name.to_string(),
                detail: err.message().trim().to_string() + &location(text, err.span()),
            },
            lang: None,
        })?;
        let defaults = Settings::default();
        let value_error = |key, value: String, allowed, lang| LoadError {
            error: SettingsError::Value {
                path: name.to_string(),
                key,
                value,
                allowed,
            },
            lang,
        };
        let lang = match &file.lang {
            Some(text) => parse_lang(text)
                .map_err(|_| value_error("lang", format!("{text:?}"), Allowed::Languages, None))?,
            None => defaults.lang,
        };
        let fail =
            |key, value: String, allowed| value_error(key, value, allowed, Some(lang.clone()));
        let server = ServerSettings {
            host: file.server.host.unwrap_or(defaults.server.host),
            port: file.server.port.unwrap_or(defaults.server.port),
            max_clients: file
                .server
                .max_clients
                .unwrap_or(defaults.server.max_clients),
            max_line_bytes: file
                .server
                .max_line_bytes
                .unwrap_or(defaults.server.max_line_bytes),
            max_queue_bytes: file
                .server
                .max_queue_bytes
                .unwrap_or(defaults.server.max_queue_bytes),
        };
        let client = ClientSettings {
            host: file.client.host.unwrap_or(defaults.client.host),
            port: file.client.port.unwrap_or(defaults.client.port),
        };
        for (key, host) in [("server.host", &server.host), ("client.host", &client.host)] {
            if host.trim().is_empty() {
                return Err(fail(key, format!("{host:?}"), Allowed::NotEmpty));
            }
        }
        for (key, value) in [
            ("server.max_clients", server.max_clients),
            ("server.max_line_bytes", server.max_line_bytes),
        ] {
            if value == 0 {
                return Err(fail(key, value.to_string(), Allowed::Positive));
            }
        }
        let min_queue = server.max_line_bytes.saturating_mul(2);
        if server.max_queue_bytes < min_queue {
            let value = server.max_queue_bytes.to_string();
            return Err(fail(
                "server.max_queue_bytes",
                value,
                Allowed::Queue(min_queue),
            ));
        }
        Ok(Settings {
            lang,
            server,
            client,
        })
    }
}

fn read(path: &Path) -> Result<String, LoadError> {
    std::fs::read_to_string(path).map_err(|error| LoadError {
        error: SettingsError::Read {
            path: path.display().to_string(),
            error,
        },
        lang: None,
    })
}

/// " (line L, column C)" for a byte span of `text`, or "".
fn location(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    let Some(span) = span else {
        return String::new();
    };
    let before = &text[..span.start.min(text.len())];
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

    fn value_error(text: &str) -> (&'static str, Allowed) {
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
        assert_eq!(value_error("lang = \"fr\""), ("lang", Allowed::Languages));
        assert_eq!(
            value_error("[server]\nmax_clients = 0"),
            ("server.max_clients", Allowed::Positive)
        );
        assert_eq!(
            value_error("[client]\nhost = \" \""),
            ("client.host", Allowed::NotEmpty)
        );
        assert_eq!(
            value_error("[server]\nmax_line_bytes = 100\nmax_queue_bytes = 150"),
            ("server.max_queue_bytes", Allowed::Queue(200))
        );
        let err = Settings::from_toml("t.toml", "lang = \"zh-CN\"\n[server]\nmax_clients = 0")
            .unwrap_err();
        assert_eq!(err.lang.map(|l| l.to_string()).as_deref(), Some("zh-CN"));
    }

    #[test]
    fn unknown_keys_and_bad_types_are_parse_errors_with_a_place() {
        for text in [
            "prot = 1",
            "[server]\nport = \"x\"",
            "[server]\nport = 70000",
            "lang = ",
        ] {
            let err = Settings::from_toml("t.toml", text).unwrap_err();
            let message = err.error.localize(&Localizer::english());
            assert!(
                message.contains("t.toml") && message.contains("line"),
                "{message}"
            );
        }
        let err = Settings::from_toml("t.toml", "prot = 1").unwrap_err();
        assert!(err.error.localize(&Localizer::english()).contains("prot"));
    }

    #[test]
    fn value_errors_read_as_sentences() {
        let err = Settings::from_toml("t.toml", "lang = \"fr\"").unwrap_err();
        let message = err.error.localize(&Localizer::english());
        assert_eq!(
            message,
            "in t.toml, lang = \"fr\" is not allowed: the languages are en, zh-CN"
        );
    }
}
