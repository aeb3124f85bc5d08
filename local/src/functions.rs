//! Every function of the template, served from one process: each keeps
//! the state its own binary builds, and [`ROUTES`] mirrors `template.yaml`
//! (a conformance test keeps the two equal).

use callmask::api::http::HttpResponse;
use callmask::api::numbers::NumbersState;
use callmask::api::sessions::SessionsState;
use callmask::api::twilio::sms::SmsState;
use callmask::api::twilio::TwilioState;
use callmask::api::voicemail_worker::VoicemailState;
use callmask::api::vonage::audio_answer::AudioAnswerState;
use callmask::api::vonage::inbound_sms::InboundSmsState;
use callmask::api::vonage::VonageState;
use callmask::api::RecordingsState;
use callmask::api::{audio, lines, numbers, sessions, twilio, vonage};
use callmask::aws::{self, RequestCounter};
use callmask::config::{
    AudioAnswerConfig, ConfigError, CoreConfig, MessagingConfig, TwilioConfig, VoicemailConfig,
    VonageConfig,
};
use callmask::core::Core;
use callmask::providers::{Providers, VonageSms};
use callmask::store::Store;
use lambda_http::Request;

/// The settings of every concern.
#[derive(Debug, Clone, Default)]
pub struct StackConfig {
    pub core: CoreConfig,
    pub vonage: VonageConfig,
    pub twilio: TwilioConfig,
    pub voicemail: VoicemailConfig,
    pub messaging: MessagingConfig,
    pub audio: AudioAnswerConfig,
}

impl StackConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            core: CoreConfig::from_env()?,
            vonage: VonageConfig::from_env()?,
            twilio: TwilioConfig::from_env()?,
            voicemail: VoicemailConfig::from_env()?,
            messaging: MessagingConfig::from_env()?,
            audio: AudioAnswerConfig::from_env()?,
        })
    }
}

/// The states of every function, over one table, one clock and one set of
/// AWS clients.
#[derive(Clone, Debug)]
pub struct Stack {
    pub core: Core,
    pub vonage: VonageState,
    pub twilio: TwilioState,
    pub lines: RecordingsState,
    pub voicemail: VoicemailState,
    pub numbers: NumbersState,
    pub sessions: SessionsState,
    pub twilio_sms: SmsState,
    pub vonage_sms: InboundSmsState,
    pub audio_answer: AudioAnswerState,
    pub audio_recordings: RecordingsState,
}

impl Stack {
    pub async fn from_env() -> Result<Self, ConfigError> {
        Self::build(StackConfig::from_env()?, None, None).await
    }

    /// `counter` counts DynamoDB requests; `endpoint` overrides the AWS
    /// endpoint (tests, benchmarks).
    pub async fn build(
        config: StackConfig,
        counter: Option<RequestCounter>,
        endpoint: Option<&str>,
    ) -> Result<Self, ConfigError> {
        let sdk = aws::sdk_config(endpoint).await;
        // One table client for every function, with the emulator's limits:
        // a timed-out conditional write that did happen would be retried and
        // seen as a conflict. Each Lambda function sets its own.
        let core = Core::build(config.core, &sdk, aws::EMULATOR, counter);
        let providers = Providers::build(
            &core,
            &config.messaging,
            &config.vonage,
            &config.twilio,
            &sdk,
            aws::EMULATOR,
        );
        let audio_answer = AudioAnswerState::build(
            core.clone(),
            config.vonage.clone(),
            config.audio,
            &sdk,
            aws::EMULATOR,
        );
        let vonage = VonageState::build(core.clone(), config.vonage, &sdk, aws::EMULATOR);
        let twilio = TwilioState::build(core.clone(), config.twilio.clone(), &sdk, aws::EMULATOR);
        Ok(Self {
            numbers: NumbersState {
                core: core.clone(),
                providers: providers.clone(),
            },
            sessions: SessionsState {
                core: core.clone(),
                providers: providers.clone(),
                messaging: config.messaging.clone(),
            },
            twilio_sms: SmsState::build(twilio.clone(), config.messaging.clone()),
            vonage_sms: InboundSmsState {
                core: core.clone(),
                secret: vonage.secret.clone(),
                sms: VonageSms::of(&providers),
                messaging: config.messaging,
            },
            audio_answer,
            audio_recordings: RecordingsState {
                core: core.clone(),
                recordings: aws::Bucket {
                    client: aws::s3(&sdk, aws::EMULATOR),
                    name: config.voicemail.recordings_bucket.clone(),
                },
            },
            vonage,
            twilio,
            lines: RecordingsState {
                core: core.clone(),
                recordings: aws::Bucket {
                    client: aws::s3(&sdk, aws::EMULATOR),
                    name: config.voicemail.recordings_bucket.clone(),
                },
            },
            voicemail: VoicemailState::build(
                core.clone(),
                config.twilio,
                config.voicemail,
                &sdk,
                [aws::EMULATOR, aws::EMULATOR],
            )?,
            core,
        })
    }

