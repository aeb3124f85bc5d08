//! Which texts the SMS API can send as GSM-7. Vonage's SMS API sends a
//! text in the GSM 03.38 alphabet unless the request says `type=unicode`;
//! any other character (an emoji, Cyrillic, Chinese, a curly quote) then
//! arrives as `?` or worse. A text with one such character must go as
//! Unicode (UCS-2, 70 characters a part instead of 160).

/// GSM 03.38's default alphabet (3GPP TS 23.038 §6.2.1), in code order.
const DEFAULT_ALPHABET: &str =
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u{1b}ÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// Its extension table: each is sent as ESC and a code, two of a part's
/// 160 septets.
const EXTENSION: &str = "\u{c}^{}\\[~]|€";

fn in_default(c: char) -> bool {
    // The escape is how extensions are written, never a character of its own.
    c != '\u{1b}' && DEFAULT_ALPHABET.contains(c)
}

fn in_extension(c: char) -> bool {
    EXTENSION.contains(c)
}

/// Whether every character of `text` is in GSM 03.38's default alphabet or
/// its extension table: what the SMS API sends as `type=text`.
pub fn is_gsm(text: &str) -> bool {
    text.chars().all(|c| in_default(c) || in_extension(c))
}

/// The `type` the SMS API needs for `text`: `text` (GSM-7) when it can,
/// else `unicode`.
pub fn sms_type(text: &str) -> &'static str {
    if is_gsm(text) {
        "text"
    } else {
        "unicode"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gsm_texts_go_as_text() {
        for t in [
            "Hello & bye",
            "Prix: 5€ [promo] {x} ~ ^ | \\",
            "Ærø: Ñoño ¿què? ¡sì! §1 @ £3 ¥",
            "line\nbreak\r",
            "ΔΦΓΛΩΠΨΣΘΞ",
            "",
        ] {
            assert!(is_gsm(t), "{t:?}");
            assert_eq!(sms_type(t), "text", "{t:?}");
        }
    }

    #[test]
    fn anything_else_goes_as_unicode() {
        for t in [
            "See you 👋",
            "Привет",
            "你好",
            "It’s here",
            "naïve",
            "á",
            "tab\there",
            "\u{1b}",
        ] {
            assert!(!is_gsm(t), "{t:?}");
            assert_eq!(sms_type(t), "unicode", "{t:?}");
        }
    }
}
