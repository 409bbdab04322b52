//! Every `make` and `cargo` command the READMEs show is listed in `readme-commands.txt` (next
//! to the root README) with how it is checked: `run` (this test runs it and it must succeed)
//! or `skip: <why>`. A README that gains a command not in the list, or a list entry no README
//! shows any more, fails here, so the docs cannot drift from what works.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use harness::process::workspace_root;

const LIST: &str = "readme-commands.txt";

/// The READMEs: the root one, one per function, the test tooling's, the examples', the
/// benchmark's and the contract crate's.
fn readmes(root: &Path) -> Vec<PathBuf> {
    let mut files = vec![root.join("README.md"), root.join("bench/README.md"), root.join("contract/README.md")];
    for dir in ["functions", "tests", "examples"] {
        for entry in std::fs::read_dir(root.join(dir)).into_iter().flatten().flatten() {
            let readme = entry.path().join("README.md");
            if readme.is_file() {
                files.push(readme);
            }
        }
    }
    files.sort();
    files
}

fn is_command(text: &str) -> bool {
    text.starts_with("make ") || text == "make" || text.starts_with("cargo ")
}

/// `make`/`cargo` command lines of ```sh blocks (comments stripped) and inline code spans.
fn commands(markdown: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut prose = String::new();
    let mut in_sh = false;
    let mut in_other_fence = false;
    for line in markdown.lines() {
        let trimmed = line.trim();
        if let Some(info) = trimmed.strip_prefix("```") {
            match (in_sh, in_other_fence) {
                (false, false) if matches!(info, "sh" | "bash" | "shell") => in_sh = true,
                (false, false) => in_other_fence = true,
                _ => (in_sh, in_other_fence) = (false, false),
            }
            continue;
        }
        if in_sh {
            let command = trimmed.split(" #").next().unwrap_or_default().trim();
            if is_command(command) {
                found.insert(command.split_whitespace().collect::<Vec<_>>().join(" "));
            }
        } else if !in_other_fence {
            prose.push_str(line);
            prose.push(' ');
        }
    }
    // Inline spans may wrap lines: the prose was joined with spaces.
    for (n, span) in prose.split('`').enumerate() {
        let span = span.split_whitespace().collect::<Vec<_>>().join(" ");
        if n % 2 == 1 && is_command(&span) {
            found.insert(span);
        }
    }
    found
}

/// The list: (command, how) per non-comment line `run | <command>` or `skip: <why> | <command>`.
fn list(root: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(root.join(LIST)).unwrap_or_else(|e| panic!("{LIST}: {e}"));
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (how, command) = l.split_once(" | ").unwrap_or_else(|| panic!("{LIST}: not `how | command`: {l}"));
            (command.trim().to_owned(), how.trim().to_owned())
        })
        .collect()
}

#[test]
fn every_readme_command_is_listed_and_every_listed_command_is_in_a_readme() {
    let root = workspace_root();
    let mut shown = BTreeSet::new();
    for readme in readmes(root) {
        let text = std::fs::read_to_string(&readme).unwrap_or_else(|e| panic!("{}: {e}", readme.display()));
        shown.extend(commands(&text));
    }
    let listed: BTreeSet<String> = list(root).into_iter().map(|(command, _)| command).collect();
    let missing: Vec<&String> = shown.difference(&listed).collect();
    assert!(missing.is_empty(), "README commands missing from {LIST} (add them, `run` if cheap): {missing:#?}");
    let stale: Vec<&String> = listed.difference(&shown).collect();
    assert!(stale.is_empty(), "{LIST} entries no README shows any more: {stale:#?}");
    for (command, how) in list(root) {
        assert!(how == "run" || how.starts_with("skip: "), "{LIST}: {command}: `run` or `skip: <why>`, not {how:?}");
    }
}

#[test]
fn the_cheap_readme_commands_work_as_written() {
    let root = workspace_root();
    let sessions = std::env::temp_dir().join(format!("readme-commands-{}", std::process::id()));
    for (command, how) in list(root) {
        if how != "run" {
            continue;
        }
        let output = Command::new("bash")
            .args(["-c", &command])
            .current_dir(root)
            // Not the jobserver of a `make test` this may run under.
            .env_remove("MAKEFLAGS")
            .env_remove("MFLAGS")
            .env_remove("MAKELEVEL")
            // `STATE=…` sessions of this run only, in order: the listed order is the README's.
            .env("INVOKE_SESSION_DIR", &sessions)
            .output()
            .unwrap_or_else(|e| panic!("{command}: {e}"));
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{command}: {}\n{stdout}\n{stderr}", output.status);
        // What the full-sync sample is for: after the first run of its session, a full sync.
        if command.contains("full-sync") && command.contains("STATE=") {
            assert!(stdout.contains(r#""mode": "full""#), "{command}: no full sync\n{stdout}");
        }
    }
    if sessions.exists() {
        std::fs::remove_dir_all(&sessions).unwrap_or_else(|e| panic!("{}: {e}", sessions.display()));
    }
}
