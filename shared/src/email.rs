//! Email addresses: a plausibility check, not RFC 5322. SES has the final
//! word on deliverability.

/// Checked where settings are read too (`SENDER_EMAIL`), so it lives there.
pub use crate::config::is_plausible_email as is_plausible;

#[cfg(test)]
mod tests {
    use super::is_plausible;

    #[test]
    fn checks_shape() {
        assert!(is_plausible("owner@example.com"));
        assert!(is_plausible("first.last+tag@sub.example.co.uk"));
        for bad in [
            "",
            "owner",
            "owner@",
            "@example.com",
            "a b@example.com",
            "a@example",
            "a@ex..com",
            "a@exa_mple.com",
            "a<b>@example.com",
        ] {
            assert!(!is_plausible(bad), "{bad}");
        }
    }
}
