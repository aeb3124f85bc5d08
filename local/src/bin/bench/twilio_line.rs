//! Masked lines on Twilio: storage requests per inbound call, and the time
//! from the recording callback to the email being accepted by SES.

use std::time::Instant;

use callmask::aws::RequestCounter;
use callmask::config::{CoreConfig, VoicemailConfig};
use callmask::domain::Provider;
use callmask_local::{Function, Stack, StackConfig};

use crate::common::{n, p50_p99_ms, pool_number, post_form, stack, uuid_like};
use crate::fakes::{self, TWILIO_ACCOUNT};

pub async fn run() -> anyhow::Result<()> {
    let (state, counter) = line_stack().await?;
    inbound_calls(&state, &counter).await?;
    voicemails(&state).await
}

/// A stack whose Twilio REST API is a stand-in, with a bucket, a verified
/// sender and a line on +15551230009.
async fn line_stack() -> anyhow::Result<(Stack, RequestCounter)> {
    let config = StackConfig {
        core: CoreConfig {
            table_name: format!("bench-tw-{}", uuid_like()),
            ..CoreConfig::default()
        },
        twilio: fakes::twilio_config().await?,
        voicemail: voicemail_config(),
        ..StackConfig::default()
    };
    let (state, counter) = stack(config).await?;
    add_line(&state).await?;
    Ok((state, counter))
}

/// A bucket of its own, a sender, no wait for transcriptions.
pub fn voicemail_config() -> VoicemailConfig {
    VoicemailConfig {
        recordings_bucket: format!("bench-{}", uuid_like()),
        sender_email: "bench@example.com".into(),
        transcription_wait_seconds: 0,
        ..VoicemailConfig::default()
    }
}

/// The bucket, the verified sender and the line on [`LINE`], whose owner
/// has no call limit.
pub async fn add_line(state: &Stack) -> anyhow::Result<()> {
    let voicemail = &state.voicemail;
    voicemail
        .bucket
        .client
        .create_bucket()
        .bucket(&voicemail.config.recordings_bucket)
        .send()
        .await?;
    voicemail
        .mailer
        .client
        .verify_email_identity()
        .email_address("bench@example.com")
        .send()
        .await?;
    let line = n(LINE);
    pool_number(&state.core.store, line.e164(), Provider::Twilio, "US", 0).await?;
    let settings = serde_json::json!({"owner": {"phone": "+15551230001", "email": "owner@example.com"},
        "plan": {"active": true, "calls_per_period": 1_000_000, "period": "month"}});
    let parsed =
        callmask::api::lines::parse_line(&settings).map_err(|e| anyhow::anyhow!(e.message))?;
    state
        .core
        .store
        .put_line(&line, &parsed, state.core.clock.now())
        .await?;
    Ok(())
}

/// The masked line.
pub const LINE: &str = "+15551230009";

/// `/twilio/voice` for calls to the line.
async fn inbound_calls(state: &Stack, counter: &RequestCounter) -> anyhow::Result<()> {
    // moto copies the table on every transaction, so its latency grows with
    // the table; the request count is what this measures.
    let calls = 200;
    let before = counter.get();
    let mut times = Vec::with_capacity(calls);
    for i in 0..calls {
        let form = format!("CallSid=CA{i:032}&From=%2B15551230002&To=%2B15551230009");
        let t = Instant::now();
        let twiml = post_form(state, Function::TwilioVoice, "/twilio/voice", &form).await?;
        times.push(t.elapsed());
        anyhow::ensure!(twiml.contains("<Dial"), "not forwarded: {twiml}");
    }
    let per_call = (counter.get() - before) as f64 / calls as f64;
    times.sort();
    println!("## Masked lines on Twilio (in process, emulator)\n");
    println!("- storage requests per inbound call (read + quota update with the call context): {per_call:.2} (over {calls} calls)");
    println!(
        "- /twilio/voice latency incl. emulator: {}",
        p50_p99_ms(&times, 2)
    );
    Ok(())
}

/// Callback → record → (stream-triggered) copy to S3 → SES accepted.
async fn voicemails(state: &Stack) -> anyhow::Result<()> {
    let voicemails = 50;
    let mut to_email = Vec::with_capacity(voicemails);
    for i in 0..voicemails {
        let call = format!("CA{i:032}");
        let rec = format!("RE{i:032}");
        let url = format!(
            "{}/2010-04-01/Accounts/{TWILIO_ACCOUNT}/Recordings/{rec}",
            state.twilio.config.api_base_url
        );
        let form = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("CallSid", call.as_str()),
                ("RecordingSid", rec.as_str()),
                ("RecordingUrl", url.as_str()),
                ("RecordingStatus", "completed"),
                ("RecordingDuration", "10"),
            ])
            .finish();
        let t = Instant::now();
        post_form(state, Function::TwilioRecording, "/twilio/recording", &form).await?;
        let outcome = state.voicemail.pipeline().process(&rec).await?;
        to_email.push(t.elapsed());
        anyhow::ensure!(
            outcome == callmask::usecases::voicemail::Outcome::Delivered,
            "{outcome:?}"
        );
    }
    to_email.sort();
    println!(
        "- recording callback → recording in S3 → email accepted by SES (10 s of 8 kHz audio): {} (over {voicemails})\n",
        p50_p99_ms(&to_email, 1)
    );
    Ok(())
}
