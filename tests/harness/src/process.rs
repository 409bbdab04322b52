//! Child processes the harness starts: output captured line by line, readiness taken from
//! a line the process prints, and killed when dropped (also when a test panics).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

use crate::{Error, Result};

/// A started child process and everything it printed.
#[derive(Debug)]
pub struct ManagedProcess {
    name: String,
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
    /// The tasks copying stdout and stderr into `log`; they end at end of file.
    readers: Vec<tokio::task::JoinHandle<()>>,
}

fn forward<R: AsyncRead + Unpin + Send + 'static>(
    reader: R,
    log: Arc<Mutex<Vec<String>>>,
    tx: mpsc::UnboundedSender<String>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut lines = BufReader::new(reader).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            log.lock().unwrap_or_else(|e| e.into_inner()).push(line.clone());
            // The receiver only listens until the process is ready.
            if tx.send(line).is_err() {
                continue;
            }
        }
    })
}

impl ManagedProcess {
    /// Start `command` (stdout and stderr captured) without waiting for anything.
    pub fn spawn(name: &str, mut command: Command) -> Result<(Self, mpsc::UnboundedReceiver<String>)> {
        command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
        let mut child = command.spawn().map_err(|e| Error::msg(format!("cannot start {name}: {e}")))?;
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::unbounded_channel();
        let mut readers = Vec::new();
        if let Some(out) = child.stdout.take() {
            readers.push(forward(out, log.clone(), tx.clone()));
        }
        if let Some(err) = child.stderr.take() {
            readers.push(forward(err, log.clone(), tx));
        }
        Ok((ManagedProcess { name: name.to_owned(), child, log, readers }, rx))
    }

    /// Start `command` and wait until it prints a line for which `ready` returns a value.
    pub async fn spawn_and_wait<T>(
        name: &str,
        command: Command,
        timeout: Duration,
        ready: impl Fn(&str) -> Option<T>,
    ) -> Result<(Self, T)> {
        let (process, mut lines) = Self::spawn(name, command)?;
        let wait = async {
            while let Some(line) = lines.recv().await {
                if let Some(v) = ready(&line) {
                    return Some(v);
                }
            }
            None
        };
        match tokio::time::timeout(timeout, wait).await {
            Ok(Some(v)) => Ok((process, v)),
            Ok(None) => Err(Error::msg(format!("{name} exited before it was ready:\n{}", process.logs().join("\n")))),
            Err(_) => Err(Error::msg(format!("{name} not ready after {timeout:?}:\n{}", process.logs().join("\n")))),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn id(&self) -> Option<u32> {
        self.child.id()
    }

    /// Everything printed so far.
    pub fn logs(&self) -> Vec<String> {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// SIGKILL and reap; then [`ManagedProcess::logs`] holds everything it printed.
    pub async fn kill(&mut self) -> Result<()> {
        self.child.kill().await.map_err(|e| Error::msg(format!("cannot kill {}: {e}", self.name)))?;
        self.drain().await;
        Ok(())
    }

    /// Wait for the process to exit on its own; then [`ManagedProcess::logs`] holds
    /// everything it printed (the exit can be seen before the last lines were read).
    pub async fn wait(&mut self) -> Result<std::process::ExitStatus> {
        let status = self.child.wait().await.map_err(|e| Error::msg(format!("waiting for {}: {e}", self.name)))?;
        self.drain().await;
        Ok(status)
    }

    /// Let the output readers reach end of file (bounded: a descendant that kept the pipes
    /// open must not hold the caller).
    async fn drain(&mut self) {
        for reader in std::mem::take(&mut self.readers) {
            if tokio::time::timeout(Duration::from_secs(5), reader).await.is_err() {
                tracing::warn!(process = %self.name, "output still open 5 s after exit");
            }
        }
    }
}

/// A free loopback port (bound, then released for the child to take).
pub fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| Error::msg(format!("no free port: {e}")))?;
    Ok(listener.local_addr().map_err(|e| Error::msg(e.to_string()))?.port())
}

/// The workspace root, found at run time: the nearest ancestor of the running test crate's
/// directory (`CARGO_MANIFEST_DIR`, set by cargo and nextest when they run a test) or of the
/// current directory whose `Cargo.toml` declares `[workspace]`; failing that, the workspace
/// this crate was compiled in. Not fixed at compile time: with a target directory shared
/// between git worktrees, this crate's compiled code may come from another worktree, and
/// `cargo lambda watch` (started here) only serves the binaries of the workspace it runs in.
pub fn workspace_root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let starts = [std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from), std::env::current_dir().ok()];
        starts
            .into_iter()
            .flatten()
            .find_map(|start| start.ancestors().find(|dir| declares_workspace(dir)).map(Path::to_path_buf))
            .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")))
    })
}

fn declares_workspace(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("Cargo.toml")).is_ok_and(|toml| toml.lines().any(|l| l.trim() == "[workspace]"))
}

/// A tool from the project's venv, overridable by an environment variable.
pub fn venv_tool(env_var: &str, name: &str) -> std::path::PathBuf {
    std::env::var_os(env_var)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".venv").join("bin").join(name))
}
