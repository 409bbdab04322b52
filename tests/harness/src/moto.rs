//! moto_server: EventBridge, SQS and DynamoDB on loopback.

use std::time::Duration;

use tokio::process::Command;

use crate::Result;
use crate::process::{ManagedProcess, free_port, venv_tool};

#[derive(Debug)]
pub struct Moto {
    process: ManagedProcess,
    endpoint: String,
}

impl Moto {
    /// Start `moto_server` from the project's venv (or `$MOTO_SERVER_BIN`) on a free port.
    pub async fn start() -> Result<Moto> {
        let port = free_port()?;
        let mut command = Command::new(venv_tool("MOTO_SERVER_BIN", "moto_server"));
        command.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        let (process, ()) = ManagedProcess::spawn_and_wait("moto_server", command, Duration::from_secs(60), |line| {
            line.contains("Running on").then_some(())
        })
        .await?;
        Ok(Moto { process, endpoint: format!("http://127.0.0.1:{port}") })
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// SIGKILL and reap.
    pub async fn stop(&mut self) -> Result<()> {
        self.process.kill().await
    }

    pub fn logs(&self) -> Vec<String> {
        self.process.logs()
    }
}
