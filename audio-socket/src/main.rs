//! `audio-socket`: serves `ws://AUDIO_HOST:AUDIO_PORT/socket` (see the
//! crate docs and docs/settings.md for settings).
//! `audio-socket --health` is the container's health check.

use std::time::Duration;

use anyhow::Context;
use audio_socket::call::CallSettings;
use audio_socket::config::{AudioSocketConfig, DEFAULT_PORT};
use audio_socket::recorder::Recorder;
use audio_socket::server::{self, Shared};
use tokio::net::TcpListener;

fn main() -> anyhow::Result<()> {
    if std::env::args().any(|a| a == "--health") {
        let port = std::env::var("AUDIO_PORT")
            .ok()
            .and_then(|p| p.parse().ok())
            .unwrap_or(DEFAULT_PORT);
        std::process::exit(if audio_socket::probe::healthy(port) {
            0
        } else {
            1
        });
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?
        .block_on(serve())
}

async fn serve() -> anyhow::Result<()> {
    callmask::telemetry::init();
    let config = AudioSocketConfig::from_env().context("reading settings")?;
    let (core, sdk) = callmask::core::Core::load(callmask::aws::BACKGROUND)
        .await
        .context("reading settings")?;
    let token = core.secret(
        &config.socket_token,
        "audio_socket_token",
        &sdk,
        callmask::aws::BACKGROUND,
    );
    if !token.is_configured() {
        tracing::warn!("AUDIO_SOCKET_TOKEN is not set: anyone who finds the socket URL can stream to it (set AUDIO_SOCKET_TOKEN_SECRET_ID in AWS)");
    }
    let files = audio_socket::limits::raise_open_files();
    // Calls and pending connections, and some for the process's own files.
    let needed = (config.max_calls + config.max_pending + 64) as u64;
    if files.allows(needed) {
        tracing::info!(before = ?files.before, now = ?files.now, "open-file limit");
    } else {
        tracing::warn!(
            limit = ?files.now,
            needed,
            "the open-file limit is below AUDIO_MAX_CALLS + AUDIO_MAX_PENDING: past it new connections wait unaccepted (raise the container's nofile ulimit)"
        );
    }
    tokio::fs::create_dir_all(&config.spool_dir)
        .await
        .with_context(|| format!("AUDIO_SPOOL_DIR {}", config.spool_dir.display()))?;
    let recorder = Recorder {
        s3: callmask::aws::s3(&sdk, callmask::aws::BULK),
        store: core.store.clone(),
        bucket: config.recordings_bucket.clone(),
        spool_dir: config.spool_dir.clone(),
        max_recording_seconds: config.max_recording_seconds,
    };
    let calls = CallSettings {
        token,
        recorder,
        idle: Duration::from_secs(config.idle_timeout_seconds),
        connected_timeout: Duration::from_secs(config.connected_timeout_seconds),
        send_queue_frames: config.send_queue_frames,
    };
    let shared = Shared::new(
        calls,
        config.max_calls,
        config.max_pending,
        Duration::from_secs(config.shutdown_grace_seconds),
    );
    let addr = format!("{}:{}", config.host, config.port);
    let listener = TcpListener::bind(&addr)
        .await
        .with_context(|| format!("binding {addr} (AUDIO_HOST/AUDIO_PORT)"))?;
    let addr = listener.local_addr().context("local address")?;
    println!(
        "audio socket on ws://{addr}/socket (health http://{addr}/health, recordings to s3://{}/audio/)",
        config.recordings_bucket
    );
    let (signal_tx, signals) = tokio::sync::mpsc::channel(4);
    tokio::spawn(async move {
        let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        else {
            return;
        };
        loop {
            tokio::select! {
                _ = term.recv() => {},
                _ = tokio::signal::ctrl_c() => {},
            }
            if signal_tx.send(()).await.is_err() {
                return;
            }
        }
    });
    server::run(listener, shared, signals).await;
    Ok(())
}
