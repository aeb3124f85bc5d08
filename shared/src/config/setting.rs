//! One way to declare a group of settings: [`settings!`](crate::settings)
//! writes the struct, its `Default`, `from_env`, `from_lookup` and the list
//! of the variables it reads (which docs/settings.md is checked against)
//! from one declaration. The readers below hold the parsing rules every
//! setting shares; each error names the variable to change.

use std::path::PathBuf;

use super::{ConfigError, NumberValidation, SecretSetting, SmsSignatureMethod};
use crate::audio::{AudioMode, SampleRate};

/// Declares a group of settings read once at start:
///
/// ```
/// callmask::settings! {
///     /// The example's settings.
///     #[derive(Debug, Clone)]
///     pub struct ExampleConfig {
///         /// Where it listens.
///         pub port: u16 = 3000, callmask::config::setting::range("EXAMPLE_PORT", 1, 65_535);
///         /// Not read from the environment.
///         pub name: String = "example".into();
///     }
/// }
/// let c = ExampleConfig::from_lookup(|_| Some("8080".into())).unwrap();
/// assert_eq!((c.port, c.name.as_str()), (8080, "example"));
/// let e = ExampleConfig::from_lookup(|_| Some("0".into())).unwrap_err();
/// assert_eq!(
///     e.to_string(),
///     "setting EXAMPLE_PORT is invalid: expected a whole number from 1 to 65535"
/// );
/// assert_eq!(ExampleConfig::declared()[0].variable, "EXAMPLE_PORT");
/// ```
///
/// Each field is `pub name: Type = default, reader;` (a reader from
/// [`setting`](crate::config::setting)), or `pub name: Type = default;`
/// for a value that is not read from the environment. An optional
/// `check path;` after the struct runs on the whole group once every field
/// is read (settings that must be set together).
#[macro_export]
macro_rules! settings {
    (
        $(#[$meta:meta])*
        pub struct $group:ident {
            $(
                $(#[$field_meta:meta])*
                pub $field:ident : $ty:ty = $default:expr $(, $reader:expr)? ;
            )*
        }
        $(check $check:path;)?
    ) => {
        $(#[$meta])*
        pub struct $group {
            $( $(#[$field_meta])* pub $field: $ty, )*
        }

        impl ::std::default::Default for $group {
            fn default() -> Self {
                Self { $( $field: $default, )* }
            }
        }

        impl $group {
            /// Reads the group from the process environment.
            pub fn from_env() -> ::std::result::Result<Self, $crate::config::ConfigError> {
                Self::from_lookup(|name| ::std::env::var(name).ok())
            }

            /// Reads the group from `get`: an unset or blank variable takes
            /// its default, a bad one is an error naming it.
            pub fn from_lookup(
                get: impl Fn(&str) -> ::std::option::Option<::std::string::String>,
            ) -> ::std::result::Result<Self, $crate::config::ConfigError> {
                #[allow(unused_variables)]
                let env = $crate::config::setting::Env(&get);
                let group = Self {
                    $( $field: {
                        let default: $ty = $default;
                        $( let default: $ty =
                            $crate::config::setting::Read::<$ty>::read(&$reader, &env, default)?; )?
                        default
                    }, )*
                };
                $( $check(&group)?; )?
                Ok(group)
            }

            /// Every variable the group reads, with its default as
            /// docs/settings.md shows it.
            pub fn declared() -> ::std::vec::Vec<$crate::config::setting::Declared> {
                #[allow(unused_mut)]
                let mut out = ::std::vec::Vec::new();
                $( $(
                    let default: $ty = $default;
                    out.extend($crate::config::setting::declared::<$ty>(&$reader, &default));
                )? )*
                out
            }
        }
    };
}

/// A lookup with the parsing rules every setting shares.
pub struct Env<'a>(pub &'a dyn Fn(&str) -> Option<String>);

impl Env<'_> {
    /// Set and not blank, trimmed.
    pub fn get(&self, name: &str) -> Option<String> {
        (self.0)(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }
}

/// A lookup over fixed pairs (tests): `from_lookup(pairs(&[("PORT", "80")]))`.
pub fn pairs(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: std::collections::HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| map.get(k).cloned()
}

/// How one setting is read: the variables it reads, and its value given
/// its default.
pub trait Read<T> {
    fn variables(&self) -> &[&'static str];
    fn read(&self, env: &Env<'_>, default: T) -> Result<T, ConfigError>;
}

/// A declared variable and its default, for docs/settings.md's check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    pub variable: &'static str,
    pub default: Shown,
}

/// A default as the settings reference writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shown {
    /// Written as `` `value` ``.
    Value(String),
    /// The empty text: written as "empty".
    Empty,
    /// Unset, or worked out at run time: any words do.
    Unset,
}

/// How a default is written in the settings reference.
pub trait Documented {
    fn shown(&self) -> Shown;
}

pub fn declared<T: Documented>(reader: &dyn Read<T>, default: &T) -> Vec<Declared> {
    let shown = default.shown();
    reader
        .variables()
        .iter()
        .map(|&variable| Declared {
            variable,
            // A pair (a secret's value and its id) has no default to show.
            default: if reader.variables().len() == 1 {
                shown.clone()
            } else {
                Shown::Unset
            },
        })
        .collect()
}

/// One variable, read by a rule: `text("TABLE_NAME")` is a `Setting<Text>`.
pub struct Setting<R> {
    name: &'static str,
    rule: R,
}

impl<R> Setting<R> {
    const fn new(name: &'static str, rule: R) -> Self {
        Self { name, rule }
    }
}

impl<T, R: Rule<T>> Read<T> for Setting<R> {
    fn variables(&self) -> &[&'static str] {
        std::slice::from_ref(&self.name)
    }
    fn read(&self, env: &Env<'_>, default: T) -> Result<T, ConfigError> {
        let var = Var {
            name: self.name,
            env,
        };
        self.rule.apply(var, default)
    }
}

/// The variable a rule reads.
pub struct Var<'a> {
    name: &'static str,
    env: &'a Env<'a>,
}

impl Var<'_> {
    /// Set and not blank, trimmed.
    fn value(&self) -> Option<String> {
        self.env.get(self.name)
    }

    /// As set, blank included.
    fn raw(&self) -> Option<String> {
        (self.env.0)(self.name)
    }

    /// The start-up error naming this variable.
    fn invalid(&self, reason: &str) -> ConfigError {
        ConfigError {
            name: self.name,
            reason: reason.into(),
        }
    }
}

/// How a variable's value is checked and turned into a `T`, given its
/// default.
pub trait Rule<T> {
    fn apply(&self, var: Var<'_>, default: T) -> Result<T, ConfigError>;
}

/// A text: trimmed; unset or blank takes the default (`None` for an
/// optional one).
pub struct Text;

pub const fn text(name: &'static str) -> Setting<Text> {
    Setting::new(name, Text)
}

impl Rule<String> for Text {
    fn apply(&self, var: Var<'_>, default: String) -> Result<String, ConfigError> {
        Ok(var.value().unwrap_or(default))
    }
}

impl Rule<Option<String>> for Text {
    fn apply(&self, var: Var<'_>, default: Option<String>) -> Result<Option<String>, ConfigError> {
        Ok(var.value().or(default))
    }
}

/// A text taken as written: set but empty means empty (a greeting of none).
pub struct Verbatim;

pub const fn verbatim(name: &'static str) -> Setting<Verbatim> {
    Setting::new(name, Verbatim)
}

impl Rule<String> for Verbatim {
    fn apply(&self, var: Var<'_>, default: String) -> Result<String, ConfigError> {
        Ok(var.raw().unwrap_or(default))
    }
}

/// A whole number from `min` to `max`.
pub struct Range {
    min: u64,
    max: u64,
}

pub const fn range(name: &'static str, min: u64, max: u64) -> Setting<Range> {
    Setting::new(name, Range { min, max })
}

impl<T: TryFrom<u64>> Rule<T> for Range {
    fn apply(&self, var: Var<'_>, default: T) -> Result<T, ConfigError> {
        let Some(v) = var.value() else {
            return Ok(default);
        };
        let (min, max) = (self.min, self.max);
        match v.parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => T::try_from(n).ok(),
            _ => None,
        }
        .ok_or_else(|| var.invalid(&format!("expected a whole number from {min} to {max}")))
    }
}

/// `true` / `false` (also `1`/`0`, `yes`/`no`).
pub struct Flag;

pub const fn flag(name: &'static str) -> Setting<Flag> {
    Setting::new(name, Flag)
}

impl Rule<bool> for Flag {
    fn apply(&self, var: Var<'_>, default: bool) -> Result<bool, ConfigError> {
        match var.value().as_deref() {
            None => Ok(default),
            Some("false" | "0" | "no") => Ok(false),
            Some("true" | "1" | "yes") => Ok(true),
            Some(_) => Err(var.invalid("expected true or false")),
        }
    }
}

/// An `http(s)://` URL, kept without a trailing `/`.
pub struct HttpUrl;

pub const fn http_url(name: &'static str) -> Setting<HttpUrl> {
    Setting::new(name, HttpUrl)
}

impl Rule<Option<String>> for HttpUrl {
    fn apply(&self, var: Var<'_>, default: Option<String>) -> Result<Option<String>, ConfigError> {
        match var.value() {
            None => Ok(default),
            Some(v) if is_url(&v, &["http", "https"]) => {
                Ok(Some(v.trim_end_matches('/').to_string()))
            }
            Some(_) => Err(var.invalid("expected an http(s) URL")),
        }
    }
}

/// `v` is a URL of one of `schemes`, with a host.
fn is_url(v: &str, schemes: &[&str]) -> bool {
    url::Url::parse(v).is_ok_and(|u| schemes.contains(&u.scheme()) && u.host().is_some())
}

impl Rule<String> for HttpUrl {
    fn apply(&self, var: Var<'_>, default: String) -> Result<String, ConfigError> {
        Ok(self.apply(var, None)?.unwrap_or(default))
    }
}

/// A `ws://` or `wss://` URL; set but blank: none (`None`).
pub struct WsUrl;

pub const fn ws_url(name: &'static str) -> Setting<WsUrl> {
    Setting::new(name, WsUrl)
}

impl Rule<Option<String>> for WsUrl {
    fn apply(&self, var: Var<'_>, default: Option<String>) -> Result<Option<String>, ConfigError> {
        match var.raw().map(|v| v.trim().to_string()) {
            None => Ok(default),
            Some(v) if v.is_empty() => Ok(None),
            Some(v) if is_url(&v, &["ws", "wss"]) => Ok(Some(v)),
            Some(_) => Err(var.invalid("expected a ws:// or wss:// URL")),
        }
    }
}

/// One of a few words, as `parse` reads them; `expected` says which.
pub struct OneOf<T> {
    parse: fn(&str) -> Option<T>,
    expected: &'static str,
}

pub const fn one_of<T>(
    name: &'static str,
    parse: fn(&str) -> Option<T>,
    expected: &'static str,
) -> Setting<OneOf<T>> {
    Setting::new(name, OneOf { parse, expected })
}

impl<T> Rule<T> for OneOf<T> {
    fn apply(&self, var: Var<'_>, default: T) -> Result<T, ConfigError> {
        match var.value() {
            None => Ok(default),
            Some(v) => (self.parse)(&v).ok_or_else(|| var.invalid(self.expected)),
        }
    }
}

/// A text the value (or the default) must pass `check` for, else `expected`.
pub struct Checked {
    check: fn(&str) -> bool,
    expected: &'static str,
}

impl Rule<String> for Checked {
    fn apply(&self, var: Var<'_>, default: String) -> Result<String, ConfigError> {
        let v = var.value().unwrap_or(default);
        if (self.check)(&v) {
            Ok(v)
        } else {
            Err(var.invalid(self.expected))
        }
    }
}

/// An email address (a plausibility check; SES has the final word).
pub const fn email(name: &'static str) -> Setting<Checked> {
    let check = super::is_plausible_email;
    Setting::new(
        name,
        Checked {
            check,
            expected: "expected an email address",
        },
    )
}

/// An IP address to listen on, kept as written.
pub const fn ip_address(name: &'static str) -> Setting<Checked> {
    let check = |v: &str| v.parse::<std::net::IpAddr>().is_ok();
    let expected = "expected an IP address (0.0.0.0 in a container)";
    Setting::new(name, Checked { check, expected })
}

/// A directory.
pub struct Dir;

pub const fn dir(name: &'static str) -> Setting<Dir> {
    Setting::new(name, Dir)
}

impl Rule<PathBuf> for Dir {
    fn apply(&self, var: Var<'_>, default: PathBuf) -> Result<PathBuf, ConfigError> {
        Ok(var.value().map(PathBuf::from).unwrap_or(default))
    }
}

/// A secret: its Secrets Manager id, else the value itself.
pub struct Secret {
    names: [&'static str; 2],
}

/// `value` holds the secret itself (local runs), `id` its Secrets Manager id.
pub const fn secret(value: &'static str, id: &'static str) -> Secret {
    Secret { names: [value, id] }
}

impl Read<SecretSetting> for Secret {
    fn variables(&self) -> &[&'static str] {
        &self.names
    }
    fn read(&self, env: &Env<'_>, default: SecretSetting) -> Result<SecretSetting, ConfigError> {
        let [value, id] = self.names;
        // The id wins: in AWS the plaintext never sits in the environment.
        Ok(match (env.get(id), env.get(value)) {
            (Some(id), _) => SecretSetting::SecretId(id),
            (None, Some(v)) => SecretSetting::Value(v),
            (None, None) => default,
        })
    }
}

fn value(v: impl ToString) -> Shown {
    Shown::Value(v.to_string())
}

impl Documented for String {
    fn shown(&self) -> Shown {
        if self.is_empty() {
            Shown::Empty
        } else {
            value(self)
        }
    }
}

impl Documented for Option<String> {
    fn shown(&self) -> Shown {
        self.as_ref().map_or(Shown::Unset, Documented::shown)
    }
}

macro_rules! shown_as_written {
    ($($t:ty),*) => {
        $(impl Documented for $t {
            fn shown(&self) -> Shown {
                value(self)
            }
        })*
    };
}

shown_as_written!(u16, u32, u64, usize, bool);

impl Documented for SecretSetting {
    fn shown(&self) -> Shown {
        Shown::Unset
    }
}

impl Documented for PathBuf {
    /// The system's temp dir, worked out at run time.
    fn shown(&self) -> Shown {
        Shown::Unset
    }
}

impl Documented for NumberValidation {
    fn shown(&self) -> Shown {
        value(self.as_str())
    }
}

impl Documented for SmsSignatureMethod {
    fn shown(&self) -> Shown {
        value(self.as_str())
    }
}

impl Documented for crate::domain::Provider {
    fn shown(&self) -> Shown {
        value(self.as_str())
    }
}

impl Documented for SampleRate {
    fn shown(&self) -> Shown {
        value(self.hz())
    }
}

impl Documented for AudioMode {
    fn shown(&self) -> Shown {
        value(self.as_str())
    }
}
