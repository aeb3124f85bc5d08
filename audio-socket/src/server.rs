//! HTTP in front of the calls: `GET /socket` upgrades to a WebSocket (one
//! call), `GET /health` answers 200 with the live calls (503 while
//! draining). Shutdown: on the first SIGTERM (or Ctrl-C) new calls get 503
//! and live calls go on for `AUDIO_SHUTDOWN_GRACE_SECONDS` (or until a
//! second signal); then every call left is closed (1001) and its recording
//! finished before the process exits.
//!
//! A connection is pending until its first message's token is checked
//! ([`crate::pending`]: at most `AUDIO_MAX_PENDING`, the oldest closed
//! for a newer one); its request headers, and then its first message,
//! each have `AUDIO_CONNECTED_TIMEOUT_SECONDS`. Only a peer with the token
//! takes one of the `AUDIO_MAX_CALLS` call slots (when none is free, its
//! call is closed with 1013), so peers without it cannot lock calls out.

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{header, Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch, Notify};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::WebSocketStream;

use crate::call::{self, CallSettings, End};
use crate::pending::{PendingPlace, PendingPlaces};

/// Once every call is closed, how long their recordings may take to store.
const FINISH_CAP: Duration = Duration::from_secs(120);
/// A request's head (line and headers) and hyper's read buffer: an upgrade
/// request is well under 2 KiB, and each pending connection's memory stays
/// small (hyper's default lets a head grow to ~400 KiB).
const MAX_HEAD_BYTES: usize = 16 * 1024;

/// A connection's upgrade, from its request to the connection's task.
type UpgradeHolder = Arc<Mutex<Option<OnUpgrade>>>;

/// What the server shares between connections.
pub struct Shared {
    pub calls: CallSettings,
    pub max_calls: usize,
    pub grace: Duration,
    pending: Arc<PendingPlaces>,
    live: AtomicUsize,
    draining: AtomicBool,
    ended: Notify,
    closing: watch::Sender<bool>,
}

/// Why a call cannot have a slot.
#[derive(Debug, Clone, Copy)]
enum Refusal {
    Draining,
    Full,
}

impl Refusal {
    fn reason(self) -> &'static str {
        match self {
            Refusal::Draining => "the audio socket is shutting down",
            Refusal::Full => "the audio socket is at AUDIO_MAX_CALLS",
        }
    }

    /// How a greeted call that cannot have a slot is closed.
    fn close(self) -> End {
        match self {
            Refusal::Draining => End::Close(CloseCode::Away, self.reason()),
            Refusal::Full => End::Close(CloseCode::Again, self.reason()),
        }
    }
}

impl Shared {
    pub fn new(
        calls: CallSettings,
        max_calls: usize,
        max_pending: usize,
        grace: Duration,
    ) -> Arc<Self> {
        Arc::new(Self {
            calls,
            max_calls,
            grace,
            pending: PendingPlaces::new(max_pending),
            live: AtomicUsize::new(0),
            draining: AtomicBool::new(false),
            ended: Notify::new(),
            closing: watch::channel(false).0,
        })
    }

    pub fn live_calls(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }

    /// Returns once no call is live.
    async fn all_ended(&self) {
        loop {
            let ended = self.ended.notified();
            tokio::pin!(ended);
            ended.as_mut().enable();
            if self.live_calls() == 0 {
                return;
            }
            ended.await;
        }
    }

    /// Why a call would be refused now, if it would.
    fn refusal(&self) -> Option<Refusal> {
        if self.draining.load(Ordering::SeqCst) {
            Some(Refusal::Draining)
        } else if self.live_calls() >= self.max_calls {
            Some(Refusal::Full)
        } else {
            None
        }
    }

    /// A slot for one more call, unless the server is full or draining.
    fn admit(self: &Arc<Self>) -> Result<Slot, Refusal> {
        if self.draining.load(Ordering::SeqCst) {
            return Err(Refusal::Draining);
        }
        if self.live.fetch_add(1, Ordering::SeqCst) >= self.max_calls {
            self.release();
            return Err(Refusal::Full);
        }
        Ok(Slot(self.clone()))
    }

