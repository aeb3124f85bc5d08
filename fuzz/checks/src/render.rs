//! What callmask writes for the providers with outside text inside: TwiML
//! (an SMS body, a greeting, a language) and NCCO. A conforming parser must
//! read back what was meant: well-formed, only XML 1.0 characters, and the
//! text as given (a character XML cannot carry reads back as U+FFFD).

use callmask::twilio::twiml::Response;
use callmask::vonage::ncco::{self, Action, WebsocketOptions};
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::Event;
use quick_xml::{Reader, XmlVersion};
use serde_json::Value;

use crate::{fields, text};

/// XML 1.0's `Char` production.
pub fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// What a parser reads back for `s`.
fn meant(s: &str) -> String {
    s.chars()
        .map(|c| if xml_char(c) { c } else { '\u{FFFD}' })
        .collect()
}

/// Say text, language, number, an attribute's value, a message body:
/// every verb rendered, then read back as an XML 1.0 parser reads it
/// (line ends and attribute whitespace normalised, references resolved).
pub fn twiml(data: &[u8]) {
    let [say, language, number, value, body] = fields(data, 5)[..] else {
        return;
    };
    let [say, language, number, value, body] = [say, language, number, value, body].map(text);
    let xml = Response::new()
        .say(&say, Some(&language))
        .dial(&number, vec![("action", value.clone())])
        .record(vec![("maxLength", value.clone())])
        .message(&body, vec![("to", value.clone())])
        .hangup()
        .render();
    if let Some(bad) = xml.chars().find(|c| !xml_char(*c)) {
        panic!("TwiML holds {bad:?}, which XML 1.0 does not allow");
    }
    let (texts, attrs) = read_back(&xml);
    assert_eq!(texts, [meant(&say), meant(&number), meant(&body)]);
    assert_eq!(
        attrs,
        [
            meant(&language),
            meant(&value),
            meant(&value),
            meant(&value)
        ]
    );
}

/// The text of each element that has some, and every attribute's value,
/// in document order.
fn read_back(xml: &str) -> (Vec<String>, Vec<String>) {
    let mut reader = Reader::from_str(xml);
    let (mut texts, mut attrs, mut current) = (Vec::new(), Vec::new(), None::<String>);
    loop {
        match reader.read_event().expect("well-formed TwiML") {
            Event::Start(e) | Event::Empty(e) => {
                for a in e.attributes() {
                    let a = a.expect("a well-formed attribute");
                    attrs.push(
                        a.normalized_value(XmlVersion::Explicit1_0)
                            .expect("a value")
                            .into_owned(),
                    );
                }
                current = None;
            }
            Event::Text(t) => current
                .get_or_insert_with(String::new)
                .push_str(&t.xml10_content().expect("UTF-8")),
            Event::GeneralRef(r) => {
                let s = current.get_or_insert_with(String::new);
                match r.resolve_char_ref().expect("a valid character reference") {
                    Some(c) => s.push(c),
                    None => {
                        let name = r.decode().expect("UTF-8");
                        s.push_str(resolve_predefined_entity(&name).expect("a predefined entity"));
                    }
                }
            }
            Event::End(e) => {
                let name = e.name();
                let named = matches!(name.as_ref(), b"Say" | b"Number" | b"Message");
                if named {
                    texts.push(current.take().unwrap_or_default());
                }
                current = None;
            }
            Event::Decl(_) => {}
            Event::Eof => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    (texts, attrs)
}

/// A talk text, a socket header's name and value: the NCCO is JSON that
/// reads back as written (the talk cut at 1,500 characters).
pub fn ncco(data: &[u8]) {
    let [say, name, value] = fields(data, 3)[..] else {
        return;
    };
    let [say, name, value] = [say, name, value].map(text);
    let Action::Talk(talk) = ncco::talk(&say) else {
        panic!("talk is a talk");
    };
    let kept: String = say.chars().take(1500).collect();
    assert_eq!(talk.text, kept);
    let mut headers = serde_json::Map::new();
    headers.insert(name.clone(), Value::String(value.clone()));
    let opts = WebsocketOptions {
        greeting: &say,
        uri: "wss://audio.example/socket",
        content_type: "audio/l16;rate=16000".into(),
        headers,
        from: None,
        event_url: "https://h.example/vonage/event".into(),
    };
    let json = serde_json::to_string(&ncco::stream_to_socket(&opts)).expect("NCCO serialises");
    let back: Value = serde_json::from_str(&json).expect("NCCO is JSON");
    let actions = back.as_array().expect("an array");
    let connect = actions.last().expect("a connect");
    assert_eq!(
        connect["endpoint"][0]["headers"][name.as_str()],
        Value::String(value)
    );
    if say.trim().is_empty() {
        assert_eq!(actions.len(), 1);
    } else {
        assert_eq!(actions[0]["text"], Value::String(kept));
    }
}
