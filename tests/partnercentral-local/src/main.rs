//! `partnercentral-local`: run the Partner Central emulator as a process.
//!
//! Prints exactly one line on stdout once it is ready —
//! `partnercentral-local listening on 127.0.0.1:40123` — and logs to stderr.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use partnercentral_local::{
    CatalogChoice, Emulator, EmulatorError, FaultConfig, GenerateConfig, NativeEventsConfig, NativeFaults, SeedDocument,
};
use tracing::{error, info};

/// Local emulator of the AWS Partner Central Account and Selling APIs (invitations).
#[derive(Debug, Parser)]
#[command(name = "partnercentral-local", version)]
struct Cli {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:4580")]
    listen: SocketAddr,
    /// Seed file: {"ConnectionInvitations": [...], "EngagementInvitations": [...]}.
    #[arg(long, value_name = "FILE")]
    seed: Option<PathBuf>,
    /// Generate a synthetic account (two years of history ending at the clock's now).
    #[arg(long)]
    generate: bool,
    /// Seed of the synthetic data.
    #[arg(long, default_value_t = 1, value_name = "N")]
    generate_seed: u64,
    /// Engagement invitations to generate per catalog.
    #[arg(long, default_value_t = 200, value_name = "N")]
    engagements: usize,
    /// Connection invitations to generate per catalog.
    #[arg(long, default_value_t = 50, value_name = "N")]
    connections: usize,
    /// Catalog(s) to generate data for.
    #[arg(long, value_enum, default_value = "AWS")]
    catalog: CatalogChoice,
    /// Start the virtual clock here (RFC 3339) instead of the real now.
    #[arg(long, value_name = "RFC3339")]
    clock: Option<String>,
    /// Keep the virtual clock still except when set/advanced via the control API.
    #[arg(long)]
    freeze_clock: bool,
    /// Milliseconds added to every AWS request.
    #[arg(long, default_value_t = 0, value_name = "N")]
    latency_ms: u64,
    /// Fraction of AWS requests answered with ThrottlingException (0..1).
    #[arg(long, default_value_t = 0.0, value_name = "P")]
    throttle_rate: f64,
    /// Fraction of AWS requests answered with InternalServerException (0..1).
    #[arg(long, default_value_t = 0.0, value_name = "P")]
    error_rate: f64,
    /// Serve at most N AWS requests in any one-second window; throttle the rest.
    #[arg(long, value_name = "N")]
    rate_limit: Option<u32>,
    /// Seed of the fault-injection PRNG.
    #[arg(long, default_value_t = 0, value_name = "N")]
    fault_seed: u64,
    /// Virtual seconds from a StartEngagementByAcceptingInvitationTask task's start to its end.
    #[arg(long, default_value_t = partnercentral_local::state::DEFAULT_TASK_DELAY_SECONDS, value_name = "N")]
    task_delay_seconds: u64,
    /// Most active connections per catalog; AcceptConnectionInvitation beyond it answers
    /// ServiceQuotaExceededException (LIMIT_EXCEEDED_NUMBER_OF_ACTIVE_CONNECTION).
    #[arg(long, default_value_t = partnercentral_local::state::DEFAULT_ACTIVE_CONNECTION_LIMIT, value_name = "N")]
    active_connection_limit: usize,
    /// Validate every response against the model (default: on in debug builds).
    #[arg(long)]
    validate_responses: Option<bool>,
    /// Emit Partner Central's native EventBridge events with PutEvents to this EventBridge
    /// endpoint (e.g. moto's URL); default: no native events.
    #[arg(long, value_name = "URL")]
    native_events_endpoint: Option<String>,
    /// Event bus (name or ARN) the native events are put on.
    #[arg(long, default_value = "default", value_name = "BUS", requires = "native_events_endpoint")]
    native_events_bus: String,
    /// The account linked to Partner Central (the "us" of every invitation's ParticipantType).
    #[arg(long, default_value = partnercentral_local::generate::OWN_ACCOUNT_ID, value_name = "ID")]
    account_id: String,
    /// Fraction of native events dropped (0..1).
    #[arg(long, default_value_t = 0.0, value_name = "P", requires = "native_events_endpoint")]
    native_drop_rate: f64,
    /// Fraction of native events sent twice (0..1).
    #[arg(long, default_value_t = 0.0, value_name = "P", requires = "native_events_endpoint")]
    native_duplicate_rate: f64,
    /// Delay each native event by a random 0..=N ms (reorders them).
    #[arg(long, default_value_t = 0, value_name = "N", requires = "native_events_endpoint")]
    native_delay_ms: u64,
    /// Seed of the native-event fault PRNG.
    #[arg(long, default_value_t = 0, value_name = "N", requires = "native_events_endpoint")]
    native_fault_seed: u64,
}

