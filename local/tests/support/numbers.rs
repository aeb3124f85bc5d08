//! The phone numbers the tests use, one role each, and the two ways a
//! number is written in a request besides E.164.

/// The pool's numbers (Vonage, GB).
pub const P1: &str = "+447700900001";
pub const P2: &str = "+447700900002";

/// Participants in sessions.
pub const ALICE: &str = "+447700900100";
pub const BOB: &str = "+447700900200";
pub const CAROL: &str = "+447700900300";
pub const DAVE: &str = "+447700900400";
pub const ERIN: &str = "+447700900500";

/// A masked line on Twilio, its owner, and someone who calls it.
pub const LINE: &str = "+15551230009";
pub const OWNER: &str = "+15551230001";
pub const CALLER: &str = "+15551230002";

/// `number` as Vonage writes it: its digits, no `+`.
pub fn digits(number: &str) -> &str {
    number.trim_start_matches('+')
}

/// `number` in a URL (`+` encoded).
pub fn enc(number: &str) -> String {
    number.replace('+', "%2B")
}
