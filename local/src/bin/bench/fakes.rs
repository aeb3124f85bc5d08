//! Local stand-ins for the providers' REST APIs, on a free loopback port.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use callmask::config::{SecretSetting, TwilioConfig};
use http_body_util::Full;
use hyper::body::Bytes;
use tokio::net::TcpListener;

/// Requests a stand-in was asked, per path.
pub type Asked = Arc<Mutex<HashMap<String, usize>>>;

/// Serves `answer(path)` (content type, body) to every request; returns
/// the base URL.
async fn serve(
    answer: impl Fn(&str) -> (&'static str, Vec<u8>) + Send + Sync + 'static,
) -> anyhow::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let answer = Arc::new(answer);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let answer = answer.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(
                    move |req: hyper::Request<hyper::body::Incoming>| {
                        let (content_type, body) = answer(req.uri().path());
                        let mut resp = hyper::Response::new(Full::new(Bytes::from(body)));
                        resp.headers_mut().insert(
                            "content-type",
                            hyper::header::HeaderValue::from_static(content_type),
                        );
                        async move { Ok::<_, std::convert::Infallible>(resp) }
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Ok(format!("http://{addr}"))
}

/// A stand-in for Twilio's REST API: serves any recording.
async fn twilio() -> anyhow::Result<String> {
    serve(|_| ("audio/x-wav", vec![0u8; 16_000 * 10])).await
}

/// The account, signed with a token given as is, on the stand-in.
pub async fn twilio_config() -> anyhow::Result<TwilioConfig> {
    Ok(TwilioConfig {
        account_sid: Some(TWILIO_ACCOUNT.into()),
        auth_token: SecretSetting::Value("bench-token".into()),
        api_base_url: twilio().await?,
    })
}

pub const TWILIO_ACCOUNT: &str = "AC00000000000000000000000000000001";

/// A stand-in for Vonage's REST API (numbers and SMS) answering as Vonage
/// does, counting the requests per path.
pub async fn vonage() -> anyhow::Result<(String, Asked)> {
    let asked: Asked = Arc::default();
    let seen = asked.clone();
    let url = serve(move |path| {
        if let Ok(mut m) = seen.lock() {
            *m.entry(path.to_string()).or_default() += 1;
        }
        (
            "application/json",
            vonage_answer(path).to_string().into_bytes(),
        )
    })
    .await?;
    Ok((url, asked))
}

fn vonage_answer(path: &str) -> serde_json::Value {
    match path {
        "/number/search" => serde_json::json!({
            "count": 50,
            "numbers": (0..50).map(|i| serde_json::json!({
                "country": "GB", "msisdn": format!("4477009007{i:02}"),
                "type": "mobile-lvn", "cost": "1.25", "features": ["VOICE", "SMS"]
            })).collect::<Vec<_>>()
        }),
        "/sms/json" => serde_json::json!({
            "message-count": "1",
            "messages": [{"to": "447700900200", "message-id": "0A0000000123ABCD1",
                "status": "0", "remaining-balance": "3.14", "message-price": "0.03",
                "network": "12345"}]
        }),
        _ => serde_json::json!({"error-code": "200", "error-code-label": "success"}),
    }
}

/// How many times `asked` saw `path`.
pub fn times(asked: &Asked, path: &str) -> usize {
    asked
        .lock()
        .map(|m| m.get(path).copied().unwrap_or(0))
        .unwrap_or(0)
}
