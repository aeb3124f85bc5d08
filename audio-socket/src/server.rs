//! HTTP in front of the calls: `GET /socket` upgrades to a WebSocket (one
//! call), `GET /health` answers 200 with the live calls (503 while
//! draining). Shutdown: on the first SIGTERM (or Ctrl-C) new calls get 503
//! and live calls go on for `AUDIO_SHUTDOWN_GRACE_SECONDS` (or until a
//! second signal); then every call left is closed (1001) and its recording
//! finished before the process exits.

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{header, Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch, Notify};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::WebSocketStream;

use crate::call::{self, CallSettings};

/// Once every call is closed, how long their recordings may take to store.
const FINISH_CAP: Duration = Duration::from_secs(120);

/// What the server shares between connections.
pub struct Shared {
    pub calls: CallSettings,
    pub max_calls: usize,
    pub grace: Duration,
    live: AtomicUsize,
    draining: AtomicBool,
    ended: Notify,
    closing: watch::Sender<bool>,
}

impl Shared {
    pub fn new(calls: CallSettings, max_calls: usize, grace: Duration) -> Arc<Self> {
        Arc::new(Self {
            calls,
            max_calls,
            grace,
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

    /// A slot for one more call, unless the server is full or draining.
    fn admit(self: &Arc<Self>) -> Result<Slot, &'static str> {
        if self.draining.load(Ordering::SeqCst) {
            return Err("the audio socket is shutting down");
        }
        if self.live.fetch_add(1, Ordering::SeqCst) >= self.max_calls {
            self.release();
            return Err("the audio socket is at AUDIO_MAX_CALLS");
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
                        tokio::spawn(connection(stream, shared.clone()));
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

async fn connection(stream: TcpStream, shared: Arc<Shared>) {
    let service = service_fn(move |req| {
        let shared = shared.clone();
        async move { Ok::<_, Infallible>(route(req, shared)) }
    });
    if let Err(e) = http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades()
        .await
    {
        tracing::debug!(error = %e, "connection ended");
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

fn route(req: Request<Incoming>, shared: Arc<Shared>) -> Response<Full<Bytes>> {
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
                }),
            )
        }
        (&Method::GET, "/socket") => upgrade(req, shared),
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

/// Answers the WebSocket handshake (RFC 6455 §4.2.2) and hands the
/// upgraded connection to a call task.
fn upgrade(req: Request<Incoming>, shared: Arc<Shared>) -> Response<Full<Bytes>> {
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
    let slot = match shared.admit() {
        Ok(slot) => slot,
        Err(why) => {
            tracing::warn!(reason = why, "refused a call");
            return error(StatusCode::SERVICE_UNAVAILABLE, why);
        }
    };
    let connection = uuid::Uuid::new_v4().simple().to_string();
    tokio::spawn(async move {
        let shared = &slot.0;
        let upgraded = match hyper::upgrade::on(req).await {
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
        let ws = WebSocketStream::from_partially_read(
            parts.io.into_inner(),
            parts.read_buf.to_vec(),
            Role::Server,
            Some(call::websocket_config()),
        )
        .await;
        call::serve(ws, &shared.calls, connection, shared.closing.subscribe()).await;
    });
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
