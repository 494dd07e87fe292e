//! The accept loop behind the HTTP endpoints: plain TCP or TLS (from the web config in
//! force when the connection arrives), HTTP/1.1 with a deadline on reading the request
//! head, a cap on open connections, and a graceful shutdown.
//!
//! `axum::serve` has no header-read deadline (hyper needs a timer for it), so a client
//! that sends its request one byte a minute would hold a connection for ever; here it
//! gets [`HEADER_READ_TIMEOUT`], the TLS handshake [`HANDSHAKE_TIMEOUT`], and the
//! handler the router's own timeout.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::http::web_config::LiveWebConfig;

/// A client has this long to send its request line and headers (each request of a
/// keep-alive connection too).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// A TLS client has this long to complete its handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Open connections at most; more wait in the kernel's accept queue. Prometheus keeps
/// one per target; a few hundred leaves room for people and probes.
pub const MAX_CONNECTIONS: usize = 512;
/// Shutdown waits this long for requests in flight.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Serves `app` on `listener` until `shutdown` turns true. With a web config that has
/// TLS, every connection is TLS, with the certificates in force when it arrives.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    web: Option<Arc<LiveWebConfig>>,
    mut shutdown: watch::Receiver<bool>,
) -> io::Result<()> {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = stopped(&mut shutdown) => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors, or a connection reset while queued: not
                    // fatal; back off a little so a full fd table does not spin.
                    tracing::debug!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            () = stopped(&mut shutdown) => break,
        };
        let tls = web.as_ref().and_then(|w| w.current().tls().cloned());
        connections.spawn(connection(
            stream,
            peer,
            tls.map(TlsAcceptor::from),
            app.clone(),
            shutdown.clone(),
            permit,
        ));
    }
    drop(listener);
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            open = connections.len(),
            "closing connections still open after the shutdown grace period"
        );
    }
    Ok(())
}

/// Resolves once `shutdown` is true (or its sender is gone).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    tls: Option<TlsAcceptor>,
    app: Router,
    mut shutdown: watch::Receiver<bool>,
    _slot: OwnedSemaphorePermit,
) {
    let _ = stream.set_nodelay(true);
    let Some(acceptor) = tls else {
        return http(stream, app, shutdown).await;
    };
    let handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream));
    let stream = tokio::select! {
        r = handshake => match r {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                tracing::debug!(%peer, error = %e, "TLS handshake failed");
                return;
            }
            Err(_) => {
                tracing::debug!(%peer, "TLS handshake timed out");
                return;
            }
        },
        () = stopped(&mut shutdown) => return,
    };
    http(stream, app, shutdown).await;
}

async fn http<I>(io: I, app: Router, mut shutdown: watch::Receiver<bool>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = TowerToHyperService::new(app);
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    tokio::select! {
        r = conn.as_mut() => {
            if let Err(e) = r {
                tracing::trace!(error = %e, "connection ended with an error");
            }
            return;
        }
        () = stopped(&mut shutdown) => {}
    }
    // Finish the request in flight, then close.
    conn.as_mut().graceful_shutdown();
    let _ = conn.await;
}
