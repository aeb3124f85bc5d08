//! The local router's own settings (see docs/settings.md); every function
//! setting applies as well.

use callmask::config::setting::{ip_address, range};

callmask::settings! {
    /// `callmask-local`: where it listens and how often the voicemail
    /// worker's loop runs (in AWS a stream and a schedule drive it).
    #[derive(Debug, Clone)]
    pub struct LocalConfig {
        pub host: String = "127.0.0.1".into(), ip_address("HOST");
        pub port: u16 = 3000, range("PORT", 1, 65_535);
        pub voicemail_sweep_ms: u64 = 500, range("VOICEMAIL_SWEEP_MS", 50, 3_600_000);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use callmask::config::setting::pairs;

    #[test]
    fn bad_values_are_named() {
        assert_eq!(LocalConfig::from_lookup(|_| None).unwrap().port, 3000);
        for (name, value) in [
            ("PORT", "http"),
            ("PORT", "0"),
            ("HOST", "localhost"),
            ("VOICEMAIL_SWEEP_MS", "10"),
        ] {
            let e = LocalConfig::from_lookup(pairs(&[(name, value)])).unwrap_err();
            assert_eq!(e.name, name);
        }
    }

    /// docs/settings.md's local stack table against this declaration.
    #[test]
    fn the_settings_reference_matches() {
        let doc = include_str!("../../docs/settings.md");
        let problems =
            callmask::config::reference::drift(doc, "LocalConfig", &LocalConfig::declared());
        assert!(
            problems.is_empty(),
            "docs/settings.md drifts:\n{}",
            problems.join("\n")
        );
    }
}
