//! E.164 phone numbers as a validated newtype.
//!
//! Numbers are checked as *possible* for their country calling code (length
//! and shape), not as *valid* (assigned ranges): libphonenumber marks the
//! providers' own documentation ranges (`+44 7700 900xxx`, NANP `555`) as
//! invalid and its metadata lags newly assigned ranges.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set the first time anything reads libphonenumber's metadata.
static METADATA_LOADED: AtomicBool = AtomicBool::new(false);

// The metadata split by calling code at build time (see build.rs).
include!(concat!(env!("OUT_DIR"), "/phone_codes.rs"));
static METADATA: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/phone_metadata.bin"));

/// The calling code `digits` (international, no `+`) starts with: its
/// first one to three digits, as libphonenumber reads it (the codes are
/// prefix-free, so at most one matches).
fn calling_code(digits: &str) -> Option<u16> {
    (1..=3.min(digits.len())).find_map(|n| {
        let code = digits[..n].parse::<u16>().ok()?;
        CODES
            .binary_search_by_key(&code, |(c, _, _)| *c)
            .ok()
            .map(|_| code)
    })
}

/// The metadata of one calling code's regions, loaded on first use (a few
/// regions, not the whole database). Every use of the metadata goes
/// through here, so [`metadata_loaded`] can tell whether a path paid for it.
fn metadata(code: u16) -> Option<&'static phonenumber::metadata::Database> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    type Loaded = Mutex<HashMap<u16, &'static phonenumber::metadata::Database>>;
    static LOADED: OnceLock<Loaded> = OnceLock::new();
    METADATA_LOADED.store(true, Ordering::Relaxed);
    let mut loaded = LOADED.get_or_init(Default::default).lock().ok()?;
    if let Some(db) = loaded.get(&code) {
        return Some(db);
    }
    let i = CODES.binary_search_by_key(&code, |(c, _, _)| *c).ok()?;
    let (_, offset, len) = CODES[i];
    let regions: Vec<phonenumber::metadata::loader::Metadata> =
        postcard::from_bytes(METADATA.get(offset..offset + len)?).ok()?;
    let db = phonenumber::metadata::Database::from(regions).ok()?;
    // At most one per calling code (~240), kept for the process's life.
    let db: &'static _ = Box::leak(Box::new(db));
    loaded.insert(code, db);
    Some(db)
}

/// Whether this process has read the phone metadata: webhooks never should.
pub fn metadata_loaded() -> bool {
    METADATA_LOADED.load(Ordering::Relaxed)
}

/// Why a string is not a phone number we can route.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("the number is empty")]
    Empty,
    #[error("the number must be in international form (+, 00 or country code first)")]
    NotInternational,
    #[error("the number contains characters that are not digits")]
    NotDigits,
    #[error("the number has an unknown country calling code")]
    UnknownCountryCode,
    #[error("the number is too short for its country")]
    TooShort,
    #[error("the number is too long for its country")]
    TooLong,
    #[error("the number has an impossible length for its country")]
    InvalidLength,
    #[error("the number has an extension, which cannot be dialled")]
    Extension,
}

/// A phone number in E.164 form (`+447700900100`), known to be possible.
///
/// Two ways in: [`PhoneNumber::parse`] checks user input against
/// libphonenumber's metadata; [`PhoneNumber::from_e164`] only checks the
/// E.164 shape, for numbers a provider or our own table already wrote in
/// E.164. The metadata takes ~170 ms to load, so the call-answer path never
/// touches it.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhoneNumber {
    e164: String,
}

