//! What the cold starts run against: tables seeded with a Vonage session,
//! a Twilio line and a Twilio session, the webhook secrets in Secrets
//! Manager, and the settings every function is started with.

use callmask::aws;
use callmask::domain::{Provider, Session};
use callmask::store::{schema, Store};

use super::events::{PUBLIC, TWILIO_ACCOUNT, TWILIO_TOKEN, VONAGE_SECRET};
use crate::common::{n, open_session, open_sliding_session, pool_number, uuid_like};
use crate::fakes;

/// Distinct Vonage callers the runs take turns with.
pub const CALLERS: usize = 32;

/// What the cases route to.
pub struct World {
    pub table: String,
    /// The table of `vonage-event`'s row.
    pub events_table: String,
    /// The table of `sessions`' row.
    pub sessions_table: String,
    /// The session `vonage-event`'s events belong to.
    pub session_id: String,
    pub now: i64,
    /// Signature secret, auth token, API secret, socket token.
    pub secret_ids: Vec<String>,
    /// The SMS API a relayed Vonage text goes through.
    pub sms_api: String,
}

pub async fn world() -> anyhow::Result<World> {
    let sdk = aws::sdk_config(None).await;
    let table = format!("bench-cold-{}", uuid_like());
    let client = aws::dynamodb(&sdk, aws::EMULATOR, None);
    schema::create_table(&client, &table).await?;
    let store = Store::new(client, table.clone());
    let sm = aws::secrets_manager(&sdk, aws::EMULATOR);
    let mut secret_ids = Vec::new();
    for (name, key, value) in [
        ("vonage", "signature_secret", VONAGE_SECRET),
        ("twilio", "auth_token", TWILIO_TOKEN),
        ("vonage-api", "api_secret", "bench-api-secret"),
        ("audio-socket", "audio_socket_token", "bench-socket-token"),
    ] {
        let json =
            serde_json::Value::from_iter([(key.to_string(), serde_json::Value::from(value))]);
        let out = sm
            .create_secret()
            .name(format!("bench-{name}-{}", uuid_like()))
            .secret_string(json.to_string())
            .send()
            .await?;
        let arn = out.arn().unwrap_or_default().to_string();
        // The emulator's first read of a secret loads code of its own; a
        // function's first read should not pay for that.
        sm.get_secret_value().secret_id(&arn).send().await?;
        secret_ids.push(arn);
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64;
    let session = seed_calls(&store, now).await?;
    let (events_table, sessions_table) = seed_row_tables(&store, &session, now).await?;
    seed_line_and_texts(&store, now).await?;
    let (sms_api, _) = fakes::vonage().await?;
    Ok(World {
        table,
        events_table,
        sessions_table,
        session_id: session.id,
        now,
        secret_ids,
        sms_api,
    })
}

/// The pool, CALLERS sliding sessions on the same proxy number (a leg sees
/// a handful of calls, not hundreds; kept small: the emulator copies its
/// tables on every transaction), and the session the events belong to.
async fn seed_calls(store: &Store, now: i64) -> anyhow::Result<Session> {
    for (p, provider, country) in [
        ("+447700900001", Provider::Vonage, "GB"),
        ("+447700900002", Provider::Vonage, "GB"),
        ("+15551230009", Provider::Twilio, "US"),
    ] {
        pool_number(store, p, provider, country, now).await?;
    }
    let day = 24 * 3600;
    for i in 0..CALLERS {
        let (a, b) = (
            format!("+4477009{:05}", 10_000 + i),
            format!("+4477009{:05}", 20_000 + i),
        );
        let legs = [(a.as_str(), "+447700900001"), (b.as_str(), "+447700900002")];
        // Sliding, with a cool-off: the routing request moves the leg.
        open_sliding_session(
            store,
            &format!("c{i:031}"),
            Provider::Vonage,
            legs,
            now,
            day,
        )
        .await?;
    }
    let legs = [
        ("+447700900100", "+447700900001"),
        ("+447700900200", "+447700900002"),
    ];
    let id = "b0000000000000000000000000000001";
    open_session(store, id, Provider::Vonage, legs, now, day).await
}

/// The tables of the rows that write (events, sessions), each with the
/// pool, the events' one with the session too.
async fn seed_row_tables(
    store: &Store,
    session: &Session,
    now: i64,
) -> anyhow::Result<(String, String)> {
    let event_table = format!("bench-events-{}", uuid_like());
    let client = store.client().clone();
    schema::create_table(&client, &event_table).await?;
    let events_store = Store::new(client.clone(), event_table.clone());
    let sessions_table = format!("bench-sessions-{}", uuid_like());
    schema::create_table(&client, &sessions_table).await?;
    let sessions_store = Store::new(client, sessions_table.clone());
    for p in ["+447700900001", "+447700900002"] {
        pool_number(&sessions_store, p, Provider::Vonage, "GB", now).await?;
        pool_number(&events_store, p, Provider::Vonage, "GB", now).await?;
    }
    events_store
        .create_session(session, now, &[])
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    Ok((event_table, sessions_table))
}

/// The Twilio line, and a Twilio session for texts: +15551230100 texts
/// +15551230701.
async fn seed_line_and_texts(store: &Store, now: i64) -> anyhow::Result<()> {
    let line = callmask::api::lines::parse_line(&serde_json::json!({
        "owner": {"phone": "+15551230001", "email": "owner@example.com"},
        "voicemail": {"transcribe": true}}))
    .map_err(|e| anyhow::anyhow!(e.message))?;
    store.put_line(&n("+15551230009"), &line, now).await?;
    for p in ["+15551230701", "+15551230702"] {
        pool_number(store, p, Provider::Twilio, "US", now).await?;
    }
    let legs = [
        ("+15551230100", "+15551230701"),
        ("+15551230200", "+15551230702"),
    ];
    let id = "d0000000000000000000000000000001";
    open_session(store, id, Provider::Twilio, legs, now, 24 * 3600).await?;
    Ok(())
}

/// The settings every function is started with; BENCH_ENV="K=V,..." adds
/// or replaces some (experiments), K= removes one.
pub fn base_env(world: &World) -> Vec<(String, String)> {
    let ids = &world.secret_ids;
    let mut env: Vec<(String, String)> = [
        (
            "AWS_ENDPOINT_URL",
            std::env::var("AWS_ENDPOINT_URL").unwrap_or_default(),
        ),
        (
            "AWS_REGION",
            std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into()),
        ),
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ("TABLE_NAME", world.table.clone()),
        ("PUBLIC_BASE_URL", PUBLIC.into()),
        ("VONAGE_SIGNATURE_SECRET_ID", ids[0].clone()),
        ("TWILIO_AUTH_TOKEN_SECRET_ID", ids[1].clone()),
        ("TWILIO_ACCOUNT_SID", TWILIO_ACCOUNT.into()),
        ("VONAGE_API_KEY", "bench-key".into()),
        ("VONAGE_API_SECRET_ID", ids[2].clone()),
        ("VONAGE_REST_BASE_URL", world.sms_api.clone()),
        ("AUDIO_SOCKET_TOKEN_SECRET_ID", ids[3].clone()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    // Secrets Manager is a service of its own (`stack.py` runs it in a
    // process of its own), as in AWS.
    if let Ok(sm) = std::env::var("AWS_ENDPOINT_URL_SECRETS_MANAGER") {
        env.push(("AWS_ENDPOINT_URL_SECRETS_MANAGER".into(), sm));
    }
    for pair in std::env::var("BENCH_ENV").unwrap_or_default().split(',') {
        if let Some((k, v)) = pair.split_once('=') {
            env.retain(|(name, _)| name != k);
            if !v.is_empty() {
                env.push((k.to_string(), v.to_string()));
            }
        }
    }
    env
}
