//! Single-table keys. One place, so every item's shape is easy to find.
//!
//! | item | pk | sk | indexes |
//! |---|---|---|---|
//! | proxy number | `NUM#<e164>` | `META` | pool: `POOL#<provider>` / `<country>#<e164>` |
//! | session leg | `NUM#<proxy>` | `LEG#<caller>` | participant: `PART#<caller>` / `NUM#<proxy>` |
//! | session | `SES#<id>` | `META` | |
//! | session call | `SES#<id>` | `CALL#<call uuid>` | |
//! | call event | `CALL#<call uuid>` | `EVT#<timestamp>#<status>` | |

use crate::domain::Provider;
use crate::phone::PhoneNumber;

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const META: &str = "META";
pub const TTL: &str = "ttl";

pub const PARTICIPANT_INDEX: &str = "participant";
pub const PARTICIPANT_PK: &str = "gsi1pk";
pub const PARTICIPANT_SK: &str = "gsi1sk";
pub const POOL_INDEX: &str = "pool";
pub const POOL_PK: &str = "gsi2pk";
pub const POOL_SK: &str = "gsi2sk";

pub fn number(n: &PhoneNumber) -> String {
    format!("NUM#{}", n.e164())
}

pub fn leg(caller: &PhoneNumber) -> String {
    format!("LEG#{}", caller.e164())
}

pub const LEG_PREFIX: &str = "LEG#";

pub fn session(id: &str) -> String {
    format!("SES#{id}")
}

pub fn session_call(uuid: &str) -> String {
    format!("CALL#{uuid}")
}

pub const SESSION_CALL_PREFIX: &str = "CALL#";

pub fn call(uuid: &str) -> String {
    format!("CALL#{uuid}")
}

pub fn call_event(timestamp: &str, status: &str) -> String {
    format!("EVT#{timestamp}#{status}")
}

pub fn participant(p: &PhoneNumber) -> String {
    format!("PART#{}", p.e164())
}

pub fn pool(provider: Provider) -> String {
    format!("POOL#{}", provider.as_str())
}

pub fn pool_sort(country: &str, n: &PhoneNumber) -> String {
    format!("{country}#{}", n.e164())
}