impl PhoneNumber {
    /// Parses `+44 7700 900100`, `00447700900100` or `447700900100` (the form
    /// Vonage uses in webhooks). Spaces, dashes, dots and brackets are ignored.
    pub fn parse(input: &str) -> Result<Self, PhoneError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(PhoneError::Empty);
        }
        let mut digits = String::with_capacity(trimmed.len());
        let mut plus = false;
        for (i, c) in trimmed.chars().enumerate() {
            match c {
                '+' if i == 0 => plus = true,
                '0'..='9' => digits.push(c),
                ' ' | '-' | '.' | '(' | ')' | '\u{a0}' => {}
                'x' | 'X' | ';' | ',' | '#' | '*' => return Err(PhoneError::Extension),
                _ => return Err(PhoneError::NotDigits),
            }
        }
        if digits.is_empty() {
            return Err(PhoneError::NotDigits);
        }
        let international = if plus {
            digits
        } else if let Some(rest) = digits.strip_prefix("00") {
            rest.to_string()
        } else if digits.starts_with('0') {
            // A national trunk prefix: we cannot know the country.
            return Err(PhoneError::NotInternational);
        } else {
            digits
        };
        if international.len() > 15 {
            return Err(PhoneError::TooLong);
        }
        let code = calling_code(&international).ok_or(PhoneError::UnknownCountryCode)?;
        let db = metadata(code).ok_or(PhoneError::UnknownCountryCode)?;
        let parsed = phonenumber::parse_with(db, None, format!("+{international}")).map_err(
            |e| match e {
                phonenumber::ParseError::InvalidCountryCode => PhoneError::UnknownCountryCode,
                phonenumber::ParseError::TooLong => PhoneError::TooLong,
                phonenumber::ParseError::NoNumber => PhoneError::NotDigits,
                _ => PhoneError::TooShort,
            },
        )?;
        if parsed.extension().is_some() {
            return Err(PhoneError::Extension);
        }
        let code = parsed.code().value();
        let national = parsed.national().to_string();
        check_possible_length(db, code, national.len())?;
        Ok(Self {
            e164: format!("+{code}{national}"),
        })
    }

    /// A number already in E.164 (`+447700900100`, or `447700900100` as
    /// Vonage writes it): `+` optional, then 7 to 15 digits, the first not 0.
    /// No metadata lookup: cheap enough for every webhook.
    pub fn from_e164(input: &str) -> Result<Self, PhoneError> {
        let digits = input.trim().strip_prefix('+').unwrap_or(input.trim());
        if digits.is_empty() {
            return Err(PhoneError::Empty);
        }
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PhoneError::NotDigits);
        }
        if digits.starts_with('0') {
            return Err(PhoneError::NotInternational);
        }
        match digits.len() {
            0..=6 => Err(PhoneError::TooShort),
            7..=15 => Ok(Self {
                e164: format!("+{digits}"),
            }),
            _ => Err(PhoneError::TooLong),
        }
    }

    /// `+447700900100`: the form Twilio and our API use.
    pub fn e164(&self) -> &str {
        &self.e164
    }

    /// `447700900100`: the form Vonage uses in webhooks and NCCOs.
    pub fn digits(&self) -> &str {
        &self.e164[1..]
    }

    /// ISO 3166 region of the number (`GB`), from the calling code when the
    /// number's range gives none (`+44 7700 900xxx` is a drama range);
    /// `001` for non-geographic codes. Loads the metadata: admin paths only.
    pub fn country(&self) -> String {
        calling_code(self.digits())
            .and_then(|code| Some((code, metadata(code)?)))
            .and_then(|(code, db)| {
                let parsed = phonenumber::parse_with(db, None, &self.e164).ok()?;
                country_for(db, &parsed, code)
            })
            .unwrap_or_else(|| "001".to_string())
    }

    /// A form safe for logs: the calling code and the last three digits.
    pub fn masked(&self) -> Masked<'_> {
        Masked(self)
    }
}

/// Display wrapper that never prints the full number.
pub struct Masked<'a>(&'a PhoneNumber);

impl fmt::Display for Masked<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.0.digits();
        let tail = &digits[digits.len().saturating_sub(3)..];
        write!(f, "+{}…{}", &digits[..digits.len().min(2)], tail)
    }
}

/// Masks a raw, unvalidated number-like string for logs.
pub fn mask_raw(raw: &str) -> String {
    let chars: Vec<char> = raw.chars().collect();
    if chars.len() <= 4 {
        return "…".into();
    }
    let tail: String = chars[chars.len() - 3..].iter().collect();
    format!("…{tail}")
}

