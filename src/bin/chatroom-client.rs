//! `chatroom-client`: flags and settings in, a chat session, an exit code
//! out (0 left or the server closed, 1 could not connect or the connection
//! broke, 2 bad usage or settings).

use std::io::{self, Write};
use std::process::ExitCode;

use chatroom::cli::ClientArgs;
use chatroom::client::{self, Ending};
use chatroom::i18n::Localizer;
use chatroom::settings::Settings;
use clap::Parser;

fn main() -> ExitCode {
    let args = ClientArgs::parse();
    let mut settings = match Settings::load(args.config.as_deref()) {
        Ok(settings) => settings,
        Err(err) => {
            let lang = args.lang.clone().or(err.lang).unwrap_or_default();
            let localizer = Localizer::new(&lang);
            let _ = writeln!(
                io::stderr(),
                "chatroom-client: {}",
                err.error.localize(&localizer)
            );
            return ExitCode::from(2);
        }
    };
    settings.override_client(&args.overrides());
    let localizer = Localizer::new(&settings.lang);
    let stream = match client::connect(&settings.client) {
        Ok(stream) => stream,
        Err(err) => {
            let _ = writeln!(
                io::stderr(),
                "chatroom-client: {}",
                err.localize(&localizer)
            );
            return ExitCode::from(1);
        }
    };
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let host = &settings.client.host;
    let port = settings.client.port.to_string();
    let connected = localizer.tr(
        "client-connected",
        &[("host", host.into()), ("port", port.into())],
    );
    // Output errors (a closed pipe) must not end the session with a panic.
    let _ = writeln!(out, "{connected}");
    let ending = client::run(stream, args.name.as_deref(), &mut out);
    let (message_id, code) = match &ending {
        Ok(Ending::Left) => ("client-goodbye", 0),
        Ok(Ending::ServerClosed) => ("client-server-closed", 0),
        Err(err) => {
            let _ = out.flush();
            let _ = writeln!(
                io::stderr(),
                "chatroom-client: {}",
                err.localize(&localizer)
            );
            return ExitCode::from(1);
        }
    };
    let _ = writeln!(out, "{}", localizer.tr(message_id, &[]));
    let _ = out.flush();
    ExitCode::from(code)
}
