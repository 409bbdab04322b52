//! `make invoke FN=<function> EVENT=events/<file>.json [ENV=KEY=VALUE,…] [ENV_FILE=…]
//! [STATE=<session>]`: run one built function once against the local Partner Central emulator
//! (a generated account) and moto, through the Lambda Runtime API emulator, and print its
//! result and the events that reached the bus. The same invocation `sam local invoke <Fn> -e
//! events/<file>.json` makes, without Docker.
//!
//! It always ends: a function that exits (a start-up error, a crash) or does not answer within
//! `--timeout` is reported with its log and a non-zero exit status; every process started
//! (moto_server, `cargo lambda watch`, the function) is stopped on every way out, SIGTERM and
//! SIGINT included.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use harness::lambda::{FunctionProcess, Invocation};
use harness::process::workspace_root;
use harness::session::{Session, session_path};
use harness::stack::{Stack, StackOptions};
use harness::{Error, Result};
use partnercentral_local::{CatalogChoice, GenerateConfig};
use serde_json::json;
use tokio::signal::unix::{Signal, SignalKind, signal};

/// Run one built function once against local Partner Central and moto.
#[derive(Debug, Parser)]
#[command(name = "invoke")]
struct Args {
    /// The function: a directory under functions/ (its binary must be built).
    function: String,
    /// The invoke payload: a JSON file, e.g. events/list-and-publish-scheduled.json.
    event: PathBuf,
    /// Settings for the function's environment, e.g. CATALOG=Sandbox (override the defaults
    /// and the other sources).
    #[arg(value_name = "KEY=VALUE")]
    settings: Vec<String>,
    /// Comma-separated KEY=VALUE settings (`make invoke ENV=…`); an item without `=` continues
    /// the previous value, so `EXPIRY_WARNING_HOURS=72,24,DIGEST=true` is two settings.
    #[arg(long, value_name = "KEY=VALUE,…")]
    env_vars: Option<String>,
    /// A file of KEY=VALUE lines (`#` comments and blank lines ignored), as `cargo lambda watch
    /// --env-file` reads.
    #[arg(long, value_name = "FILE")]
    env_file: Option<PathBuf>,
    /// Keep the state table, the emulator's invitations and its clock across invokes in this
    /// named session (target/invoke-sessions/<NAME>.json, or under $INVOKE_SESSION_DIR; delete
    /// it to start over).
    #[arg(long, value_name = "NAME")]
    session: Option<String>,
    /// Seconds to wait for the function's answer before it is stopped and reported.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
}

/// SIGTERM and SIGINT, as the exit status a shell gives a process they stopped.
struct Signals {
    term: Signal,
    int: Signal,
}

