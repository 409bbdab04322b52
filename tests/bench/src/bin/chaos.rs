//! `make chaos`: the full chaos run (50 runs of the scheduled functions and native-relay under faults and kills),
//! then the check. Exit status 1 when anything was lost or made up. Replay with `--seed`.

use std::process::ExitCode;

use bench::chaos::{self, ChaosConfig};
use bench::measure::Profile;
use bench::results::{Results, results_dir};
use clap::Parser;

/// Chaos suite: no transition lost under faults.
#[derive(Debug, Parser)]
#[command(name = "chaos")]
struct Cli {
    /// Seed of every choice (default: from the clock; printed at start).
    #[arg(long)]
    seed: Option<u64>,
    /// Function runs under faults.
    #[arg(long, default_value_t = 50)]
    runs: usize,
    /// Function binaries: release or debug.
    #[arg(long, default_value = "release", value_parser = ["release", "debug"])]
    profile: String,
    /// Do not record the figures in bench/results.json / results.md.
    #[arg(long)]
    no_record: bool,
    /// Write the step log and verdict as JSON here.
    #[arg(long)]
    report: Option<std::path::PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error")),
        )
        .init();
    let cli = Cli::parse();
    let seed = cli.seed.unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1)
            % 1_000_000_007
    });
    eprintln!("chaos: seed {seed} (replay: make chaos SEED={seed})");
    let mut config = ChaosConfig::full(seed);
    config.runs = cli.runs;
    config.profile = if cli.profile == "debug" { Profile::Debug } else { Profile::Release };
    let report = match chaos::run(&config).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("chaos failed to run (seed {seed}): {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", report.summary());
    if let Some(path) = &cli.report {
        match serde_json::to_string_pretty(&report) {
            Ok(text) => {
                if let Err(e) = std::fs::write(path, text) {
                    eprintln!("{}: {e}", path.display());
                }
            }
            Err(e) => eprintln!("report: {e}"),
        }
    }
    if !cli.no_record {
        let dir = results_dir();
        let mut results = Results::load(&dir);
        results.chaos = Some(report.figures(chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string()));
        if let Err(e) = results.save(&dir) {
            eprintln!("could not record the figures: {e}");
        }
    }
    if report.verdict.ok() {
        println!("OK: every true transition was delivered; duplicates only with the same eventId; nothing spurious");
        ExitCode::SUCCESS
    } else {
        println!("FAILED (seed {seed}):\n{}", report.verdict.problems());
        ExitCode::FAILURE
    }
}
