//! The emails an owner gets: a voicemail, a text to their line. Plain text
//! and HTML; the SES adapter (`aws::ses`) sends them.

use quick_xml::escape::escape;

use crate::clock::rfc3339;
use crate::domain::{TextEmail, Voicemail};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub subject: String,
    pub text: String,
    pub html: String,
}

fn caller_label(caller: &str) -> String {
    if caller.starts_with('+') && caller.len() > 7 {
        caller.to_string()
    } else {
        "a withheld number".to_string()
    }
}

fn length(seconds: i64) -> String {
    format!("{}:{:02}", seconds / 60, seconds % 60)
}

/// A voicemail: who called, when, how long, the link and the transcription.
pub fn voicemail(vm: &Voicemail, link: &str, link_ttl_seconds: u64) -> Email {
    let caller = caller_label(&vm.caller);
    let line = vm.line.e164();
    let when = rfc3339(vm.recorded_at)
        .replace('T', " ")
        .replace('Z', " UTC");
    let hours = (link_ttl_seconds as f64 / 3600.0).ceil() as u64;
    let transcription = match (&vm.transcription, vm.transcribe) {
        (Some(t), _) if !t.trim().is_empty() => Some(t.trim().to_string()),
        (_, true) => Some("(no transcription is available for this message)".to_string()),
        _ => None,
    };
    let subject = format!(
        "New voicemail from {caller} ({})",
        length(vm.duration_seconds)
    );
    let mut text = format!(
        "You have a new voicemail on your line {line}.\n\nFrom: {caller}\nReceived: {when}\nLength: {}\n\nListen: {link}\n(This link works for {hours} hours.)\n",
        length(vm.duration_seconds)
    );
    if let Some(t) = &transcription {
        text.push_str(&format!("\nTranscription:\n{t}\n"));
    }
    let mut html = format!(
        "<html><body><p>You have a new voicemail on your line <b>{}</b>.</p>\
         <table><tr><td>From</td><td>{}</td></tr><tr><td>Received</td><td>{}</td></tr><tr><td>Length</td><td>{}</td></tr></table>\
         <p><a href=\"{}\">Listen to the message</a> (this link works for {hours} hours)</p>",
        escape(line),
        escape(caller.as_str()),
        escape(when.as_str()),
        length(vm.duration_seconds),
        escape(link)
    );
    if let Some(t) = &transcription {
        html.push_str(&format!(
            "<p>Transcription:</p><blockquote>{}</blockquote>",
            escape(t.as_str())
        ));
    }
    html.push_str("</body></html>");
    Email {
        subject,
        text,
        html,
    }
}

/// A text to a line: what the owner reads.
pub fn text(text: &TextEmail) -> Email {
    let (line, from) = (text.line.e164(), text.from.e164());
    Email {
        subject: format!("Text to {line} from {from}"),
        text: format!("{}\n\nFrom {from} to your line {line}.\n", text.body),
        html: format!(
            "<p>{}</p><p>From {from} to your line {line}.</p>",
            escape(&text.body)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::line::VoicemailSettings;
    use crate::domain::CallContext;
    use crate::phone::PhoneNumber;

    fn vm(caller: &str, transcription: Option<&str>, transcribe: bool) -> Voicemail {
        let ctx = CallContext {
            call_sid: "CA1".into(),
            line: PhoneNumber::from_e164("+15551230009").unwrap(),
            caller: caller.into(),
            owner_email: "o@example.com".into(),
            voicemail: VoicemailSettings {
                enabled: true,
                max_length_seconds: 120,
                transcribe,
                greeting: String::new(),
            },
            language: "en-US".into(),
            created_at: 0,
        };
        let url = "https://api.twilio.com/x";
        let mut vm = Voicemail::recorded("twilio", "RE1", "CA1", &ctx, url, 75, 1_795_334_400);
        vm.transcription = transcription.map(str::to_string);
        vm
    }

    #[test]
    fn has_caller_line_time_length_link_and_transcription() {
        let e = voicemail(
            &vm("+15551230002", Some("Call me <back>"), true),
            "https://s3/x?sig=1&b=2",
            86400,
        );
        assert!(e.subject.contains("+15551230002") && e.subject.contains("1:15"));
        for part in [
            "+15551230009",
            "2026-11-22 08:00:00 UTC",
            "1:15",
            "https://s3/x?sig=1&b=2",
            "Call me <back>",
            "24 hours",
        ] {
            assert!(e.text.contains(part), "{part}");
        }
        assert!(e.html.contains("Call me &lt;back&gt;"));
        assert!(e.html.contains("https://s3/x?sig=1&amp;b=2"));
    }

    #[test]
    fn withheld_callers_and_no_transcription() {
        let e = voicemail(&vm("anonymous", None, false), "https://l", 3600);
        assert!(e.text.contains("a withheld number"));
        assert!(!e.text.contains("Transcription"));
    }
}
