//! Command-line flags of the two programs (clap derive).
//!
//! Flags that a settings file also sets have no clap default: `None` means
//! "not given", so the file's value stands. `--host`, `--port` and
//! `--lang` may also come from `CHATROOM_HOST`, `CHATROOM_PORT` and
//! `CHATROOM_LANG` (the flag wins), so the environment ranks between the
//! flags and the file. `--lang` is checked against the shipped languages by
//! clap itself, which prints its usage errors (exit 2), for a flag or a
//! variable alike.

use std::path::PathBuf;

use clap::Parser;
use unic_langid::LanguageIdentifier;

use crate::i18n::parse_lang;
use crate::settings::Overrides;

/// The chat room server: relays every line a member sends to everyone else.
#[derive(Debug, Parser)]
#[command(name = "chatroom-server", version, after_help = SERVER_HELP)]
pub struct ServerArgs {
    /// Address to listen on [settings: server.host, default 0.0.0.0]
    #[arg(long, env = "CHATROOM_HOST")]
    pub host: Option<String>,
    /// Port to listen on, 0 for any free port [settings: server.port, default 5555]
    #[arg(long, env = "CHATROOM_PORT")]
    pub port: Option<u16>,
    /// Language: en or zh-CN [settings: lang, default en]
    #[arg(long, env = "CHATROOM_LANG", value_parser = parse_lang)]
    pub lang: Option<LanguageIdentifier>,
    /// Settings file to read instead of ./settings.toml (it must exist)
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
}

/// The chat room client: shows what the room says and sends what you type.
/// An empty line (just Enter) leaves.
#[derive(Debug, Parser)]
#[command(name = "chatroom-client", version, after_help = CLIENT_HELP)]
pub struct ClientArgs {
    /// Server to connect to [settings: client.host, default 127.0.0.1]
    #[arg(long, env = "CHATROOM_HOST")]
    pub host: Option<String>,
    /// Server port [settings: client.port, default 5555]
    #[arg(long, env = "CHATROOM_PORT")]
    pub port: Option<u16>,
    /// Language: en or zh-CN [settings: lang, default en]
    #[arg(long, env = "CHATROOM_LANG", value_parser = parse_lang)]
    pub lang: Option<LanguageIdentifier>,
    /// Join under this nickname without being asked
    #[arg(long)]
    pub name: Option<String>,
    /// No colours in a terminal (bold, dim and the bell stay); so does a non-empty NO_COLOR
    #[arg(long)]
    pub no_color: bool,
    /// Settings file to read instead of ./settings.toml (it must exist)
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
}

/// What `chatroom-server --help` says about the console.
const SERVER_HELP: &str = "\
The console (this program's standard input):
  a line you type goes to every member, as Administrator;
  an empty line closes the room (as do SIGINT, SIGTERM and Ctrl-C);
  in a terminal the log scrolls above the line you are typing, Up recalls.
With standard input not a terminal or pipe (< /dev/null), there is no console.";

/// What `chatroom-client --help` says about the keys.
const CLIENT_HELP: &str = "\
Keys, in a terminal:
  Enter              send the line (on an empty line: leave)
  Ctrl-C             clear the line (on an empty line: leave)
  Ctrl-D             delete the character under the cursor (on an empty line: leave)
  Left, Right        move one character; Home, End, Ctrl-A, Ctrl-E: to the start, the end
  Backspace, Delete  delete the character before, under the cursor
  Ctrl-U, Ctrl-K     delete to the start, to the end; Ctrl-W: the word before the cursor
  Up, Down           the lines sent earlier
  Tab                complete a member's name or a command
Once connected, /help lists the room's commands.
Piped (printf 'alice\\nhello\\n' | chatroom-client), each input line is sent as it is.";

/// Prints `program: message` on stderr, the one shape of every error the
/// programs report. A closed stderr is not worth a panic.
pub fn print_error(program: &str, message: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{program}: {message}");
}

impl ServerArgs {
    pub fn overrides(&self) -> Overrides {
        Overrides {
            host: self.host.clone(),
            port: self.port,
            lang: self.lang.clone(),
        }
    }
}

impl ClientArgs {
    pub fn overrides(&self) -> Overrides {
        Overrides {
            host: self.host.clone(),
            port: self.port,
            lang: self.lang.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definitions_are_valid() {
        ServerArgs::command().debug_assert();
        ClientArgs::command().debug_assert();
    }

    #[test]
    fn no_color_is_a_client_flag() {
        let args = ClientArgs::try_parse_from(["chatroom-client", "--no-color"]).unwrap();
        assert!(args.no_color);
        let args = ClientArgs::try_parse_from(["chatroom-client"]).unwrap();
        assert!(!args.no_color);
        assert!(ServerArgs::try_parse_from(["chatroom-server", "--no-color"]).is_err());
    }

    #[test]
    fn unknown_language_is_a_usage_error() {
        let err = ServerArgs::try_parse_from(["chatroom-server", "--lang", "fr"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("available: en, zh-CN"));
        let args = ClientArgs::try_parse_from(["chatroom-client", "--lang", "zh_CN"]).unwrap();
        assert_eq!(args.lang.unwrap().to_string(), "zh-CN");
    }
}