#[derive(Debug, thiserror::Error)]
enum MainError {
    #[error(transparent)]
    Emulator(#[from] EmulatorError),
    #[error(transparent)]
    Seed(#[from] partnercentral_local::seed::SeedError),
    #[error("--task-delay-seconds: {0} is too large")]
    TaskDelay(u64),
    #[error("--clock: {0}")]
    Clock(chrono::ParseError),
    #[error("cannot write the readiness line: {0}")]
    Stdout(std::io::Error),
    #[error("cannot install signal handlers: {0}")]
    Signal(std::io::Error),
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            error!("{e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), MainError> {
    let mut b = Emulator::builder().listen(cli.listen).frozen_clock(cli.freeze_clock).faults(FaultConfig {
        latency_ms: cli.latency_ms,
        throttle_rate: cli.throttle_rate,
        error_rate: cli.error_rate,
        rate_limit: cli.rate_limit,
        fault_seed: cli.fault_seed,
    });
    let delay = i64::try_from(cli.task_delay_seconds).map_err(|_| MainError::TaskDelay(cli.task_delay_seconds))?;
    b = b.task_delay(chrono::Duration::seconds(delay)).active_connection_limit(cli.active_connection_limit);
    if let Some(c) = &cli.clock {
        b = b.clock(partnercentral_local::clock::parse_ts(c).map_err(MainError::Clock)?);
    }
    if let Some(path) = &cli.seed {
        b = b.seed(SeedDocument::from_file(path)?);
    }
    if cli.generate {
        b = b.generate(GenerateConfig {
            seed: cli.generate_seed,
            engagements: cli.engagements,
            connections: cli.connections,
            catalogs: cli.catalog,
        });
    }
    if let Some(v) = cli.validate_responses {
        b = b.validate_responses(v);
    }
    if let Some(endpoint) = cli.native_events_endpoint {
        b = b.native_events(NativeEventsConfig {
            endpoint,
            bus: cli.native_events_bus,
            account_id: cli.account_id,
            faults: NativeFaults {
                drop_rate: cli.native_drop_rate,
                duplicate_rate: cli.native_duplicate_rate,
                delay_ms: cli.native_delay_ms,
                seed: cli.native_fault_seed,
            },
        });
    }
    let handle = b.spawn().await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "partnercentral-local listening on {}", handle.addr()).map_err(MainError::Stdout)?;
        out.flush().map_err(MainError::Stdout)?;
    }
    wait_for_signal().await?;
    info!("signal received, shutting down");
    handle.shutdown().await?;
    Ok(())
}

#[cfg(unix)]
async fn wait_for_signal() -> Result<(), MainError> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).map_err(MainError::Signal)?;
    let mut int = signal(SignalKind::interrupt()).map_err(MainError::Signal)?;
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    Ok(())
}

#[cfg(not(unix))]
async fn wait_for_signal() -> Result<(), MainError> {
    tokio::signal::ctrl_c().await.map_err(MainError::Signal)
}
