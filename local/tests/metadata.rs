//! No webhook loads libphonenumber's metadata: a caller waits in silence
//! while a cold function answers, and numbers a provider sends (or we
//! stored) are taken by their E.164 shape. Its own test binary, since the
//! metadata is loaded once per process.

mod support;

use callmask::domain::line::{CallerIdMode, Line, Owner, Period, Plan, VoicemailSettings};
use callmask::domain::{PoolNumber, Provider, Session};
use callmask::phone::{metadata_loaded, PhoneNumber};
use support::*;

fn n(s: &str) -> PhoneNumber {
    PhoneNumber::from_e164(s).expect("number")
}

#[tokio::test]
async fn webhooks_never_load_the_phone_metadata() {
    needs_emulator!();
    let t = env().await;
    let store = &t.state.core.store;
    let now = t.state.core.clock.now();
    // Seeded through the store, so nothing here parses user input.
    for (number, provider, country) in [
        ("+447700900001", Provider::Vonage, "GB"),
        ("+447700900002", Provider::Vonage, "GB"),
        ("+15551230008", Provider::Twilio, "US"),
        ("+15551230009", Provider::Twilio, "US"),
    ] {
        let rec = PoolNumber {
            number: n(number),
            provider,
            country: country.into(),
            created_at: now,
            provider_sid: None,
            linked: true,
        };
        assert!(store.put_number(&rec).await.expect("number"));
    }
    let session = |id: &str, provider, legs: [(&str, &str); 2]| {
        Session::open(
            id.into(),
            provider,
            legs.map(|(p, proxy)| (n(p), n(proxy))),
            now,
            3600,
        )
    };
    let vonage_legs = [
        ("+447700900100", "+447700900001"),
        ("+447700900200", "+447700900002"),
    ];
    let twilio_legs = [
        ("+15551230100", "+15551230008"),
        ("+15551230200", "+15551230008"),
    ];
    for (id, provider, legs) in [
        (
            "5e55104d5e55104d5e55104d5e55104d",
            Provider::Vonage,
            vonage_legs,
        ),
        (
            "7e55104d5e55104d5e55104d5e55104d",
            Provider::Twilio,
            twilio_legs,
        ),
    ] {
        let s = session(id, provider, legs);
        store.create_session(&s, now, &[]).await.expect("session");
    }
    let line = Line {
        owner: Owner {
            phone: n("+15551230001"),
            email: "owner@example.com".into(),
        },
        dial_timeout_seconds: 20,
        caller_id: CallerIdMode::Line,
        voicemail: VoicemailSettings {
            enabled: true,
            max_length_seconds: 60,
            transcribe: true,
            greeting: "Leave a message.".into(),
        },
        language: "en-US".into(),
        plan: Plan {
            active: true,
            calls_per_period: Some(100),
            period: Period::Month,
        },
        sms: Default::default(),
    };
    store
        .put_line(&n("+15551230009"), &line, now)
        .await
        .expect("line");
    assert!(!metadata_loaded(), "seeding loaded the metadata");

    // Vonage: answer (GET and POST), fallback, events of the session.
    let q = "to=447700900001&from=447700900100&uuid=u1&conversation_uuid=c1";
    let r = t.get(&format!("/vonage/answer?{q}")).await;
    assert!(r.body.contains("447700900200"), "{}", r.body);
    let body =
        r#"{"to":"447700900002","from":"447700900200","uuid":"u2","conversation_uuid":"c2"}"#;
    let r = t.post("/vonage/answer", body).await;
    assert!(r.body.contains("447700900100"), "{}", r.body);
    let r = t.get(&format!("/vonage/fallback?{q}&reason=timeout")).await;
    assert!(r.body.contains("447700900200"), "{}", r.body);
    let r = t
        .post(
            "/vonage/event?session_id=5e55104d5e55104d5e55104d5e55104d",
            r#"{"uuid":"u1","status":"completed","duration":"12","to":"447700900200","from":"447700900001"}"#,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    // Twilio: a session call, a line call through voicemail, callbacks.
    let post = |path: &'static str, form: String| {
        let t = &t;
        async move { t.post_form(path, &form, None).await }
    };
    let r = post(
        "/twilio/voice",
        "CallSid=CA00000000000000000000000000000001&From=%2B15551230100&To=%2B15551230008".into(),
    )
    .await;
    assert!(r.body.contains("+15551230200"), "{}", r.body);
    let r = post(
        "/twilio/voice",
        "CallSid=CA00000000000000000000000000000002&From=%2B15551230300&To=%2B15551230009".into(),
    )
    .await;
    assert!(r.body.contains("+15551230001"), "{}", r.body);
    let r = post(
        "/twilio/dial-status",
        "CallSid=CA00000000000000000000000000000002&DialCallStatus=no-answer".into(),
    )
    .await;
    assert!(r.body.contains("<Record"), "{}", r.body);
    let recording = format!(
        "CallSid=CA00000000000000000000000000000002&RecordingSid=RE00000000000000000000000000000001&RecordingStatus=completed&RecordingDuration=7&RecordingUrl={}",
        "https%3A%2F%2Fapi.twilio.com%2F2010-04-01%2FAccounts%2FAC1%2FRecordings%2FRE00000000000000000000000000000001"
    );
    assert_eq!(post("/twilio/recording", recording).await.status, 200);
    let r = post("/twilio/transcription", "RecordingSid=RE00000000000000000000000000000001&TranscriptionStatus=completed&TranscriptionText=hello".into()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    for form in [
        "CallSid=CA00000000000000000000000000000002&CallStatus=completed&CallDuration=9",
        "CallSid=CA00000000000000000000000000000001&CallStatus=completed&From=%2B15551230100&To=%2B15551230008",
    ] {
        assert_eq!(post("/twilio/status", form.into()).await.status, 200);
    }
    // Texts: a session text on each provider, a text to a line.
    for (sid, from, to, reaches) in [
        (
            "SM00000000000000000000000000000001",
            "15551230100",
            "15551230008",
            "+15551230200",
        ),
        (
            "SM00000000000000000000000000000002",
            "15551230300",
            "15551230009",
            "+15551230001",
        ),
    ] {
        let form = format!("MessageSid={sid}&From=%2B{from}&To=%2B{to}&Body=hi");
        let r = post("/twilio/sms", form).await;
        assert!(r.body.contains(reaches), "{}", r.body);
    }
    // No SMS API is configured here: the text is routed (the numbers read)
    // and recorded as not relayed.
    let r = t
        .get("/vonage/inbound-sms?msisdn=447700900100&to=447700900001&messageId=0A0000000001&text=hi&type=text")
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        !metadata_loaded(),
        "a webhook loaded libphonenumber's metadata: take provider numbers with PhoneNumber::from_e164"
    );

    // The guard does see a load: validating an admin request's input.
    let r = t
        .post(
            "/sessions",
            r#"{"participants": ["+44 7700 900300", "+44 7700 900400"]}"#,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(metadata_loaded());
}
