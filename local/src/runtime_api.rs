//! A local Lambda Runtime API (2018-06-01), enough to run a real function
//! binary the way Lambda does: the binary polls `invocation/next`, handles
//! the event and posts its response. `make bench` uses it to time cold
//! starts from exec to the first response, warm invocations, and peak RSS.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Mutex};

/// How long one invocation may take before the harness gives up.
const INVOCATION_LIMIT: Duration = Duration::from_secs(20);

/// What the function posted for an invocation.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// `response`, or `error` for `invocation/{id}/error` and `init/error`.
    pub outcome: &'static str,
    pub body: String,
    pub at: Instant,
}

impl Invocation {
    /// The HTTP status and body of a `lambda_http` response (API Gateway
    /// payload 2.0 shape).
    pub fn http(&self) -> anyhow::Result<(u16, String)> {
        anyhow::ensure!(self.outcome == "response", "function failed: {}", self.body);
        let v: serde_json::Value =
            serde_json::from_str(&self.body).context("response is not JSON")?;
        let status = v["statusCode"]
            .as_u64()
            .ok_or_else(|| anyhow!("no statusCode in {}", self.body))?;
        Ok((
            status as u16,
            v["body"].as_str().unwrap_or_default().to_string(),
        ))
    }
}

/// One Runtime API endpoint serving one function process at a time.
pub struct RuntimeApi {
    addr: SocketAddr,
    events: mpsc::UnboundedSender<String>,
    done: Mutex<mpsc::UnboundedReceiver<Invocation>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

struct Shared {
    events: Mutex<mpsc::UnboundedReceiver<String>>,
    done: mpsc::UnboundedSender<Invocation>,
    next_id: std::sync::atomic::AtomicU64,
}

impl RuntimeApi {
    pub async fn start() -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (events, events_rx) = mpsc::unbounded_channel();
        let (done_tx, done) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            events: Mutex::new(events_rx),
            done: done_tx,
            next_id: Default::default(),
        });
        let server = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let shared = shared.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req| serve(shared.clone(), req));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Ok(Self {
            addr,
            events,
            done: Mutex::new(done),
            server,
        })
    }

    /// Queues an event for the function's next `invocation/next`.
    pub fn queue(&self, event: String) -> anyhow::Result<()> {
        self.events
            .send(event)
            .map_err(|_| anyhow!("runtime API stopped"))
    }

    /// The next response (or error) a function posts.
    pub async fn next_response(&self) -> anyhow::Result<Invocation> {
        let mut done = self.done.lock().await;
        tokio::time::timeout(INVOCATION_LIMIT, done.recv())
            .await
            .map_err(|_| anyhow!("no response within {INVOCATION_LIMIT:?}"))?
            .ok_or_else(|| anyhow!("runtime API stopped"))
    }

    /// Starts `binary` as Lambda would, pointed at this endpoint.
    pub fn spawn(&self, binary: &Path, env: &[(String, String)]) -> anyhow::Result<Child> {
        let name = binary
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut cmd = Command::new(binary);
        cmd.env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", self.addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", &name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .stdin(Stdio::null());
        // The function's logs, when asked for (they cost nothing measurable
        // either way: Lambda ships stdout to CloudWatch asynchronously).
        if std::env::var_os("BENCH_FUNCTION_LOGS").is_none() {
            cmd.stdout(Stdio::null()).stderr(Stdio::null());
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.spawn()
            .with_context(|| format!("starting {}", binary.display()))
    }
}

/// Exec → first response, the event queued before exec as on a cold start.
/// Returns the time and what the function answered.
pub async fn cold_start(
    binary: &Path,
    env: &[(String, String)],
    event: String,
) -> anyhow::Result<(Duration, Invocation)> {
    let api = RuntimeApi::start().await?;
    api.queue(event)?;
    let started = Instant::now();
    let mut child = api.spawn(binary, env)?;
    let result = api.next_response().await;
    stop(&mut child);
    let invocation = result?;
    Ok((invocation.at - started, invocation))
}

