//! Shared state, the listeners and the request layer common to both servers: it classifies
//! the request, applies queued faults, checks the API bearer token and records the exchange.

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::connect_info::{ConnectInfo, Connected};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use axum::serve::{IncomingStream, Listener};
use fastrand::Rng;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use super::FakeOptions;
use super::endpoint::{Endpoint, ServerKind, classify};
use super::faults::{self, Fault, FaultControl};
use super::model::MemberData;
use super::tokens::TokenBook;
use super::trace::LiveRides;
use super::util::lock;

/// The request log keeps at most this many entries (oldest dropped) so a long demo does not
/// grow without bound.
const MAX_RECORDED: usize = 100_000;

/// One request either server received, as the fake saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    /// The raw query string, without `?` (empty when absent).
    pub query: String,
    pub endpoint: Endpoint,
    /// The status sent; 0 when the connection was reset without a response.
    pub status: u16,
    pub user_agent: Option<String>,
    pub peloton_platform: Option<String>,
    /// The request carried an `x-csrf-token` header (the credentials POST of a sign-in).
    pub csrf_header: bool,
    /// The request carried a bearer token the API accepts (always false on the auth server).
    pub authorized: bool,
    /// Size of the response body sent.
    pub response_bytes: usize,
}

pub(crate) struct Shared {
    pub(crate) opts: FakeOptions,
    pub(crate) member: Mutex<MemberData>,
    /// Drives workouts created after start (live demo, `add_workout`), deterministic per seed.
    pub(crate) rng: Mutex<Rng>,
    pub(crate) tokens: Mutex<TokenBook>,
    pub(crate) faults: FaultControl,
    pub(crate) requests: Mutex<VecDeque<RecordedRequest>>,
    pub(crate) auth_url: String,
    /// Live rides. Lock order: `member`, `rng`, then `live`.
    pub(crate) live: Mutex<LiveRides>,
}

impl Shared {
    pub(crate) fn bearer_ok(&self, headers: &HeaderMap) -> bool {
        let Some(value) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        else {
            return false;
        };
        let mut parts = value.splitn(2, ' ');
        let (Some(scheme), Some(token)) = (parts.next(), parts.next()) else {
            return false;
        };
        scheme.eq_ignore_ascii_case("bearer") && lock(&self.tokens).access_valid(token.trim())
    }

    fn record(&self, r: RecordedRequest) {
        let mut log = lock(&self.requests);
        if log.len() >= MAX_RECORDED {
            log.pop_front();
        }
        log.push_back(r);
    }
}

/// A TCP stream a handler can cut: once killed, reads and writes fail, so the server drops
/// the connection without writing a response.
#[derive(Debug)]
pub(crate) struct KillableStream {
    inner: TcpStream,
    killed: Arc<AtomicBool>,
}

impl KillableStream {
    fn dead(&self) -> bool {
        self.killed.load(Ordering::SeqCst)
    }
}

fn reset_error() -> io::Error {
    io::Error::from(io::ErrorKind::ConnectionReset)
}

impl AsyncRead for KillableStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.dead() {
            return Poll::Ready(Err(reset_error()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.dead() {
            return Poll::Ready(Err(reset_error()));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.dead() {
            return Poll::Ready(Err(reset_error()));
        }
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[derive(Debug)]
pub(crate) struct KillableListener {
    inner: TcpListener,
}

impl KillableListener {
    pub(crate) async fn bind() -> io::Result<Self> {
        Ok(Self {
            inner: TcpListener::bind(("127.0.0.1", 0)).await?,
        })
    }
}

impl Listener for KillableListener {
    type Io = KillableStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, addr)) => {
                    // Nagle would add delay to every small JSON answer in tests.
                    let _ = stream.set_nodelay(true);
                    let io = KillableStream {
                        inner: stream,
                        killed: Arc::default(),
                    };
                    return (io, addr);
                }
                // Accept errors (fd exhaustion, aborted handshakes) are transient.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// Per-connection kill switch, handed to the request layer as connect info.
#[derive(Clone, Debug)]
pub(crate) struct ConnHandle(Arc<AtomicBool>);

impl Connected<IncomingStream<'_, KillableListener>> for ConnHandle {
    fn connect_info(stream: IncomingStream<'_, KillableListener>) -> Self {
        Self(Arc::clone(&stream.io().killed))
    }
}

pub(crate) async fn serve(
    listener: KillableListener,
    router: Router,
    mut shutdown: watch::Receiver<bool>,
) {
    let app = router.into_make_service_with_connect_info::<ConnHandle>();
    let _ = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = shutdown.wait_for(|stop| *stop).await;
        })
        .await;
}

#[derive(Clone)]
pub(crate) struct LayerCtx {
    pub(crate) shared: Arc<Shared>,
    pub(crate) server: ServerKind,
}

fn header_string(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

pub(crate) async fn layer(State(ctx): State<LayerCtx>, req: Request, next: Next) -> Response {
    let shared = &ctx.shared;
    let path = req.uri().path().to_owned();
    let endpoint = classify(ctx.server, &path);
    let headers = req.headers();
    let mut rec = RecordedRequest {
        method: req.method().to_string(),
        query: req.uri().query().unwrap_or_default().to_owned(),
        endpoint,
        status: 0,
        user_agent: header_string(headers, "user-agent"),
        peloton_platform: header_string(headers, "peloton-platform"),
        csrf_header: headers.contains_key("x-csrf-token"),
        authorized: ctx.server == ServerKind::Api && shared.bearer_ok(headers),
        response_bytes: 0,
        path,
    };
    let conn = req.extensions().get::<ConnectInfo<ConnHandle>>().cloned();

    let fault = shared.faults.next(endpoint);
    let response = match &fault {
        Some(Fault::Reset) => {
            if let Some(ConnectInfo(ConnHandle(killed))) = conn {
                killed.store(true, Ordering::SeqCst);
            }
            shared.record(rec);
            return Response::new(Body::empty());
        }
        Some(Fault::Oversized { bytes, chunked }) => {
            rec.status = 200;
            rec.response_bytes = *bytes;
            shared.record(rec);
            return faults::oversized(*bytes, *chunked);
        }
        Some(Fault::Delay(d)) => {
            tokio::time::sleep(*d).await;
            inner(ctx.server, rec.authorized, req, next).await
        }
        Some(
            f @ (Fault::Status(_)
            | Fault::RateLimited { .. }
            | Fault::RateLimitedUntil(_)
            | Fault::Html(_)
            | Fault::EmptyBody
            | Fault::Json(_)),
        ) => faults::replacement(ctx.server, f).unwrap_or_else(|| Response::new(Body::empty())),
        Some(Fault::TruncatedJson) | None => inner(ctx.server, rec.authorized, req, next).await,
    };

    let (mut parts, body) = response.into_parts();
    let mut bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
    if fault == Some(Fault::TruncatedJson) {
        bytes.truncate(bytes.len() / 2);
        parts.status = StatusCode::OK;
        parts.headers.remove(header::CONTENT_LENGTH);
    }
    rec.status = parts.status.as_u16();
    rec.response_bytes = bytes.len();
    shared.record(rec);
    Response::from_parts(parts, Body::from(bytes))
}

async fn inner(server: ServerKind, authorized: bool, req: Request, next: Next) -> Response {
    if server == ServerKind::Api && !authorized {
        return faults::not_logged_in();
    }
    next.run(req).await
}