    /// Points every function at `store` (tests of a storage outage).
    pub fn set_store(&mut self, store: Store) {
        self.core.store = store.clone();
        self.vonage.core.store = store.clone();
        self.twilio.core.store = store.clone();
        self.lines.core.store = store.clone();
        self.numbers.core.store = store.clone();
        self.sessions.core.store = store.clone();
        self.twilio_sms.twilio.core.store = store.clone();
        self.vonage_sms.core.store = store.clone();
        self.audio_answer.vonage.core.store = store.clone();
        self.audio_recordings.core.store = store.clone();
        self.voicemail.core.store = store;
    }

    /// Says at start how each provider's webhooks are checked.
    pub fn announce_signing(&self) {
        self.core.announce_signing(
            "vonage-*",
            &self.vonage.secret,
            "VONAGE_SIGNATURE_SECRET_ID",
        );
        self.core.announce_signing(
            "twilio-*",
            &self.twilio.auth_token,
            "TWILIO_AUTH_TOKEN_SECRET_ID",
        );
        self.audio_answer.announce();
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
    TwilioSms,
    VonageInboundSms,
    VonageAudioAnswer,
    AudioRecordings,
}

impl Function {
    pub const ALL: [Function; 15] = [
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
        Function::TwilioSms,
        Function::VonageInboundSms,
        Function::VonageAudioAnswer,
        Function::AudioRecordings,
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
            Function::TwilioSms => "twilio-sms",
            Function::VonageInboundSms => "vonage-inbound-sms",
            Function::VonageAudioAnswer => "vonage-audio-answer",
            Function::AudioRecordings => "audio-recordings",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    /// What the function's binary does with `req`, with its own state.
    /// Each function's future is boxed: one state machine holding all of
    /// them (as deep as the deepest) overflows a test thread's stack in a
    /// debug build. A deployed function runs only its own.
    pub async fn handle(self, stack: &Stack, req: Request) -> HttpResponse {
        use std::future::Future;
        use std::pin::Pin;
        type Handling<'a> = Pin<Box<dyn Future<Output = HttpResponse> + Send + 'a>>;
        let handling: Handling<'_> = match self {
            Function::Numbers => Box::pin(numbers::handle(&stack.numbers, req)),
            Function::Sessions => Box::pin(sessions::handle(&stack.sessions, req)),
            Function::Lines => Box::pin(lines::handle(&stack.lines, req)),
            Function::VonageAnswer => Box::pin(vonage::answer::handle(&stack.vonage, req)),
            Function::VonageEvent => Box::pin(vonage::event::handle(&stack.vonage, req)),
            Function::VonageFallback => Box::pin(vonage::fallback::handle(&stack.vonage, req)),
            Function::TwilioVoice => Box::pin(twilio::voice::handle(&stack.twilio, req)),
            Function::TwilioDialStatus => Box::pin(twilio::dial_status::handle(&stack.twilio, req)),
            Function::TwilioRecording => Box::pin(twilio::recording::handle(&stack.twilio, req)),
            Function::TwilioTranscription => {
                Box::pin(twilio::transcription::handle(&stack.twilio, req))
            }
            Function::TwilioStatus => Box::pin(twilio::status::handle(&stack.twilio, req)),
            Function::TwilioSms => Box::pin(twilio::sms::handle(&stack.twilio_sms, req)),
            Function::VonageInboundSms => {
                Box::pin(vonage::inbound_sms::handle(&stack.vonage_sms, req))
            }
            Function::VonageAudioAnswer => {
                Box::pin(vonage::audio_answer::handle(&stack.audio_answer, req))
            }
            Function::AudioRecordings => Box::pin(audio::handle(&stack.audio_recordings, req)),
        };
        handling.await
    }
}

pub struct Route {
    pub method: &'static str,
    /// API Gateway path syntax: `/numbers/{number}`.
    pub path: &'static str,
    pub function: Function,
}

/// `Function: "METHOD" "/path", ...;` for each function, in order.
macro_rules! routes {
    ($($function:ident: $($method:literal $path:literal),+;)*) => {
        &[$($(Route { method: $method, path: $path, function: Function::$function },)+)*]
    };
}

pub const ROUTES: &[Route] = routes! {
    Numbers: "GET" "/numbers", "POST" "/numbers", "POST" "/numbers/provision",
        "POST" "/numbers/import", "GET" "/numbers/{number}", "DELETE" "/numbers/{number}";
    Sessions: "POST" "/sessions", "GET" "/sessions/{id}", "DELETE" "/sessions/{id}",
        "PATCH" "/sessions/{id}", "POST" "/sessions/{id}",
        "GET" "/sessions/{id}/calls", "GET" "/sessions/{id}/messages", "GET" "/sessions",
        "GET" "/calls/{id}", "POST" "/services", "GET" "/services", "GET" "/services/{id}",
        "POST" "/services/{id}", "DELETE" "/services/{id}", "POST" "/services/{id}/numbers",
        "GET" "/services/{id}/numbers", "DELETE" "/services/{id}/numbers/{number}";
    VonageAnswer: "GET" "/vonage/answer", "POST" "/vonage/answer";
    VonageEvent: "POST" "/vonage/event", "GET" "/vonage/event";
    VonageFallback: "GET" "/vonage/fallback", "POST" "/vonage/fallback";
    Lines: "PUT" "/lines/{number}", "GET" "/lines/{number}", "DELETE" "/lines/{number}",
        "GET" "/lines/{number}/voicemails", "GET" "/voicemails/{recording_sid}/recording";
    TwilioVoice: "POST" "/twilio/voice";
    TwilioDialStatus: "POST" "/twilio/dial-status";
    TwilioRecording: "POST" "/twilio/recording";
    TwilioTranscription: "POST" "/twilio/transcription";
    TwilioStatus: "POST" "/twilio/status";
    TwilioSms: "POST" "/twilio/sms";
    VonageInboundSms: "GET" "/vonage/inbound-sms", "POST" "/vonage/inbound-sms";
    VonageAudioAnswer: "GET" "/vonage/audio-answer", "POST" "/vonage/audio-answer";
    AudioRecordings: "GET" "/audio/recordings", "GET" "/audio/recordings/{call_uuid}";
};

/// Matches a concrete path against a route pattern, returning the path
/// parameters decoded, as API Gateway passes them.
pub fn match_path(pattern: &str, path: &str) -> Option<Vec<(String, String)>> {
    let pat: Vec<&str> = pattern.split('/').filter(|s| !s.is_empty()).collect();
    let got: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if pat.len() != got.len() {
        return None;
    }
    let mut params = Vec::new();
    for (p, g) in pat.iter().zip(&got) {
        if let Some(name) = p.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            let decoded = callmask::api::http::decode_path_segment(g);
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
