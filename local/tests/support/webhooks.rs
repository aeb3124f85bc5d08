//! Webhooks signed with secrets read from the emulator's Secrets Manager,
//! and Vonage's answer and fallback URLs as the tests call them.

use callmask::config::SecretSetting;
use callmask_local::signing::vonage_bearer;
use callmask_local::StackConfig;
use serde_json::json;

use super::*;

/// The query of Vonage's answer and fallback webhooks for a call to `to`
/// from `from` (digits).
pub fn answer_query(to: &str, from: &str) -> String {
    format!("?to={to}&from={from}&uuid=u1&conversation_uuid=c1")
}

/// The JSON body of Vonage's signed answer webhook for a call to `to` from
/// `from` (digits): the same call as [`answer_query`] names.
pub fn answer_body(to: &str, from: &str) -> String {
    format!(r#"{{"to":"{to}","from":"{from}","uuid":"u1","conversation_uuid":"c1"}}"#)
}

/// The fallback webhook's answer to `query`: an apology (a talk action).
pub async fn fallback_apology(t: &TestEnv, query: &str) -> Reply {
    let r = t.get(&format!("/vonage/fallback{query}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let ncco = r.json();
    assert_eq!(ncco[0]["action"], "talk", "{ncco}");
    assert!(
        ncco[0]["text"].as_str().unwrap().contains("Sorry"),
        "{ncco}"
    );
    r
}

pub const VONAGE_SECRET: &str = "vonage-signature-secret-from-secrets-manager";
pub const TWILIO_TOKEN: &str = "twilio-auth-token-from-secrets-manager";
pub const TWILIO_ACCOUNT: &str = "AC00000000000000000000000000000042";

/// A change to a stack's settings.
pub type Change = fn(&mut StackConfig);

/// Settings that accept no unsigned webhook.
pub fn signed_only(c: &mut StackConfig) {
    c.core.allow_unsigned_webhooks = false;
}

/// A stack whose webhooks read both secrets from the emulator's Secrets
/// Manager by id, as the template configures them; no unsigned pass.
pub async fn env_with_secret_ids(vonage_id: &str, twilio_id: &str, cache_seconds: u64) -> TestEnv {
    env_changed(|c| {
        signed_only(c);
        c.core.secret_cache_seconds = cache_seconds;
        c.vonage.signature_secret = SecretSetting::SecretId(vonage_id.into());
        c.twilio.auth_token = SecretSetting::SecretId(twilio_id.into());
        c.twilio.account_sid = Some(TWILIO_ACCOUNT.into());
    })
    .await
}

/// Both webhook secrets put in the emulator's Secrets Manager (the Vonage
/// one stored as `vonage_value`, the Twilio one as plain text), then
/// [`env_with_secret_ids`] with [`with_session_and_line`]: the stack, the
/// Vonage secret's id and Alice's proxy number.
pub async fn env_from_secrets_manager(
    vonage_value: &str,
    cache_seconds: u64,
) -> (TestEnv, String, String) {
    let vonage = put_secret(&unique("vonage"), vonage_value).await;
    let twilio = put_secret(&unique("twilio"), TWILIO_TOKEN).await;
    let t = env_with_secret_ids(&vonage, &twilio, cache_seconds).await;
    let pa = with_session_and_line(&t).await;
    (t, vonage, pa)
}

/// Alice and Bob in a session on P1, and a Twilio line: Alice's proxy.
pub async fn with_session_and_line(t: &TestEnv) -> String {
    t.add_number(P1).await;
    let s = t.open_session(ALICE, BOB, 3600).await;
    t.add_number_of("twilio", LINE).await;
    let line = json!({"owner": {"phone": OWNER, "email": "owner@example.com"}});
    let r = t.put_line(LINE, &line).await;
    assert_eq!(r.status, 201, "{}", r.body);
    proxy_of(&s, 0)
}

pub async fn signed_answer(t: &TestEnv, secret: &str, to: &str, from: &str) -> Reply {
    let body = answer_body(to, from);
    let auth = vonage_bearer(secret, body.as_bytes());
    t.post_signed("/vonage/answer", &body, &auth).await
}

pub async fn signed_voice(t: &TestEnv, token: &str, call_sid: &str) -> Reply {
    let form = call_form(call_sid, CALLER, LINE, &[]);
    t.twilio_post(token, "/twilio/voice", &form).await
}