impl Signals {
    async fn recv(&mut self) -> ExitCode {
        tokio::select! {
            _ = self.term.recv() => { eprintln!("invoke: SIGTERM, stopping every process it started"); ExitCode::from(143) }
            _ = self.int.recv() => { eprintln!("invoke: SIGINT, stopping every process it started"); ExitCode::from(130) }
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let mut signals = match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
        (Ok(term), Ok(int)) => Signals { term, int },
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("invoke failed: cannot listen for signals: {e}");
            return ExitCode::FAILURE;
        }
    };
    match run(args, &mut signals).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("invoke failed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A progress line on stderr.
fn step(message: &str) {
    eprintln!("invoke: {message}");
}

/// The functions that exist: the directories under `functions/`.
fn functions(root: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root.join("functions"))
        .map(|dir| {
            dir.filter_map(|entry| entry.ok())
                .filter(|entry| entry.path().join("Cargo.toml").is_file())
                .filter_map(|entry| entry.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// `KEY=VALUE` → (key, value), with a message naming the bad item.
fn setting(item: &str, origin: &str) -> Result<(String, String)> {
    match item.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => Ok((key.trim().to_owned(), value.to_owned())),
        _ => Err(Error::msg(format!("{origin}: {item:?} is not KEY=VALUE"))),
    }
}

/// `--env-vars`: comma-separated settings; an item without `=` continues the previous value.
fn env_vars(list: &str) -> Result<Vec<(String, String)>> {
    let mut settings: Vec<(String, String)> = Vec::new();
    for item in list.split(',') {
        match (item.contains('='), settings.last_mut()) {
            (false, Some((_, value))) => {
                value.push(',');
                value.push_str(item);
            }
            _ => settings.push(setting(item, "ENV")?),
        }
    }
    Ok(settings)
}

/// `--env-file`: KEY=VALUE lines; blank lines and `#` comments ignored; values may be quoted.
fn env_file(path: &Path) -> Result<Vec<(String, String)>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::msg(format!("{}: {e}", path.display())))?;
    text.lines()
        .enumerate()
        .map(|(n, line)| (n, line.trim()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
        .map(|(n, line)| {
            let (key, value) = setting(line, &format!("{}:{}", path.display(), n + 1))?;
            let unquoted = ['"', '\'']
                .iter()
                .find_map(|q| value.strip_prefix(*q).and_then(|v| v.strip_suffix(*q)))
                .unwrap_or(&value);
            Ok((key, unquoted.to_owned()))
        })
        .collect()
}

async fn run(args: Args, signals: &mut Signals) -> Result<ExitCode> {
    let root = workspace_root();
    let known = functions(root);
    if !known.contains(&args.function) {
        return Err(Error::msg(format!("unknown function {:?} (accepted: {})", args.function, known.join(", "))));
    }
    let bin_dir: PathBuf = std::env::current_exe()
        .map_err(|e| Error::msg(e.to_string()))?
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let bin = bin_dir.join(&args.function);
    if !bin.is_file() {
        return Err(Error::msg(format!(
            "no built function {} at {} (build it: cargo build --workspace --bins)",
            args.function,
            bin.display()
        )));
    }
    let event = &args.event;
    let text = std::fs::read_to_string(event).map_err(|e| Error::msg(format!("{}: {e}", event.display())))?;
    let payload: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| Error::msg(format!("{}: {e}", event.display())))?;

    // Later sources win: env file, ENV list, KEY=VALUE arguments.
    let mut settings = Vec::new();
    if let Some(file) = &args.env_file {
        settings.extend(env_file(file)?);
    }
    if let Some(list) = &args.env_vars {
        settings.extend(env_vars(list)?);
    }
    for item in &args.settings {
        settings.push(setting(item, "argument")?);
    }
    // The policy functions refuse to start without a policy: run the samples with the example one.
    let has = |key: &str| settings.iter().any(|(k, _)| k == key);
    let policy = match args.function.as_str() {
        "auto-cancel" => Some(("CANCEL_POLICY", "CANCEL_POLICY_FILE")),
        "auto-respond" => Some(("RESPOND_POLICY", "RESPOND_POLICY_FILE")),
        _ => None,
    };
    if let Some((inline, file)) = policy.filter(|(inline, file)| !has(inline) && !has(file)) {
        let example = root.join("events").join(format!("{}-policy.example.json", args.function));
        step(&format!("{file}={} (the example policy; set {inline} or {file} to change it)", example.display()));
        settings.push((file.to_owned(), example.display().to_string()));
    }

    let session = match &args.session {
        Some(name) => {
            let dir = std::env::var_os("INVOKE_SESSION_DIR").map(PathBuf::from);
            let path = session_path(&dir.unwrap_or_else(|| bin_dir.join("..").join("invoke-sessions")), name)?;
            let saved = Session::load(&path)?;
            match &saved {
                Some(s) => step(&format!(
                    "session {name:?}: the state of its last invoke, from {} (Partner Central clock {})",
                    path.display(),
                    s.clock.to_rfc3339()
                )),
                None => step(&format!("session {name:?}: new, kept in {}", path.display())),
            }
            Some((path, saved))
        }
        None => None,
    };

    let started = Instant::now();
    step("starting local Partner Central, moto (EventBridge, SQS, SNS, DynamoDB) and the Lambda Runtime API…");
    let start = Stack::start(StackOptions {
        clock: session.as_ref().and_then(|(_, saved)| saved.as_ref()).map(|s| s.clock),
        generate: Some(GenerateConfig { seed: 7, engagements: 200, connections: 50, catalogs: CatalogChoice::Both }),
        ..StackOptions::default()
    });
    // A signal while starting drops what was started so far (each process is killed on drop).
    let stack = tokio::select! {
        stack = start => stack?,
        code = signals.recv() => return Ok(code),
    };
    // From here on every way out goes through `shutdown`, which kills and reaps each process.
    let run =
        Run { args: &args, bin: &bin, settings: &settings, payload: &payload, session: session.as_ref(), started };
    let outcome = run.invoke(&stack, signals).await;
    stack.shutdown().await;
    outcome
}

/// One invoke, prepared.
struct Run<'a> {
    args: &'a Args,
    bin: &'a Path,
    settings: &'a [(String, String)],
    payload: &'a serde_json::Value,
    /// Where the session is kept, and what it held.
    session: Option<&'a (PathBuf, Option<Session>)>,
    started: Instant,
}

impl Run<'_> {
    /// Restore the session, run the function once, print what it did; `Ok(code)` also when the
    /// run was stopped by a signal.
    async fn invoke(&self, stack: &Stack, signals: &mut Signals) -> Result<ExitCode> {
        let Run { args, bin, settings, payload, session, started } = self;
        if let Some((_, Some(saved))) = session {
            saved.restore(stack).await?;
        }
        step(&format!("ready in {:.1}s", started.elapsed().as_secs_f64()));

        let env: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let mut process = stack.start_function(&args.function, bin, &env)?;
        step(&format!("invoking {} with {}…", args.function, args.event.display()));
        let started = Instant::now();
        let outcome = tokio::select! {
            outcome = answer(stack, &mut process, payload, Duration::from_secs(args.timeout)) => outcome,
            code = signals.recv() => { process.kill().await?; return Ok(code) }
        };
        let took = started.elapsed();
        // Stop the function before printing, so its log is complete.
        process.kill().await?;
        eprintln!("--- function log ---");
        for line in process.logs() {
            eprintln!("{line}");
        }
        let invocation = outcome?;
        let events = stack.received().await?;
        let notifications = stack.notifications().await?;
        if let Some((path, _)) = session {
            Session::capture(stack).await?.save(path)?;
        }
        println!("--- result ({:.1}s) ---", took.as_secs_f64());
        let code = match &invocation {
            Invocation::Ok(output) => {
                println!("{}", serde_json::to_string_pretty(output).map_err(|e| Error::msg(e.to_string()))?);
                ExitCode::SUCCESS
            }
            Invocation::FunctionError { error_type, message } => {
                let error = json!({"errorType": error_type, "errorMessage": message});
                println!("{}", serde_json::to_string_pretty(&error).map_err(|e| Error::msg(e.to_string()))?);
                ExitCode::FAILURE
            }
        };
        println!("--- {} event(s) on the bus ---", events.len());
        for e in &events {
            println!("{}", serde_json::to_string(e).map_err(|e| Error::msg(e.to_string()))?);
        }
        if !notifications.is_empty() {
            // notify's: the e-mail subject and the custom notification a chat channel gets.
            println!("--- {} notification(s) on the topic ---", notifications.len());
            for n in &notifications {
                let chat: serde_json::Value = serde_json::from_str(n["Message"].as_str().unwrap_or("null"))
                    .map_err(|e| Error::msg(format!("notification is not JSON: {e}")))?;
                println!("Subject: {}", n["Subject"].as_str().unwrap_or_default());
                println!("{}", serde_json::to_string_pretty(&chat).map_err(|e| Error::msg(e.to_string()))?);
            }
        }
        Ok(code)
    }
}

/// The function's answer, unless it exits first or takes longer than `timeout`.
async fn answer(
    stack: &Stack,
    process: &mut FunctionProcess,
    payload: &serde_json::Value,
    timeout: Duration,
) -> Result<Invocation> {
    let name = process.name().to_owned();
    tokio::select! {
        invocation = stack.invoke(&name, payload) => invocation,
        exit = process.wait_exit(timeout) => match exit {
            Ok(status) => Err(Error::msg(format!("{name} exited ({status}) without answering; its log is above"))),
            Err(_) => Err(Error::msg(format!("{name} did not answer within {}s (--timeout); stopped it, its log is above", timeout.as_secs()))),
        },
    }
}
