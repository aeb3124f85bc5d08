//! Whether the local emulator is there. `make test` runs each emulator
//! test binary under `scripts/stack.py exec`, which starts moto and sets
//! `CALLMASK_TEST_AWS_ENDPOINT`. A plain `cargo test` (a fresh clone, no
//! `.venv`) has none: the tests that need it return at once and the binary
//! says so in one line. Under make (or with `CALLMASK_REQUIRE_EMULATOR`
//! set) a missing emulator is a failure, never a skip.
//!
//! Shared by `local/tests/*` and `audio-socket/tests/audio.rs`.

use std::io::Write;
use std::sync::Once;

pub const ENDPOINT_VAR: &str = "CALLMASK_TEST_AWS_ENDPOINT";

/// The emulator `scripts/stack.py exec` started for this run, if any.
pub fn emulator_endpoint() -> Option<String> {
    std::env::var(ENDPOINT_VAR).ok().filter(|e| !e.is_empty())
}

/// `needs_emulator!();`, the first line of a test that needs the emulator:
/// the test returns at once (skipped) when there is none.
macro_rules! needs_emulator {
    () => {
        if crate::support::emulator::skip_without_emulator() {
            return;
        }
    };
}
pub(crate) use needs_emulator;

/// Whether to skip a test that needs the emulator (see [`needs_emulator`]).
pub fn skip_without_emulator() -> bool {
    if emulator_endpoint().is_some() {
        return false;
    }
    let required = ["MAKELEVEL", "CALLMASK_REQUIRE_EMULATOR"]
        .iter()
        .any(|v| std::env::var_os(v).is_some());
    assert!(
        !required,
        "{ENDPOINT_VAR} is not set: the emulator tests run under `scripts/stack.py exec` (make test)"
    );
    static SAID: Once = Once::new();
    SAID.call_once(|| {
        // Straight to stderr: the test harness captures `eprintln!`.
        let _ = writeln!(
            std::io::stderr(),
            "skipped: the tests of `{}` that need the local emulator ({ENDPOINT_VAR} unset); run make test",
            env!("CARGO_CRATE_NAME")
        );
    });
    true
}

/// The emulator's endpoint, for a test that has checked it is there.
pub fn endpoint() -> String {
    emulator_endpoint().unwrap_or_else(|| {
        panic!("{ENDPOINT_VAR} is not set: begin the test with `needs_emulator!();`")
    })
}
