//! `GET|POST /vonage/audio-answer`: the answer URL of a Vonage application
//! whose calls are streamed to the audio socket (Vonage's "echo server"
//! set-up). Numbers in sessions and lines keep `/vonage/answer`.
//!
//! Signed like every Vonage webhook. The NCCO is a `talk`
//! (`AUDIO_GREETING_TEXT`, none when empty) and a `connect` to a
//! `websocket` endpoint: `AUDIO_SOCKET_URL`, `audio/l16;rate=N`
//! (`AUDIO_SAMPLE_RATE`), headers `call_uuid`, `conversation_uuid`, `mode`
//! (`AUDIO_MODE`) and `token` when `AUDIO_SOCKET_TOKEN` is set, and an
//! `eventUrl` array at `/vonage/event`. No phone number goes into the
//! headers. A signed token is taken once (one conditional write): a replay
//! gets 401, and never the socket token.
//!
//! - no signature secret → 503 (unless `ALLOW_UNSIGNED_WEBHOOKS=true`);
//! - `AUDIO_SOCKET_URL` set empty (no socket deployed) → 503 `not_configured`;
//! - the secret, the socket token or storage unreadable → 503, so Vonage
//!   retries and then asks the fallback URL;
//! - no usable call uuid → a polite `talk` and the call ends.

use aws_config::SdkConfig;
use http::Method;
use lambda_http::Request;
use serde_json::{Map, Value};

use crate::api::http::{header, json, public_base_url, ApiError, HttpResponse};
use crate::audio::valid_call_id;
use crate::aws::{self, Timeouts};
use crate::config::{AudioAnswerConfig, ConfigError, VonageConfig};
use crate::core::{signing_secret, Core, Denied};
use crate::domain::routing::RefuseReason;
use crate::phone::{mask_raw, PhoneNumber};
use crate::secrets::Secret;
use crate::store::Claim;
use crate::vonage::ncco::{self, WebsocketOptions};
use crate::vonage::signature::{token_id, MAX_TOKEN_AGE_SECONDS};

use super::{authenticate, read_params, VonageState};

/// What `vonage-audio-answer` holds: the Vonage webhook state (table,
/// signature secret), the audio settings and the socket token.
#[derive(Clone, Debug)]
pub struct AudioAnswerState {
    pub vonage: VonageState,
    pub audio: AudioAnswerConfig,
    pub socket_token: Secret,
}

impl AudioAnswerState {
    pub async fn from_env() -> Result<Self, ConfigError> {
        let audio = AudioAnswerConfig::from_env()?;
        let config = VonageConfig::from_env()?;
        let (core, sdk) = Core::load(aws::CALL_PATH).await?;
        let state = Self::build(core, config, audio, &sdk, aws::CALL_PATH);
        state.vonage.core.announce_signing(
            "vonage-audio-answer",
            &state.vonage.secret,
            "VONAGE_SIGNATURE_SECRET_ID",
        );
        state.announce();
        Ok(state)
    }

    pub fn build(
        core: Core,
        config: VonageConfig,
        audio: AudioAnswerConfig,
        sdk: &SdkConfig,
        timeouts: Timeouts,
    ) -> Self {
        let socket_token = core.secret(&audio.socket_token, "audio_socket_token", sdk, timeouts);
        Self {
            vonage: VonageState::build(core, config, sdk, timeouts),
            audio,
            socket_token,
        }
    }

    /// Says at start where calls will be streamed, loudly when nowhere.
    pub fn announce(&self) {
        match &self.audio.socket_url {
            Some(url) => tracing::info!(
                socket = %url,
                mode = self.audio.mode.as_str(),
                rate = self.audio.sample_rate.hz(),
                token = self.socket_token.is_configured(),
                "audio calls stream to the audio socket"
            ),
            None => tracing::error!(
                "AUDIO_SOCKET_URL is empty: /vonage/audio-answer answers 503 until an audio socket is configured"
            ),
        }
    }
}

pub async fn handle(state: &AudioAnswerState, req: Request) -> HttpResponse {
    if !matches!(*req.method(), Method::GET | Method::POST) {
        return ApiError::method_not_allowed("GET, POST").into_response();
    }
    let vonage = &state.vonage;
    // Both secrets at once: a cold start waits for one round trip.
    let (fetched, token) = tokio::join!(vonage.secret.get(), state.socket_token.get());
    let secret = match signing_secret(&vonage.core, fetched) {
        Ok(secret) => secret,
        Err(denied) => return denied.into_response(),
    };
    if let Err(denied) = authenticate(vonage, &req, secret.as_deref()) {
        return denied.into_response();
    }
    let Some(socket_url) = state.audio.socket_url.as_deref() else {
        return ApiError::new(
            503,
            "not_configured",
            "no audio socket is configured (AUDIO_SOCKET_URL)",
        )
        .into_response();
    };
    let socket_token = match token {
        Ok(token) => token,
        Err(e) => {
            tracing::error!(error = %crate::telemetry::chain(&e), "audio socket token unavailable");
            return Denied::SecretUnavailable.into_response();
        }
    };
    // A signed token is good once: the answer carries the socket token.
    if secret.is_some() {
        let Some(token) = token_id(header(&req, "authorization"), vonage.core.clock.now()) else {
            return Denied::Unauthorized.into_response();
        };
        let claim = Claim {
            token: &token,
            forget_at: token.iat + 2 * MAX_TOKEN_AGE_SECONDS,
        };
        match vonage.core.store.claim_token(claim).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!("refused a replayed Vonage webhook token (audio answer)");
                return Denied::Unauthorized.into_response();
            }
            Err(e) => {
                tracing::error!(error = %crate::telemetry::chain(&e), "storage unavailable while answering an audio call");
                return ApiError::unavailable().into_response();
            }
        }
    }
    let params = read_params(&req).unwrap_or_default();
    let Some(call_uuid) = params.uuid.as_deref().filter(|u| valid_call_id(u)) else {
        tracing::info!(
            to = %params.to.as_deref().map(mask_raw).unwrap_or_default(),
            "audio call without a usable call uuid"
        );
        return json(200, &vec![ncco::talk(RefuseReason::BadRequest.message())]);
    };
    let mode = state.audio.mode;
    let mut headers = Map::new();
    headers.insert("call_uuid".into(), Value::from(call_uuid));
    if let Some(c) = params
        .conversation_uuid
        .as_deref()
        .filter(|c| valid_call_id(c))
    {
        headers.insert("conversation_uuid".into(), Value::from(c));
    }
    headers.insert("mode".into(), Value::from(mode.as_str()));
    if let Some(token) = socket_token {
        headers.insert("token".into(), Value::from(&*token));
    }
    // The number called is the application's own: the connect's `from`.
    let to = params
        .to
        .as_deref()
        .and_then(|t| PhoneNumber::from_e164(t).ok());
    let base = public_base_url(vonage.core.config.public_base_url.as_deref(), &req);
    let opts = WebsocketOptions {
        greeting: &state.audio.greeting_text,
        uri: socket_url,
        content_type: state.audio.sample_rate.content_type(),
        headers,
        from: to.as_ref().map(|t| t.digits().to_string()),
        event_url: format!("{base}/vonage/event"),
    };
    tracing::info!(
        call = call_uuid,
        mode = mode.as_str(),
        rate = state.audio.sample_rate.hz(),
        to = %to.as_ref().map(|t| t.masked().to_string()).unwrap_or_else(|| "-".into()),
        "streaming a call to the audio socket"
    );
    json(200, &ncco::stream_to_socket(&opts))
}
