//! `chatroom-bench`: flags in, a measured run, a report and an exit code
//! out (0 nothing lost, 1 lines lost, duplicated, reordered or garbled,
//! 2 bad usage, 3 the run failed). See `chatroom::bench`.

use std::io::{self, Write};
use std::process::ExitCode;

use chatroom::bench::{self, BenchArgs, Plan, EXIT_LOST};
use chatroom::cli::print_error;
use chatroom::i18n::Localizer;
use clap::Parser;

const PROGRAM: &str = "chatroom-bench";

fn main() -> ExitCode {
    let args = BenchArgs::parse();
    let localizer = match &args.lang {
        Some(lang) => Localizer::new(lang),
        None => Localizer::english(),
    };
    let result = Plan::from_args(&args).and_then(|plan| bench::run(&plan, &localizer, args.quiet));
    let report = match result {
        Ok(report) => report,
        Err(err) => {
            print_error(PROGRAM, &err.localize(&localizer));
            return ExitCode::from(err.exit_code());
        }
    };
    let text = if args.json {
        report.json() + "\n"
    } else {
        report.table(&localizer)
    };
    let mut out = io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
    if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_LOST)
    }
}
