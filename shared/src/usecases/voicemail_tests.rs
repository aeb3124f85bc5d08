//! The pipeline against in-memory fakes: a failure injected at each step
//! leaves the voicemail pending and retried, and it is emailed exactly once
//! in the end; the recording is never lost.

use super::*;
use crate::domain::line::VoicemailSettings;
use crate::domain::{CallContext, TextEmail, VoicemailStatus};
use crate::phone::PhoneNumber;
use crate::usecases::fakes::{MemoryBucket, MemoryMailer, MemoryRecordings, MemoryStore};

const URL: &str = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1";

struct World {
    store: MemoryStore,
    recordings: MemoryRecordings,
    bucket: MemoryBucket,
    mailer: MemoryMailer,
    config: VoicemailConfig,
    clock: Clock,
    link_base: Option<&'static str>,
}

impl World {
    fn new(transcribe: bool) -> Self {
        let w = World {
            store: MemoryStore::default(),
            recordings: MemoryRecordings::default(),
            bucket: MemoryBucket::default(),
            mailer: MemoryMailer::default(),
            config: VoicemailConfig {
                delete_provider_recordings: true,
                ..VoicemailConfig::default()
            },
            clock: Clock::system(),
            link_base: None,
        };
        let ctx = CallContext {
            call_sid: "CA1".into(),
            line: PhoneNumber::from_e164("+15551230009").unwrap(),
            caller: "+15551230002".into(),
            owner_email: "owner@example.com".into(),
            voicemail: VoicemailSettings {
                enabled: true,
                max_length_seconds: 120,
                transcribe,
                greeting: "Leave a message".into(),
            },
            language: "en-US".into(),
            created_at: 0,
        };
        let now = w.clock.now();
        let vm = Voicemail::recorded("twilio", "RE1", "CA1", &ctx, URL, 42, now);
        w.store
            .voicemails
            .lock()
            .unwrap()
            .insert("RE1".into(), (vm, None, now));
        w.recordings.recordings.lock().unwrap().insert(
            URL.into(),
            Recording {
                bytes: b"RIFF....WAVE".to_vec(),
                content_type: "audio/x-wav".into(),
            },
        );
        w
    }

    fn pipeline(&self) -> Pipeline<'_, MemoryStore, MemoryRecordings, MemoryBucket, MemoryMailer> {
        Pipeline {
            store: &self.store,
            recordings: &self.recordings,
            bucket: &self.bucket,
            mailer: &self.mailer,
            config: &self.config,
            clock: &self.clock,
            link_base: self.link_base,
        }
    }

    /// Runs the worker as the stream and the sweeps would, moving the
    /// clock past each backoff and lease, until the voicemail is settled.
    async fn settle(&self) -> Vec<Result<Outcome, String>> {
        let mut seen = Vec::new();
        for _ in 0..10 {
            let out = self
                .pipeline()
                .process("RE1")
                .await
                .map_err(|e| e.to_string());
            seen.push(out);
            if self.store.voicemail("RE1").status != VoicemailStatus::Pending {
                break;
            }
            self.clock.advance(MAX_BACKOFF_SECONDS + LEASE_SECONDS + 1);
        }
        seen
    }

    fn emails(&self) -> usize {
        self.mailer.sent.lock().unwrap().len()
    }
}

#[tokio::test]
async fn delivers_once_copied_deleted_and_linked() {
    let w = World::new(false);
    assert_eq!(
        w.pipeline().process("RE1").await.unwrap(),
        Outcome::Delivered
    );
    let vm = w.store.voicemail("RE1");
    assert_eq!(vm.status, VoicemailStatus::Delivered);
    let key = vm.s3_key.unwrap();
    assert!(
        key.starts_with("voicemails/") && key.ends_with("/RE1.wav"),
        "{key}"
    );
    assert!(!key.contains("555"), "no phone number in the key");
    assert_eq!(w.bucket.objects.lock().unwrap()[&key].1, b"RIFF....WAVE");
    assert_eq!(
        *w.recordings.deleted.lock().unwrap(),
        vec!["RE1".to_string()]
    );
    let sent = w.mailer.sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, w.config.sender_email);
    assert_eq!(sent[0].1, "owner@example.com");
    assert!(sent[0].2.text.contains(&key), "the link names the object");
    // A second delivery of the stream record does nothing.
    assert_eq!(w.pipeline().process("RE1").await.unwrap(), Outcome::Skipped);
    assert_eq!(w.emails(), 1);
}

