//! A small TwiML writer: the verbs and attributes we use, escaped by
//! quick-xml. Documented at <https://www.twilio.com/docs/voice/twiml>.

use quick_xml::escape::escape;

#[derive(Debug, Clone, PartialEq)]
pub enum Verb {
    Say {
        text: String,
        language: Option<String>,
    },
    Dial {
        number: String,
        attrs: Vec<(&'static str, String)>,
    },
    Record {
        attrs: Vec<(&'static str, String)>,
    },
    Hangup,
    /// A text message (Messaging TwiML): `to`/`from` when relaying, none
    /// for a reply to the sender.
    Message {
        body: String,
        attrs: Vec<(&'static str, String)>,
    },
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Response(pub Vec<Verb>);

impl Response {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn say(mut self, text: &str, language: Option<&str>) -> Self {
        self.0.push(Verb::Say {
            text: text.to_string(),
            language: language.map(str::to_string),
        });
        self
    }

    pub fn dial(mut self, number: &str, attrs: Vec<(&'static str, String)>) -> Self {
        self.0.push(Verb::Dial {
            number: number.to_string(),
            attrs,
        });
        self
    }

    pub fn record(mut self, attrs: Vec<(&'static str, String)>) -> Self {
        self.0.push(Verb::Record { attrs });
        self
    }

    pub fn message(mut self, body: &str, attrs: Vec<(&'static str, String)>) -> Self {
        self.0.push(Verb::Message {
            body: body.to_string(),
            attrs,
        });
        self
    }

    pub fn hangup(mut self) -> Self {
        self.0.push(Verb::Hangup);
        self
    }

    pub fn render(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>");
        for verb in &self.0 {
            match verb {
                Verb::Say { text, language } => {
                    out.push_str("<Say");
                    if let Some(l) = language {
                        attr(&mut out, "language", l);
                    }
                    text_and_end(&mut out, text, "Say");
                }
                Verb::Dial { number, attrs } => {
                    start(&mut out, "Dial", attrs);
                    out.push_str("><Number>");
                    out.push_str(&escape(number.as_str()));
                    out.push_str("</Number></Dial>");
                }
                Verb::Record { attrs } => {
                    start(&mut out, "Record", attrs);
                    out.push_str("/>");
                }
                Verb::Hangup => out.push_str("<Hangup/>"),
                Verb::Message { body, attrs } => {
                    start(&mut out, "Message", attrs);
                    text_and_end(&mut out, body, "Message");
                }
            }
        }
        out.push_str("</Response>");
        out
    }
}

/// `<name a="v"…`, the tag left open.
fn start(out: &mut String, name: &str, attrs: &[(&'static str, String)]) {
    out.push('<');
    out.push_str(name);
    for (k, v) in attrs {
        attr(out, k, v);
    }
}

/// `>text</name>`, the text escaped.
fn text_and_end(out: &mut String, text: &str, name: &str) {
    out.push('>');
    out.push_str(&escape(text));
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

fn attr(out: &mut String, name: &str, value: &str) {
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    out.push_str(&escape(value));
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_escaped_verbs() {
        let xml = Response::new()
            .say("Tom & Jerry <3", Some("en-US"))
            .dial(
                "+15551230001",
                vec![
                    ("timeout", "15".into()),
                    ("action", "https://h/x?a=1&b=2".into()),
                ],
            )
            .hangup()
            .render();
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Say language=\"en-US\">Tom &amp; Jerry &lt;3</Say>\
             <Dial timeout=\"15\" action=\"https://h/x?a=1&amp;b=2\"><Number>+15551230001</Number></Dial><Hangup/></Response>"
        );
    }
}
