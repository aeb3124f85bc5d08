//! Services, Twilio Proxy's model: a service scopes a pool of numbers and
//! the sessions drawn from it, and holds the policies those sessions follow.
//!
//! This module only says what a valid service is. The policies are stored
//! here now and applied by the slices that bring them (sliding TTL, sticky
//! numbers, geo match, cool-off, callbacks); today a service decides which
//! numbers a session may get and its default TTL.
//!
//! What existed before services is the **default service**: a fixed sid,
//! `unique_name` `default`, the deployment's settings. It always exists, so
//! numbers and sessions stored without a service belong to it and no
//! stored item breaks.

use serde::Serialize;

/// The longest TTL a session (and so a service's `default_ttl`) may have.
pub const MAX_TTL_SECONDS: u64 = 30 * 24 * 3600;
/// The longest `interaction_ttl`: interactions are kept at most a year.
pub const MAX_INTERACTION_TTL_SECONDS: u64 = 365 * 24 * 3600;
/// Twilio Proxy's limit on a unique name.
pub const MAX_UNIQUE_NAME_CHARS: usize = 191;
/// Ten SMS segments: a longer reply costs more than it helps.
pub const MAX_MESSAGE_CHARS: usize = 1600;
pub const MAX_URL_CHARS: usize = 2048;
/// The unique name of the default service, which no other service may take.
pub const DEFAULT_UNIQUE_NAME: &str = "default";

/// A service's id: `KS` and 32 lowercase hex digits, as Twilio Proxy's.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ServiceSid(String);

impl ServiceSid {
    /// The default service's sid.
    pub const DEFAULT: &'static str = "KS00000000000000000000000000000000";

    pub fn default_service() -> Self {
        Self(Self::DEFAULT.to_string())
    }

    /// A fresh sid (a v4 uuid's 32 hex digits).
    pub fn random() -> Self {
        Self(format!("KS{}", uuid::Uuid::new_v4().simple()))
    }

