//! `quality-pipeline`: thin entry point; parsing in `cli`, work in `commands`.

use clap::Parser;
use quality_pipeline::cli::{Cli, Command};
use quality_pipeline::commands;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    quality_pipeline::telemetry::init_logs(cli.log_format);
    let result = match cli.command {
        Command::Generate(a) => commands::generate::run(cli.config.as_deref(), a),
        Command::Run(a) => commands::run::run(cli.config.as_deref(), *a),
        Command::Topics(a) => commands::topics::run(cli.config.as_deref(), a),
        Command::Produce(a) => commands::produce::run(cli.config.as_deref(), a),
        Command::Demo(a) => commands::demo::run(cli.config.as_deref(), a),
        Command::Migrate(a) => commands::migrate::run(cli.config.as_deref(), a),
        Command::Norms(a) => commands::norms::run(cli.config.as_deref(), a),
        Command::Backfill(a) => commands::backfill::run(cli.config.as_deref(), a),
        Command::Bench(a) => commands::bench::run(cli.config.as_deref(), a),
        Command::BenchStream(a) => commands::bench_stream::run(cli.config.as_deref(), a),
        Command::Import(a) => commands::import::run(cli.config.as_deref(), a),
        Command::Report(a) => commands::report::run(cli.config.as_deref(), a),
        Command::Review(a) => commands::review::run(cli.config.as_deref(), a),
        Command::Incentives(a) => commands::incentives::run(cli.config.as_deref(), a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe))
}
