//! E.164 phone numbers as a validated newtype.
//!
//! Numbers are checked as *possible* for their country calling code (length
//! and shape), not as *valid* (assigned ranges): libphonenumber marks the
//! providers' own documentation ranges (`+44 7700 900xxx`, NANP `555`) as
//! invalid and its metadata lags newly assigned ranges.
//!
//! The checks follow the `phonenumber` crate's parsing of `+<digits>` step
//! by step, over a table build.rs extracts from that crate's metadata: the
//! crate itself loads its whole database on first use (~120 ms, every admin
//! cold start). A test holds the two to the same answers.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

// `regex-lite`, not `regex`: the AWS SDK links it already, so it adds nothing
// to the binaries, and it compiles the big NANP patterns faster.
use regex_lite::Regex;

/// Set the first time anything reads the phone metadata.
static METADATA_LOADED: AtomicBool = AtomicBool::new(false);

/// One country calling code's share of libphonenumber's metadata.
struct Code {
    code: u16,
    /// Possible national lengths over all its regions and number types, as
    /// bits (bit n: length n).
    lengths: u32,
    /// The region when the number's own gives none: the main one, or `001`.
    fallback: &'static str,
    /// The regions the crate may pick to parse with, main region first.
    regions: &'static [Region],
}

/// What parsing reads of one region's metadata. Patterns are indices into
/// `PATTERNS`.
struct Region {
    /// The ISO id, when the crate knows it as a country.
    country: Option<&'static str>,
    /// Where a code is shared: the leading digits that pick this region...
    leading: Option<usize>,
    /// ...or else its number types (a match of `general` and any type).
    types: &'static [Desc],
    general: Option<Desc>,
    national_prefix: Option<&'static str>,
    prefix_for_parsing: Option<usize>,
    transform: Option<&'static str>,
    /// First of the general possible lengths, and the local-only ones.
    min_length: Option<u16>,
    local_lengths: u32,
}

/// A number-type descriptor: its pattern and possible lengths (bits; none
/// means any).
struct Desc {
    pattern: usize,
    lengths: u32,
}

include!(concat!(env!("OUT_DIR"), "/phone_table.rs"));

// The generator, so a test can regenerate the table and compare.
#[cfg(test)]
#[path = "../build.rs"]
mod build_script;

/// The calling code `digits` (international, no `+`) starts with, and its
/// length: the first of its first one to three digits that is a code, as
/// the crate reads it. Every use of the metadata starts here, so
/// [`metadata_loaded`] can tell whether a path paid for it.
fn calling_code(digits: &str) -> Option<(&'static Code, usize)> {
    METADATA_LOADED.store(true, Ordering::Relaxed);
    (1..=3.min(digits.len())).find_map(|n| {
        let code = digits.get(..n)?.parse::<u16>().ok()?;
        let i = CODES.binary_search_by_key(&code, |c| c.code).ok()?;
        Some((&CODES[i], n))
    })
}

/// Pattern `i`, compiled on first use: a number needs a few of its code's.
/// Anchored at the start only: the crate takes a match of any prefix of
/// the number as a match. `None` if it did not compile (a test compiles
/// them all).
fn regex(i: usize) -> Option<&'static Regex> {
    static COMPILED: [OnceLock<Option<Regex>>; PATTERN_COUNT] =
        [const { OnceLock::new() }; PATTERN_COUNT];
    COMPILED
        .get(i)?
        .get_or_init(|| Regex::new(&format!("^(?:{})", PATTERNS.get(i)?)).ok())
        .as_ref()
}

fn starts_with_pattern(i: usize, s: &str) -> bool {
    regex(i).is_some_and(|re| re.is_match(s))
}

fn has_length(lengths: u32, len: usize) -> bool {
    len < 32 && lengths >> len & 1 == 1
}

impl Desc {
    fn is_match(&self, s: &str) -> bool {
        (self.lengths == 0 || has_length(self.lengths, s.len()))
            && starts_with_pattern(self.pattern, s)
    }
}

impl Code {
    /// The region whose metadata the crate parses `national` (leading zeros
    /// removed) with: the first whose leading digits or number types match
    /// (`validator::source_for`).
    fn region_for(&self, national: &str) -> Option<&'static Region> {
        match self.regions {
            [] => None,
            [only] => Some(only),
            regions => regions.iter().find(|r| match r.leading {
                Some(leading) => starts_with_pattern(leading, national),
                None => {
                    r.general.as_ref().is_some_and(|g| g.is_match(national))
                        && r.types.iter().any(|t| t.is_match(national))
                }
            }),
        }
    }
}

