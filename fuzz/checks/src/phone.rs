//! `PhoneNumber::parse` (people's input, against the metadata) and
//! `PhoneNumber::from_e164` (a provider's E.164).

use callmask::phone::{mask_raw, PhoneNumber};

/// A number taken parses the same from its E.164 and its digits after
/// `00` (bare digits are refused: they need a `+` or a country), has a
/// country, and its masked form never shows it whole.
pub fn parse(data: &[u8]) {
    let input = String::from_utf8_lossy(data);
    let Ok(n) = PhoneNumber::parse(&input) else {
        return;
    };
    let e164 = n.e164();
    assert!(e164.starts_with('+') && e164[1..].bytes().all(|b| b.is_ascii_digit()));
    assert!(e164.len() <= 16);
    assert_eq!(PhoneNumber::parse(e164).as_ref(), Ok(&n));
    assert_eq!(
        PhoneNumber::parse(&format!("00{}", n.digits())).as_ref(),
        Ok(&n)
    );
    assert!(PhoneNumber::parse(n.digits()).is_err());
    assert_eq!(PhoneNumber::from_e164(e164).as_ref(), Ok(&n));
    assert!(!n.country().is_empty());
    masked_hides(&n);
}

/// A number taken reads back the same from its E.164, its digits and JSON;
/// a string taken is what serde takes; raw masking never panics.
pub fn from_e164(data: &[u8]) {
    let input = String::from_utf8_lossy(data);
    let masked = mask_raw(&input);
    if input.chars().count() > 4 {
        assert!(masked.chars().count() <= 4);
    }
    let taken = PhoneNumber::from_e164(&input);
    let json = serde_json::Value::String(input.to_string());
    assert_eq!(
        serde_json::from_value::<PhoneNumber>(json).ok(),
        taken.clone().ok()
    );
    let Ok(n) = taken else {
        return;
    };
    assert!((7..=15).contains(&n.digits().len()));
    assert_eq!(PhoneNumber::from_e164(n.e164()).as_ref(), Ok(&n));
    assert_eq!(PhoneNumber::from_e164(n.digits()).as_ref(), Ok(&n));
    masked_hides(&n);
}

fn masked_hides(n: &PhoneNumber) {
    let shown = n.masked().to_string();
    assert!(!shown.contains(n.digits()), "masked form shows the number");
    assert!(!format!("{n:?}").contains(n.digits()));
}
