//! One call on the socket, as Vonage speaks it: a text `websocket:connected`
//! first (content type, the answer's headers), then 20 ms binary frames of
//! 16-bit mono PCM and the odd text event (`websocket:dtmf`, ...).
//!
//! Close codes (RFC 6455 §7.4.1) the server sends:
//!
//! | code | when |
//! |---|---|
//! | 1000 | the peer closed: its close is answered with the same code |
//! | 1001 | idle: nothing received for `AUDIO_IDLE_TIMEOUT_SECONDS`; the server is shutting down |
//! | 1002 | a WebSocket protocol error (unmasked or malformed frames, bad opcodes) |
//! | 1003 | text where audio is expected (a text message that is not a JSON event); a content type other than `audio/l16` at 8, 16 or 24 kHz |
//! | 1007 | text that is not UTF-8; a first message that is not JSON |
//! | 1008 | the first message is not `websocket:connected` (or none came within `AUDIO_CONNECTED_TIMEOUT_SECONDS`); a missing or wrong `token`; an unknown `mode`; record mode without a `call_uuid`; a peer that does not read the audio sent back |
//! | 1009 | a message or frame larger than 64 KiB |
//! | 1011 | the server cannot check the token now, or cannot record |
//! | 1013 | the token was good but the server is at `AUDIO_MAX_CALLS` (a slot is only taken then: see `server`) |
//!
//! Memory per call is bounded: frames for the peer wait in a queue of
//! `AUDIO_SEND_QUEUE_FRAMES` (1 s) plus one largest message. A full queue
//! stops the call's reading (so TCP slows a peer that sends faster than it
//! reads); when it stays full for 2 s, or one write stalls for 2 s, the
//! peer is not reading and the call is closed (1008) rather than buffering
//! without limit. Recorded audio goes to a spool file, not memory.

use std::time::{Duration, Instant};

use bytes::Bytes;
use callmask::audio::{same_secret, valid_call_id, AudioMode, SampleRate};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::error::ProtocolError;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;
use tracing::Instrument;

use crate::recorder::{CallInfo, Recorder, Recording};

pub type Ws = WebSocketStream<TcpStream>;

/// The largest message or frame a peer may send.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// One write to the peer taking longer than this: it is not reading.
const WRITE_STALL: Duration = Duration::from_secs(2);
/// How long a close handshake may take before the connection is dropped.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// The WebSocket limits every call gets.
pub fn websocket_config() -> WebSocketConfig {
    WebSocketConfig::default()
        // A frame is 640 bytes: small reads, small idle calls.
        .read_buffer_size(8 * 1024)
        // Every frame goes out as soon as it is sent.
        .write_buffer_size(0)
        .max_write_buffer_size(MAX_MESSAGE_BYTES * 2)
        .max_message_size(Some(MAX_MESSAGE_BYTES))
        .max_frame_size(Some(MAX_MESSAGE_BYTES))
}

/// What every call shares.
pub struct CallSettings {
    pub token: callmask::secrets::Secret,
    pub recorder: Recorder,
    pub idle: Duration,
    pub connected_timeout: Duration,
    pub send_queue_frames: usize,
}

/// How a call ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum End {
    /// The peer sent a close frame.
    PeerClosed(Option<u16>),
    /// We close with this code.
    Close(CloseCode, &'static str),
    /// The connection is gone (reset, EOF, write failure): nothing to send.
    Gone,
}

/// The first message's content.
#[derive(Debug)]
pub struct Connected {
    pub rate: SampleRate,
    pub mode: AudioMode,
    /// Valid call ids only ([`valid_call_id`]); others are left out.
    pub call_uuid: Option<String>,
    pub conversation_uuid: Option<String>,
}

fn end_for_error(e: &WsError) -> End {
    match e {
        WsError::Capacity(_) => End::Close(CloseCode::Size, "message larger than 64 KiB"),
        WsError::Utf8(_) => End::Close(CloseCode::Invalid, "text is not UTF-8"),
        WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => End::Gone,
        WsError::Protocol(_) => End::Close(CloseCode::Protocol, "WebSocket protocol error"),
        _ => End::Gone,
    }
}

/// The call's beginning, before it has a call slot: the first message
/// within `AUDIO_CONNECTED_TIMEOUT_SECONDS`, its token checked, then its
/// settings. `closing` turns true when the server stops.
pub(crate) async fn greet(
    ws: &mut Ws,
    settings: &CallSettings,
    closing: &mut watch::Receiver<bool>,
) -> Result<Connected, End> {
    let first = tokio::select! {
        biased;
        _ = closing.wait_for(|c| *c) => Err(End::Close(CloseCode::Away, "server shutting down")),
        first = tokio::time::timeout(settings.connected_timeout, first_message(ws)) => match first {
            Ok(first) => first,
            Err(_) => Err(End::Close(CloseCode::Policy, "no websocket:connected in time")),
        },
    };
    admit(&first?, settings).await
}