/// Warm invocations of one process (the first, cold, dropped), each
/// measured on its own: the time from queueing its event to its response;
/// that time less what `emulator_time` (the emulator's running total of
/// time spent serving) grew by over the call: the function's own part; and
/// the processor time the process's threads used since the previous call's
/// answer. One mark (emulator total, process CPU) is read after each
/// answer, while the function waits on `invocation/next`: reading it costs
/// the calls nothing, and each call's work is counted once, a tail the
/// function finishes after its answer going to the next call. Also the
/// peak RSS after the last call. `events` makes the n-th event (tokens
/// must be fresh); `check` checks each answer.
pub async fn warm(
    binary: &Path,
    env: &[(String, String)],
    n: usize,
    mut events: impl FnMut(usize) -> String,
    check: impl Fn(&Invocation) -> anyhow::Result<()>,
    emulator_time: impl Fn() -> anyhow::Result<Duration>,
) -> anyhow::Result<Warm> {
    let api = RuntimeApi::start().await?;
    let mut child = api.spawn(binary, env)?;
    let pid = child.id();
    let mut calls = Vec::with_capacity(n);
    let run = async {
        // (emulator total, process CPU) after the previous call's answer.
        let mut mark = (Duration::ZERO, Duration::ZERO);
        for i in 0..n {
            let event = events(i);
            let queued = Instant::now();
            api.queue(event)?;
            let invocation = api.next_response().await?;
            check(&invocation)?;
            let now = (emulator_time()?, cpu_time(pid)?);
            // The first one is the cold start: not a warm figure.
            if i > 0 {
                let wall = invocation.at - queued;
                calls.push(WarmCall {
                    wall,
                    own: wall.saturating_sub(now.0.saturating_sub(mark.0)),
                    cpu: now.1.saturating_sub(mark.1),
                });
            }
            mark = now;
        }
        peak_rss_kib(pid)
    };
    let result = run.await;
    stop(&mut child);
    let peak_rss_kib = result?;
    Ok(Warm {
        calls,
        peak_rss_kib,
    })
}

/// One warm call, as [`warm`] measured it.
#[derive(Debug, Clone, Copy)]
pub struct WarmCall {
    /// Event queued → response.
    pub wall: Duration,
    /// `wall` less the emulator's time serving the call's requests.
    pub own: Duration,
    /// The processor time (user and system) of the function's threads for
    /// the call: its own work, whatever else the machine ran.
    pub cpu: Duration,
}

/// What `warm` measured.
pub struct Warm {
    pub calls: Vec<WarmCall>,
    pub peak_rss_kib: u64,
}

/// The emulator's running total of time spent serving requests
/// (`scripts/stack.py` serves it at `/_emulator/time`).
pub fn emulator_time(endpoint: &str) -> anyhow::Result<Duration> {
    use std::io::{Read, Write};
    let host = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let mut conn = std::net::TcpStream::connect(host)?;
    write!(
        conn,
        "GET /_emulator/time HTTP/1.0\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )?;
    let mut answer = String::new();
    conn.read_to_string(&mut answer)?;
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .ok_or_else(|| anyhow!("no body from the emulator"))?;
    let v: serde_json::Value = serde_json::from_str(body)?;
    let seconds = v["seconds"]
        .as_f64()
        .ok_or_else(|| anyhow!("the emulator does not count its time: {body}"))?;
    Ok(Duration::from_secs_f64(seconds))
}

fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// The processor time all of a process's threads have had: the first
/// field of each `/proc/PID/task/TID/schedstat`, in nanoseconds (exact,
/// where `/proc/PID/stat` counts clock ticks).
pub fn cpu_time(pid: u32) -> anyhow::Result<Duration> {
    let mut total = 0u64;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let path = task?.path().join("schedstat");
        // A thread that ended since the listing has nothing left to count.
        let Ok(stat) = std::fs::read_to_string(&path) else {
            continue;
        };
        total += stat
            .split_whitespace()
            .next()
            .and_then(|ns| ns.parse::<u64>().ok())
            .ok_or_else(|| anyhow!("no run time in {}", path.display()))?;
    }
    Ok(Duration::from_nanos(total))
}

/// VmHWM: the most resident memory the process has had.
pub fn peak_rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .ok_or_else(|| anyhow!("no VmHWM for {pid}"))
}

async fn serve(
    shared: Arc<Shared>,
    req: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_string();
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
        .unwrap_or_default();
    let at = Instant::now();
    let mut resp = hyper::Response::new(Full::new(Bytes::new()));
    if path.ends_with("/runtime/invocation/next") {
        // Long poll, as Lambda does, until an event is queued.
        let Some(event) = shared.events.lock().await.recv().await else {
            *resp.status_mut() = hyper::StatusCode::GONE;
            return Ok(resp);
        };
        let id = shared
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let deadline = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() + INVOCATION_LIMIT.as_millis())
            .unwrap_or_default();
        let headers = [
            ("lambda-runtime-aws-request-id", format!("req-{id}")),
            ("lambda-runtime-deadline-ms", deadline.to_string()),
            (
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:bench".to_string(),
            ),
            (
                "lambda-runtime-trace-id",
                "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1"
                    .to_string(),
            ),
            ("content-type", "application/json".to_string()),
        ];
        for (k, v) in headers {
            if let Ok(v) = v.parse() {
                resp.headers_mut().insert(k, v);
            }
        }
        *resp.body_mut() = Full::new(Bytes::from(event));
        return Ok(resp);
    }
    let outcome = if path.ends_with("/response") {
        "response"
    } else {
        "error"
    };
    let _ = shared.done.send(Invocation { outcome, body, at });
    *resp.status_mut() = hyper::StatusCode::ACCEPTED;
    Ok(resp)
}