    fn release(&self) {
        self.live.fetch_sub(1, Ordering::SeqCst);
        self.ended.notify_waiters();
    }
}

/// A live call's place; given back when the call's task ends.
struct Slot(Arc<Shared>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.release();
    }
}

/// Accepts connections until `signals` yields; then drains (see the module
/// doc) and returns when every call has ended.
pub async fn run(listener: TcpListener, shared: Arc<Shared>, mut signals: mpsc::Receiver<()>) {
    let accept = {
        let shared = shared.clone();
        tokio::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => {
                        let _ = stream.set_nodelay(true);
                        // Taken here, in the order of arrival.
                        let place = shared.pending.enter();
                        tokio::spawn(connection(stream, shared.clone(), place));
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
        })
    };
    if signals.recv().await.is_some() {
        shared.draining.store(true, Ordering::SeqCst);
        tracing::info!(
            live_calls = shared.live_calls(),
            grace_seconds = shared.grace.as_secs(),
            "draining: no new calls; live calls go on until they end or the grace period does"
        );
        tokio::select! {
            _ = shared.all_ended() => {}
            _ = tokio::time::sleep(shared.grace) => {}
            _ = signals.recv() => {}
        }
    }
    let left = shared.live_calls();
    if left > 0 {
        tracing::info!(
            live_calls = left,
            "closing the calls left (1001) and finishing their recordings"
        );
    }
    shared.closing.send_replace(true);
    if tokio::time::timeout(FINISH_CAP, shared.all_ended())
        .await
        .is_err()
    {
        tracing::error!(
            live_calls = shared.live_calls(),
            "calls did not finish in time"
        );
    }
    accept.abort();
    tracing::info!("audio socket stopped");
}

/// One TCP connection, pending (see [`crate::pending`]) until its first
/// message's token is checked: HTTP requests until one upgrades, then the
/// WebSocket's first message. Only then does it take a call slot.
async fn connection(stream: TcpStream, shared: Arc<Shared>, mut place: PendingPlace) {
    let upgrade: UpgradeHolder = Arc::default();
    let service = {
        let shared = shared.clone();
        let upgrade = upgrade.clone();
        service_fn(move |req| {
            let resp = route(req, &shared, &upgrade);
            async move { Ok::<_, Infallible>(resp) }
        })
    };
    // Without a timer hyper has no header deadline at all: half a request
    // line held the connection forever. The deadline also ends an idle
    // keep-alive connection (it runs from the end of one request to the
    // next one's last header byte).
    let http = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(shared.calls.connected_timeout)
        .max_buf_size(MAX_HEAD_BYTES)
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    let served = tokio::select! {
        served = http => served,
        _ = place.evicted() => {
            tracing::debug!("pending connection closed to make room for a newer one");
            return;
        }
    };
    if let Err(e) = served {
        tracing::debug!(error = %e, "connection ended");
        return;
    }
    // The connection's requests were served; an upgrade's is ready now.
    let on_upgrade = upgrade.lock().unwrap_or_else(|e| e.into_inner()).take();
    let Some(on_upgrade) = on_upgrade else {
        return;
    };
    let upgraded = match on_upgrade.await {
        Ok(u) => u,
        Err(e) => {
            tracing::debug!(error = %e, "upgrade failed");
            return;
        }
    };
    let Ok(parts) = upgraded.downcast::<TokioIo<TcpStream>>() else {
        tracing::error!("upgraded connection is not a TCP stream");
        return;
    };
    let mut ws = WebSocketStream::from_partially_read(
        parts.io.into_inner(),
        parts.read_buf.to_vec(),
        Role::Server,
        Some(call::websocket_config()),
    )
    .await;
    let connection = uuid::Uuid::new_v4().simple().to_string();
    let mut closing = shared.closing.subscribe();
    let greeted = tokio::select! {
        greeted = call::greet(&mut ws, &shared.calls, &mut closing) => greeted,
        _ = place.evicted() => {
            // Most likely a peer that sends nothing: no close handshake,
            // whose wait would keep its socket open after its place.
            tracing::debug!(conn = %connection, "pending WebSocket closed to make room for a newer one");
            return;
        }
    };
    drop(place);
    let admitted = greeted.and_then(|connected| match shared.admit() {
        Ok(slot) => Ok((connected, slot)),
        Err(refusal) => Err(refusal.close()),
    });
    match admitted {
        Ok((connected, slot)) => {
            call::serve(ws, &shared.calls, connected, connection, closing).await;
            drop(slot);
        }
        Err(end) => call::refuse(ws, end, &connection).await,
    }
}

