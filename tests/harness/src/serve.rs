//! A loopback HTTP/1 server, for what the tests put between a function and a service (the
//! EventBridge fault proxy, the bench's tap, the bench's Lambda Runtime API).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::{Error, Result};

/// A running server: stops accepting when dropped (share it behind an `Arc` to clone).
#[derive(Debug)]
pub struct Loopback {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Loopback {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Listen on a free loopback port; every request goes to `handle` with `state`. `name`: in
/// the debug line of a connection that ended with an error.
pub async fn serve_loopback<State, Handle, Fut>(
    name: &'static str,
    state: Arc<State>,
    handle: Handle,
) -> Result<Loopback>
where
    State: Send + Sync + 'static,
    Handle: Fn(Arc<State>, Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.map_err(|e| Error::msg(format!("{name}: bind: {e}")))?;
    let addr = listener.local_addr().map_err(|e| Error::msg(format!("{name}: {e}")))?;
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (state, handle) = (state.clone(), handle.clone());
            tokio::spawn(async move {
                let service = service_fn(move |req| {
                    let response = handle(state.clone(), req);
                    async move { Ok::<_, std::convert::Infallible>(response.await) }
                });
                if let Err(e) = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await {
                    tracing::debug!(error = %e, "{name} connection ended");
                }
            });
        }
    });
    Ok(Loopback { addr, task })
}
