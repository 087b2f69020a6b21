//! `chatroom-client`: flags and settings in, a chat session, an exit code
//! out (0 left or the server closed, 1 could not connect or the connection
//! broke, 2 bad usage or settings).

use std::io::{self, Write};
use std::process::ExitCode;

use chatroom::cli::{print_error, ClientArgs};
use chatroom::client::{self, Ending};
use chatroom::i18n::Localizer;
use chatroom::settings::Settings;
use clap::Parser;

const PROGRAM: &str = "chatroom-client";

fn main() -> ExitCode {
    let args = ClientArgs::parse();
    let mut settings = match Settings::load(args.config.as_deref()) {
        Ok(settings) => settings,
        Err(err) => {
            print_error(PROGRAM, &err.sentence(args.lang.as_ref()));
            return ExitCode::from(2);
        }
    };
    settings.override_client(&args.overrides());
    let localizer = Localizer::new(&settings.lang);
    let stream = match client::connect(&settings.client) {
        Ok(stream) => stream,
        Err(err) => {
            print_error(PROGRAM, &err.localize(&localizer));
            return ExitCode::from(1);
        }
    };
    // Output errors (a closed pipe) must not end the session with a panic:
    // every write to `out` ignores them.
    let mut out = io::stdout().lock();
    let host = &settings.client.host;
    let port = settings.client.port.to_string();
    let connected = localizer.tr(
        "client-connected",
        &[("host", host.into()), ("port", port.into())],
    );
    let _ = writeln!(out, "{connected}");
    let goodbye = match client::run(stream, args.name.as_deref(), &mut out) {
        Ok(Ending::Left) => "client-goodbye",
        Ok(Ending::ServerClosed) => "client-server-closed",
        Err(err) => {
            let _ = out.flush();
            print_error(PROGRAM, &err.localize(&localizer));
            return ExitCode::from(1);
        }
    };
    let _ = writeln!(out, "{}", localizer.tr(goodbye, &[]));
    let _ = out.flush();
    ExitCode::SUCCESS
}