/// Ends a connection that did not become a call, as `end` says.
pub(crate) async fn refuse(ws: Ws, end: End, connection: &str) {
    tracing::info!(
        conn = %connection,
        end = ?end,
        "call refused before it started"
    );
    finish(ws, &end).await;
}

/// Serves one call, greeted and given its slot, to its end. `closing`
/// turns true when the server stops.
pub(crate) async fn serve(
    ws: Ws,
    settings: &CallSettings,
    connected: Connected,
    connection: String,
    mut closing: watch::Receiver<bool>,
) {
    let started = Instant::now();
    let call = connected.call_uuid.clone().unwrap_or_else(|| "-".into());
    let span = tracing::info_span!("call", call = %call, conn = %connection);
    async move {
        tracing::info!(
            mode = connected.mode.as_str(),
            rate = connected.rate.hz(),
            conversation = connected.conversation_uuid.as_deref().unwrap_or("-"),
            "call connected"
        );
        let recording = match (connected.mode, &connected.call_uuid) {
            (AudioMode::Record, Some(call_uuid)) => {
                let info = CallInfo {
                    call_uuid: call_uuid.clone(),
                    conversation_uuid: connected.conversation_uuid.clone(),
                    connection: connection.clone(),
                    rate: connected.rate,
                };
                match settings.recorder.start(info).await {
                    Ok(r) => Some(r),
                    Err(e) => {
                        tracing::error!(error = %e, "cannot record this call");
                        finish(ws, &End::Close(CloseCode::Error, "cannot record now")).await;
                        return;
                    }
                }
            }
            _ => None,
        };
        let (end, stats, recording) =
            stream_audio(ws, settings, &connected, recording, &mut closing).await;
        tracing::info!(
            end = ?end,
            seconds = started.elapsed().as_secs_f64(),
            frames_in = stats.frames_in,
            bytes_in = stats.bytes_in,
            frames_out = stats.frames_out,
            "call ended"
        );
        if let Some(recording) = recording {
            let spool = recording.spool_path().display().to_string();
            match recording.finish(&settings.recorder).await {
                Ok(rec) => tracing::info!(
                    key = %rec.s3_key,
                    duration_ms = rec.duration_ms,
                    truncated = rec.truncated,
                    "recording stored"
                ),
                Err(e) => tracing::error!(
                    error = %e,
                    spool = %spool,
                    "recording NOT stored; its audio stays in the spool file"
                ),
            }
        }
    }
    .instrument(span)
    .await;
}

#[derive(Default)]
struct Stats {
    frames_in: u64,
    bytes_in: u64,
    frames_out: u64,
}

/// The first data message, as text; anything else ends the call.
async fn first_message(ws: &mut Ws) -> Result<String, End> {
    loop {
        match ws.next().await {
            None => return Err(End::Gone),
            Some(Err(e)) => return Err(end_for_error(&e)),
            Some(Ok(Message::Text(t))) => return Ok(t.as_str().to_string()),
            Some(Ok(Message::Binary(_))) => {
                return Err(End::Close(
                    CloseCode::Policy,
                    "the first message must be websocket:connected",
                ))
            }
            Some(Ok(Message::Close(frame))) => {
                return Err(End::PeerClosed(frame.map(|f| u16::from(f.code))))
            }
            Some(Ok(_)) => continue,
        }
    }
}

/// Parses `websocket:connected` and checks the token, then the settings.
async fn admit(text: &str, settings: &CallSettings) -> Result<Connected, End> {
    let msg = connected_message(text)?;
    // The token first: a caller without it learns nothing else.
    let expected = match settings.token.get().await {
        Ok(expected) => expected,
        Err(e) => {
            tracing::error!(error = %e, "audio socket token unavailable");
            return Err(End::Close(CloseCode::Error, "cannot check the token now"));
        }
    };
    check_connected(&msg, expected.as_deref())
}

/// The first message as [`serve`] judges it once the token is at hand
/// (`None`: none is required): the call's settings, or the close code it
/// ends the call with. No I/O: the fuzz targets call it.
#[doc(hidden)]
pub fn judge_first_message(text: &str, expected_token: Option<&str>) -> Result<Connected, u16> {
    let close = |end: End| match end {
        End::Close(code, _) => u16::from(code),
        End::PeerClosed(code) => code.unwrap_or(1000),
        End::Gone => 1006,
    };
    let msg = connected_message(text).map_err(close)?;
    check_connected(&msg, expected_token).map_err(close)
}

