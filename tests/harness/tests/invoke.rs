//! `make invoke` always ends and leaves nothing behind: the built `invoke` binary is run in a
//! process group of its own, so every process it starts (moto_server, `cargo lambda watch`,
//! the function) is found by that group in /proc while it runs and after it exits.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};

/// Live (not zombie) processes of process group `pgid`, as (pid, command name).
fn group_members(pgid: u32) -> Vec<(u32, String)> {
    let mut members = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        // pid (comm) state ppid pgrp …; comm may hold spaces and parentheses.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else { continue };
        let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        let (Some(state), Some(pgrp)) = (fields.first(), fields.get(2)) else { continue };
        if *state != "Z" && pgrp.parse::<u32>() == Ok(pgid) {
            members.push((pid, stat[open + 1..close].to_owned()));
        }
    }
    members
}

fn invoke(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_invoke"));
    command
        .args(args)
        .current_dir(harness::process::workspace_root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    command
}

fn read_all(child: &mut Child) -> (String, String) {
    let mut out = String::new();
    let mut err = String::new();
    if let Some(mut s) = child.stdout.take() {
        std::io::Read::read_to_string(&mut s, &mut out).unwrap_or_else(|e| panic!("{e}"));
    }
    if let Some(mut s) = child.stderr.take() {
        std::io::Read::read_to_string(&mut s, &mut err).unwrap_or_else(|e| panic!("{e}"));
    }
    (out, err)
}

#[test]
fn a_function_that_fails_at_start_up_is_reported_and_nothing_is_left_running() {
    let mut child = invoke(&["auto-cancel", "events/auto-cancel-dry-run.json", "CATALOG=Prod"])
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let pgid = child.id();
    let (out, err) = read_all(&mut child);
    let status = child.wait().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(status.code(), Some(1), "stdout:\n{out}\nstderr:\n{err}");
    // The function's own error, then what happened to it.
    assert!(err.contains(r#"CATALOG=\"Prod\" is invalid"#), "{err}");
    assert!(err.contains("auto-cancel exited") && err.contains("without answering"), "{err}");
    assert_eq!(group_members(pgid), [], "left running after invoke exited");
}

#[test]
fn an_unknown_function_is_refused_with_the_names_that_exist() {
    let mut child = invoke(&["partnercentral-local", "events/list-and-publish-scheduled.json"])
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let (_, err) = read_all(&mut child);
    assert!(!child.wait().unwrap_or_else(|e| panic!("{e}")).success());
    assert!(err.contains("unknown function \"partnercentral-local\""), "{err}");
    for name in ["auto-cancel", "auto-respond", "expire-sweeper", "list-and-publish"] {
        assert!(err.contains(name), "{name} is a function: {err}");
    }
}

#[test]
fn sigterm_mid_run_stops_every_process_invoke_started() {
    // Partner Central that accepts connections and never answers: the function is mid-run,
    // waiting on it, once this listener sees a connection.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let url = format!("http://{}", silent.local_addr().unwrap_or_else(|e| panic!("{e}")));
    let account = format!("AWS_ENDPOINT_URL_PARTNERCENTRAL_ACCOUNT={url}");
    let selling = format!("AWS_ENDPOINT_URL_PARTNERCENTRAL_SELLING={url}");
    let mut child = invoke(&["list-and-publish", "events/list-and-publish-scheduled.json", &account, &selling])
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let pgid = child.id();
    let (_connection, _) = silent.accept().unwrap_or_else(|e| panic!("{e}"));

    let running: Vec<String> = group_members(pgid).into_iter().map(|(_, name)| name).collect();
    // Command names as the kernel keeps them: at most 15 bytes.
    for expected in ["invoke", "moto_server", "cargo-lambda", "list-and-publis"] {
        assert!(running.iter().any(|n| n == expected), "{expected} not in {running:?}");
    }

    let pid = i32::try_from(pgid).unwrap_or_else(|e| panic!("{e}"));
    // SAFETY: kill(2) with a pid we own and a valid signal number has no memory effects.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let stderr = child.stderr.take().map(BufReader::new);
    let status = child.wait().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(status.code(), Some(143));
    let lines: Vec<String> = stderr.map(|r| r.lines().map_while(Result::ok).collect()).unwrap_or_default();
    assert!(lines.iter().any(|l| l.contains("SIGTERM")), "{lines:?}");
    assert_eq!(group_members(pgid), [], "left running after SIGTERM");
}
