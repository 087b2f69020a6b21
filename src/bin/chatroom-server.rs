//! `chatroom-server`: flags and settings in, the room served, an exit code
//! out (0 closed normally, 1 could not serve, 2 bad usage, settings or
//! bans file).

use std::process::ExitCode;

use chatroom::cli::{print_error, ServerArgs};
use chatroom::i18n::Localizer;
use chatroom::server;
use chatroom::settings::Settings;
use clap::Parser;

const PROGRAM: &str = "chatroom-server";

fn main() -> ExitCode {
    let args = ServerArgs::parse();
    let mut settings = match Settings::load(args.config.as_deref()) {
        Ok(settings) => settings,
        Err(err) => {
            print_error(PROGRAM, &err.sentence(args.lang.as_ref()));
            return ExitCode::from(2);
        }
    };
    settings.override_server(&args.overrides());
    let localizer = Localizer::new(&settings.lang);
    let result = server::bind(&settings.server.host, settings.server.port).and_then(|listener| {
        let log = server::Log::stdout(&localizer);
        server::run(
            listener,
            &settings.server,
            &settings.bridge,
            &localizer,
            log,
            true,
        )
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            print_error(PROGRAM, &err.localize(&localizer));
            ExitCode::from(err.exit_code())
        }
    }
}