/// The first message's object, if it is JSON and a `websocket:connected`.
fn connected_message(text: &str) -> Result<serde_json::Map<String, Value>, End> {
    let Ok(value) = serde_json::from_str::<Value>(text) else {
        return Err(End::Close(
            CloseCode::Invalid,
            "the first message is not JSON",
        ));
    };
    match value {
        Value::Object(msg)
            if msg.get("event").and_then(Value::as_str) == Some("websocket:connected") =>
        {
            Ok(msg)
        }
        _ => Err(End::Close(
            CloseCode::Policy,
            "the first message must be websocket:connected",
        )),
    }
}

/// The token (when one is expected), then the content type, mode and ids.
fn check_connected(
    msg: &serde_json::Map<String, Value>,
    expected_token: Option<&str>,
) -> Result<Connected, End> {
    if let Some(expected) = expected_token {
        let given = msg.get("token").and_then(Value::as_str).unwrap_or("");
        if !same_secret(given, expected) {
            return Err(End::Close(CloseCode::Policy, "missing or wrong token"));
        }
    }
    let Some(rate) = msg
        .get("content-type")
        .and_then(Value::as_str)
        .and_then(SampleRate::from_content_type)
    else {
        return Err(End::Close(
            CloseCode::Unsupported,
            "content-type must be audio/l16 at 8000, 16000 or 24000 Hz",
        ));
    };
    let mode = match msg.get("mode") {
        None | Some(Value::Null) => AudioMode::Echo,
        Some(v) => match v.as_str().and_then(AudioMode::parse) {
            Some(m) => m,
            None => return Err(End::Close(CloseCode::Policy, "mode must be echo or record")),
        },
    };
    let id = |name: &str| {
        msg.get(name)
            .and_then(Value::as_str)
            .filter(|s| valid_call_id(s))
            .map(str::to_string)
    };
    let call_uuid = id("call_uuid");
    if mode == AudioMode::Record && call_uuid.is_none() {
        return Err(End::Close(
            CloseCode::Policy,
            "record mode needs a call_uuid header",
        ));
    }
    Ok(Connected {
        rate,
        mode,
        call_uuid,
        conversation_uuid: id("conversation_uuid"),
    })
}

/// A text message mid-call: the event's name for the log (`-` when it has
/// none, or one longer than 64 bytes; never its other fields: a DTMF digit
/// can be a PIN), or `None` when it is not a JSON event (the call is then
/// closed 1003).
#[doc(hidden)]
pub fn event_name(text: &str) -> Option<String> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(event)) => Some(
            event
                .get("event")
                .and_then(Value::as_str)
                .filter(|e| e.len() <= 64)
                .unwrap_or("-")
                .to_string(),
        ),
        _ => None,
    }
}

/// How the writer task stopped.
#[derive(Debug, PartialEq)]
enum WriterEnd {
    /// The queue was closed and emptied.
    Drained,
    /// Told to stop.
    Stopped,
    /// A write stalled: the peer is not reading.
    Stalled,
    /// A write failed: the connection is gone.
    Failed,
}

type Sink = SplitSink<Ws, Message>;

async fn write_frames(
    mut sink: Sink,
    mut queue: mpsc::Receiver<Bytes>,
    mut stop: watch::Receiver<bool>,
) -> (Sink, WriterEnd) {
    loop {
        let frame = tokio::select! {
            biased;
            _ = stop.wait_for(|s| *s) => return (sink, WriterEnd::Stopped),
            frame = queue.recv() => frame,
        };
        let Some(frame) = frame else {
            return (sink, WriterEnd::Drained);
        };
        match tokio::time::timeout(WRITE_STALL, sink.send(Message::Binary(frame))).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return (sink, WriterEnd::Failed),
            Err(_) => return (sink, WriterEnd::Stalled),
        }
    }
}

