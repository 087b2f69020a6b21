//! `chatroom-server`: flags and settings in, the room served, an exit code
//! out (0 closed normally, 1 could not serve, 2 bad usage or settings).

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use chatroom::cli::ServerArgs;
use chatroom::i18n::Localizer;
use chatroom::settings::Settings;
use clap::Parser;

fn main() -> ExitCode {
    let args = ServerArgs::parse();
    let mut settings = match Settings::load(args.config.as_deref()) {
        Ok(settings) => settings,
        Err(err) => {
            let lang = args.lang.clone().or(err.lang).unwrap_or_default();
            let localizer = Localizer::new(&lang);
            let _ = writeln!(
                io::stderr(),
                "chatroom-server: {}",
                err.error.localize(&localizer)
            );
            return ExitCode::from(2);
        }
    };
    settings.override_server(&args.overrides());
    let localizer = Localizer::new(&settings.lang);
    let result =
        chatroom::server::bind(&settings.server.host, settings.server.port).and_then(|listener| {
            let log = BufWriter::new(io::stdout());
            chatroom::server::run(listener, &settings.server, &localizer, log, true)
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let _ = writeln!(
                io::stderr(),
                "chatroom-server: {}",
                err.localize(&localizer)
            );
            ExitCode::from(1)
        }
    }
}
