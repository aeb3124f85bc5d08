//! A WebSocket client that speaks to the socket as Vonage does: the
//! `websocket:connected` message, then 20 ms frames, paced at real time or
//! sent as fast as the connection takes them. The tests and `make bench`
//! use it; every frame's bytes are known, so an echo can be checked byte
//! for byte and timed frame by frame.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type ClientWs = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Connects with Nagle's algorithm off, as a media client sends: 20 ms
/// frames must not wait for the previous one's ACK.
pub async fn connect(url: &str) -> Result<ClientWs, String> {
    tokio_tungstenite::connect_async_with_config(url, None, true)
        .await
        .map(|(ws, _)| ws)
        .map_err(|e| format!("connect {url}: {e}"))
}

/// The first message Vonage sends, with the answer's headers.
pub fn connected_message(rate: u32, headers: &[(&str, &str)]) -> String {
    let mut m = serde_json::Map::new();
    m.insert("event".into(), "websocket:connected".into());
    m.insert(
        "content-type".into(),
        format!("audio/l16;rate={rate}").into(),
    );
    for (k, v) in headers {
        m.insert((*k).into(), (*v).into());
    }
    serde_json::Value::Object(m).to_string()
}

/// Frame `i` of call `call`: distinct bytes, so a frame out of order, lost
/// or altered shows.
pub fn frame(call: u32, i: u32, size: usize) -> Vec<u8> {
    let mut f = Vec::with_capacity(size);
    let seed = call.wrapping_mul(0x9E37_79B9) ^ i.wrapping_mul(0x85EB_CA6B);
    let mut x = seed | 1;
    while f.len() < size {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        f.extend_from_slice(&x.to_le_bytes());
    }
    f.truncate(size);
    if size >= 8 {
        f[0..4].copy_from_slice(&call.to_le_bytes());
        f[4..8].copy_from_slice(&i.to_le_bytes());
    }
    f
}

/// What an echoed call saw.
#[derive(Debug, Default)]
pub struct EchoReport {
    pub frames: usize,
    /// Frame sent → the same frame back, per frame.
    pub latencies: Vec<Duration>,
    /// The server's answer to our close.
    pub close_code: Option<u16>,
    /// From before the connect to the first frame back: what a caller
    /// waits for before it hears the call.
    pub first_echo: Option<Duration>,
}

/// One call in echo mode: `frames` frames of `rate`'s size, every `pace`
/// (`None`: as fast as the socket takes them). Fails on the first frame
/// that comes back different, short, or out of order.
pub async fn echo_call(
    url: &str,
    call: u32,
    rate: u32,
    frames: u32,
    pace: Option<Duration>,
    headers: &[(&str, &str)],
) -> Result<EchoReport, String> {
    let size = (rate as usize / 50) * 2;
    let started = Instant::now();
    let mut ws = connect(url).await?;
    ws.send(Message::text(connected_message(rate, headers)))
        .await
        .map_err(|e| format!("connected: {e}"))?;
    let (mut tx, mut rx) = ws.split();
    let (times_tx, mut times_rx) = tokio::sync::mpsc::unbounded_channel::<Instant>();
    let writer = tokio::spawn(async move {
        let mut tick = pace.map(|p| {
            let mut t = tokio::time::interval(p);
            t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            t
        });
        for i in 0..frames {
            if let Some(t) = tick.as_mut() {
                t.tick().await;
            }
            let _ = times_tx.send(Instant::now());
            tx.send(Message::binary(frame(call, i, size)))
                .await
                .map_err(|e| format!("send frame {i}: {e}"))?;
        }
        Ok::<_, String>(tx)
    });
    let mut report = EchoReport::default();
    let deadline = Duration::from_secs(30) + pace.unwrap_or_default() * frames;
    let read = async {
        while report.frames < frames as usize {
            match rx.next().await {
                Some(Ok(Message::Binary(b))) => {
                    let i = report.frames as u32;
                    if b.len() != size {
                        return Err(format!("frame {i}: {} bytes, not {size}", b.len()));
                    }
                    if b[..] != frame(call, i, size)[..] {
                        return Err(format!("frame {i} came back altered or out of order"));
                    }
                    if report.first_echo.is_none() {
                        report.first_echo = Some(started.elapsed());
                    }
                    let sent = times_rx.recv().await.ok_or("no send time")?;
                    report.latencies.push(sent.elapsed());
                    report.frames += 1;
                }
                Some(Ok(Message::Close(c))) => {
                    return Err(format!("closed after {} frames: {c:?}", report.frames))
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(format!("after {} frames: {e}", report.frames)),
                None => return Err(format!("ended after {} frames", report.frames)),
            }
        }
        Ok(())
    };
    tokio::time::timeout(deadline, read)
        .await
        .map_err(|_| format!("timed out after {} frames", report.frames))??;
    let tx = writer.await.map_err(|e| format!("writer: {e}"))??;
    let mut ws = tx.reunite(rx).map_err(|_| "reunite")?;
    ws.close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: "done".into(),
    }))
    .await
    .map_err(|e| format!("close: {e}"))?;
    report.close_code = close_code(&mut ws).await;
    Ok(report)
}

/// Reads until the server's close frame and gives its code; `None` when
/// the connection ends without one (or nothing comes within 10 s).
pub async fn close_code(ws: &mut ClientWs) -> Option<u16> {
    let wait = async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                _ => return None,
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), wait)
        .await
        .ok()
        .flatten()
}
