//! The audio socket as a running process, with a real WebSocket client
//! (tokio-tungstenite) on loopback, and record mode against the emulator
//! (`scripts/stack.py exec` sets the AWS endpoint: `make test`; without it
//! the record-mode tests are skipped, the others start what they need).

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use audio_socket::client::{self, close_code, connect, connected_message, echo_call, frame};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

/// The emulator check the local tests use (its macro names it
/// `crate::support::emulator`).
#[path = "../../local/tests/support/emulator.rs"]
mod emulator;
mod support {
    pub(crate) use super::emulator;
}
use emulator::{endpoint, needs_emulator};

struct Server {
    child: Child,
    port: u16,
    bucket: String,
    table: String,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

impl Server {
    fn start(settings: &[(&str, &str)]) -> Self {
        let port = free_port();
        let id = uuid::Uuid::new_v4().simple().to_string();
        let bucket = format!("audio-{}", &id[..12]);
        let table = format!("t-{id}");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_audio-socket"));
        cmd.env("AUDIO_PORT", port.to_string())
            .env("AUDIO_HOST", "127.0.0.1")
            .env("RECORDINGS_BUCKET", &bucket)
            .env("TABLE_NAME", &table)
            .env("RUST_LOG", "warn")
            .env_remove("AUDIO_SOCKET_TOKEN")
            .env_remove("AUDIO_SOCKET_TOKEN_SECRET_ID")
            .stdout(Stdio::null());
        for (k, v) in settings {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("start audio-socket");
        let server = Server {
            child,
            port,
            bucket,
            table,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while server.health().is_none() {
            assert!(Instant::now() < deadline, "audio-socket did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    fn url(&self) -> String {
        format!("ws://127.0.0.1:{}/socket", self.port)
    }

    /// `GET /health`: (status, body).
    fn health(&self) -> Option<(u16, serde_json::Value)> {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .ok()?;
        let mut out = String::new();
        s.read_to_string(&mut out).ok()?;
        let status = out.get(9..12)?.parse().ok()?;
        let body = out.split("\r\n\r\n").nth(1)?;
        Some((status, serde_json::from_str(body).ok()?))
    }

    fn live_calls(&self) -> i64 {
        self.health()
            .and_then(|(_, b)| b["live_calls"].as_i64())
            .unwrap_or(-1)
    }

    /// Waits until the server has no live call (each call's task has ended)
    /// and no connection pending (a call not yet greeted has no slot)
    /// but the health request's own.
    async fn wait_idle(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let idle = |h: &Option<(u16, serde_json::Value)>| {
            h.as_ref()
                .is_some_and(|(_, b)| b["live_calls"] == 0 && b["pending"] == 1)
        };
        while !idle(&self.health()) {
            assert!(
                Instant::now() < deadline,
                "calls still live: {:?}",
                self.health()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until the server has `n` live calls.
    async fn wait_live(&self, n: i64) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.live_calls() != n {
            assert!(
                Instant::now() < deadline,
                "not {n} live: {:?}",
                self.health()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn rss_kb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS")
    }

    fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Connects and sends `first` as the first (text) message.
async fn open(server: &Server, first: &str) -> client::ClientWs {
    let mut ws = connect(&server.url()).await.expect("connect");
    ws.send(Message::text(first.to_string()))
        .await
        .expect("send first message");
    ws
}

/// The table and bucket record mode writes to, on the emulator.
async fn storage(server: &Server) -> (callmask::store::Store, aws_sdk_s3::Client) {
    let sdk = callmask::aws::sdk_config(Some(&endpoint())).await;
    let ddb = callmask::aws::dynamodb(&sdk, callmask::aws::EMULATOR, None);
    callmask::store::schema::create_table(&ddb, &server.table)
        .await
        .expect("table");
    let s3 = callmask::aws::s3(&sdk, callmask::aws::EMULATOR);
    s3.create_bucket()
        .bucket(&server.bucket)
        .send()
        .await
        .expect("bucket");
    (callmask::store::Store::new(ddb, &server.table), s3)
}

/// Check 1: 10 s of 640-byte frames at real time and at full speed, 8 kHz
/// too, and 100 concurrent calls, all at once on one server: every frame
/// back, byte-identical, in order, and each call's close answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_frame_comes_back_identical_and_in_order() {
    let server = Server::start(&[]);
    let url = server.url();
    let pace = Some(Duration::from_millis(20));
    let realtime_16k = echo_call(&url, 1, 16000, 500, pace, &[("call_uuid", "rt-16k")]);
    let fullspeed_16k = echo_call(&url, 2, 16000, 500, None, &[]);
    let realtime_8k = echo_call(&url, 3, 8000, 500, pace, &[]);
    let fullspeed_8k = echo_call(&url, 4, 8000, 500, None, &[]);
    let many = futures_util::future::join_all(
        (0..100).map(|c| echo_call(&url, 100 + c, 16000, 250, pace, &[("mode", "echo")])),
    );
    let (a, b, c, d, many) =
        tokio::join!(realtime_16k, fullspeed_16k, realtime_8k, fullspeed_8k, many);
    for (name, r) in [
        ("16k real time", a),
        ("16k full speed", b),
        ("8k real time", c),
        ("8k full speed", d),
    ] {
        let r = r.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(r.frames, 500, "{name}");
        assert_eq!(r.close_code, Some(1000), "{name}");
    }
    let mut lost = 0;
    for (i, r) in many.into_iter().enumerate() {
        match r {
            Ok(r) if r.frames == 250 => {}
            other => {
                lost += 1;
                eprintln!("call {i}: {other:?}");
            }
        }
    }
    assert_eq!(lost, 0, "calls that lost frames among 100");
    server.wait_idle().await;
}

#[tokio::test]
async fn health_counts_live_calls_and_refuses_past_the_limit() {
    let server = Server::start(&[("AUDIO_MAX_CALLS", "2")]);
    let (status, body) = server.health().expect("health");
    assert_eq!(status, 200);
    assert_eq!(body["live_calls"], 0);
    assert_eq!(body["status"], "ok");
    let first = connected_message(16000, &[]);
    let a = open(&server, &first).await;
    let b = open(&server, &first).await;
    // A call takes its slot once its first message is read.
    server.wait_live(2).await;
    let third = connect(&server.url()).await;
    assert!(
        third.as_ref().is_err_and(|e| e.contains("503")),
        "{:?}",
        third.err()
    );
    drop((a, b));
    server.wait_idle().await;
    // A plain GET of /socket is not an upgrade; other paths are 404.
    let mut s = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    s.write_all(b"GET /socket HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 426"), "{out}");
}

/// Check 4: a first message that is not websocket:connected, text where
/// audio is expected, a frame over 64 KiB, a bad content type or mode:
/// each call gets its close code, and a call beside them is not disturbed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_closed_with_its_code_and_others_go_on() {
    let server = Server::start(&[("AUDIO_CONNECTED_TIMEOUT_SECONDS", "1")]);
    let url = server.url();
    let witness = echo_call(&url, 7, 16000, 150, Some(Duration::from_millis(20)), &[]);
    let bad = async {
        let good = connected_message(16000, &[]);
        let cases: Vec<(&str, Vec<Message>, u16)> = vec![
            ("binary first", vec![Message::binary(vec![0u8; 640])], 1008),
            (
                "another event first",
                vec![Message::text(r#"{"event":"websocket:dtmf"}"#)],
                1008,
            ),
            ("not JSON first", vec![Message::text("hello")], 1007),
            ("JSON but not an object", vec![Message::text("[1,2]")], 1008),
            (
                "unsupported content type",
                vec![Message::text(
                    r#"{"event":"websocket:connected","content-type":"audio/l16;rate=44100"}"#,
                )],
                1003,
            ),
            (
                "no content type",
                vec![Message::text(r#"{"event":"websocket:connected"}"#)],
                1003,
            ),
            (
                "unknown mode",
                vec![Message::text(connected_message(
                    16000,
                    &[("mode", "transcribe")],
                ))],
                1008,
            ),
            (
                "record without a call uuid",
                vec![Message::text(connected_message(
                    16000,
                    &[("mode", "record")],
                ))],
                1008,
            ),
            (
                "text where audio is expected",
                vec![
                    Message::text(good.clone()),
                    Message::binary(vec![1u8; 640]),
                    Message::text("not an event"),
                ],
                1003,
            ),
            (
                "a frame over 64 KiB",
                vec![
                    Message::text(good.clone()),
                    Message::binary(vec![2u8; 64 * 1024 + 1]),
                ],
                1009,
            ),
        ];
        for (name, messages, code) in cases {
            let mut ws = connect(&server.url()).await.expect("connect");
            for m in messages {
                // The server may close before the last message is read.
                if ws.send(m).await.is_err() {
                    break;
                }
            }
            assert_eq!(close_code(&mut ws).await, Some(code), "{name}");
        }
        // Nothing at all after the upgrade: closed once the wait is over.
        let mut ws = connect(&server.url()).await.expect("connect");
        let t = Instant::now();
        assert_eq!(close_code(&mut ws).await, Some(1008), "no first message");
        assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
        // A text event during the call is not an error: the call goes on.
        let mut ws = open(&server, &good).await;
        ws.send(Message::text(
            r#"{"event":"websocket:dtmf","digit":"5","duration":260}"#,
        ))
        .await
        .unwrap();
        ws.send(Message::binary(frame(9, 0, 640))).await.unwrap();
        match ws.next().await {
            Some(Ok(Message::Binary(b))) => assert_eq!(&b[..], &frame(9, 0, 640)[..]),
            other => panic!("after a DTMF event: {other:?}"),
        }
        ws.close(Some(tokio_tungstenite::tungstenite::protocol::CloseFrame {
            code: tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode::Normal,
            reason: "bye".into(),
        }))
        .await
        .unwrap();
        assert_eq!(
            close_code(&mut ws).await,
            Some(1000),
            "our close is answered"
        );
    };
    let (w, ()) = tokio::join!(witness, bad);
    let w = w.expect("the call beside the bad ones");
    assert_eq!(w.frames, 150);
    server.wait_idle().await;
}

/// Odd sizes come back as whole frames of the call's size, never short,
/// the same bytes in the same order; a message of exactly 64 KiB is fine.
#[tokio::test]
async fn odd_sizes_are_reframed_into_whole_frames() {
    let server = Server::start(&[]);
    for (rate, size) in [(16000u32, 640usize), (8000, 320)] {
        let mut ws = open(&server, &connected_message(rate, &[])).await;
        let mut sent = Vec::new();
        for (i, n) in [1usize, size - 1, size + 1, 1000, 3, 17, 64 * 1024, size, 2]
            .into_iter()
            .enumerate()
        {
            let chunk = frame(50, i as u32, n);
            sent.extend_from_slice(&chunk);
            ws.send(Message::binary(chunk)).await.unwrap();
        }
        let whole = sent.len() / size;
        let mut back = Vec::new();
        while back.len() < whole * size {
            match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
                Ok(Some(Ok(Message::Binary(b)))) => {
                    assert_eq!(b.len(), size, "a frame sent short");
                    back.extend_from_slice(&b);
                }
                other => panic!("{rate} Hz: after {} bytes: {other:?}", back.len()),
            }
        }
        assert_eq!(&back[..], &sent[..whole * size], "{rate} Hz");
        ws.close(None).await.unwrap();
        close_code(&mut ws).await;
    }
    server.wait_idle().await;
}

/// A peer that stops reading while it sends: the server closes it rather
/// than queue audio without limit; its memory stays put; others go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_stops_reading_is_closed_and_memory_stays_bounded() {
    let server = Server::start(&[]);
    // Warm up (runtime threads, buffers) before the baseline.
    echo_call(&server.url(), 1, 16000, 50, None, &[])
        .await
        .unwrap();
    let before = server.rss_kb();
    let mut hogs = Vec::new();
    for c in 0..4u32 {
        let url = server.url();
        hogs.push(tokio::spawn(async move {
            let mut ws = connect(&url).await.unwrap();
            ws.send(Message::text(connected_message(16000, &[])))
                .await
                .unwrap();
            let t = Instant::now();
            // 64 KiB messages (102 frames each) at full speed, never
            // reading the echo: far more than the kernel's socket buffers
            // hold, so the server's writes stall and its queue fills.
            for i in 0..2000u32 {
                let sent = tokio::time::timeout(
                    Duration::from_secs(5),
                    ws.send(Message::binary(frame(c, i, 64 * 1024))),
                )
                .await;
                if !matches!(sent, Ok(Ok(()))) {
                    return (i, t.elapsed());
                }
            }
            (2000, t.elapsed())
        }));
    }
    // The server drops these calls: live calls come back to 0 on their own
    // while the peers still hold their sockets.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let live = server.live_calls();
        if live == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "slow peers still live: {live}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let after = server.rss_kb();
    for h in hogs {
        let (sent, elapsed) = h.await.unwrap();
        // The server stopped taking audio long before 2000 messages (131 MB).
        assert!(sent < 2000, "a slow peer sent everything");
        assert!(elapsed < Duration::from_secs(25), "{elapsed:?}");
    }
    // Each peer sent tens of MB it never read back; the server kept under 8 MB more.
    assert!(after < before + 8 * 1024, "RSS {before} kB → {after} kB");
    let r = echo_call(&server.url(), 2, 16000, 50, None, &[]).await;
    assert_eq!(r.expect("a call after the slow ones").frames, 50);
}

/// Abrupt disconnects (no close, mid-frame) and idle peers: the server
/// forgets them and goes on.
#[tokio::test]
async fn abrupt_disconnects_and_idle_peers_end_their_calls() {
    let server = Server::start(&[("AUDIO_IDLE_TIMEOUT_SECONDS", "1")]);
    let good = connected_message(16000, &[]);
    // Dropped with no close frame.
    let mut ws = open(&server, &good).await;
    ws.send(Message::binary(frame(1, 0, 640))).await.unwrap();
    drop(ws);
    // Half a frame, then gone.
    let mut ws = open(&server, &good).await;
    if let tokio_tungstenite::MaybeTlsStream::Plain(tcp) = ws.get_mut() {
        use tokio::io::AsyncWriteExt;
        tcp.write_all(&[0x82, 0xFE, 0x02, 0x80, 1, 2, 3, 4, 9, 9])
            .await
            .unwrap();
    }
    drop(ws);
    server.wait_idle().await;
    // Connected, then silent: closed 1001 after the idle timeout.
    let mut ws = open(&server, &good).await;
    let t = Instant::now();
    assert_eq!(close_code(&mut ws).await, Some(1001));
    assert!(
        t.elapsed() >= Duration::from_millis(900),
        "{:?}",
        t.elapsed()
    );
    let r = echo_call(&server.url(), 3, 16000, 20, None, &[]).await;
    assert_eq!(r.unwrap().frames, 20);
}

#[tokio::test]
async fn a_missing_or_wrong_token_is_refused_with_1008() {
    let server = Server::start(&[("AUDIO_SOCKET_TOKEN", "s0cket-t0ken")]);
    for (name, headers) in [
        ("missing", vec![]),
        ("wrong", vec![("token", "s0cket-t0keN")]),
        ("empty", vec![("token", "")]),
    ] {
        let mut ws = open(&server, &connected_message(16000, &headers)).await;
        assert_eq!(close_code(&mut ws).await, Some(1008), "{name}");
    }
    let r = echo_call(
        &server.url(),
        1,
        16000,
        25,
        None,
        &[("token", "s0cket-t0ken")],
    )
    .await;
    assert_eq!(r.expect("with the right token").frames, 25);
}

/// Sockets that upgrade and then send nothing (no token) no longer hold
/// call slots: with `AUDIO_MAX_CALLS=3`, three of them refused every real
/// call with 503. Now a slot is taken once the token is checked: the real
/// calls get in and are echoed while 20 silent sockets stay open; a
/// connection whose token comes when every slot is taken is closed 1013;
/// one without the token gets 1008 even then (no slot is looked at).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_sockets_without_the_token_do_not_lock_calls_out() {
    let token = "s0cket-t0ken";
    let server = Server::start(&[
        ("AUDIO_MAX_CALLS", "3"),
        ("AUDIO_SOCKET_TOKEN", token),
        ("AUDIO_CONNECTED_TIMEOUT_SECONDS", "30"),
    ]);
    // (Before the fix, the fourth of these already got 503, as did every
    // real call after them.)
    let mut silent = Vec::new();
    for _ in 0..20 {
        silent.extend(connect(&server.url()).await.ok());
    }
    let url = server.url();
    let headers = [("token", token)];
    let calls = futures_util::future::join_all(
        (0..3).map(|c| echo_call(&url, c, 16000, 25, None, &headers)),
    )
    .await;
    for (c, r) in calls.into_iter().enumerate() {
        assert_eq!(
            r.unwrap_or_else(|e| panic!("real call {c}: {e}")).frames,
            25
        );
    }
    assert_eq!(silent.len(), 20, "silent sockets upgraded");
    server.wait_live(0).await;
    let (_, body) = server.health().expect("health");
    // The 20 silent sockets, the health request itself (and maybe the
    // last one's, whose place goes a moment after its answer).
    let pending = body["pending"].as_u64().unwrap_or(0);
    assert!((21..=22).contains(&pending), "{body}");
    // Every slot taken by calls with the token...
    let with_token = connected_message(16000, &[("token", token)]);
    let mut live = Vec::new();
    for _ in 0..3 {
        live.push(open(&server, &with_token).await);
    }
    server.wait_live(3).await;
    // ...a silent socket's good first message now finds none: 1013.
    let mut late = silent.pop().expect("a silent socket");
    late.send(Message::text(with_token.clone())).await.unwrap();
    assert_eq!(close_code(&mut late).await, Some(1013));
    // Without the token it is refused for that, whatever the slots.
    let mut wrong = silent.pop().expect("a silent socket");
    wrong
        .send(Message::text(connected_message(
            16000,
            &[("token", "nope")],
        )))
        .await
        .unwrap();
    assert_eq!(close_code(&mut wrong).await, Some(1008));
    assert_eq!(server.live_calls(), 3);
    drop(live);
    server.wait_live(0).await;
}

/// Reads a raw connection until it ends; how long that took, or `None`
/// when it was still open after `wait`.
fn ends_within(s: &mut std::net::TcpStream, wait: Duration) -> Option<Duration> {
    let t = Instant::now();
    s.set_read_timeout(Some(wait)).expect("read timeout");
    let mut buf = [0u8; 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return Some(t.elapsed()),
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return Some(t.elapsed()),
            Err(_) => return None,
        }
    }
}

/// Slowloris: half a request line, or a request line and half its
/// headers, held the connection forever (hyper had no timer). Now the
/// headers have `AUDIO_CONNECTED_TIMEOUT_SECONDS` (1 s here).
#[test]
fn half_sent_request_headers_are_closed_at_the_deadline() {
    let server = Server::start(&[("AUDIO_CONNECTED_TIMEOUT_SECONDS", "1")]);
    for (name, sent) in [
        ("half a request line", &b"GET /sock"[..]),
        (
            "half the headers",
            &b"GET /socket HTTP/1.1\r\nHost: x\r\nUpgrade: webs"[..],
        ),
    ] {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        s.write_all(sent).unwrap();
        let ended = ends_within(&mut s, Duration::from_secs(8));
        let took = ended.unwrap_or_else(|| panic!("{name}: still open after 8 s"));
        assert!(
            took >= Duration::from_millis(900) && took < Duration::from_secs(3),
            "{name}: closed after {took:?}"
        );
    }
}

/// Past `AUDIO_MAX_PENDING`, a new connection takes the oldest pending
/// one's place and that one is closed (a flooder's own sockets are the
/// oldest; a real peer is pending for milliseconds): ten silent
/// WebSockets are pushed out by ten half-sent requests, those by newer
/// connections in turn, and a real call still gets in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_max_pending_the_oldest_pending_connection_is_closed() {
    let token = "s0cket-t0ken";
    let server = Server::start(&[
        ("AUDIO_MAX_CALLS", "3"),
        ("AUDIO_MAX_PENDING", "10"),
        ("AUDIO_SOCKET_TOKEN", token),
        ("AUDIO_CONNECTED_TIMEOUT_SECONDS", "30"),
    ]);
    let mut silent = Vec::new();
    for i in 0..10 {
        let ws = connect(&server.url()).await;
        silent.push(ws.unwrap_or_else(|e| panic!("silent socket {i}: {e}")));
    }
    let mut half = Vec::new();
    for _ in 0..10 {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        s.write_all(b"GET /socket HTTP/1.1\r\nHost: x\r\n").unwrap();
        half.push(s);
    }
    // Each half-sent request closed one silent socket, oldest first, long
    // before their 30 s deadline.
    for (i, ws) in silent.iter_mut().enumerate() {
        let next = tokio::time::timeout(Duration::from_secs(5), ws.next()).await;
        assert!(
            matches!(next, Ok(None | Some(Err(_)))),
            "silent socket {i}: {next:?}"
        );
    }
    // The real call takes the oldest half request's place.
    let r = echo_call(&server.url(), 1, 16000, 25, None, &[("token", token)]).await;
    assert_eq!(r.expect("the real call").frames, 25);
    let mut oldest = half.remove(0);
    let closed =
        tokio::task::spawn_blocking(move || ends_within(&mut oldest, Duration::from_secs(5)))
            .await
            .unwrap();
    assert!(closed.is_some(), "the oldest half request is still open");
    // The other nine and the health request fill the places again; 11
    // connections came while they were full (the ten half-sent requests
    // and the real call; a start-up health request still leaving may have
    // made one more place taken).
    let (_, body) = server.health().expect("health");
    assert_eq!(body["pending"], 10, "{body}");
    let closed = body["pending_closed_for_newer"].as_u64().unwrap_or(0);
    assert!((11..=12).contains(&closed), "{body}");
    server.wait_live(0).await;
}

fn wav_fields(wav: &[u8]) -> (u32, u16, u32, u16, u32) {
    let u32_at = |i: usize| u32::from_le_bytes(wav[i..i + 4].try_into().unwrap());
    let u16_at = |i: usize| u16::from_le_bytes(wav[i..i + 2].try_into().unwrap());
    assert_eq!(&wav[0..4], b"RIFF");
    assert_eq!(&wav[8..16], b"WAVEfmt ");
    assert_eq!(&wav[36..40], b"data");
    assert_eq!(u32_at(4) as usize, wav.len() - 8, "RIFF size");
    // (format, channels, rate, bits, data bytes)
    (
        u32::from(u16_at(20)),
        u16_at(22),
        u32_at(24),
        u16_at(34),
        u32_at(40),
    )
}

async fn object(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Vec<u8> {
    s3.get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .expect("recording in S3")
        .body
        .collect()
        .await
        .expect("body")
        .to_vec()
}

/// Check 2 (the Rust side; tests/conformance parses the WAV with Python's
/// `wave` and fetches the presigned link): the caller's audio, byte for
/// byte, behind a correct RIFF header; the item against the call uuid.
/// A call that drops without a close is recorded too.
#[tokio::test]
async fn record_mode_stores_a_wav_and_its_item() {
    needs_emulator!();
    let server = Server::start(&[]);
    let (store, s3) = storage(&server).await;
    for (call, rate, abrupt) in [("rec-16k", 16000u32, false), ("rec-8k-dropped", 8000, true)] {
        let size = (rate / 50 * 2) as usize;
        let mut ws = open(
            &server,
            &connected_message(
                rate,
                &[
                    ("mode", "record"),
                    ("call_uuid", call),
                    ("conversation_uuid", "CON-rec"),
                ],
            ),
        )
        .await;
        let mut sent = Vec::new();
        for i in 0..100u32 {
            let f = frame(1, i, size);
            sent.extend_from_slice(&f);
            ws.send(Message::binary(f)).await.unwrap();
        }
        // Odd bytes at the end: only whole samples go into the WAV.
        ws.send(Message::binary(vec![5u8; 3])).await.unwrap();
        sent.extend_from_slice(&[5, 5]);
        if abrupt {
            drop(ws);
        } else {
            // Nothing comes back in record mode.
            assert!(tokio::time::timeout(Duration::from_millis(200), ws.next())
                .await
                .is_err());
            ws.close(None).await.unwrap();
            close_code(&mut ws).await;
        }
        server.wait_idle().await;
        let rec = store
            .audio_recording(call)
            .await
            .expect("query")
            .unwrap_or_else(|| panic!("{call}: no recording item"));
        assert_eq!(rec.sample_rate, rate);
        assert_eq!(rec.data_bytes as usize, sent.len());
        assert_eq!(
            rec.duration_ms,
            (sent.len() as i64 * 1000) / (rate as i64 * 2)
        );
        assert_eq!(rec.conversation_uuid.as_deref(), Some("CON-rec"));
        assert!(
            rec.s3_key.starts_with("audio/") && rec.s3_key.contains(call),
            "{}",
            rec.s3_key
        );
        let wav = object(&s3, &server.bucket, &rec.s3_key).await;
        assert_eq!(
            wav_fields(&wav),
            (1, 1, rate, 16, sent.len() as u32),
            "{call}"
        );
        assert_eq!(&wav[44..], &sent[..], "{call}: the audio");
    }
    let page = store.audio_recordings(10, None).await.unwrap();
    let order: Vec<&str> = page
        .recordings
        .iter()
        .map(|r| r.call_uuid.as_str())
        .collect();
    assert_eq!(order, ["rec-8k-dropped", "rec-16k"], "newest first");
}

/// SIGTERM: new calls are refused, a live recorded call gets the grace
/// period, then is closed (1001) and its recording stored before exit.
#[tokio::test]
async fn sigterm_finishes_recordings_in_flight() {
    needs_emulator!();
    let mut server = Server::start(&[("AUDIO_SHUTDOWN_GRACE_SECONDS", "2")]);
    let (store, s3) = storage(&server).await;
    let mut ws = open(
        &server,
        &connected_message(16000, &[("mode", "record"), ("call_uuid", "rec-sigterm")]),
    )
    .await;
    for i in 0..50u32 {
        ws.send(Message::binary(frame(2, i, 640))).await.unwrap();
    }
    server.terminate();
    let t = Instant::now();
    // Draining: health says so, and a new call is refused.
    let mut drained = false;
    for _ in 0..50 {
        if let Some((503, body)) = server.health() {
            assert_eq!(body["status"], "draining");
            drained = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(drained, "{:?}", server.health());
    assert!(connect(&server.url()).await.is_err());
    // The live call still streams until the grace period ends.
    ws.send(Message::binary(frame(2, 50, 640))).await.unwrap();
    assert_eq!(close_code(&mut ws).await, Some(1001));
    assert!(
        t.elapsed() >= Duration::from_millis(1800),
        "{:?}",
        t.elapsed()
    );
    let status = server.child.wait().expect("exit");
    assert!(status.success(), "{status:?}");
    let rec = store
        .audio_recording("rec-sigterm")
        .await
        .unwrap()
        .expect("recorded before exit");
    assert_eq!(rec.data_bytes, 51 * 640);
    let wav = object(&s3, &server.bucket, &rec.s3_key).await;
    assert_eq!(wav_fields(&wav).4, 51 * 640);
}

/// A bad setting stops the server at start, naming the setting.
#[test]
fn a_bad_setting_is_a_clear_start_up_error() {
    for (name, value) in [
        ("AUDIO_PORT", "0"),
        ("AUDIO_IDLE_TIMEOUT_SECONDS", "never"),
        ("AUDIO_HOST", "audio.example.com"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_audio-socket"))
            .env(name, value)
            .output()
            .expect("run audio-socket");
        assert!(!out.status.success(), "{name}={value} started");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(name), "{name}: {err}");
    }
}
