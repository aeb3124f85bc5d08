//! Writes `phone_table.rs` into OUT_DIR: the few facts `phone.rs` needs from
//! libphonenumber's metadata, per country calling code, read from the
//! `phonenumber` crate's own database at build time. At run time the crate
//! and its whole database (~120 ms to load) are not needed; regexes are kept
//! as strings and only those of the number's calling code get compiled.
//!
//! `phone.rs`'s tests include this file to regenerate the table and compare
//! it with the one compiled in, and compare the answers with the crate's.

use phonenumber::metadata::{Descriptor, Metadata, DATABASE};
use std::collections::HashMap;
use std::fmt::Write as _;

#[allow(dead_code)] // Not called when phone.rs's tests include this file.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let out = std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR for build scripts");
    let path = std::path::Path::new(&out).join("phone_table.rs");
    std::fs::write(&path, generate()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// The Rust source of the table (types are defined in `phone.rs`).
pub fn generate() -> String {
    // Codes have one to three digits. Not `DATABASE.iter()`: it goes by
    // region id and keeps only one of the non-geographic `001` entries.
    let codes = (1..1000).filter(|c| DATABASE.by_code(c).is_some());
    let mut patterns = Patterns::default();
    let mut table = String::new();
    for code in codes {
        let metas = DATABASE.by_code(&code).unwrap_or_default();
        let regions = DATABASE.region(&code).unwrap_or_default();
        // `by_code` and `region` list the same regions in the same order
        // (main region first), the order `source_for` tries them in.
        let ids: Vec<&str> = metas.iter().map(|m| m.id()).collect();
        assert_eq!(ids, regions, "regions of +{code}");

        let mut lengths = 0u32;
        for m in &metas {
            for d in all_descriptors(m) {
                lengths |= mask(d.possible_length());
            }
        }
        // As `country_for` falls back: the main region, else the first.
        let main = metas
            .iter()
            .find(|m| m.is_main_country_for_code())
            .map(|m| m.id())
            .or(regions.first().copied());
        let fallback = main.filter(|r| *r != "001").unwrap_or("001");

        // The metadata `source_for` can pick: a lone region that is not a
        // known country id has none (`001` goes by the code instead).
        let multi = metas.len() > 1;
        let picked: Vec<&Metadata> = match metas.as_slice() {
            [m] if m.id() != "001" && !is_country(m.id()) => Vec::new(),
            _ => metas.clone(),
        };
        let _ = write!(
            table,
            "    Code {{ code: {code}, lengths: {lengths:#x}, fallback: {fallback:?}, regions: &["
        );
        for m in picked {
            let country = is_country(m.id()).then(|| m.id());
            // `source_for` unwraps these ids.
            assert!(!multi || country.is_some(), "+{code}: region {}", m.id());
            let leading = m
                .leading_digits()
                .filter(|_| multi)
                .map(|re| patterns.index(re.as_str()));
            // Typed descriptors only matter where `source_for` tells regions
            // apart by number type; the general one also for transforms.
            let typed = multi && leading.is_none();
            let transform = m.national_prefix_transform_rule();
            let d = m.descriptors();
            let general = if typed || transform.is_some() {
                format!("Some({})", desc(&mut patterns, d.general()))
            } else {
                "None".into()
            };
            let mut types = String::new();
            if typed {
                // Any match makes `number_type` known; fixed line and mobile
                // first since most numbers are, sparing the other regexes.
                for t in [
                    d.fixed_line(),
                    d.mobile(),
                    d.premium_rate(),
                    d.toll_free(),
                    d.shared_cost(),
                    d.voip(),
                    d.personal_number(),
                    d.pager(),
                    d.uan(),
                    d.voicemail(),
                ]
                .into_iter()
                .flatten()
                {
                    let _ = write!(types, "{}, ", desc(&mut patterns, t));
                }
            }
            let general_lengths = d.general().possible_length();
            let _ = write!(
                table,
                "\n        Region {{ country: {country:?}, leading: {leading:?}, \
                 general: {general}, types: &[{types}], \
                 national_prefix: {:?}, prefix_for_parsing: {:?}, transform: {transform:?}, \
                 min_length: {:?}, local_lengths: {:#x} }},",
                m.national_prefix(),
                m.national_prefix_for_parsing()
                    .map(|re| patterns.index(re.as_str())),
                general_lengths.first(),
                mask(d.general().possible_local_length()),
            );
        }
        table.push_str("\n    ] },\n");
    }
    let mut src = format!(
        "// Generated by build.rs from the phonenumber crate's metadata.\n\
         const PATTERN_COUNT: usize = {0};\n\
         static PATTERNS: [&str; PATTERN_COUNT] = [\n",
        patterns.list.len()
    );
    for p in &patterns.list {
        let _ = writeln!(src, "    {p:?},");
    }
    let _ = write!(src, "];\n\nstatic CODES: &[Code] = &[\n{table}];\n");
    src
}

/// The descriptors whose lengths `check_possible_length` unites.
pub fn all_descriptors(m: &Metadata) -> impl Iterator<Item = &Descriptor> {
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
}

fn is_country(id: &str) -> bool {
    id.parse::<phonenumber::country::Id>().is_ok()
}

/// Lengths as a bit set (bit n: length n).
fn mask(lengths: &[u16]) -> u32 {
    lengths.iter().fold(0, |m, &l| {
        assert!(l < 32, "possible length {l}");
        m | 1 << l
    })
}

fn desc(patterns: &mut Patterns, d: &Descriptor) -> String {
    format!(
        "Desc {{ pattern: {}, lengths: {:#x} }}",
        patterns.index(d.national_number().as_str()),
        mask(d.possible_length())
    )
}

/// Distinct patterns, whitespace removed (the crate compiles them with
/// `ignore_whitespace`, so it is not part of the pattern).
#[derive(Default)]
struct Patterns {
    list: Vec<String>,
    seen: HashMap<String, usize>,
}

impl Patterns {
    fn index(&mut self, raw: &str) -> usize {
        // Whitespace can only be dropped if none is escaped and no comment.
        assert!(
            !raw.contains('#') && !raw.contains("\\ ") && !raw.contains("\\\n"),
            "pattern {raw:?}"
        );
        let p: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        let next = self.list.len();
        *self.seen.entry(p.clone()).or_insert_with(|| {
            self.list.push(p);
            next
        })
    }
}
