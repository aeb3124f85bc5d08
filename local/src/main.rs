//! `callmask-local`: serves every function on one port at the template's
//! paths, against the DynamoDB the AWS environment points at (the moto
//! emulator under `make run`). Creates the table if it is missing.
//!
//! Settings: `PORT` (3000), `HOST` (127.0.0.1), `VOICEMAIL_SWEEP_MS` (500)
//! and every function setting (docs/settings.md).

use std::convert::Infallible;
use std::net::SocketAddr;

use anyhow::Context;
use callmask::api::http::ApiError;
use callmask_local::config::LocalConfig;
use callmask_local::{route, to_lambda_request, Stack, MAX_REQUEST_BYTES, ROUTES};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    callmask::telemetry::init();
    if std::env::args().any(|a| a == "--routes") {
        for r in ROUTES {
            println!("{} {} {}", r.method, r.path, r.function.name());
        }
        return Ok(());
    }
    let local = LocalConfig::from_env().context("reading settings")?;
    let listener = bind(&local).await?;
    let addr = listener.local_addr().context("local address")?;
    let state = Stack::from_env().await.context("reading settings")?;
    let store = &state.core.store;
    callmask::store::schema::create_table(store.client(), store.table())
        .await
        .context("creating the table")?;
    prepare_recordings(&state).await?;
    state.announce_signing();
    let state: &'static Stack = Box::leak(Box::new(state));
    // In AWS the DynamoDB stream and a schedule drive the voicemail worker;
    // here a loop sweeps whatever is due.
    let sweep = std::time::Duration::from_millis(local.voicemail_sweep_ms);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(sweep);
        loop {
            tick.tick().await;
            if let Err(e) = state.voicemail.pipeline().sweep().await {
                tracing::warn!(error = %e, "voicemail sweep failed");
            }
        }
    });

    println!(
        "callmask local stack on http://{addr} (table {})",
        state.core.store.table()
    );
    for r in ROUTES {
        println!(
            "  {:<6} http://{addr}{:<22} -> {}",
            r.method,
            r.path,
            r.function.name()
        );
    }
    println!("ready");

    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => { tracing::warn!(error = %e, "accept failed"); continue; }
            },
            _ = &mut shutdown => break,
        };
        tokio::spawn(async move {
            let service = service_fn(move |req| serve(state, req));
            if let Err(e) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(error = %e, "connection ended");
            }
        });
    }
    println!("stopped");
    Ok(())
}

/// The router's port; a busy one says which setting to change.
async fn bind(local: &LocalConfig) -> anyhow::Result<TcpListener> {
    let addr: SocketAddr = format!("{}:{}", local.host, local.port)
        .parse()
        .context("HOST/PORT")?;
    TcpListener::bind(addr).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            anyhow::anyhow!(
                "{addr} is already in use (another `make run`?): set PORT to a free port, e.g. `make run PORT=3100`"
            )
        } else {
            anyhow::Error::new(e).context(format!("binding {addr} (HOST/PORT)"))
        }
    })
}

/// The local stand-ins for what the template creates: the recordings
/// bucket and a verified sender identity.
async fn prepare_recordings(stack: &Stack) -> anyhow::Result<()> {
    let state = &stack.voicemail;
    let bucket = &state.config.recordings_bucket;
    if state
        .bucket
        .client
        .head_bucket()
        .bucket(bucket)
        .send()
        .await
        .is_err()
    {
        state
            .bucket
            .client
            .create_bucket()
            .bucket(bucket)
            .send()
            .await
            .with_context(|| format!("creating bucket {bucket}"))?;
    }
    state
        .mailer
        .client
        .verify_email_identity()
        .email_address(&state.config.sender_email)
        .send()
        .await
        .context("verifying the sender")?;
    println!(
        "recordings bucket {bucket}, sender {}",
        state.config.sender_email
    );
    Ok(())
}

async fn serve(
    state: &'static Stack,
    req: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let resp = match Limited::new(body, MAX_REQUEST_BYTES).collect().await {
        Err(_) => ApiError::new(413, "payload_too_large", "request body too large").into_response(),
        Ok(collected) => match route(parts.method.as_str(), parts.uri.path()) {
            Err(e) => e.into_response(),
            Ok((function, params)) => {
                let req = to_lambda_request(parts, collected.to_bytes().to_vec(), params);
                function.handle(state, req).await
            }
        },
    };
    let (parts, body) = resp.into_parts();
    Ok(hyper::Response::from_parts(
        parts,
        Full::new(Bytes::from(body.to_vec())),
    ))
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return ctrl_c.await.unwrap_or(()),
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
