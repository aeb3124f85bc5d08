//! The audio socket: the first message, WebSocket frames off the wire,
//! re-framing into 20 ms frames, and the WAV file a recording becomes.

use std::io::{Cursor, Read, Write};

use audio_socket::call::{event_name, judge_first_message, websocket_config, MAX_MESSAGE_BYTES};
use audio_socket::recorder::{to_keep, wav_layout};
use audio_socket::reframe::Reframer;
use bytes::Bytes;
use callmask::audio::wav::{duration_ms, HEADER_BYTES};
use callmask::audio::{valid_call_id, AudioMode, SampleRate};
use serde_json::Value;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocket};
use tokio_tungstenite::tungstenite::Message;

use crate::{fields, text};

const RATES: [SampleRate; 3] = [SampleRate::K8, SampleRate::K16, SampleRate::K24];

/// The token expected (none when empty), then the first message: a call
/// admitted sent `websocket:connected` with that token, an `audio/l16`
/// rate and, to record, a valid call uuid; one refused gets 1003, 1007 or
/// 1008.
pub fn first_message(data: &[u8]) {
    let [token, message] = fields(data, 2)[..] else {
        return;
    };
    let token = text(token);
    let expected = (!token.is_empty()).then_some(token.as_str());
    let message = text(message);
    match judge_first_message(&message, expected) {
        Ok(call) => {
            let msg: Value = serde_json::from_str(&message).expect("admitted JSON");
            assert_eq!(msg["event"], "websocket:connected");
            if let Some(token) = expected {
                assert_eq!(msg["token"].as_str(), Some(token));
            }
            let ct = msg["content-type"].as_str().expect("a content type");
            assert_eq!(SampleRate::from_content_type(ct), Some(call.rate));
            for id in [&call.call_uuid, &call.conversation_uuid]
                .into_iter()
                .flatten()
            {
                assert!(valid_call_id(id));
            }
            assert!(call.mode == AudioMode::Echo || call.call_uuid.is_some());
        }
        Err(code) => assert!(matches!(code, 1003 | 1007 | 1008), "close {code}"),
    }
}

/// A connection's bytes: read from, written to a buffer.
struct Wire {
    input: Cursor<Vec<u8>>,
    output: Vec<u8>,
}

impl Read for Wire {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.input.read(buf)
    }
}