fn check_possible_length(
    db: &phonenumber::metadata::Database,
    code: u16,
    national_len: usize,
) -> Result<(), PhoneError> {
    let metas = db.by_code(&code).ok_or(PhoneError::UnknownCountryCode)?;
    let mut lengths: Vec<u16> = metas
        .iter()
        .flat_map(|m| {
            // The general descriptor's lengths are often empty in this
            // metadata; libphonenumber's general lengths are the union of
            // the per-type ones.
            let d = m.descriptors();
            [
                Some(d.general()),
                d.fixed_line(),
                d.mobile(),
                d.toll_free(),
                d.premium_rate(),
                d.shared_cost(),
                d.personal_number(),
                d.voip(),
                d.pager(),
                d.uan(),
                d.voicemail(),
            ]
            .into_iter()
            .flatten()
            .flat_map(|desc| desc.possible_length().to_vec())
            .collect::<Vec<_>>()
        })
        .collect();
    lengths.sort_unstable();
    lengths.dedup();
    let len = national_len as u16;
    match (lengths.first(), lengths.last()) {
        (Some(&min), _) if len < min => Err(PhoneError::TooShort),
        (_, Some(&max)) if len > max => Err(PhoneError::TooLong),
        _ if lengths.contains(&len) => Ok(()),
        _ => Err(PhoneError::InvalidLength),
    }
}

fn country_for(
    db: &phonenumber::metadata::Database,
    parsed: &phonenumber::PhoneNumber,
    code: u16,
) -> Option<String> {
    // As `parsed.country().id()` does, over this code's regions only.
    let id = parsed
        .metadata(db)
        .and_then(|m| m.id().parse::<phonenumber::country::Id>().ok());
    if let Some(id) = id {
        return Some(id.as_ref().to_string());
    }
    // The main region for the calling code (44 → GB, 1 → US); the database
    // lists it first.
    let regions = db.region(&code)?;
    let main = db
        .by_code(&code)?
        .into_iter()
        .find(|m| m.is_main_country_for_code())
        .map(|m| m.id().to_string());
    main.or_else(|| regions.first().map(|r| r.to_string()))
        .filter(|r| r != "001")
        .or_else(|| Some("001".to_string()))
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.e164)
    }
}

impl fmt::Debug for PhoneNumber {
    // Debug output ends up in logs and panics: keep it masked.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber({})", self.masked())
    }
}

impl std::str::FromStr for PhoneNumber {
    type Err = PhoneError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for PhoneNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.e164)
    }
}

