//! NCCO (Call Control Object) actions we send, following
//! <https://developer.vonage.com/en/voice/voice-api/ncco-reference>.

use serde::Serialize;

use crate::domain::routing::{CallPlan, RefuseReason};

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "action", rename_all = "lowercase")]
pub enum Action {
    Talk(Talk),
    Connect(Connect),
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Talk {
    /// At most 1,500 characters.
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Connect {
    /// Exactly one endpoint.
    pub endpoint: Vec<Endpoint>,
    /// Caller ID shown to the callee: a number of the account, digits only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Instead of `from`: any number of the application.
    #[serde(rename = "randomFromNumber", skip_serializing_if = "Option::is_none")]
    pub random_from_number: Option<bool>,
    /// Seconds to ring (1..120).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u32>,
    /// Always an array of URLs.
    #[serde(rename = "eventUrl", skip_serializing_if = "Option::is_none")]
    pub event_url: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Endpoint {
    Phone {
        number: String,
    },
    Websocket {
        uri: String,
        #[serde(rename = "content-type")]
        content_type: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        headers: Option<serde_json::Value>,
    },
}

pub type Ncco = Vec<Action>;

const MAX_TALK_CHARS: usize = 1500;

pub fn talk(text: &str) -> Action {
    Action::Talk(Talk {
        text: text.chars().take(MAX_TALK_CHARS).collect(),
        language: None,
    })
}

/// How a routed call is rendered for Vonage.
pub struct RenderOptions<'a> {
    pub greeting: &'a str,
    pub connect_timeout_seconds: u32,
    /// Where Vonage posts the callee leg's events.
    pub event_url: String,
}

pub fn render(plan: &CallPlan, opts: &RenderOptions<'_>) -> Ncco {
    match plan {
        CallPlan::Connect { to, caller_id, .. } => {
            let mut ncco = Vec::with_capacity(2);
            if !opts.greeting.trim().is_empty() {
                ncco.push(talk(opts.greeting));
            }
            ncco.push(Action::Connect(Connect {
                endpoint: vec![Endpoint::Phone {
                    number: to.digits().to_string(),
                }],
                from: Some(caller_id.digits().to_string()),
                random_from_number: None,
                timeout: Some(opts.connect_timeout_seconds.clamp(1, 120)),
                event_url: Some(vec![opts.event_url.clone()]),
            }));
            ncco
        }
        // Masked lines are Twilio-only for now: a Vonage number that is a
        // line tells the caller politely.
        CallPlan::Forward { .. } => vec![talk(RefuseReason::NoRoute.message())],
        CallPlan::Refuse(reason) => vec![talk(reason.message())],
    }
}

/// A call streamed to a WebSocket (the audio socket).
pub struct WebsocketOptions<'a> {
    pub greeting: &'a str,
    pub uri: &'a str,
    /// `audio/l16;rate=16000` or `...8000`.
    pub content_type: String,
    /// Sent to the socket in its first message (`websocket:connected`).
    pub headers: serde_json::Map<String, serde_json::Value>,
    /// The number the call came in on, digits: the `from` of the connect.
    /// `None` (a Client SDK call): any number of the application.
    pub from: Option<String>,
    pub event_url: String,
}

/// `talk` greeting (unless empty) and a `connect` to a `websocket` endpoint.
pub fn stream_to_socket(opts: &WebsocketOptions<'_>) -> Ncco {
    let mut ncco = Vec::with_capacity(2);
    if !opts.greeting.trim().is_empty() {
        ncco.push(talk(opts.greeting));
    }
    ncco.push(Action::Connect(Connect {
        endpoint: vec![Endpoint::Websocket {
            uri: opts.uri.to_string(),
            content_type: opts.content_type.clone(),
            headers: Some(serde_json::Value::Object(opts.headers.clone())),
        }],
        random_from_number: opts.from.is_none().then_some(true),
        from: opts.from.clone(),
        timeout: None,
        event_url: Some(vec![opts.event_url.clone()]),
    }));
    ncco
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phone::PhoneNumber;
    use serde_json::json;

    #[test]
    fn connect_uses_digits_and_an_event_url_array() {
        let plan = CallPlan::Connect {
            to: PhoneNumber::parse("+447700900200").unwrap(),
            caller_id: PhoneNumber::parse("+447700900002").unwrap(),
            session_id: "s".into(),
        };
        let opts = RenderOptions {
            greeting: "Hello",
            connect_timeout_seconds: 25,
            event_url: "https://h/vonage/event".into(),
        };
        let v = serde_json::to_value(render(&plan, &opts)).unwrap();
        assert_eq!(
            v,
            json!([
                {"action": "talk", "text": "Hello"},
                {"action": "connect", "from": "447700900002", "timeout": 25,
                 "endpoint": [{"type": "phone", "number": "447700900200"}],
                 "eventUrl": ["https://h/vonage/event"]}
            ])
        );
        let opts = RenderOptions {
            greeting: " ",
            ..opts
        };
        assert_eq!(render(&plan, &opts).len(), 1);
    }

    #[test]
    fn refusal_is_a_single_talk() {
        let opts = RenderOptions {
            greeting: "x",
            connect_timeout_seconds: 30,
            event_url: String::new(),
        };
        let ncco = render(&CallPlan::Refuse(RefuseReason::NoRoute), &opts);
        assert!(matches!(&ncco[..], [Action::Talk(t)] if t.text.contains("Sorry")));
    }

    #[test]
    fn talk_text_is_bounded() {
        let Action::Talk(t) = talk(&"a".repeat(5000)) else {
            panic!()
        };
        assert_eq!(t.text.len(), MAX_TALK_CHARS);
    }
    #[test]
    fn a_socket_connect_has_content_type_headers_and_an_event_url_array() {
        let mut headers = serde_json::Map::new();
        headers.insert("call_uuid".into(), json!("u1"));
        let opts = WebsocketOptions {
            greeting: "Wait",
            uri: "wss://a.example/socket",
            content_type: "audio/l16;rate=16000".into(),
            headers,
            from: Some("447700900001".into()),
            event_url: "https://h/vonage/event".into(),
        };
        let v = serde_json::to_value(stream_to_socket(&opts)).unwrap();
        assert_eq!(
            v,
            json!([
                {"action": "talk", "text": "Wait"},
                {"action": "connect", "from": "447700900001",
                 "endpoint": [{"type": "websocket", "uri": "wss://a.example/socket",
                               "content-type": "audio/l16;rate=16000", "headers": {"call_uuid": "u1"}}],
                 "eventUrl": ["https://h/vonage/event"]}
            ])
        );
        let opts = WebsocketOptions {
            greeting: "",
            from: None,
            ..opts
        };
        let v = serde_json::to_value(stream_to_socket(&opts)).unwrap();
        assert_eq!(v.as_array().unwrap().len(), 1);
        assert_eq!(v[0]["randomFromNumber"], json!(true));
        assert!(v[0].get("from").is_none());
    }
}
