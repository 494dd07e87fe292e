//! The accept loop behind the HTTP endpoints: plain TCP or TLS (from the web config in
//! force when the connection arrives), HTTP/1.1 with a deadline on reading the request
//! head, a cap on open connections, and a graceful shutdown.
//!
//! `axum::serve` has no header-read deadline (hyper needs a timer for it), so a client
//! that sends its request one byte a minute would hold a connection for ever; here it
//! gets [`FIRST_BYTE_TIMEOUT`] to start, [`HEADER_READ_TIMEOUT`] for each request head
//! (which also ends a kept-alive connection idle that long), the TLS handshake
//! [`HANDSHAKE_TIMEOUT`], and the handler the router's own timeout. Idle connections
//! never keep a new client waiting: `connection_slots` closes the oldest idle one to make
//! room.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;

use crate::http::basic_auth::ClientAddr;
use crate::http::connection_slots::{ConnectionSlots, MAX_BEFORE_REQUEST, Slot, Stage};
use crate::http::routes::Scrapes;
use crate::http::web_config::LiveWebConfig;

pub use crate::http::connection_slots::MAX_CONNECTIONS;

/// A client has this long to send its request line and headers (each request of a
/// keep-alive connection too).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// A TLS client has this long to complete its handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// A new connection has this long to send its first byte (a scraper sends at once).
pub const FIRST_BYTE_TIMEOUT: Duration = Duration::from_secs(3);
/// Shutdown waits this long for requests in flight.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Serves `app` on `listener` until `shutdown` turns true. With a web config that has
/// TLS, every connection is TLS, with the certificates in force when it arrives. Without
/// a web config, scrapes are answered by `scrapes` rather than the router.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    scrapes: Scrapes,
    web: Option<Arc<LiveWebConfig>>,
    mut shutdown: watch::Receiver<bool>,
) -> io::Result<()> {
    let slots = ConnectionSlots::new(MAX_CONNECTIONS, MAX_BEFORE_REQUEST);
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        // Waits only while every connection is serving a request.
        tokio::select! {
            () = slots.room() => {}
            () = stopped(&mut shutdown) => break,
        }
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
            web.is_none().then(|| scrapes.clone()),
            app.clone(),
            shutdown.clone(),
            Arc::new(slots.admit(peer.ip())),
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
    scrapes: Option<Scrapes>,
    app: Router,
    mut shutdown: watch::Receiver<bool>,
    slot: Arc<Slot>,
) {
    let _ = stream.set_nodelay(true);
    let mut first = [0u8; 1];
    let arrived = tokio::select! {
        r = tokio::time::timeout(FIRST_BYTE_TIMEOUT, stream.peek(&mut first)) => {
            matches!(r, Ok(Ok(n)) if n > 0)
        }
        () = slot.reclaimed() => false,
        () = stopped(&mut shutdown) => false,
    };
    if !arrived {
        return;
    }
    slot.set(Stage::Started);
    let Some(acceptor) = tls else {
        return http(stream, peer, scrapes, app, shutdown, slot).await;
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
        () = slot.reclaimed() => return,
        () = stopped(&mut shutdown) => return,
    };
    http(stream, peer, scrapes, app, shutdown, slot).await;
}

/// `scrapes`: `None` when a web config is in force, and every request goes through the
/// router (its basic auth budgets failures by client address).
async fn http<I>(
    io: I,
    peer: SocketAddr,
    scrapes: Option<Scrapes>,
    app: Router,
    mut shutdown: watch::Receiver<bool>,
    slot: Arc<Slot>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let busy_slot = slot.clone();
    // Each request holds the slot busy while it is served. Without a web config a scrape
    // is answered at once; under one, each request carries the client's address (basic
    // auth budgets failures by it) to the router.
    let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
        let busy = busy_slot.busy();
        let scrape = scrapes.as_ref().and_then(|s| s.answer(&request));
        if scrapes.is_none() {
            request.extensions_mut().insert(ClientAddr(peer));
        }
        let app = app.clone();
        async move {
            let response = match scrape {
                Some(response) => Ok(response),
                None => app.oneshot(request).await,
            };
            drop(busy);
            response
        }
    });
    // `half_close`: no read while a request is in flight, to notice a client that hung up
    // meanwhile. That read came with every scrape and found the buffer still shared with
    // the request's headers, so hyper allocated a new 8 kB one each time (and musl's
    // malloc mapped and unmapped memory for it). A handler here ends within
    // REQUEST_TIMEOUT anyway, and a client that only shut down its sending side gets its
    // answer.
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .half_close(true)
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
        () = slot.reclaimed() => {}
    }
    // Finish the request in flight (a reclaimed connection has none, or one that began
    // as it was chosen), then close.
    conn.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, conn).await;
}
