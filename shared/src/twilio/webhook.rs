//! Twilio's form-encoded webhook parameters.

use std::collections::HashMap;

/// Every parameter as sent (order kept for the signature), plus lookups.
#[derive(Debug, Clone, Default)]
pub struct Form {
    pub pairs: Vec<(String, String)>,
    map: HashMap<String, String>,
}

impl Form {
    pub fn parse(body: &[u8]) -> Self {
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
        let map = pairs.iter().cloned().collect();
        Self { pairs, map }
    }

    /// A non-empty parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.map
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }
}

/// A `CallSid`/`RecordingSid`-like id: letters and digits only, bounded.
pub fn valid_sid(s: &str) -> bool {
    (2..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_form_bodies() {
        let f = Form::parse(b"CallSid=CA123&From=%2B15551230002&To=+15551230009&Empty=");
        assert_eq!(f.get("From"), Some("+15551230002"));
        // A raw '+' in a form body is a space.
        assert_eq!(f.get("To"), Some("15551230009"));
        assert_eq!(f.get("Empty"), None);
        assert_eq!(f.pairs.len(), 4);
        assert!(valid_sid("CA123"));
        assert!(!valid_sid("CA1/../x"));
    }
}