impl Region {
    /// `national` without its national prefix (and carrier code), rewritten
    /// by the region's transform rule if it has one, as the crate's
    /// `helper::national_number` does.
    fn national_number(&self, national: &str) -> String {
        let Some(parsing) = self.prefix_for_parsing else {
            return strip(national, self.national_prefix).to_string();
        };
        let Some(caps) = regex(parsing).and_then(|re| re.captures(national)) else {
            return national.to_string();
        };
        let end = caps.get(0).map_or(0, |m| m.end());
        let rest = national.get(end..).unwrap_or_default();
        let last = caps.len().checked_sub(1).and_then(|i| caps.get(i));
        match (self.transform, last) {
            (Some(rule), Some(_)) => {
                let mut transformed = String::new();
                caps.expand(rule, &mut transformed);
                transformed.push_str(rest);
                let general = |s: &str| self.general.as_ref().is_some_and(|g| g.is_match(s));
                if general(national) && !general(&transformed) {
                    national.to_string()
                } else {
                    transformed
                }
            }
            _ => rest.to_string(),
        }
    }

    /// `validator::length(.., Type::Unknown) == TooShort`.
    fn too_short(&self, len: usize) -> bool {
        self.min_length
            .is_some_and(|min| !has_length(self.local_lengths, len) && len < usize::from(min))
    }
}

fn strip<'a>(s: &'a str, prefix: Option<&str>) -> &'a str {
    prefix.and_then(|p| s.strip_prefix(p)).unwrap_or(s)
}

/// The crate's `parse(None, "+{digits}")` for ASCII digits: the calling code
/// and the national number, any national prefix removed.
fn split(digits: &str) -> Result<(&'static Code, String), PhoneError> {
    let (code, code_len) = calling_code(digits).ok_or(PhoneError::UnknownCountryCode)?;
    // Fewer than three digits is not a viable number to the crate.
    if digits.len() < 3 {
        return Err(PhoneError::NotDigits);
    }
    if digits.starts_with('0') {
        return Err(PhoneError::UnknownCountryCode);
    }
    let mut national = digits.get(code_len..).unwrap_or_default().to_string();
    if let Some(region) = code.region_for(national.trim_start_matches('0')) {
        let potential = region.national_number(&national);
        // The crate strips the national prefix once more.
        let potential = strip(&potential, region.national_prefix);
        // It keeps the prefix of a number too short without it.
        if !region.too_short(potential.len()) {
            national = potential.to_string();
        }
    }
    if national.len() < 2 {
        return Err(PhoneError::TooShort);
    }
    if national.len() > 17 {
        return Err(PhoneError::TooLong);
    }
    // `NationalNumber`: leading zeros, then a u64 below 2^56.
    let value: u64 = national
        .trim_start_matches('0')
        .parse()
        .map_err(|_| PhoneError::TooShort)?;
    if value >= 1 << 56 {
        return Err(PhoneError::TooLong);
    }
    Ok((code, national))
}

/// Whether `iso` (`GB`, upper case) is a country libphonenumber knows: the
/// countries numbers can be bought in. Admin paths only.
pub fn known_region(iso: &str) -> bool {
    METADATA_LOADED.store(true, Ordering::Relaxed);
    CODES
        .iter()
        .flat_map(|c| c.regions.iter())
        .any(|r| r.country == Some(iso))
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
    /// Bare digits were read as calling code first: `5551230999` became a
    /// Brazilian number (+55). Now the writer says which.
    #[error("the number must start with + or 00 and its country code, or come with its country")]
    NotInternational,
    #[error("the country is not an ISO 3166 alpha-2 code of a country with phone numbers")]
    UnknownCountry,
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
    #[error("the number repeats a national prefix after its country code")]
    NationalPrefix,
}

/// The digits of a number written for people, separators dropped, and
/// whether `+` came first. No extension.
fn written_digits(input: &str) -> Result<(bool, String), PhoneError> {
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
    Ok((plus, digits))
}

/// The digits of a number written for people, calling code first: `+` or
/// `00` is the international prefix and must be there. Bare digits are
/// refused rather than guessed at: whether `5551230999` is a US number or
/// a Brazilian one only its writer knows ([`PhoneNumber::parse_in`] takes
/// the country). At most 15 digits; the metadata's checks come after.
fn international_digits(input: &str) -> Result<String, PhoneError> {
    let (plus, digits) = written_digits(input)?;
    let international = if plus {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_string()
    } else {
        return Err(PhoneError::NotInternational);
    };
    if international.len() > 15 {
        return Err(PhoneError::TooLong);
    }
    Ok(international)
}

