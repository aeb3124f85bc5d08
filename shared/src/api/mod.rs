//! The HTTP API, one module per URL. Each function binary serves one
//! [`Function`]; the local router serves them all from [`ROUTES`], which
//! mirrors `template.yaml` (a test keeps the two equal).

pub mod lines;
pub mod numbers;
pub mod sessions;
pub mod twilio;
pub mod vonage;

use lambda_http::Request;

use crate::clock::Clock;
use crate::config::{Config, ConfigError};
use crate::http::HttpResponse;
use crate::store::{RequestCounter, Store};
use crate::twilio::client::TwilioClient;

/// Built once per process (cold start), shared by every invocation.
#[derive(Clone)]
pub struct AppState {
    pub config: Config,
    pub store: Store,
    pub clock: Clock,
    pub s3: aws_sdk_s3::Client,
    pub ses: aws_sdk_ses::Client,
    pub twilio: TwilioClient,
}

impl AppState {
    pub async fn from_env() -> Result<Self, ConfigError> {
        Self::build(Config::from_env()?, None, None).await
    }

    /// The state for `config`, optionally counting DynamoDB requests and
    /// with an explicit AWS endpoint (tests, benchmarks).
    pub async fn build(
        config: Config,
        counter: Option<RequestCounter>,
        endpoint: Option<&str>,
    ) -> Result<Self, ConfigError> {
        let clients = crate::aws::clients(counter, endpoint).await;
        let twilio = TwilioClient::new(
            &config.twilio_api_base_url,
            config.twilio_account_sid.clone(),
            config.twilio_auth_token.clone(),
        )
        .map_err(|e| ConfigError {
            name: "TWILIO_API_BASE_URL",
            reason: e.to_string(),
        })?;
        Ok(Self {
            store: Store::new(clients.dynamodb, config.table_name.clone()),
            config,
            clock: Clock::system(),
            s3: clients.s3,
            ses: clients.ses,
            twilio,
        })
    }
}

/// One Lambda function each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Function {
    Numbers,
    Sessions,
    Lines,
    VonageAnswer,
    VonageEvent,
    VonageFallback,
    TwilioVoice,
    TwilioDialStatus,
    TwilioRecording,
    TwilioTranscription,
    TwilioStatus,
}

impl Function {
    pub const ALL: [Function; 11] = [
        Function::Numbers,
        Function::Sessions,
        Function::Lines,
        Function::VonageAnswer,
        Function::VonageEvent,
        Function::VonageFallback,
        Function::TwilioVoice,
        Function::TwilioDialStatus,
        Function::TwilioRecording,
        Function::TwilioTranscription,
        Function::TwilioStatus,
    ];

    /// The binary's (and the `functions/` folder's) name.
    pub fn name(self) -> &'static str {
        match self {
            Function::Numbers => "numbers",
            Function::Sessions => "sessions",
            Function::VonageAnswer => "vonage-answer",
            Function::VonageEvent => "vonage-event",
            Function::VonageFallback => "vonage-fallback",
            Function::Lines => "lines",
            Function::TwilioVoice => "twilio-voice",
            Function::TwilioDialStatus => "twilio-dial-status",
            Function::TwilioRecording => "twilio-recording",
            Function::TwilioTranscription => "twilio-transcription",
            Function::TwilioStatus => "twilio-status",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    pub async fn handle(self, state: &AppState, req: Request) -> HttpResponse {
        match self {
            Function::Numbers => numbers::handle(state, req).await,
            Function::Sessions => sessions::handle(state, req).await,
            Function::VonageAnswer => vonage::answer::handle(state, req).await,
            Function::VonageEvent => vonage::event::handle(state, req).await,
            Function::VonageFallback => vonage::fallback::handle(state, req).await,
            Function::Lines => lines::handle(state, req).await,
            Function::TwilioVoice => twilio::voice::handle(state, req).await,
            Function::TwilioDialStatus => twilio::dial_status::handle(state, req).await,
            Function::TwilioRecording => twilio::recording::handle(state, req).await,
            Function::TwilioTranscription => twilio::transcription::handle(state, req).await,
            Function::TwilioStatus => twilio::status::handle(state, req).await,
        }
    }
}

pub struct Route {
    pub method: &'static str,
    /// API Gateway path syntax: `/numbers/{number}`.
    pub path: &'static str,
    pub function: Function,
}

const fn route(method: &'static str, path: &'static str, function: Function) -> Route {
    Route {
        method,
        path,
        function,
    }
}

pub const ROUTES: &[Route] = &[
    route("GET", "/numbers", Function::Numbers),
    route("POST", "/numbers", Function::Numbers),
    route("GET", "/numbers/{number}", Function::Numbers),
    route("DELETE", "/numbers/{number}", Function::Numbers),
    route("POST", "/sessions", Function::Sessions),
    route("GET", "/sessions/{id}", Function::Sessions),
    route("DELETE", "/sessions/{id}", Function::Sessions),
    route("GET", "/sessions/{id}/calls", Function::Sessions),
    route("GET", "/vonage/answer", Function::VonageAnswer),
    route("POST", "/vonage/answer", Function::VonageAnswer),
    route("POST", "/vonage/event", Function::VonageEvent),
    route("GET", "/vonage/event", Function::VonageEvent),
    route("GET", "/vonage/fallback", Function::VonageFallback),
    route("POST", "/vonage/fallback", Function::VonageFallback),
    route("PUT", "/lines/{number}", Function::Lines),
    route("GET", "/lines/{number}", Function::Lines),
    route("DELETE", "/lines/{number}", Function::Lines),
    route("GET", "/lines/{number}/voicemails", Function::Lines),
    route("POST", "/twilio/voice", Function::TwilioVoice),
    route("POST", "/twilio/dial-status", Function::TwilioDialStatus),
    route("POST", "/twilio/recording", Function::TwilioRecording),
    route(
        "POST",
        "/twilio/transcription",
        Function::TwilioTranscription,
    ),
    route("POST", "/twilio/status", Function::TwilioStatus),
];

/// Matches a concrete path against a route pattern, returning the path
/// parameters (still percent-encoded, as API Gateway passes them decoded
/// we decode them too).
pub fn match_path(pattern: &str, path: &str) -> Option<Vec<(String, String)>> {
    let pat: Vec<&str> = pattern.split('/').filter(|s| !s.is_empty()).collect();
    let got: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if pat.len() != got.len() {
        return None;
    }
    let mut params = Vec::new();
    for (p, g) in pat.iter().zip(&got) {
        if let Some(name) = p.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            let decoded = crate::http::decode_path_segment(g);
            params.push((name.to_string(), decoded));
        } else if p != g {
            return None;
        }
    }
    Some(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_match_with_parameters() {
        assert_eq!(match_path("/numbers", "/numbers"), Some(vec![]));
        assert_eq!(
            match_path("/numbers/{number}", "/numbers/%2B447700900001"),
            Some(vec![("number".into(), "+447700900001".into())])
        );
        assert_eq!(
            match_path("/numbers/{number}", "/numbers/+447700900001"),
            Some(vec![("number".into(), "+447700900001".into())])
        );
        assert_eq!(match_path("/sessions/{id}", "/sessions/a/calls"), None);
        assert_eq!(match_path("/vonage/answer", "/vonage/event"), None);
    }

    #[test]
    fn every_function_has_a_route_and_a_name() {
        for f in Function::ALL {
            assert!(ROUTES.iter().any(|r| r.function == f), "{f:?}");
            assert_eq!(Function::from_name(f.name()), Some(f));
        }
    }
}