impl Write for Wire {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.output.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// First byte: the call's rate; the rest is what a peer sends after the
/// handshake, read with the socket's limits: no message is larger than
/// 64 KiB, the first text is judged as `websocket:connected`, later texts
/// as events, and audio re-frames into whole frames.
pub fn frames(data: &[u8]) {
    let Some((&rate, wire)) = data.split_first() else {
        return;
    };
    let frame = RATES[usize::from(rate) % RATES.len()].frame_bytes();
    let wire = Wire {
        input: Cursor::new(wire.to_vec()),
        output: Vec::new(),
    };
    let mut ws = WebSocket::from_raw_socket(wire, Role::Server, Some(websocket_config()));
    let mut reframer = Reframer::new(frame);
    let (mut out, mut first) = (Vec::new(), true);
    // Each message takes at least two bytes of input: the loop ends.
    while let Ok(msg) = ws.read() {
        assert!(
            msg.len() <= MAX_MESSAGE_BYTES,
            "a {} byte message",
            msg.len()
        );
        match msg {
            Message::Text(t) if first => {
                first = false;
                let _ = judge_first_message(t.as_str(), None);
            }
            Message::Text(t) => {
                if let Some(name) = event_name(t.as_str()) {
                    assert!(name.len() <= 64);
                }
            }
            Message::Binary(b) => {
                reframer.push(b, &mut out);
                assert!(out.drain(..).all(|f| f.len() == frame));
                assert!(reframer.pending() < frame);
            }
            _ => {}
        }
    }
}

/// Two bytes: a frame size (1..=2048); then two-byte chunk sizes, each cut
/// from the rest: the frames out are whole, in order, the input's bytes,
/// and a whole frame arriving alone goes out as it came.
pub fn reframe(data: &[u8]) {
    let [a, b, rest @ ..] = data else {
        return;
    };
    let frame = 1 + usize::from(u16::from_le_bytes([*a, *b])) % 2048;
    let (sizes, payload) = rest.split_at(rest.len() / 2);
    let mut reframer = Reframer::new(frame);
    let (mut out, mut fed) = (Vec::new(), Vec::new());
    let mut at = 0;
    for pair in sizes.chunks(2) {
        let want = usize::from(u16::from_le_bytes([pair[0], *pair.get(1).unwrap_or(&0)]));
        let chunk = Bytes::copy_from_slice(&payload[at..(at + want).min(payload.len())]);
        at += chunk.len();
        fed.extend_from_slice(&chunk);
        let whole = reframer.pending() == 0 && chunk.len() == frame;
        let before = out.len();
        reframer.push(chunk.clone(), &mut out);
        if whole {
            assert_eq!(out.len(), before + 1);
            assert_eq!(
                out[before].as_ptr(),
                chunk.as_ptr(),
                "a whole frame is not copied"
            );
        }
        assert!(reframer.pending() < frame);
    }
    assert!(out.iter().all(|f| f.len() == frame));
    let joined: Vec<u8> = out.iter().flat_map(|f| f.iter().copied()).collect();
    assert_eq!(joined.len() + reframer.pending(), fed.len());
    assert_eq!(joined[..], fed[..joined.len()]);
}

/// A recording as the socket writes it: the rate, AUDIO_MAX_RECORDING_SECONDS
/// (1..=36,000), bytes already written, then messages of up to 64 KiB; the
/// WAV file's header describes exactly the data the file keeps.
pub fn wav_writer(data: &[u8]) {
    let [r, s0, s1, d0, d1, d2, d3, rest @ ..] = data else {
        return;
    };
    let rate = RATES[usize::from(*r) % RATES.len()];
    let seconds = 1 + u64::from(u16::from_le_bytes([*s0, *s1])) * 36_000 / 65_536;
    let max_bytes = seconds * rate.bytes_per_second();
    let mut written = u64::from(u32::from_le_bytes([*d0, *d1, *d2, *d3])) % (max_bytes + 1);
    for pair in rest.chunks(2) {
        let len = usize::from(u16::from_le_bytes([pair[0], *pair.get(1).unwrap_or(&0)]))
            % (MAX_MESSAGE_BYTES + 1);
        let kept = to_keep(written, max_bytes, len);
        assert!(kept <= len);
        written += kept as u64;
        assert!(written <= max_bytes);
    }
    let (kept, h) = wav_layout(rate, written);
    assert!(kept <= written && written - kept <= 1 && kept % 2 == 0);
    let u16_at = |i: usize| u16::from_le_bytes([h[i], h[i + 1]]);
    let u32_at = |i: usize| u32::from_le_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
    let file_len = HEADER_BYTES as u64 + kept;
    assert_eq!(&h[0..4], b"RIFF");
    assert_eq!(u64::from(u32_at(4)), file_len - 8, "RIFF size");
    assert_eq!(&h[8..16], b"WAVEfmt ");
    assert_eq!((u32_at(16), u16_at(20), u16_at(22)), (16, 1, 1), "PCM mono");
    assert_eq!(u32_at(24), rate.hz());
    assert_eq!(u32_at(28), rate.hz() * 2, "byte rate");
    assert_eq!((u16_at(32), u16_at(34)), (2, 16), "16-bit samples");
    assert_eq!(&h[36..40], b"data");
    assert_eq!(u64::from(u32_at(40)), kept, "data size");
    assert_eq!(
        duration_ms(rate, kept),
        kept * 1000 / (u64::from(rate.hz()) * 2)
    );
}
