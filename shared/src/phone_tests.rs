use super::*;

#[test]
fn accepts_international_forms() {
    for input in ["+44 7700 900100", "00447700900100", "+44 (0)7700-900100"] {
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

/// Found by fuzzing (fuzz/regressions/phone_parse): `+43 00006300000`
/// lost one of its national prefixes, and the E.164 form it became parsed
/// as another number: a number added in the first form was not found by
/// the E.164 the API handed back.
#[test]
fn a_national_prefix_written_twice_is_refused() {
    // The fuzzer's own input, bare digits, is now refused before that
    // (bare digits need a + or a country).
    assert_eq!(
        PhoneNumber::parse("43-000063-00000"),
        Err(PhoneError::NotInternational)
    );
    assert_eq!(
        PhoneNumber::parse("+43 00006300000"),
        Err(PhoneError::NationalPrefix)
    );
    // Written once, it is removed as before.
    for (written, e164) in [
        ("+43 01 2345678", "+4312345678"),
        ("+44 020 7946 0000", "+442079460000"),
        ("+7 8 912 345 6789", "+79123456789"),
    ] {
        let once = PhoneNumber::parse(written).unwrap();
        assert_eq!(once.e164(), e164);
        assert_eq!(PhoneNumber::parse(e164), Ok(once));
    }
}

/// Found by fuzzing (fuzz/regressions/phone_parse): `+43 5044` is a
/// possible Austrian number, but `from_e164` (the webhooks, the table's
/// reads) takes 7 digits at least: added through the API it could never be
/// routed, and an item holding it could not be read back.
#[test]
fn numbers_parse_takes_are_numbers_from_e164_takes() {
    assert_eq!(
        PhoneNumber::parse("4--35044 "),
        Err(PhoneError::NotInternational)
    );
    assert_eq!(PhoneNumber::parse("+43 5044"), Err(PhoneError::TooShort));
    assert_eq!(PhoneNumber::from_e164("+435044"), Err(PhoneError::TooShort));
    let shortest = PhoneNumber::parse("+43 50440").unwrap();
    assert_eq!(PhoneNumber::from_e164(shortest.e164()), Ok(shortest));
}

#[test]
fn bare_digits_are_refused_not_guessed() {
    // Read calling code first, this was +55 123 0999: a Brazilian number.
    for input in ["5551230999", "447700900100", "555-123-0999"] {
        assert_eq!(
            PhoneNumber::parse(input),
            Err(PhoneError::NotInternational),
            "{input}"
        );
    }
}

#[test]
fn a_national_number_is_read_in_its_country() {
    for (input, country, e164) in [
        ("5551230999", "US", "+15551230999"),
        ("1 (555) 123-0999", "us", "+15551230999"),
        ("07700 900100", "GB", "+447700900100"),
        ("7700900100", "GB", "+447700900100"),
        ("06 12 34 56 78", "FR", "+33612345678"),
        // Written with its prefix, the number says its country itself.
        ("+447700900100", "US", "+447700900100"),
        ("00447700900100", "US", "+447700900100"),
    ] {
        let n = PhoneNumber::parse_in(input, country)
            .unwrap_or_else(|e| panic!("{input} in {country}: {e}"));
        assert_eq!(n.e164(), e164, "{input} in {country}");
    }
    assert_eq!(
        PhoneNumber::parse_in("5551230999", "XX"),
        Err(PhoneError::UnknownCountry)
    );
    assert_eq!(PhoneNumber::parse_in("12", "GB"), Err(PhoneError::TooShort));
}

/// Each reason a number is refused for, with an input `parse` refuses for
/// it and one `from_e164` does (`None`: `from_e164` reads the shape only
/// and is not tested for that reason).
const REFUSALS: [(PhoneError, &str, Option<&str>); 7] = [
    (PhoneError::Empty, "", Some("")),
    (PhoneError::NotDigits, "hello", Some("anonymous")),
    (
        PhoneError::NotInternational,
        "07700900100",
        Some("0123456789"),
    ),
    (PhoneError::TooShort, "+44 12", Some("12345")),
    (
        PhoneError::TooLong,
        "+4477009001001234",
        Some("1234567890123456"),
    ),
    (PhoneError::UnknownCountryCode, "+999 123456", None),
    (PhoneError::Extension, "+1 415 555 0100 x12", None),
];

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
    for (refused, _, input) in REFUSALS {
        if let Some(input) = input {
            assert_eq!(PhoneNumber::from_e164(input), Err(refused), "{input}");
        }
    }
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
    for (refused, input, _) in REFUSALS {
        assert_eq!(PhoneNumber::parse(input), Err(refused), "{input}");
    }
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

#[test]
fn known_regions() {
    for iso in ["GB", "US", "CA", "FR", "DE", "JE", "AU"] {
        assert!(super::known_region(iso), "{iso}");
    }
    for iso in ["XX", "gb", "", "001", "UK"] {
        assert!(!super::known_region(iso), "{iso}");
    }
}

/// Today's implementation before the table, as the reference: the
/// `phonenumber` crate over its whole database (equal to the per-code
/// subsets it used to load).
mod reference {
    use super::super::build_script::all_descriptors;
    use super::super::PhoneError;
    use phonenumber::metadata::{Database, DATABASE};

    fn calling_code(digits: &str) -> Option<u16> {
        (1..=3.min(digits.len())).find_map(|n| {
            let code = digits[..n].parse::<u16>().ok()?;
            DATABASE.by_code(&code).map(|_| code)
        })
    }

    pub fn parse(input: &str) -> Result<String, PhoneError> {
        // The same reading of what was typed; the metadata's part differs.
        let international = super::super::international_digits(input)?;
        // Today's first step (it picked the code's metadata).
        calling_code(&international).ok_or(PhoneError::UnknownCountryCode)?;
        let db: &Database = &DATABASE;
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
        // Where ours differs on purpose: a number shorter than
        // `from_e164` takes is refused, and so is an E.164 form the crate
        // itself reads as another number.
        let e164 = format!("+{code}{national}");
        if e164.len() - 1 < super::super::MIN_E164_DIGITS {
            return Err(PhoneError::TooShort);
        }
        match phonenumber::parse_with(db, None, &e164) {
            Ok(again) if again.national().to_string() == national => Ok(e164),
            _ => Err(PhoneError::NationalPrefix),
        }
    }

    pub fn country(e164: &str) -> String {
        let db: &Database = &DATABASE;
        calling_code(&e164[1..])
            .and_then(|code| {
                let parsed = phonenumber::parse_with(db, None, e164).ok()?;
                country_for(db, &parsed, code)
            })
            .unwrap_or_else(|| "001".to_string())
    }

    fn check_possible_length(
        db: &Database,
        code: u16,
        national_len: usize,
    ) -> Result<(), PhoneError> {
        let metas = db.by_code(&code).ok_or(PhoneError::UnknownCountryCode)?;
        // The descriptors whose lengths the crate unites: the list
        // build.rs reads them from.
        let mut lengths: Vec<u16> = metas
            .iter()
            .flat_map(|m| {
                all_descriptors(m)
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

    fn country_for(db: &Database, parsed: &phonenumber::PhoneNumber, code: u16) -> Option<String> {
        let id = parsed
            .metadata(db)
            .and_then(|m| m.id().parse::<phonenumber::country::Id>().ok());
        if let Some(id) = id {
            return Some(id.as_ref().to_string());
        }
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
}

/// A fixed pseudo-random sequence (xorshift64).
struct Rng(u64);

impl Rng {
    fn next(&mut self, below: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % below as u64) as usize
    }

    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.next(10) as u8))
            .collect()
    }
}

/// Every example number of every region and type, one digit shorter and
/// longer; then per calling code, random national numbers of every length,
/// half of them continuing an example's first digits so they reach the
/// ranges, leading digits and national prefixes the metadata tells apart.
fn sample(random_per_code: usize) -> Vec<String> {
    use super::build_script::all_descriptors;
    use phonenumber::metadata::DATABASE;
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut inputs = Vec::new();
    for code in (1..1000).filter(|c| DATABASE.by_code(c).is_some()) {
        let mut examples = Vec::new();
        for m in DATABASE.by_code(&code).unwrap_or_default() {
            // The types a number can be, then those only short numbers and
            // carriers are.
            let d = m.descriptors();
            let short = [
                d.emergency(),
                d.short_code(),
                d.standard_rate(),
                d.carrier(),
                d.no_international(),
            ];
            let all = all_descriptors(m).chain(short.into_iter().flatten());
            examples.extend(all.filter_map(|d| d.example()));
        }
        for example in &examples {
            let n = format!("+{code}{example}");
            inputs.push(n[..n.len() - 1].to_string());
            inputs.push(format!("{n}{}", rng.next(10)));
            inputs.push(n);
        }
        let room = 15 - code.to_string().len();
        for i in 0..random_per_code {
            let len = 1 + rng.next(room);
            let national = match examples.get(rng.next(examples.len().max(1))) {
                Some(e) if i % 2 == 0 => {
                    let keep = rng.next(e.len().min(len) + 1);
                    format!("{}{}", &e[..keep], rng.digits(len - keep))
                }
                _ => rng.digits(len),
            };
            inputs.push(format!("+{code}{national}"));
        }
    }
    inputs
}

fn assert_same(inputs: &[String]) {
    for input in inputs {
        let ours = PhoneNumber::parse(input);
        let theirs = reference::parse(input);
        assert_eq!(
            ours.clone().map(|n| n.e164().to_string()),
            theirs,
            "{input}"
        );
        if let Ok(n) = ours {
            assert_eq!(n.country(), reference::country(n.e164()), "{input}");
        }
        // Numbers taken by their shape only get a region too.
        if let Ok(n) = PhoneNumber::from_e164(input) {
            assert_eq!(n.country(), reference::country(n.e164()), "{input}");
        }
    }
}

#[test]
fn table_agrees_with_the_phonenumber_crate_on_examples_and_edges() {
    let mut inputs = sample(0);
    assert!(inputs.len() > 3_000, "{}", inputs.len());
    for edge in [
        "+0",
        "+00",
        "+01",
        "+001",
        "+0044",
        "+1",
        "+12",
        "+123",
        "+999",
        "+9991234567",
        "+80012345678",
        "+8001234567890",
        "+44 7700 900100",
        "00 44 07700 900100",
        "+44 (0)7700-900100",
        "447700900100",
        "+39 06 1234 5678",
        "+5491112345678",
        "+54 011 1234 5678",
        "+52 1 55 1234 5678",
        "+7 8 912 345 6789",
    ] {
        inputs.push(edge.to_string());
    }
    assert_same(&inputs);
}

#[test]
fn table_agrees_with_the_phonenumber_crate_on_random_numbers() {
    assert_same(&sample(2_000));
}

#[test]
fn every_pattern_compiles() {
    for (i, pattern) in PATTERNS.iter().enumerate() {
        assert!(regex(i).is_some(), "{pattern}");
    }
}

/// The table compiled in is the one build.rs makes from the
/// `phonenumber` crate the tests run against: not edited, not stale.
#[test]
fn table_is_the_current_metadata() {
    let built = include_str!(concat!(env!("OUT_DIR"), "/phone_table.rs"));
    assert!(
        build_script::generate() == built,
        "phone_table.rs differs from what build.rs generates now"
    );
}