    /// `s` if it has a sid's shape; anything else cannot name a service.
    pub fn parse(s: &str) -> Option<Self> {
        let hex = s.strip_prefix("KS")?;
        let ok = hex.len() == 32 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        ok.then(|| Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_default(&self) -> bool {
        self.0 == Self::DEFAULT
    }
}

impl Default for ServiceSid {
    fn default() -> Self {
        Self::default_service()
    }
}

impl std::fmt::Display for ServiceSid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `as_str` and `parse` of a policy stored and shown by name, from one
/// table of variant and name so that the two can never disagree.
macro_rules! named_policy {
    ($policy:ident { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $policy {
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)+
                }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($name => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

/// How a participant's proxy number is chosen among the free ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NumberSelection {
    /// The number the participant last had in this service, when free.
    #[default]
    PreferSticky,
    /// A different number from last time, when the pool allows.
    AvoidSticky,
}

named_policy!(NumberSelection {
    PreferSticky => "prefer-sticky",
    AvoidSticky => "avoid-sticky",
});

/// How close to the participant a proxy number must be.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GeoMatch {
    /// In the participant's country.
    #[default]
    Country,
    /// In the participant's area code, where the numbering plan has one.
    AreaCode,
}

named_policy!(GeoMatch {
    Country => "country",
    AreaCode => "area-code",
});

/// A callback URL: https, or plain http only to this machine (`make run`
/// and tests), so a callback never crosses a network in the clear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct CallbackUrl(String);

impl CallbackUrl {
    pub fn parse(s: &str) -> Result<Self, &'static str> {
        if s.len() > MAX_URL_CHARS {
            return Err("is too long");
        }
        let url = url::Url::parse(s).map_err(|_| "is not a URL")?;
        let loopback = match url.host() {
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => ip == std::net::Ipv4Addr::LOCALHOST,
            Some(url::Host::Ipv6(ip)) => ip == std::net::Ipv6Addr::LOCALHOST,
            None => return Err("has no host"),
        };
        match url.scheme() {
            "https" => {}
            "http" if loopback => {}
            "http" => return Err("must be https (plain http only to 127.0.0.1, ::1 or localhost)"),
            _ => return Err("must be an https URL"),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not hold credentials");
        }
        if url.fragment().is_some() {
            return Err("must not have a fragment");
        }
        Ok(Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a service's settings were refused: the field, and a short reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServiceError {
    #[error("unique_name {0}")]
    UniqueName(&'static str),
    #[error("{field} must be a whole number of seconds from {min} to {max}")]
    Seconds {
        field: &'static str,
        min: u64,
        max: u64,
    },
    #[error("{field} {reason}")]
    Url {
        field: &'static str,
        reason: &'static str,
    },
    #[error("out_of_session_message must be text of 1 to {MAX_MESSAGE_CHARS} characters")]
    Message,
    #[error("the default service keeps its unique_name `default`")]
    DefaultName,
}

impl ServiceError {
    /// The request field at fault.
    pub fn field(&self) -> &'static str {
        match self {
            Self::UniqueName(_) | Self::DefaultName => "unique_name",
            Self::Seconds { field, .. } | Self::Url { field, .. } => field,
            Self::Message => "out_of_session_message",
        }
    }
}

/// A service and its policies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub sid: ServiceSid,
    pub unique_name: String,
    /// Seconds a session lasts when its request gives no TTL; `None`: the
    /// deployment's `DEFAULT_SESSION_TTL_SECONDS`.
    pub default_ttl: Option<u64>,
    pub number_selection_behavior: NumberSelection,
    pub geo_match_level: GeoMatch,
    /// Give a participant a number of another country when none of theirs
    /// is free (strict otherwise).
    pub allow_foreign_numbers: bool,
    /// Seconds a released (participant, number) pair waits before another
    /// session may take it (0: none, as Twilio Proxy).
    pub cool_off_seconds: u64,
    pub callback_url: Option<CallbackUrl>,
    pub intercept_callback_url: Option<CallbackUrl>,
    pub out_of_session_callback_url: Option<CallbackUrl>,
    /// The reply to a text outside any session.
    pub out_of_session_message: Option<String>,
    /// Seconds interactions are kept; `None`: as long as their session.
    pub interaction_ttl: Option<u64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Changes to a service: a field left `None` stays as it is; `Some(None)`
/// clears an optional one. Values are as sent, checked by
/// [`Service::create`] and [`Service::change`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceChanges {
    pub unique_name: Option<String>,
    pub default_ttl: Option<Option<u64>>,
    pub number_selection_behavior: Option<NumberSelection>,
    pub geo_match_level: Option<GeoMatch>,
    pub allow_foreign_numbers: Option<bool>,
    pub cool_off_seconds: Option<u64>,
    pub callback_url: Option<Option<String>>,
    pub intercept_callback_url: Option<Option<String>>,
    pub out_of_session_callback_url: Option<Option<String>>,
    pub out_of_session_message: Option<Option<String>>,
    pub interaction_ttl: Option<Option<u64>>,
}

impl Service {
    /// The default service as the deployment's settings make it, until an
    /// update stores it.
    pub fn default_service(default_ttl: u64, out_of_session_message: &str) -> Self {
        let mut s = Self::blank(ServiceSid::default_service(), DEFAULT_UNIQUE_NAME.into(), 0);
        s.default_ttl = Some(default_ttl);
        s.out_of_session_message =
            Some(out_of_session_message.to_string()).filter(|m| !m.trim().is_empty());
        s
    }

    fn blank(sid: ServiceSid, unique_name: String, now: i64) -> Self {
        Self {
            sid,
            unique_name,
            default_ttl: None,
            number_selection_behavior: NumberSelection::default(),
            geo_match_level: GeoMatch::default(),
            allow_foreign_numbers: false,
            cool_off_seconds: 0,
            callback_url: None,
            intercept_callback_url: None,
            out_of_session_callback_url: None,
            out_of_session_message: None,
            interaction_ttl: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// A new service: `unique_name` is required, every other setting
    /// defaults.
    pub fn create(
        sid: ServiceSid,
        changes: ServiceChanges,
        now: i64,
    ) -> Result<Self, ServiceError> {
        let name = changes
            .unique_name
            .clone()
            .ok_or(ServiceError::UniqueName("is required"))?;
        Self::blank(sid, name, now).change(changes, now)
    }

    /// This service with `changes` applied, every changed field checked.
    pub fn change(&self, changes: ServiceChanges, now: i64) -> Result<Self, ServiceError> {
        let mut s = self.clone();
        if let Some(name) = changes.unique_name {
            let name = name.trim().to_string();
            if self.sid.is_default() && name != DEFAULT_UNIQUE_NAME {
                return Err(ServiceError::DefaultName);
            }
            if !self.sid.is_default() {
                check_unique_name(&name)?;
            }
            s.unique_name = name;
        }
        if let Some(ttl) = changes.default_ttl {
            s.default_ttl = ttl
                .map(|t| seconds("default_ttl", t, 1, MAX_TTL_SECONDS))
                .transpose()?;
        }
        if let Some(v) = changes.number_selection_behavior {
            s.number_selection_behavior = v;
        }
        if let Some(v) = changes.geo_match_level {
            s.geo_match_level = v;
        }
        if let Some(v) = changes.allow_foreign_numbers {
            s.allow_foreign_numbers = v;
        }
        if let Some(v) = changes.cool_off_seconds {
            s.cool_off_seconds = seconds("cool_off_seconds", v, 0, MAX_TTL_SECONDS)?;
        }
        for (field, change, slot) in [
            ("callback_url", changes.callback_url, &mut s.callback_url),
            (
                "intercept_callback_url",
                changes.intercept_callback_url,
                &mut s.intercept_callback_url,
            ),
            (
                "out_of_session_callback_url",
                changes.out_of_session_callback_url,
                &mut s.out_of_session_callback_url,
            ),
        ] {
            if let Some(url) = change {
                *slot = url
                    .map(|u| {
                        CallbackUrl::parse(&u).map_err(|reason| ServiceError::Url { field, reason })
                    })
                    .transpose()?;
            }
        }
        if let Some(message) = changes.out_of_session_message {
            s.out_of_session_message = message.map(check_message).transpose()?;
        }
        if let Some(ttl) = changes.interaction_ttl {
            s.interaction_ttl = ttl
                .map(|t| seconds("interaction_ttl", t, 1, MAX_INTERACTION_TTL_SECONDS))
                .transpose()?;
        }
        s.updated_at = now;
        Ok(s)
    }
}

/// A unique name: 1 to 191 characters, no control characters, no `/` (it
/// names the service in a URL path), not a sid's shape (a path segment is
/// read as a sid first) and not the default service's.
pub fn check_unique_name(name: &str) -> Result<(), ServiceError> {
    let n = name.chars().count();
    if n == 0 || n > MAX_UNIQUE_NAME_CHARS {
        return Err(ServiceError::UniqueName("must be 1 to 191 characters"));
    }
    if name.chars().any(|c| c.is_control() || c == '/') {
        return Err(ServiceError::UniqueName(
            "must not hold `/` or control characters",
        ));
    }
    if ServiceSid::parse(name).is_some() {
        return Err(ServiceError::UniqueName("must not look like a service sid"));
    }
    if name == DEFAULT_UNIQUE_NAME {
        return Err(ServiceError::UniqueName(
            "`default` is the default service's",
        ));
    }
    Ok(())
}

fn seconds(field: &'static str, v: u64, min: u64, max: u64) -> Result<u64, ServiceError> {
    if (min..=max).contains(&v) {
        Ok(v)
    } else {
        Err(ServiceError::Seconds { field, min, max })
    }
}

fn check_message(m: String) -> Result<String, ServiceError> {
    let n = m.trim().chars().count();
    if n == 0 || n > MAX_MESSAGE_CHARS || m.chars().any(|c| c.is_control() && c != '\n') {
        return Err(ServiceError::Message);
    }
    Ok(m)
}

/// Where a pool number serves: its service (numbers stored without one
/// belong to the default service) and whether it is reserved, i.e. given
/// to a session only when asked for by number, never by allocation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Membership {
    pub service: ServiceSid,
    pub reserved: bool,
}

impl Membership {
    /// Whether allocation for a session in `service` may choose this number.
    pub fn allocatable_in(&self, service: &ServiceSid) -> bool {
        &self.service == service && !self.reserved
    }
}

#[cfg(test)]
#[path = "service_tests.rs"]
mod tests;
