//! `make invoke FN=<function> EVENT=events/<file>.json`: run one built function once against
//! the local Partner Central emulator (a generated account) and moto, through the Lambda
//! Runtime API emulator, and print its summary and the events that reached the bus. The same
//! invocation `sam local invoke <Fn> -e events/<file>.json` makes, without Docker.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use harness::stack::{Stack, StackOptions};
use harness::{Error, Result};
use partnercentral_local::{CatalogChoice, GenerateConfig};

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("invoke failed: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(function), Some(event)) = (args.next(), args.next()) else {
        return Err(Error::msg("usage: invoke <function> <event.json> [KEY=VALUE ...]"));
    };
    let overrides: Vec<(String, String)> = args
        .map(|kv| {
            kv.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .ok_or_else(|| Error::msg(format!("not KEY=VALUE: {kv}")))
        })
        .collect::<Result<_>>()?;
    let bin_dir: PathBuf = std::env::current_exe()
        .map_err(|e| Error::msg(e.to_string()))?
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let bin = bin_dir.join(&function);
    if !bin.is_file() {
        return Err(Error::msg(format!("no built function {function} at {}", bin.display())));
    }
    let text = std::fs::read_to_string(&event).map_err(|e| Error::msg(format!("{event}: {e}")))?;
    let payload: serde_json::Value = serde_json::from_str(&text).map_err(|e| Error::msg(format!("{event}: {e}")))?;

    let stack = Stack::start(StackOptions {
        generate: Some(GenerateConfig { seed: 7, engagements: 200, connections: 50, catalogs: CatalogChoice::Aws }),
        ..StackOptions::default()
    })
    .await?;
    let env: Vec<(&str, &str)> = overrides.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut process = stack.start_function(&function, &bin, &env)?;
    let outcome = stack.invoke(&function, &payload).await?;
    let events = stack.received().await?;
    process.kill().await?;
    eprintln!("--- function log ---");
    for line in process.logs() {
        eprintln!("{line}");
    }
    println!("--- result ---");
    println!("{}", serde_json::to_string_pretty(&outcome.output()?).unwrap_or_default());
    println!("--- {} event(s) on the bus ---", events.len());
    for e in &events {
        println!("{}", serde_json::to_string(e).unwrap_or_default());
    }
    Ok(())
}
