//! Test support for the end-to-end tests and `make demo`: the local stand-ins (moto, the
//! Partner Central emulator, an EventBridge fault proxy), the AWS resources the functions
//! need, and a Lambda runtime that runs the built function binaries. Every process started
//! here is killed when its handle is dropped, also when a test fails.

pub mod aws;
pub mod contract;
pub mod demo;
pub mod lambda;
pub mod moto;
pub mod process;
pub mod proxy;
pub mod serve;
pub mod session;
pub mod stack;

/// A harness failure, with enough context to act on.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Error(String);

impl Error {
    pub fn msg(message: impl Into<String>) -> Self {
        Error(message.into())
    }

    /// Map an SDK error of `operation`.
    pub fn sdk<E: std::error::Error + 'static>(operation: &'static str) -> impl Fn(E) -> Error {
        move |e| Error(format!("{operation}: {}", aws_sdk_sqs::error::DisplayErrorContext(&e)))
    }

    pub fn build(e: aws_sdk_dynamodb::error::BuildError) -> Error {
        Error(e.to_string())
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// GET a JSON document over plain HTTP (e.g. the emulator's control API).
pub async fn get_json(url: &str) -> Result<serde_json::Value> {
    use http_body_util::BodyExt;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<bytes::Bytes>>();
    let uri: hyper::Uri = url.parse().map_err(|e| Error::msg(format!("{url}: {e}")))?;
    let response = client.get(uri).await.map_err(|e| Error::msg(format!("GET {url}: {e}")))?;
    let body = response.into_body().collect().await.map_err(|e| Error::msg(e.to_string()))?.to_bytes();
    serde_json::from_slice(&body).map_err(|e| Error::msg(format!("GET {url}: not JSON: {e}")))
}
