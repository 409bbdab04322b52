//! Running the built function binaries as Lambda does: a Lambda Runtime API emulator
//! (`cargo lambda watch --only-lambda-apis`) that the function process polls, and the
//! Invoke API to send it events.

use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use tokio::process::Command;

use crate::process::{ManagedProcess, free_port, venv_tool, workspace_root};
use crate::{Error, Result};

/// The Lambda Runtime API emulator.
#[derive(Debug)]
pub struct RuntimeApi {
    process: ManagedProcess,
    port: u16,
    http: Client<HttpConnector, Full<Bytes>>,
}

/// What a function invocation returned.
#[derive(Debug, Clone, PartialEq)]
pub enum Invocation {
    /// The handler's JSON output.
    Ok(Value),
    /// The handler returned an error: `errorType`, `errorMessage`.
    FunctionError { error_type: String, message: String },
}

impl Invocation {
    /// The output, or an error describing the function error.
    pub fn output(self) -> Result<Value> {
        match self {
            Invocation::Ok(v) => Ok(v),
            Invocation::FunctionError { error_type, message } => {
                Err(Error::msg(format!("function error {error_type}: {message}")))
            }
        }
    }
}

impl RuntimeApi {
    /// Start `cargo lambda watch --only-lambda-apis` (from the project's venv, or
    /// `$CARGO_LAMBDA_BIN`) on a free port.
    pub async fn start() -> Result<RuntimeApi> {
        let port = free_port()?;
        let mut command = Command::new(venv_tool("CARGO_LAMBDA_BIN", "cargo-lambda"));
        command
            .args(["lambda", "watch", "--only-lambda-apis", "-A", "127.0.0.1", "-P", &port.to_string()])
            .current_dir(workspace_root())
            .env("NO_COLOR", "1");
        let (process, ()) =
            ManagedProcess::spawn_and_wait("cargo lambda watch", command, Duration::from_secs(60), |line| {
                line.contains("starting Runtime server").then_some(())
            })
            .await?;
        let http = Client::builder(TokioExecutor::new()).build_http();
        Ok(RuntimeApi { process, port, http })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn logs(&self) -> Vec<String> {
        self.process.logs()
    }

    /// SIGKILL and reap.
    pub async fn stop(&mut self) -> Result<()> {
        self.process.kill().await
    }

    /// Start a function process serving `name` from the binary at `bin`. The environment is
    /// exactly `env` plus the Lambda runtime variables: nothing leaks in from the test's own
    /// environment (no stray AWS profile or endpoint).
    pub fn start_function(&self, name: &str, bin: &Path, env: &[(String, String)]) -> Result<FunctionProcess> {
        let mut command = Command::new(bin);
        command
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", format!("http://127.0.0.1:{}/.rt/{name}", self.port))
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let (process, _lines) = ManagedProcess::spawn(name, command)?;
        Ok(FunctionProcess { process, name: name.to_owned() })
    }

    /// Invoke `name` with `payload` and wait for its answer.
    pub async fn invoke(&self, name: &str, payload: &Value) -> Result<Invocation> {
        let uri = format!("http://127.0.0.1:{}/2015-03-31/functions/{name}/invocations", self.port);
        let request = hyper::Request::post(uri)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(payload.to_string())))
            .map_err(|e| Error::msg(e.to_string()))?;
        let response = self.http.request(request).await.map_err(|e| Error::msg(format!("invoke {name}: {e}")))?;
        let status = response.status();
        let body = response.into_body().collect().await.map_err(|e| Error::msg(e.to_string()))?.to_bytes();
        let value: Value = serde_json::from_slice(&body)
            .map_err(|e| Error::msg(format!("invoke {name}: HTTP {status}, body not JSON ({e}): {body:?}")))?;
        if status.is_success() {
            Ok(Invocation::Ok(value))
        } else {
            Ok(Invocation::FunctionError {
                error_type: value["errorType"].as_str().unwrap_or_default().to_owned(),
                message: value["errorMessage"].as_str().unwrap_or_default().to_owned(),
            })
        }
    }
}

/// One running function process (a warm Lambda execution environment). Dropping it stops
/// the process, after which invocations of that function wait for a new one.
#[derive(Debug)]
#[must_use = "dropping a FunctionProcess stops the function"]
pub struct FunctionProcess {
    process: ManagedProcess,
    name: String,
}

impl FunctionProcess {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Everything the function logged (JSON lines).
    pub fn logs(&self) -> Vec<String> {
        self.process.logs()
    }

    pub fn pid(&self) -> Option<u32> {
        self.process.id()
    }

    /// SIGKILL: the crash the delivery guarantee must survive.
    pub async fn kill(&mut self) -> Result<()> {
        self.process.kill().await
    }

    /// Wait for the process to exit by itself (e.g. a start-up configuration error).
    pub async fn wait_exit(&mut self, timeout: Duration) -> Result<std::process::ExitStatus> {
        tokio::time::timeout(timeout, self.process.wait())
            .await
            .map_err(|_| Error::msg(format!("{} still running after {timeout:?}", self.name)))?
    }
}