/// The call's audio until it ends: echoed back or recorded.
async fn stream_audio(
    ws: Ws,
    settings: &CallSettings,
    call: &Connected,
    mut recording: Option<Recording>,
    closing: &mut watch::Receiver<bool>,
) -> (End, Stats, Option<Recording>) {
    let frame = call.rate.frame_bytes();
    let echo = call.mode == AudioMode::Echo;
    // 1 s of frames plus one largest message, re-framed.
    let capacity = settings.send_queue_frames + MAX_MESSAGE_BYTES.div_ceil(frame) + 1;
    let (tx, rx) = mpsc::channel::<Bytes>(capacity);
    let (stop_tx, stop_rx) = watch::channel(false);
    let (sink, mut stream): (Sink, SplitStream<Ws>) = ws.split();
    let mut writer = tokio::spawn(write_frames(sink, rx, stop_rx));
    let mut writer_out: Option<(Sink, WriterEnd)> = None;
    let mut reframer = crate::reframe::Reframer::new(frame);
    let mut frames = Vec::new();
    let mut stats = Stats::default();
    let end = 'call: loop {
        let next = tokio::select! {
            biased;
            _ = closing.wait_for(|c| *c) => break End::Close(CloseCode::Away, "server shutting down"),
            out = &mut writer, if writer_out.is_none() => {
                match out {
                    Ok((sink, how)) => {
                        let end = if how == WriterEnd::Stalled {
                            End::Close(CloseCode::Policy, "the peer is not reading its audio")
                        } else {
                            End::Gone
                        };
                        writer_out = Some((sink, how));
                        break end;
                    }
                    // The writer is gone and took the sink with it.
                    Err(_) => return (End::Gone, stats, recording),
                }
            }
            next = tokio::time::timeout(settings.idle, stream.next()) => next,
        };
        let msg = match next {
            Err(_) => break End::Close(CloseCode::Away, "idle timeout"),
            Ok(None) => break End::Gone,
            Ok(Some(Err(e))) => break end_for_error(&e),
            Ok(Some(Ok(msg))) => msg,
        };
        match msg {
            Message::Binary(data) => {
                stats.frames_in += 1;
                stats.bytes_in += data.len() as u64;
                if let Some(rec) = recording.as_mut() {
                    if let Err(e) = rec.write(&data).await {
                        tracing::error!(error = %e, "recording failed");
                        break End::Close(CloseCode::Error, "cannot record now");
                    }
                }
                if echo {
                    reframer.push(data, &mut frames);
                    // A full queue holds this call's reading back (TCP
                    // then slows the sender); full for WRITE_STALL, the
                    // peer is not reading.
                    for f in frames.drain(..) {
                        match tokio::time::timeout(WRITE_STALL, tx.send(f)).await {
                            Ok(Ok(())) => stats.frames_out += 1,
                            // The writer stopped: the next turn takes its reason.
                            Ok(Err(_)) => continue 'call,
                            Err(_) => {
                                break 'call End::Close(
                                    CloseCode::Policy,
                                    "the peer is not reading its audio",
                                )
                            }
                        }
                    }
                }
            }
            Message::Text(text) => match event_name(text.as_str()) {
                Some(name) => tracing::info!(event = %name, "call event"),
                None => break End::Close(CloseCode::Unsupported, "text where audio is expected"),
            },
            Message::Close(frame) => break End::PeerClosed(frame.map(|f| u16::from(f.code))),
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
        }
    };
    drop(tx);
    let slow = matches!(end, End::Close(CloseCode::Policy, _));
    let (sink, _) = match writer_out {
        Some(out) => out,
        None => {
            // A peer that does not read gets no more audio; otherwise the
            // frames already queued go out before the close.
            if slow {
                let _ = stop_tx.send(true);
            }
            match tokio::time::timeout(CLOSE_WAIT, &mut writer).await {
                Ok(Ok(out)) => out,
                _ => {
                    writer.abort();
                    return (End::Gone, stats, recording);
                }
            }
        }
    };
    let end = match stream.reunite(sink) {
        Ok(ws) => {
            finish(ws, &end).await;
            end
        }
        Err(_) => End::Gone,
    };
    (end, stats, recording)
}

/// Ends the connection as `end` says: a close frame with our code, the
/// answer to the peer's close, or nothing when it is gone. Then a lingering
/// close: our side shut, the peer's last bytes read and dropped, so the
/// close frame is not lost to a reset.
async fn finish(mut ws: Ws, end: &End) {
    let sent = match end {
        End::Gone => return,
        End::Close(code, reason) => {
            let frame = CloseFrame {
                code: *code,
                reason: (*reason).into(),
            };
            tokio::time::timeout(CLOSE_WAIT, ws.close(Some(frame))).await
        }
        // tungstenite queued the reply to the peer's close; send it.
        End::PeerClosed(_) => tokio::time::timeout(CLOSE_WAIT, ws.flush()).await,
    };
    // A close that could not be written in time: the peer is not reading.
    if sent.is_err() {
        return;
    }
    let tcp = ws.get_mut();
    let _ = tcp.shutdown().await;
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + CLOSE_WAIT;
    while let Ok(Ok(n)) = tokio::time::timeout_at(deadline, tcp.read(&mut buf)).await {
        if n == 0 {
            break;
        }
    }
}
