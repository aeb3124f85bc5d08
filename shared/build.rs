//! Splits libphonenumber's metadata (the `phonenumber` crate's own XML, read
//! with its own loader) by country calling code, so validating a number at
//! run time loads only the regions of that number's calling code instead of
//! the whole database (~100 ms on a cold start). `phone.rs` parses with the
//! same crate over that subset; a test there keeps the two in agreement.

use std::collections::BTreeMap;
use std::env;
use std::fmt::Write as _;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let xml = metadata_xml();
    println!("cargo:rerun-if-changed={}", xml.display());
    println!("cargo:rerun-if-changed=build.rs");
    let file = File::open(&xml).unwrap_or_else(|e| panic!("{}: {e}", xml.display()));
    let all = phonenumber::metadata::loader::load(BufReader::new(file))
        .unwrap_or_else(|e| panic!("loading {}: {e}", xml.display()));

    // In file order within a code, as the crate's own database keeps them.
    let mut by_code: BTreeMap<u16, Vec<phonenumber::metadata::loader::Metadata>> = BTreeMap::new();
    for meta in all {
        if let Some(code) = meta.country_code {
            by_code.entry(code).or_default().push(meta);
        }
    }

    let mut blob = Vec::new();
    let mut index = String::from(
        "/// (calling code, offset, length) of each code's regions in `METADATA`.\n\
         pub(crate) static CODES: &[(u16, usize, usize)] = &[\n",
    );
    for (code, metas) in &by_code {
        let bytes = postcard::to_allocvec(metas).expect("serialising metadata");
        let _ = writeln!(index, "    ({code}, {}, {}),", blob.len(), bytes.len());
        blob.extend_from_slice(&bytes);
    }
    index.push_str("];\n");
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    std::fs::write(out.join("phone_codes.rs"), index).expect("writing phone_codes.rs");
    std::fs::write(out.join("phone_metadata.bin"), blob).expect("writing phone_metadata.bin");
}

/// `assets/PhoneNumberMetadata.xml` of the `phonenumber` package this build
/// uses, found through `cargo metadata` (the crate does not export it).
fn metadata_xml() -> PathBuf {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let manifest =
        Path::new(&env::var("CARGO_MANIFEST_DIR").expect("manifest dir")).join("Cargo.toml");
    // Only the host's packages (build dependencies run on the host), from
    // the local cache when it has them all.
    let host = env::var("HOST").expect("HOST");
    let run = |offline: bool| {
        let mut cmd = Command::new(&cargo);
        cmd.args([
            "metadata",
            "--format-version",
            "1",
            "--filter-platform",
            &host,
        ])
        .arg("--manifest-path")
        .arg(&manifest);
        if offline {
            cmd.arg("--offline");
        }
        cmd.output().expect("running cargo metadata")
    };
    let out = match run(true) {
        out if out.status.success() => out,
        _ => run(false),
    };
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("cargo metadata JSON");
    let version = phonenumber_version();
    let package = meta["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| {
            p["name"] == "phonenumber" && version.as_deref().is_none_or(|v| p["version"] == v)
        })
        .expect("the phonenumber package in cargo metadata");
    let manifest_path = package["manifest_path"].as_str().expect("manifest_path");
    Path::new(manifest_path)
        .parent()
        .expect("package dir")
        .join("assets/PhoneNumberMetadata.xml")
}

/// The version the build resolved (`DEP_` variables are not set for it, so
/// read the lock file next to the workspace manifest when there is one).
fn phonenumber_version() -> Option<String> {
    let dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").ok()?);
    let lock = std::fs::read_to_string(dir.parent()?.join("Cargo.lock")).ok()?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"phonenumber\"" {
            let v = lines
                .next()?
                .strip_prefix("version = \"")?
                .strip_suffix('"')?;
            return Some(v.to_string());
        }
    }
    None
}
