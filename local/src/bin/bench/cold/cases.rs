//! The rows of the cold-start table: each function with the event of its
//! n-th run and what a routed answer must contain, beside the floors.

use callmask::vonage::sms_signature::{signed_query, SmsSignatureMethod};

use super::events::{
    http_event, twilio_post, vonage_get, vonage_post, TWILIO_ACCOUNT, VONAGE_SECRET,
};
use super::setup::{World, CALLERS};

/// One row of the cold-start table: the event for the n-th run and what a
/// routed answer must contain.
pub struct Case {
    pub binary: &'static str,
    pub what: &'static str,
    pub event: Box<dyn Fn(usize) -> String>,
    pub expect: (u16, &'static str),
    /// The DynamoDB requests one invocation makes (the floor makes one).
    pub requests: u32,
    /// A table of its own: the emulator copies a whole table on every
    /// transaction, so a transaction's time grows with the table (DynamoDB's
    /// does not).
    pub table: Option<String>,
    /// Settings of this row only.
    pub env: &'static [(&'static str, &'static str)],
}

impl Case {
    fn new(
        binary: &'static str,
        what: &'static str,
        expect: (u16, &'static str),
        requests: u32,
        event: impl Fn(usize) -> String + 'static,
    ) -> Self {
        Self {
            binary,
            what,
            event: Box::new(event),
            expect,
            requests,
            table: None,
            env: &[],
        }
    }

    fn on_table(mut self, table: &str) -> Self {
        self.table = Some(table.to_string());
        self
    }

    fn with_env(mut self, env: &'static [(&'static str, &'static str)]) -> Self {
        self.env = env;
        self
    }
}

/// Every row, in the table's order.
pub fn all(world: &World) -> Vec<Case> {
    let mut cases = floors();
    cases.extend(vonage_calls(world));
    cases.extend(twilio_calls());
    cases.extend(texts_and_sessions(world));
    cases
}

fn call_sid(i: usize) -> String {
    format!("CA{i:032}")
}

fn rec_sid(i: usize) -> String {
    format!("RE{i:032}")
}

/// The n-th call's answer: one of CALLERS callers dials the same proxy.
fn answer_params(i: usize) -> Vec<(&'static str, String)> {
    vec![
        ("to", "447700900001".to_string()),
        ("from", format!("4477009{:05}", 10_000 + i % CALLERS)),
        ("uuid", format!("u-{i}")),
        ("conversation_uuid", format!("CON-{i}")),
    ]
}

/// `floor-lambda`'s rows: a GET of the floor with `query` for the n-th run.
fn floor(what: &'static str, requests: u32, query: impl Fn(usize) -> String + 'static) -> Case {
    Case::new("floor-lambda", what, (200, "found"), requests, move |i| {
        http_event("GET", "/floor", &query(i), &[], "")
    })
}

fn floors() -> Vec<Case> {
    let get = |_: usize| "pk=NUM%23%2B447700900001&sk=META".to_string();
    vec![
        floor("one GetItem, nothing else", 1, get),
        floor(
            "one conditional UpdateItem (a signed call's read)",
            1,
            |i| {
                format!(
                    "pk=NUM%23%2B447700900001&sk=LEG%23%2B4477009{:05}&op=update",
                    10_000 + i % CALLERS
                )
            },
        ),
        floor(
            "a GetItem, then a conditional UpdateItem (a line call's two requests)",
            2,
            |i| {
                format!(
                    "pk=NUM%23%2B447700900001&sk=META&then=LEG%23%2B4477009{:05}&op=both",
                    10_000 + i % CALLERS
                )
            },
        ),
        floor(
            "one GetItem, trusting Amazon's roots as the functions do",
            1,
            get,
        )
        .with_env(&[("FLOOR_TRUST", "amazon")]),
    ]
}

fn vonage_calls(world: &World) -> Vec<Case> {
    let tag = callmask::vonage::signature::session_tag(VONAGE_SECRET, &world.session_id);
    let event_query = format!("session_id={}&tag={tag}", world.session_id);
    let routed = "signed GET, routed session call";
    vec![
        Case::new("vonage-answer", routed, (200, "\"connect\""), 1, |i| {
            vonage_get("/vonage/answer", &answer_params(i))
        }),
        Case::new("vonage-fallback", routed, (200, "\"connect\""), 1, |i| {
            let mut p = answer_params(i);
            p.push(("reason", "timeout".into()));
            vonage_get("/vonage/fallback", &p)
        }),
        Case::new(
            "vonage-audio-answer",
            "signed GET, a call streamed to the audio socket with its token",
            (200, "bench-socket-token"),
            1,
            |i| vonage_get("/vonage/audio-answer", &answer_params(i)),
        ),
        Case::new(
            "vonage-event",
            "signed POST, the session's callee leg",
            (200, ""),
            1,
            move |i| {
                let body = format!(
                    r#"{{"uuid":"leg-{i}","status":"answered","direction":"outbound","timestamp":"2026-11-24T08:00:00.000Z"}}"#
                );
                vonage_post("/vonage/event", &event_query, &body)
            },
        )
        .on_table(&world.events_table),
    ]
}

/// A signed Twilio form webhook's case; its path is the binary's name
/// without `twilio-` (`twilio-dial-status`: `/twilio/dial-status`).
fn twilio(
    binary: &'static str,
    what: &'static str,
    expect: (u16, &'static str),
    requests: u32,
    form: impl Fn(usize) -> Vec<(&'static str, String)> + 'static,
) -> Case {
    let path = binary.strip_prefix("twilio-").unwrap_or(binary);
    Case::new(binary, what, expect, requests, move |i| {
        twilio_post(&format!("/twilio/{path}"), &form(i))
    })
}

/// The n-th run's form: `numbered` fields (each of its own run), then
/// `fixed` ones (the same every run).
fn form(
    numbered: &[(&'static str, String)],
    fixed: &[(&'static str, &str)],
) -> Vec<(&'static str, String)> {
    let fixed = fixed.iter().map(|&(k, v)| (k, v.to_string()));
    numbered.iter().cloned().chain(fixed).collect()
}

/// The n-th run's recording of the n-th call, where Twilio keeps it.
fn recording(i: usize) -> [(&'static str, String); 3] {
    let url = format!(
        "https://api.twilio.com/2010-04-01/Accounts/{TWILIO_ACCOUNT}/Recordings/{}",
        rec_sid(i)
    );
    [
        ("CallSid", call_sid(i)),
        ("RecordingSid", rec_sid(i)),
        ("RecordingUrl", url),
    ]
}

/// The n-th run's call.
fn call(i: usize) -> [(&'static str, String); 1] {
    [("CallSid", call_sid(i))]
}

fn twilio_calls() -> Vec<Case> {
    vec![
        twilio(
            "twilio-voice",
            "signed, a line call admitted and forwarded",
            (200, "<Dial"),
            2,
            |i| {
                let line_call = [
                    ("AccountSid", TWILIO_ACCOUNT),
                    ("From", "+15551230002"),
                    ("To", "+15551230009"),
                ];
                form(&call(i), &line_call)
            },
        ),
        twilio(
            "twilio-dial-status",
            "signed, no answer → voicemail",
            (200, "<Record"),
            1,
            |i| form(&call(i), &[("DialCallStatus", "no-answer")]),
        ),
        twilio(
            "twilio-recording",
            "signed, a voicemail recorded",
            (200, ""),
            2,
            |i| {
                let done = [("RecordingStatus", "completed"), ("RecordingDuration", "7")];
                form(&recording(i), &done)
            },
        ),
        twilio(
            "twilio-transcription",
            "signed, text attached to the voicemail",
            (200, ""),
            1,
            |i| {
                let text = [
                    ("TranscriptionStatus", "completed"),
                    ("TranscriptionText", "Hello, call me back."),
                ];
                form(&[("RecordingSid", rec_sid(i))], &text)
            },
        ),
        twilio(
            "twilio-status",
            "signed, a line call finished",
            (200, ""),
            1,
            |i| {
                form(
                    &call(i),
                    &[("CallStatus", "completed"), ("CallDuration", "31")],
                )
            },
        ),
    ]
}

fn texts_and_sessions(world: &World) -> Vec<Case> {
    let now = world.now;
    vec![
        twilio(
            "twilio-sms",
            "signed, a session text relayed as TwiML",
            (200, "<Message"),
            2,
            |i| {
                let text = [
                    ("From", "+15551230100"),
                    ("To", "+15551230701"),
                    ("Body", "I'm outside"),
                ];
                form(&[("MessageSid", format!("SM{i:032}"))], &text)
            },
        ),
        Case::new(
            "vonage-inbound-sms",
            "signed (sha256 sig), a session text relayed through the SMS API",
            (200, ""),
            2,
            move |i| inbound_sms(i, now),
        ),
        Case::new(
            "sessions",
            "POST /sessions, two new participants",
            (201, "proxy_number"),
            4,
            |i| {
                let body =
                    format!(r#"{{"participants": ["+44 7700 93{i:04}", "+44 7700 94{i:04}"]}}"#);
                let json = [("content-type", "application/json".to_string())];
                http_event("POST", "/sessions", "", &json, &body)
            },
        )
        .on_table(&world.sessions_table),
    ]
}

/// The n-th inbound text, signed with the account's SMS signature.
fn inbound_sms(i: usize, now: i64) -> String {
    let params: Vec<(String, String)> = [
        ("msisdn", "447700900100".to_string()),
        ("to", "447700900001".to_string()),
        ("messageId", format!("{:016X}", 0x2000_0000 + i)),
        ("text", "I'm outside".to_string()),
        ("type", "text".to_string()),
        ("timestamp", now.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let query = signed_query(params, VONAGE_SECRET, SmsSignatureMethod::Sha256);
    http_event("GET", "/vonage/inbound-sms", &query, &[], "")
}