/// The fewest digits (calling code included) of a number we route.
pub const MIN_E164_DIGITS: usize = 7;

/// A phone number in E.164 form (`+447700900100`), known to be possible.
///
/// Two ways in: [`PhoneNumber::parse`] checks user input against
/// libphonenumber's metadata; [`PhoneNumber::from_e164`] only checks the
/// E.164 shape, for numbers a provider or our own table already wrote in
/// E.164. Parsing compiles a few of the metadata's regexes (up to ~1 ms on
/// first use), so the call-answer path never touches it.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhoneNumber {
    e164: String,
}

impl PhoneNumber {
    /// Parses `+44 7700 900100` or `00447700900100`: international, with
    /// its prefix. Spaces, dashes, dots and brackets are ignored. Bare
    /// digits are refused ([`PhoneError::NotInternational`]); webhooks'
    /// numbers, prefix-less as Vonage writes them, go through
    /// [`PhoneNumber::from_e164`].
    pub fn parse(input: &str) -> Result<Self, PhoneError> {
        let international = international_digits(input)?;
        let (code, national) = split(&international)?;
        check_possible_length(code.lengths, national.len())?;
        let digits = format!("{}{national}", code.code);
        // What the webhooks' `from_e164` takes, or a number added here
        // could never be routed (nor read back from the table).
        if digits.len() < MIN_E164_DIGITS {
            return Err(PhoneError::TooShort);
        }
        // A national prefix is removed once (`+44 020…` is `+4420…`). One
        // written twice (`+43 00…`) leaves a number whose E.164 form parses
        // as another number: the API would hand back a number that no
        // longer finds what it named. Refused instead.
        if digits != international && !split(&digits).is_ok_and(|(_, again)| again == national) {
            return Err(PhoneError::NationalPrefix);
        }
        Ok(Self {
            e164: format!("+{digits}"),
        })
    }

    /// A number an operator wrote: [`PhoneNumber::parse_in`] its country
    /// when one is given, else [`PhoneNumber::parse`] (bare digits refused).
    pub fn parse_written(input: &str, country: Option<&str>) -> Result<Self, PhoneError> {
        match country {
            Some(c) => Self::parse_in(input, c),
            None => Self::parse(input),
        }
    }

    /// A number as [`PhoneNumber::parse`] reads it, or, without `+` or
    /// `00`, a national number of `country` (ISO 3166 alpha-2, any case):
    /// `07700 900100` in `GB`, `555 123 0999` in `US`. The country's
    /// national prefix (`0`, NANP's `1`) is dropped when written.
    pub fn parse_in(input: &str, country: &str) -> Result<Self, PhoneError> {
        let (plus, digits) = written_digits(input)?;
        if plus || digits.starts_with("00") {
            return Self::parse(input);
        }
        let iso = country.trim().to_ascii_uppercase();
        METADATA_LOADED.store(true, Ordering::Relaxed);
        let (code, region) = CODES
            .iter()
            .find_map(|c| {
                c.regions
                    .iter()
                    .find(|r| r.country == Some(iso.as_str()))
                    .map(|r| (c.code, r))
            })
            .ok_or(PhoneError::UnknownCountry)?;
        let national = strip(&digits, region.national_prefix);
        Self::parse(&format!("+{code}{national}"))
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
            n if n < MIN_E164_DIGITS => Err(PhoneError::TooShort),
            MIN_E164_DIGITS..=15 => Ok(Self {
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
        match split(self.digits()) {
            Ok((code, national)) => code
                .region_for(national.trim_start_matches('0'))
                .and_then(|r| r.country)
                .unwrap_or(code.fallback)
                .to_string(),
            Err(_) => "001".to_string(),
        }
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

/// Whether `len` is one of the code's possible national lengths.
fn check_possible_length(lengths: u32, len: usize) -> Result<(), PhoneError> {
    if lengths == 0 {
        return Err(PhoneError::InvalidLength);
    }
    let min = lengths.trailing_zeros() as usize;
    let max = 31 - lengths.leading_zeros() as usize;
    match len {
        _ if len < min => Err(PhoneError::TooShort),
        _ if len > max => Err(PhoneError::TooLong),
        _ if has_length(lengths, len) => Ok(()),
        _ => Err(PhoneError::InvalidLength),
    }
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
#[path = "phone_tests.rs"]
mod tests;