fn respond(status: StatusCode, body: serde_json::Value) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(body.to_string())));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    resp
}

fn error(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    respond(status, serde_json::json!({"error": message}))
}

fn route(
    req: Request<Incoming>,
    shared: &Shared,
    upgrade: &UpgradeHolder,
) -> Response<Full<Bytes>> {
    match (req.method(), req.uri().path()) {
        (&Method::GET, "/health") => {
            let draining = shared.draining.load(Ordering::SeqCst);
            let status = if draining {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                StatusCode::OK
            };
            respond(
                status,
                serde_json::json!({
                    "status": if draining { "draining" } else { "ok" },
                    "live_calls": shared.live_calls(),
                    "max_calls": shared.max_calls,
                    "pending": shared.pending.len(),
                    "max_pending": shared.pending.max(),
                    "pending_closed_for_newer": shared.pending.evicted(),
                }),
            )
        }
        (&Method::GET, "/socket") => handshake(req, shared, upgrade),
        (_, "/health" | "/socket") => error(StatusCode::METHOD_NOT_ALLOWED, "use GET"),
        _ => error(
            StatusCode::NOT_FOUND,
            "no such path: GET /socket or GET /health",
        ),
    }
}

fn has_token(req: &Request<Incoming>, name: header::HeaderName, token: &str) -> bool {
    req.headers().get_all(name).iter().any(|v| {
        v.to_str()
            .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    })
}

/// Answers the WebSocket handshake (RFC 6455 §4.2.2) and leaves the
/// upgrade for the connection's task (see [`connection`]).
fn handshake(
    mut req: Request<Incoming>,
    shared: &Shared,
    upgrade: &UpgradeHolder,
) -> Response<Full<Bytes>> {
    let is_upgrade = has_token(&req, header::UPGRADE, "websocket")
        && has_token(&req, header::CONNECTION, "upgrade");
    if !is_upgrade {
        let mut resp = error(
            StatusCode::UPGRADE_REQUIRED,
            "a WebSocket upgrade is required",
        );
        resp.headers_mut().insert(
            header::UPGRADE,
            header::HeaderValue::from_static("websocket"),
        );
        return resp;
    }
    if req
        .headers()
        .get(header::SEC_WEBSOCKET_VERSION)
        .is_none_or(|v| v.as_bytes() != b"13")
    {
        let mut resp = error(StatusCode::BAD_REQUEST, "Sec-WebSocket-Version must be 13");
        resp.headers_mut().insert(
            header::SEC_WEBSOCKET_VERSION,
            header::HeaderValue::from_static("13"),
        );
        return resp;
    }
    let Some(key) = req.headers().get(header::SEC_WEBSOCKET_KEY) else {
        return error(StatusCode::BAD_REQUEST, "Sec-WebSocket-Key is missing");
    };
    let accept = derive_accept_key(key.as_bytes());
    // No slot is taken here (the token comes with the first message); a
    // server already full or draining says so now rather than after it.
    if let Some(refusal) = shared.refusal() {
        tracing::warn!(reason = refusal.reason(), "refused a call");
        return error(StatusCode::SERVICE_UNAVAILABLE, refusal.reason());
    }
    *upgrade.lock().unwrap_or_else(|e| e.into_inner()) = Some(hyper::upgrade::on(&mut req));
    let mut resp = Response::new(Full::new(Bytes::new()));
    *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = resp.headers_mut();
    h.insert(
        header::UPGRADE,
        header::HeaderValue::from_static("websocket"),
    );
    h.insert(
        header::CONNECTION,
        header::HeaderValue::from_static("Upgrade"),
    );
    if let Ok(v) = header::HeaderValue::from_str(&accept) {
        h.insert(header::SEC_WEBSOCKET_ACCEPT, v);
    }
    resp
}