#[tokio::test]
async fn with_a_public_base_url_the_link_is_callmasks_not_a_presigned_one() {
    let mut w = World::new(false);
    w.link_base = Some("https://callmask.example/");
    let now = w.clock.now();
    assert_eq!(
        w.pipeline().process("RE1").await.unwrap(),
        Outcome::Delivered
    );
    let sent = w.mailer.sent.lock().unwrap().clone();
    let text = &sent[0].2.text;
    let prefix = "https://callmask.example/voicemails/RE1/recording?token=";
    let start = text.find(prefix).map(|i| i + prefix.len());
    let token: String = start
        .map(|i| {
            text[i..]
                .chars()
                .take_while(char::is_ascii_alphanumeric)
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(token.len(), 64, "{text}");
    // Nothing signed with this process's credentials goes in the email.
    assert!(!text.contains("bucket.example"), "{text}");
    let (hash, expires_at) = w.store.links.lock().unwrap()["RE1"].clone();
    assert_eq!(hash, crate::domain::voicemail::link_token_hash(&token));
    let ttl = w.config.recording_link_ttl_seconds as i64;
    assert!(
        (now + ttl..=now + ttl + 5).contains(&expires_at),
        "{expires_at}"
    );
}

#[tokio::test]
async fn a_failure_at_any_step_is_retried_and_emailed_exactly_once() {
    for step in [
        "claim",
        "download",
        "put",
        "copied",
        "presign",
        "send",
        "delivered",
        "link",
    ] {
        let mut w = World::new(false);
        if step == "link" {
            w.link_base = Some("https://callmask.example");
        }
        match step {
            "download" => w.recordings.faults.fail(step),
            "put" | "presign" => w.bucket.faults.fail(step),
            "send" => w.mailer.faults.fail(step),
            _ => w.store.faults.fail(step),
        }
        let seen = w.settle().await;
        assert!(
            seen.len() >= 2,
            "{step}: the failure was not retried: {seen:?}"
        );
        assert_eq!(
            seen.last().unwrap(),
            &Ok(Outcome::Delivered),
            "{step}: {seen:?}"
        );
        let vm = w.store.voicemail("RE1");
        assert_eq!(vm.status, VoicemailStatus::Delivered, "{step}");
        assert_eq!(w.emails(), 1, "{step}: emailed {} times", w.emails());
        assert_eq!(w.bucket.objects.lock().unwrap().len(), 1, "{step}");
        if step != "claim" {
            assert_eq!(vm.attempts, 1, "{step}: the failure is counted");
            assert!(
                vm.last_error.is_some_and(|e| e.contains("injected")),
                "{step}"
            );
        }
    }
}

#[tokio::test]
async fn a_failed_step_whose_backoff_is_not_recorded_waits_for_the_lease() {
    // SES down, and the table too when the failure is written down: the
    // lease keeps other workers away, then the voicemail is sent once.
    let w = World::new(false);
    w.mailer.faults.fail("send");
    w.store.faults.fail("later");
    assert!(w.pipeline().process("RE1").await.is_err());
    assert_eq!(
        w.pipeline().process("RE1").await.unwrap(),
        Outcome::Skipped,
        "leased"
    );
    assert_eq!(w.settle().await.last().unwrap(), &Ok(Outcome::Delivered));
    assert_eq!(w.emails(), 1);
}

#[tokio::test]
async fn the_retry_budget_ends_in_failed_with_nothing_sent() {
    let w = World::new(false);
    for _ in 0..w.config.voicemail_max_attempts {
        w.mailer.faults.fail("send");
        w.pipeline().process("RE1").await.unwrap();
        w.clock.advance(MAX_BACKOFF_SECONDS + 1);
    }
    let vm = w.store.voicemail("RE1");
    assert_eq!(vm.status, VoicemailStatus::Failed);
    assert_eq!(vm.attempts, w.config.voicemail_max_attempts);
    assert_eq!(w.emails(), 0);
    // The copy is kept: the recording is not lost.
    assert_eq!(w.bucket.objects.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn waits_for_the_transcription_then_sends_without_it() {
    let w = World::new(true);
    assert_eq!(w.pipeline().process("RE1").await.unwrap(), Outcome::Waiting);
    assert_eq!(w.emails(), 0);
    w.clock
        .advance(w.config.transcription_wait_seconds as i64 + 1);
    assert_eq!(
        w.pipeline().process("RE1").await.unwrap(),
        Outcome::Delivered
    );
    let sent = w.mailer.sent.lock().unwrap();
    assert!(sent[0].2.text.contains("no transcription is available"));
}

#[tokio::test]
async fn another_provider_is_a_step_failure_not_a_loss() {
    let w = World::new(false);
    w.store
        .voicemails
        .lock()
        .unwrap()
        .get_mut("RE1")
        .unwrap()
        .0
        .provider = "vonage".into();
    assert_eq!(
        w.pipeline().process("RE1").await.unwrap(),
        Outcome::Retrying
    );
    let vm = w.store.voicemail("RE1");
    assert_eq!(vm.status, VoicemailStatus::Pending);
    assert!(vm
        .last_error
        .unwrap()
        .contains("unsupported provider vonage"));
}

fn queue_text(w: &World) {
    let text = TextEmail {
        message_sid: "SM1".into(),
        line: PhoneNumber::from_e164("+15551230009").unwrap(),
        from: PhoneNumber::from_e164("+15551230002").unwrap(),
        owner_email: "owner@example.com".into(),
        body: "hello".into(),
        at: 0,
        attempts: 0,
    };
    w.store
        .texts
        .lock()
        .unwrap()
        .insert("SM1".into(), (text, "pending".into(), None, 0));
}

#[tokio::test]
async fn a_text_email_is_retried_after_a_failure_and_sent_once() {
    for step in ["claim", "send", "later"] {
        let w = World::new(false);
        queue_text(&w);
        w.mailer.faults.fail("send");
        if step != "send" {
            w.store.faults.fail(step);
        }
        for _ in 0..5 {
            let _ = w.pipeline().email_text("SM1").await;
            w.clock.advance(MAX_BACKOFF_SECONDS + LEASE_SECONDS + 1);
        }
        assert_eq!(w.store.text_status("SM1"), "sent", "{step}");
        assert_eq!(w.emails(), 1, "{step}");
        let sent = w.mailer.sent.lock().unwrap();
        assert_eq!(sent[0].2.subject, "Text to +15551230009 from +15551230002");
    }
}

#[tokio::test]
async fn a_sweep_handles_what_is_due_and_survives_nothing_due() {
    let w = World::new(false);
    queue_text(&w);
    let outcomes = w.pipeline().sweep().await.unwrap();
    assert_eq!(outcomes, vec![Outcome::Delivered, Outcome::Delivered]);
    assert_eq!(w.emails(), 2);
    assert!(w.pipeline().sweep().await.unwrap().is_empty());
    w.store.faults.fail("due");
    assert!(w.pipeline().sweep().await.is_err());
}