/// Deserialised numbers are ones we wrote (a line's settings in the table),
/// already in E.164: taken by their shape, never through the metadata, since
/// a call's routing read deserialises them.
impl<'de> Deserialize<'de> for PhoneNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::from_e164(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_international_forms() {
        for input in [
            "+44 7700 900100",
            "00447700900100",
            "447700900100",
            "+44 (0)7700-900100",
        ] {
            let n = PhoneNumber::parse(input);
            // "(0)" is a national prefix written inside an international number.
            if input.contains("(0)") {
                assert!(n.is_err(), "{input}");
                continue;
            }
            let n = n.unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(n.e164(), "+447700900100");
            assert_eq!(n.digits(), "447700900100");
            assert_eq!(n.country(), "GB");
        }
    }

    #[test]
    fn from_e164_checks_shape_only() {
        assert_eq!(
            PhoneNumber::from_e164("447700900100").unwrap().e164(),
            "+447700900100"
        );
        assert_eq!(
            PhoneNumber::from_e164("+447700900100").unwrap(),
            PhoneNumber::parse("+447700900100").unwrap()
        );
        assert_eq!(
            PhoneNumber::from_e164("anonymous"),
            Err(PhoneError::NotDigits)
        );
        assert_eq!(
            PhoneNumber::from_e164("0123456789"),
            Err(PhoneError::NotInternational)
        );
        assert_eq!(PhoneNumber::from_e164("12345"), Err(PhoneError::TooShort));
        assert_eq!(
            PhoneNumber::from_e164("1234567890123456"),
            Err(PhoneError::TooLong)
        );
        assert_eq!(PhoneNumber::from_e164(""), Err(PhoneError::Empty));
    }

    #[test]
    fn accepts_documentation_ranges() {
        assert_eq!(PhoneNumber::parse("+15555550100").unwrap().country(), "US");
        assert_eq!(PhoneNumber::parse("+14155550100").unwrap().country(), "US");
        assert_eq!(
            PhoneNumber::parse("+4915112345678").unwrap().country(),
            "DE"
        );
    }

    #[test]
    fn rejects_garbage_with_a_reason() {
        assert_eq!(PhoneNumber::parse(""), Err(PhoneError::Empty));
        assert_eq!(PhoneNumber::parse("hello"), Err(PhoneError::NotDigits));
        assert_eq!(
            PhoneNumber::parse("07700900100"),
            Err(PhoneError::NotInternational)
        );
        assert_eq!(PhoneNumber::parse("+44 12"), Err(PhoneError::TooShort));
        assert_eq!(
            PhoneNumber::parse("+4477009001001234"),
            Err(PhoneError::TooLong)
        );
        assert_eq!(
            PhoneNumber::parse("+999 123456"),
            Err(PhoneError::UnknownCountryCode)
        );
        assert_eq!(
            PhoneNumber::parse("+1 415 555 0100 x12"),
            Err(PhoneError::Extension)
        );
        assert!(PhoneNumber::parse("+44+7700900100").is_err());
    }

    #[test]
    fn masked_form_hides_the_number() {
        let n = PhoneNumber::parse("+447700900123").unwrap();
        let shown = n.masked().to_string();
        assert!(!shown.contains("7700900"));
        assert!(shown.ends_with("123"));
        assert!(!format!("{n:?}").contains("7700900"));
    }

    /// Today's reference: the `phonenumber` crate over its whole database.
    /// The per-code subsets must give exactly the same answers.
    mod whole_database {
        use super::super::PhoneError;
        use phonenumber::metadata::DATABASE;

        pub fn parse(international: &str) -> Result<String, PhoneError> {
            let parsed =
                phonenumber::parse(None, format!("+{international}")).map_err(|e| match e {
                    phonenumber::ParseError::InvalidCountryCode => PhoneError::UnknownCountryCode,
                    phonenumber::ParseError::TooLong => PhoneError::TooLong,
                    phonenumber::ParseError::NoNumber => PhoneError::NotDigits,
                    _ => PhoneError::TooShort,
                })?;
            if parsed.extension().is_some() {
                return Err(PhoneError::Extension);
            }
            let code = parsed.code().value();
            let national = parsed.national().to_string();
            super::super::check_possible_length(&DATABASE, code, national.len())?;
            Ok(format!("+{code}{national}"))
        }

        pub fn country(e164: &str) -> String {
            phonenumber::parse(None, e164)
                .ok()
                .and_then(|p| {
                    if let Some(id) = p.country().id() {
                        return Some(id.as_ref().to_string());
                    }
                    let code = p.code().value();
                    let regions = DATABASE.region(&code)?;
                    let main = DATABASE
                        .by_code(&code)?
                        .into_iter()
                        .find(|m| m.is_main_country_for_code())
                        .map(|m| m.id().to_string());
                    main.or_else(|| regions.first().map(|r| r.to_string()))
                        .filter(|r| r != "001")
                        .or_else(|| Some("001".to_string()))
                })
                .unwrap_or_else(|| "001".to_string())
        }
    }

    /// Every example number of every region and type, one digit shorter
    /// and longer, and a fixed pseudo-random sample per calling code: the
    /// subset and the whole database agree on validity, form and region.
    #[test]
    fn per_code_metadata_agrees_with_the_whole_database() {
        use phonenumber::metadata::DATABASE;
        let mut inputs = Vec::new();
        let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
        for &(code, _, _) in CODES {
            for m in DATABASE.by_code(&code).unwrap_or_default() {
                let d = m.descriptors();
                let all = [
                    Some(d.general()),
                    d.fixed_line(),
                    d.mobile(),
                    d.toll_free(),
                    d.premium_rate(),
                    d.shared_cost(),
                    d.personal_number(),
                    d.voip(),
                    d.pager(),
                    d.uan(),
                    d.voicemail(),
                ];
                for example in all.into_iter().flatten().filter_map(|d| d.example()) {
                    let n = format!("{code}{example}");
                    inputs.push(n[..n.len() - 1].to_string());
                    inputs.push(format!("{n}5"));
                    inputs.push(n);
                }
            }
            for _ in 0..40 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let len = 4 + (seed % 10) as usize;
                let national: String = (0..len)
                    .map(|i| char::from(b'0' + ((seed >> (i * 3)) % 10) as u8))
                    .collect();
                inputs.push(format!("{code}{national}"));
            }
        }
        assert!(inputs.len() > 10_000, "{}", inputs.len());
        for digits in &inputs {
            if digits.len() > 15 {
                continue;
            }
            let ours = PhoneNumber::parse(&format!("+{digits}"));
            let theirs = whole_database::parse(digits);
            assert_eq!(
                ours.clone().map(|n| n.e164().to_string()),
                theirs,
                "+{digits}"
            );
            if let Ok(n) = ours {
                assert_eq!(n.country(), whole_database::country(n.e164()), "+{digits}");
            }
        }
    }
}
