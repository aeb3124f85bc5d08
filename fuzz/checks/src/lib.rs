//! What each fuzz target checks. A target (fuzz/fuzz_targets, nightly) is
//! one line that calls [`run`] with its name; the test below replays every
//! seed (fuzz/corpus/<target>/) and every crash kept (fuzz/regressions/
//! <target>/) through the same function on stable, in `make test`.
//!
//! A check takes the fuzzer's bytes, feeds the parser exactly as a request
//! would, and panics when a property fails (a round trip, a signature that
//! must verify, a length field): libFuzzer records a panic as a crash.
//! Inputs of several fields are split on NUL bytes ([`fields`]).

pub mod admin;
pub mod audio;
pub mod mutate;
pub mod phone;
pub mod render;
pub mod twilio;
pub mod vonage;

/// A target's check: panics when a property fails.
pub type Check = fn(&[u8]);

/// Every target: its name (the fuzz target's and its corpus folder's) and
/// its check.
pub const TARGETS: &[(&str, Check)] = &[
    ("twilio_form", twilio::form),
    ("twilio_signature", twilio::signature),
    ("twilio_recording_url", twilio::recording_url),
    ("vonage_jwt", vonage::jwt),
    ("vonage_sms_signature", vonage::sms_signature),
    ("vonage_params", vonage::params),
    ("provider_events", vonage::events),
    ("twiml", render::twiml),
    ("ncco", render::ncco),
    ("admin_json", admin::json_bodies),
    ("session_list_query", admin::list_query),
    ("path_segments", admin::path_segments),
    ("phone_parse", phone::parse),
    ("phone_from_e164", phone::from_e164),
    ("audio_first_message", audio::first_message),
    ("audio_frames", audio::frames),
    ("audio_reframe", audio::reframe),
    ("wav_writer", audio::wav_writer),
];

/// Runs target `name` on `data`; an unknown name panics.
pub fn run(name: &str, data: &[u8]) {
    match TARGETS.iter().find(|(n, _)| *n == name) {
        Some((_, check)) => check(data),
        None => panic!("no fuzz target named {name}"),
    }
}

/// `data` cut at its first `n - 1` NUL bytes into `n` fields (missing ones
/// empty): how a target takes several inputs from one.
pub fn fields(data: &[u8], n: usize) -> Vec<&[u8]> {
    let mut out: Vec<&[u8]> = data.splitn(n, |b| *b == 0).collect();
    out.resize(n, &[]);
    out
}

/// A field as text, as a server decodes bytes that are not UTF-8.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A request as the function receives it.
pub fn request(
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Option<lambda_http::Request> {
    let mut b = http::Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(lambda_http::Body::Binary(body.to_vec())).ok()
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;

    fn fuzz_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    /// Every file in `dir/<target>/`, by target.
    fn inputs(dir: &str) -> Vec<(String, PathBuf)> {
        let mut out = Vec::new();
        let Ok(targets) = std::fs::read_dir(fuzz_dir().join(dir)) else {
            return out;
        };
        for target in targets.flatten() {
            let name = target.file_name().to_string_lossy().into_owned();
            for file in std::fs::read_dir(target.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                out.push((name.clone(), file.path()));
            }
        }
        out.sort();
        out
    }

    /// Runs every input of `dir`; fails naming each one that panics.
    fn replay(dir: &str) -> usize {
        let all = inputs(dir);
        let mut failed = Vec::new();
        for (target, path) in &all {
            let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            if std::panic::catch_unwind(|| run(target, &data)).is_err() {
                failed.push(format!("{target}: {}", path.display()));
            }
        }
        assert!(failed.is_empty(), "failing inputs:\n{}", failed.join("\n"));
        all.len()
    }

    /// Each crash a fuzzer found, kept after its fix: it must pass for good.
    #[test]
    fn every_kept_crash_passes() {
        assert!(replay("regressions") >= 1, "fuzz/regressions is empty");
    }

    /// The seeds pass too, and every target has some (a target without
    /// seeds starts from nothing).
    #[test]
    fn every_seed_passes_and_every_target_has_seeds() {
        assert!(replay("corpus") > 0);
        let seeded: std::collections::BTreeSet<String> =
            inputs("corpus").into_iter().map(|(t, _)| t).collect();
        for (name, _) in TARGETS {
            assert!(seeded.contains(*name), "fuzz/corpus/{name} has no seeds");
        }
    }

    /// The short pass: every seed of every target mutated
    /// `FUZZ_CHECKS_MUTATIONS` times (default 256: ~59,000 inputs, a few seconds),
    /// from a generator seeded by `FUZZ_CHECKS_SEED` or else the clock, so
    /// each run of `make test` tries inputs no run tried before. A failure
    /// names the target, the seed to replay it and the input.
    #[test]
    fn mutated_seeds_pass() {
        let per_seed: usize = std::env::var("FUZZ_CHECKS_MUTATIONS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(256);
        let seed: u64 = std::env::var("FUZZ_CHECKS_SEED")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(1)
            });
        let mut by_target: std::collections::BTreeMap<String, Vec<Vec<u8>>> = Default::default();
        for (target, path) in inputs("corpus") {
            let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            by_target.entry(target).or_default().push(data);
        }
        let mut rng = mutate::Rng::new(seed);
        let mut tried = 0usize;
        // A failing input panics inside the check: keep the default hook
        // from printing thousands of lines before the one report below.
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let mut failed = None;
        'all: for (target, seeds) in &by_target {
            for s in seeds {
                for _ in 0..per_seed {
                    let input = mutate::mutate(&mut rng, s, seeds);
                    tried += 1;
                    if std::panic::catch_unwind(|| run(target, &input)).is_err() {
                        failed = Some((target.clone(), input));
                        break 'all;
                    }
                }
            }
        }
        std::panic::set_hook(hook);
        if let Some((target, input)) = failed {
            let shown: String = input.iter().take(512).map(|b| format!("{b:02x}")).collect();
            panic!(
                "{target} failed on a mutated seed (FUZZ_CHECKS_SEED={seed} \
                 FUZZ_CHECKS_MUTATIONS={per_seed} replays it); input (hex, first 512 bytes): \
                 {shown}\nkeep it in fuzz/regressions/{target}/ once fixed"
            );
        }
        eprintln!("short fuzz pass: {tried} mutated inputs, seed {seed}");
        assert!(tried >= by_target.len() * per_seed);
    }

    /// A fuzz target for every check, and a check for every fuzz target.
    #[test]
    fn the_targets_are_the_checks() {
        let mut files: Vec<String> = std::fs::read_dir(fuzz_dir().join("fuzz_targets"))
            .expect("fuzz/fuzz_targets")
            .flatten()
            .map(|f| {
                f.file_name()
                    .to_string_lossy()
                    .trim_end_matches(".rs")
                    .to_string()
            })
            .collect();
        files.sort();
        let mut names: Vec<String> = TARGETS.iter().map(|(n, _)| n.to_string()).collect();
        names.sort();
        assert_eq!(files, names);
        let manifest =
            std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).expect("fuzz/Cargo.toml");
        for name in &names {
            assert!(
                manifest.contains(&format!("name = \"{name}\"")),
                "fuzz/Cargo.toml lacks [[bin]] {name}"
            );
        }
    }

    #[test]
    fn fields_split_on_nul() {
        assert_eq!(fields(b"a\0b\0c\0d", 3), vec![&b"a"[..], b"b", b"c\0d"]);
        assert_eq!(fields(b"a", 3), vec![&b"a"[..], b"", b""]);
    }
}
