//! `make bench`: run the benchmark against the release binaries and write `bench/results.md`,
//! `bench/results.json` and `bench/calls-per-run.png` (the `chaos` figures already in the JSON
//! are kept).

use std::process::ExitCode;

use bench::auto_respond::{self, RespondBenchConfig};
use bench::benchmark::{self, BenchConfig};
use bench::chart::{self, Panel};
use bench::fast_path::{self, FastPathConfig};
use bench::measure::{Profile, machine_description};
use bench::results::{Results, results_dir};
use clap::Parser;

/// Benchmark of the built functions: API calls vs. lower bound and naive poller, peak RSS,
/// init, binary sizes.
#[derive(Debug, Parser)]
#[command(name = "bench")]
struct Cli {
    /// Engagement invitations in the generated account.
    #[arg(long, default_value_t = 20_000)]
    engagements: usize,
    /// Connection invitations in the generated account.
    #[arg(long, default_value_t = 2_000)]
    connections: usize,
    /// Steady-state runs after the first (full) run.
    #[arg(long, default_value_t = 10)]
    steady_runs: usize,
    /// Cold starts measured per function.
    #[arg(long, default_value_t = 5)]
    cold_starts: usize,
    /// Function binaries to measure: release (the figures) or debug (a quick try).
    #[arg(long, default_value = "release", value_parser = ["release", "debug"])]
    profile: String,
    /// Where to write the results (default: <workspace>/bench).
    #[arg(long)]
    out: Option<std::path::PathBuf>,
    /// Do not measure: rewrite results.md and the chart from results.json.
    #[arg(long)]
    render_only: bool,
    /// Measure only the fast path (native-relay; keeps the other figures in results.json).
    #[arg(long, conflicts_with_all = ["skip_fast_path", "auto_respond_only"])]
    fast_path_only: bool,
    /// Measure only auto-respond (its calls per run and write rate; keeps the other figures).
    #[arg(long, conflicts_with = "skip_auto_respond")]
    auto_respond_only: bool,
    /// Do not measure auto-respond (keeps its figures in results.json).
    #[arg(long)]
    skip_auto_respond: bool,
    /// Do not measure the fast path (keeps its figures in results.json).
    #[arg(long)]
    skip_fast_path: bool,
    /// Measure only the whole account's rate (every function at once, the split from
    /// template.yaml); keeps every other figure in results.json.
    #[arg(long, conflicts_with_all = ["skip_fast_path", "fast_path_only", "auto_respond_only"])]
    account_rate_only: bool,
    /// Fast path: timed changes of each of the six kinds.
    #[arg(long, default_value_t = 200)]
    changes_per_kind: usize,
    /// Fast path: milliseconds between two changes (spread out like real changes: at 1100 no
    /// relay process has a Get of the previous change in its 1.1 s limiter window).
    #[arg(long, default_value_t = 1_100)]
    change_interval_ms: u64,
    /// Fast path: changes in the burst.
    #[arg(long, default_value_t = 100)]
    burst: usize,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench failed: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> bench::Result<()> {
    let config = BenchConfig {
        engagements: cli.engagements,
        connections: cli.connections,
        steady_runs: cli.steady_runs,
        cold_starts: cli.cold_starts,
        profile: if cli.profile == "debug" { Profile::Debug } else { Profile::Release },
        ..BenchConfig::default()
    };
    let dir = cli.out.unwrap_or_else(results_dir);
    let mut results = Results::load(&dir);
    let only = cli.fast_path_only || cli.auto_respond_only || cli.account_rate_only;
    if !cli.render_only && !only {
        eprintln!("bench: {}", config.description());
        let outcome = benchmark::run(&config, &|line| eprintln!("{line}")).await?;
        results.date = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string();
        results.machine = machine_description();
        results.functions = outcome.functions;
        results.scenario = outcome.scenario;
    }
    if !cli.render_only && !cli.skip_auto_respond && !cli.fast_path_only && !cli.account_rate_only {
        let respond = RespondBenchConfig {
            engagements: cli.engagements,
            connections: cli.connections,
            profile: config.profile,
            ..RespondBenchConfig::default()
        };
        let mut figures = auto_respond::run(&respond, &|line| eprintln!("{line}")).await?;
        figures.description = format!("{} Machine: {}.", figures.description, machine_description());
        results.auto_respond = Some(figures);
    }
    if cli.account_rate_only {
        let fast = FastPathConfig { profile: config.profile, ..FastPathConfig::default() };
        let previous = results.fast_path.take().unwrap_or_default();
        results.fast_path = Some(fast_path::account_rate_only(&fast, previous, &|line| eprintln!("{line}")).await?);
    }
    if !cli.render_only && !cli.skip_fast_path && !cli.auto_respond_only && !cli.account_rate_only {
        let fast = FastPathConfig {
            changes_per_kind: cli.changes_per_kind,
            change_interval: std::time::Duration::from_millis(cli.change_interval_ms),
            burst: cli.burst,
            profile: config.profile,
            ..FastPathConfig::default()
        };
        let mut figures = fast_path::run(&fast, &|line| eprintln!("{line}")).await?;
        figures.description = format!("{} Machine: {}.", figures.description, machine_description());
        results.fast_path = Some(figures);
    }
    results.save(&dir)?;
    let panels: Vec<Panel> = results
        .function_names()
        .into_iter()
        .map(|name| (name, &results.functions[name]))
        .map(|(name, f)| Panel {
            function: name.clone(),
            ours: f.runs.iter().map(|r| r.calls).collect(),
            naive: f.runs.iter().map(|r| r.naive).collect(),
            lower_bound: f.runs.iter().map(|r| r.lower_bound.total).collect(),
        })
        .collect();
    chart::draw(
        &dir.join("calls-per-run.png"),
        "Calls per run: ours and lower bound (all AWS calls) vs. a naive poller (every listing page)",
        &panels,
    )?;
    println!("{}", results.markdown());
    eprintln!("wrote {}/results.md, results.json, calls-per-run.png", dir.display());
    Ok(())
}
