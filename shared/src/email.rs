//! Email addresses: a plausibility check, not RFC 5322. SES has the final
//! word on deliverability.

pub fn is_plausible(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    s.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && s.chars().all(|c| c.is_ascii_graphic())
        && !s.contains(['<', '>', '"', ',', ';', '(', ')', '[', ']', '\\'])
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
}

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
