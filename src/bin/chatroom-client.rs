//! `chatroom-client`: flags and settings in, a chat session, an exit code
//! out (0 left or the server closed, 1 could not connect or the connection
//! broke, 2 bad usage or settings).

use std::process::ExitCode;

use chatroom::cli::{print_error, ClientArgs};
use chatroom::client::{self, Options};
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
    // NO_COLOR (https://no-color.org): set and not empty turns colour off.
    let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let options = Options {
        name: args.name.clone(),
        color: !(args.no_color || no_color_env),
        bell: settings.client.bell,
    };
    match client::run(stream, &settings.client, &options, &localizer) {
        Ok(_) => ExitCode::SUCCESS,
        Err(err) => {
            print_error(PROGRAM, &err.localize(&localizer));
            ExitCode::from(1)
        }
    }
}
