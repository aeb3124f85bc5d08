//! A small TwiML writer: the verbs and attributes we use, escaped so that
//! an XML 1.0 parser reads back the text as given (see [`escape`]).
//! Documented at <https://www.twilio.com/docs/voice/twiml>.

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
                    escape(&mut out, number, false);
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
    escape(out, text, false);
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

fn attr(out: &mut String, name: &str, value: &str) {
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    escape(out, value, true);
    out.push('"');
}

/// Appends `text` as XML 1.0 character data (`in_attribute`: an attribute
/// value). The markup characters become entities; a carriage return (and,
/// in an attribute, a tab or line feed) becomes a character reference, since
/// a parser would turn it into a line feed (a space); a character XML 1.0
/// cannot carry at all (NUL, most C0 controls, lone surrogates' stand-ins
/// U+FFFE/U+FFFF) becomes U+FFFD, since one such character makes the whole
/// document unreadable and the text (an SMS body) would be lost.
fn escape(out: &mut String, text: &str, in_attribute: bool) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            '\t' if in_attribute => out.push_str("&#9;"),
            '\n' if in_attribute => out.push_str("&#10;"),
            '\t' | '\n' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'.. => {
                out.push(c)
            }
            _ => out.push('\u{FFFD}'),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by fuzzing (fuzz/regressions/twiml): a text with a NUL (or any
    /// C0 control) made TwiML no XML parser reads, so Twilio dropped the
    /// relayed SMS; a carriage return read back as a line feed.
    #[test]
    fn text_xml_cannot_carry_is_replaced_and_line_ends_kept() {
        let xml = Response::new()
            .message("a\u{0}b\u{1b}c\r\nd\u{FFFF}", vec![("to", "x\ty\n".into())])
            .render();
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>\
             <Message to=\"x&#9;y&#10;\">a\u{FFFD}b\u{FFFD}c&#13;\nd\u{FFFD}</Message></Response>"
        );
    }

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
