//! Every file in `events/` goes through its function's real handler, against
//! a freshly seeded table on the emulator, and must give the response
//! `events/expectations.json` names. A new event file without an
//! expectation fails the test, so no event goes untested.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use callmask::domain::{Provider, Session};
use callmask::phone::PhoneNumber;
use callmask_local::Function;
use serde::Deserialize;
use support::needs_emulator;

const SESSION: &str = "5e55104d5e55104d5e55104d5e55104d";

#[derive(Deserialize)]
struct Expect {
    status: u16,
    contains: Vec<String>,
    absent: Vec<String>,
}

fn events_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../events")
}

fn event_files() -> Vec<String> {
    let mut files = Vec::new();
    for dir in std::fs::read_dir(events_dir()).expect("events/") {
        let dir = dir.expect("entry").path();
        if !dir.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&dir).expect("function dir") {
            let f = f.expect("entry").path();
            if f.extension().is_some_and(|e| e == "json") {
                let rel = f
                    .strip_prefix(events_dir())
                    .expect("relative")
                    .to_string_lossy()
                    .into_owned();
                files.push(rel);
            }
        }
    }
    files.sort();
    files
}

async fn seeded() -> support::TestEnv {
    let t = support::env().await;
    t.add_number("+447700900001").await;
    t.add_number("+447700900002").await;
    let n = |s: &str| PhoneNumber::parse(s).expect("number");
    let now = t.state.core.clock.now();
    let session = Session::open(
        SESSION.into(),
        Provider::Vonage,
        [
            (n("+447700900100"), n("+447700900001")),
            (n("+447700900200"), n("+447700900002")),
        ],
        now,
        3600,
    );
    t.state
        .core
        .store
        .create_session(&session, now, &[])
        .await
        .expect("seed session");
    // Alice's second session uses the other Vonage number.
    let r = t
        .create_session("+447700900100", "+447700900500", 3600)
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    // Twilio: a masked line with one admitted call, and a plain number.
    for number in ["+15551230008", "+15551230009"] {
        t.add_number_of("twilio", number).await;
    }
    let line = serde_json::json!({"owner": {"phone": "+15551230001", "email": "owner@example.com"},
        "voicemail": {"greeting": "Please leave a message after the beep."}, "plan": {"calls_per_period": 100}});
    let r = t.put_line("+15551230009", &line).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let form = "CallSid=CA00000000000000000000000000000001&From=%2B15551230002&To=%2B15551230009";
    let r = t
        .request(
            "POST",
            "/twilio/voice",
            Some(form),
            &[("content-type", "application/x-www-form-urlencoded")],
        )
        .await;
    assert!(r.body.contains("<Dial"), "{}", r.body);
    // A call the audio socket recorded: 10 s at 16 kHz.
    t.state
        .core
        .store
        .put_audio_recording(&callmask::domain::AudioRecording {
            call_uuid: "63f61863-4a51-4f6b-86e1-46edebcf9356".into(),
            conversation_uuid: Some("CON-f972836a-550f-45fa-956c-12a2ab5b7d22".into()),
            connection: "0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f".into(),
            started_at_ms: 1_795_334_400_000,
            recorded_at_ms: 1_795_334_410_000,
            duration_ms: 10_000,
            sample_rate: 16_000,
            data_bytes: 320_000,
            s3_key: "audio/2026/11/22/63f61863-4a51-4f6b-86e1-46edebcf9356-0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f.wav"
                .into(),
            truncated: false,
        })
        .await
        .expect("seed recording");
    t
}

#[tokio::test]
async fn every_event_file_gives_its_expected_response() {
    let expectations: BTreeMap<String, Expect> = serde_json::from_str(
        &std::fs::read_to_string(events_dir().join("expectations.json"))
            .expect("expectations.json"),
    )
    .expect("expectations parse");
    let files = event_files();
    assert!(files.len() >= 30, "only {} event files", files.len());
    for file in &files {
        assert!(
            expectations.contains_key(file),
            "{file} has no entry in events/expectations.json"
        );
    }
    for name in expectations.keys() {
        assert!(files.contains(name), "expectation for missing file {name}");
    }
    // Every function has events.
    for name in Function::ALL
        .iter()
        .map(|f| f.name())
        .chain(["voicemail-worker"])
    {
        assert!(
            files.iter().any(|p| p.starts_with(&format!("{name}/"))),
            "no events for {name}"
        );
    }

    // The files are checked; their answers need the emulator.
    needs_emulator!();
    for file in &files {
        let expect = &expectations[file];
        let dir = file.split('/').next().expect("dir");
        let text = std::fs::read_to_string(events_dir().join(file)).expect("read event");
        let t = seeded().await;
        let (status, body) = if dir == "voicemail-worker" {
            let event: serde_json::Value = serde_json::from_str(&text).expect("worker event JSON");
            let out = callmask::api::voicemail_worker::handle(&t.state.voicemail, event).await;
            (200, out.to_string())
        } else {
            let function = Function::from_name(dir).expect("known function");
            let req = lambda_http::request::from_str(&text)
                .unwrap_or_else(|e| panic!("{file}: not an API Gateway event: {e}"));
            let resp = function.handle(&t.state, req).await;
            (
                resp.status().as_u16(),
                String::from_utf8_lossy(resp.body().as_ref()).into_owned(),
            )
        };
        assert_eq!(status, expect.status, "{file}: {body}");
        for s in &expect.contains {
            assert!(
                body.contains(s.as_str()),
                "{file}: body lacks {s:?}: {body}"
            );
        }
        for s in &expect.absent {
            assert!(!body.contains(s.as_str()), "{file}: body has {s:?}: {body}");
        }
    }
}
