//! Serving connections: HTTP/1.1 only, which is all the cloud speaks (its TLS
//! offers only `http/1.1` by ALPN), with upgrades for the WebSockets.
//!
//! Not `axum::serve`: that wraps every connection to detect HTTP/2 and keeps the
//! larger state that needs for the connection's whole life. Here an idle event
//! stream holds hyper's HTTP/1 connection and nothing else (SPEC §8: memory per
//! connection), and small writes (events, frames) leave at once (no Nagle delay).

use std::future::Future;

use axum::Router;
use axum::serve::Listener;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;

/// Sets what every accepted socket needs before it is served.
pub trait Prepare {
    /// Turns Nagle's algorithm off.
    fn prepare(&self);
    /// The client's address, for rate limits.
    fn peer_ip(&self) -> Option<std::net::IpAddr>;
}

impl Prepare for tokio::net::TcpStream {
    fn prepare(&self) {
        let _ = self.set_nodelay(true);
    }
    fn peer_ip(&self) -> Option<std::net::IpAddr> {
        self.peer_addr().ok().map(|a| a.ip())
    }
}

impl Prepare for tokio_rustls::server::TlsStream<tokio::net::TcpStream> {
    fn prepare(&self) {
        let _ = self.get_ref().0.set_nodelay(true);
    }
    fn peer_ip(&self) -> Option<std::net::IpAddr> {
        self.get_ref().0.peer_addr().ok().map(|a| a.ip())
    }
}

/// The address the request came from (the TCP peer), set on every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub std::net::IpAddr);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<ClientIp>()
            .copied()
            .unwrap_or(ClientIp(std::net::IpAddr::V4(
                std::net::Ipv4Addr::UNSPECIFIED,
            ))))
    }
}

/// Serves `app` on `listener` until `shutdown` resolves; then stops accepting and
/// waits for the connections to finish (long streams end on the cloud's `stopping`).
pub async fn http1<L>(mut listener: L, app: Router, shutdown: impl Future<Output = ()>)
where
    L: Listener,
    L::Io: Prepare + tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    // Every connection holds a receiver; the sender learns when the last one is gone.
    let (stop, stopped) = tokio::sync::watch::channel(());
    let mut http = hyper::server::conn::http1::Builder::new();
    // The timer enforces hyper's header read timeout (slow clients cannot hold a socket).
    http.timer(TokioTimer::new());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (io, _) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        io.prepare();
        let peer = io.peer_ip();
        let service = tower::ServiceExt::map_request(
            app.clone(),
            move |mut request: axum::http::Request<hyper::body::Incoming>| {
                if let Some(ip) = peer {
                    request.extensions_mut().insert(ClientIp(ip));
                }
                request
            },
        );
        let connection = http
            .serve_connection(TokioIo::new(io), TowerToHyperService::new(service))
            .with_upgrades();
        let mut stopping = stopped.clone();
        tokio::spawn(async move {
            let mut connection = std::pin::pin!(connection);
            let ended = tokio::select! {
                ended = connection.as_mut() => ended,
                _ = stopping.changed() => {
                    // Finish the request in flight, then close.
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(e) = ended {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    drop(stopped);
    let _ = stop.send(());
    stop.closed().await;
}
