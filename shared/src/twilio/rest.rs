//! Twilio's REST API as callmask uses it, through one client: available
//! numbers, buying a number with our webhook URLs, releasing it, listing
//! the account's, sending a text, and (`twilio::recordings`) downloading
//! and deleting the recordings the voicemail pipeline copies. HTTP Basic
//! auth (account SID, auth token), everything under
//! `{api}/2010-04-01/Accounts/{Sid}/`, through a configurable base URL
//! (tests point it at a local fake). Twilio writes numbers as `+E.164`.

use std::sync::{Arc, OnceLock};

use serde::Deserialize;
use url::Url;

use crate::config::TwilioConfig;
use crate::rest::{credential, send, Answer, RestError};
use crate::secrets::Secret;

/// Numbers per page when listing the account's.
const PAGE_SIZE: u32 = 100;

/// The Twilio REST client (cheap to clone: its HTTP clients are pools).
/// Its `Debug` shows the account SID, never the token.
#[derive(Clone, Debug)]
pub struct TwilioRest {
    /// Every API request: `rest::http_client`, no redirects followed.
    pub(super) http: reqwest::Client,
    /// Recording downloads only: the same TLS and time limits, following
    /// redirects to Twilio's media hosts or S3. Built on first use: only
    /// the voicemail worker downloads.
    pub(super) media: Arc<OnceLock<reqwest::Client>>,
    pub(super) base: Url,
    pub(super) account_sid: Option<String>,
    auth_token: Secret,
}

/// The webhooks a number is bought with.
pub struct NumberUrls {
    pub voice_url: String,
    pub status_callback: String,
    pub sms_url: String,
}

/// A number the account owns.
#[derive(Debug, Clone)]
pub struct TwilioNumber {
    pub sid: String,
    pub phone_number: String,
    pub iso_country: Option<String>,
    /// Where its calls and texts go (owned numbers only).
    pub voice_url: Option<String>,
    pub sms_url: Option<String>,
}

#[derive(Deserialize)]
struct AvailablePage {
    #[serde(default)]
    available_phone_numbers: Vec<Available>,
}

#[derive(Deserialize)]
struct Available {
    phone_number: Option<String>,
}

#[derive(Deserialize)]
struct WireNumber {
    sid: Option<String>,
    phone_number: Option<String>,
    #[serde(default)]
    iso_country: Option<String>,
    #[serde(default)]
    voice_url: Option<String>,
    #[serde(default)]
    sms_url: Option<String>,
}

impl WireNumber {
    /// An entry without its sid or number is of no use: dropped.
    fn into_number(self) -> Option<TwilioNumber> {
        match (self.sid, self.phone_number) {
            (Some(sid), Some(phone_number)) if !sid.is_empty() && !phone_number.is_empty() => {
                Some(TwilioNumber {
                    sid,
                    phone_number,
                    iso_country: self.iso_country,
                    voice_url: self.voice_url,
                    sms_url: self.sms_url,
                })
            }
            _ => None,
        }
    }
}

#[derive(Deserialize)]
struct OwnedPage {
    #[serde(default)]
    incoming_phone_numbers: Vec<WireNumber>,
    #[serde(default)]
    next_page_uri: Option<String>,
}

#[derive(Deserialize)]
struct Created {
    sid: Option<String>,
}

/// Twilio's error body: `{"code": 21452, "message": "…", "more_info": …,
/// "status": 400}`.
pub(super) fn error_of(answer: &Answer) -> RestError {
    #[derive(Deserialize, Default)]
    struct Body {
        code: Option<serde_json::Value>,
        message: Option<String>,
    }
    let body: Body = answer.failure_body();
    let code = body.code.and_then(|c| match c {
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::String(s) => Some(s),
        _ => None,
    });
    answer.error(code, body.message)
}

/// A value put in a URL path: Twilio's ids and country codes are
/// alphanumeric, and anything else could lead the request elsewhere.
pub(super) fn path_safe(what: &str, value: &str) -> Result<(), RestError> {
    if !value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(RestError::Refused {
            status: 400,
            code: "invalid_argument".into(),
            reason: format!("{what} must be letters and digits"),
        })
    }
}

impl TwilioRest {
    /// `http` is `rest::http_client()` (shared with the other provider's
    /// client where both are built). Fails only on an API base URL that is
    /// not a URL (the settings check it first).
    pub fn new(
        http: reqwest::Client,
        config: &TwilioConfig,
        auth_token: Secret,
    ) -> Result<Self, url::ParseError> {
        Ok(Self {
            http,
            media: Default::default(),
            base: Url::parse(config.api_base_url.trim_end_matches('/'))?,
            account_sid: config.account_sid.clone(),
            auth_token,
        })
    }

    /// The account SID and auth token; the token may have to be fetched,
    /// and a failure to read it names the secret, never its value.
    pub(super) async fn credentials(&self) -> Result<(&str, Arc<str>), RestError> {
        let sid = self
            .account_sid
            .as_deref()
            .ok_or(RestError::NotConfigured("TWILIO_ACCOUNT_SID"))?;
        path_safe("the account SID", sid)?;
        let token = credential(
            self.auth_token.get().await,
            "the Twilio auth token",
            "TWILIO_AUTH_TOKEN",
        )?;
        Ok((sid, token))
    }

    /// `{api}/2010-04-01/Accounts/{sid}/{rest}`.
    pub(super) fn account_url(&self, sid: &str, rest: &str) -> String {
        let api = self.base.as_str().trim_end_matches('/');
        format!("{api}/2010-04-01/Accounts/{sid}/{rest}")
    }

    /// One request under the account, with Basic auth.
    pub(super) async fn call(
        &self,
        method: reqwest::Method,
        rest: &str,
        query: &[(&str, String)],
        form: Option<&[(&str, &str)]>,
    ) -> Result<Answer, RestError> {
        let (sid, token) = self.credentials().await?;
        let mut req = self
            .http
            .request(method, self.account_url(sid, rest))
            .basic_auth(sid, Some(&*token));
        if !query.is_empty() {
            req = req.query(query);
        }
        if let Some(form) = form {
            req = req.form(form);
        }
        send(req).await
    }

    /// A POST of `form` that creates something; the answer when Twilio
    /// created it.
    async fn create(&self, rest: &str, form: &[(&str, &str)]) -> Result<Answer, RestError> {
        self.call(reqwest::Method::POST, rest, &[], Some(form))
            .await?
            .success(error_of)
    }

    /// Up to `count` numbers on sale in `country` with `features` (`voice`,
    /// `sms`, `mms`): local numbers first, mobile ones when there are no
    /// local ones (many countries sell only one kind; Twilio answers 404
    /// for a kind a country does not have). None is an empty list.
    pub async fn available(
        &self,
        country: &str,
        features: &[&str],
        count: u32,
    ) -> Result<Vec<String>, RestError> {
        let country = country.to_ascii_uppercase();
        path_safe("the country", &country)?;
        let mut query = vec![("PageSize", count.clamp(1, 1000).to_string())];
        for f in features {
            let flag = match f.to_ascii_lowercase().as_str() {
                "voice" => "VoiceEnabled",
                "sms" => "SmsEnabled",
                "mms" => "MmsEnabled",
                _ => continue,
            };
            query.push((flag, "true".into()));
        }
        let local = self.offered(&country, "Local", &query).await?;
        if !local.is_empty() {
            return Ok(local);
        }
        self.offered(&country, "Mobile", &query).await
    }

    /// The numbers of one `kind` on sale; none when the country does not
    /// sell that kind (404).
    async fn offered(
        &self,
        country: &str,
        kind: &str,
        query: &[(&str, String)],
    ) -> Result<Vec<String>, RestError> {
        let rest = format!("AvailablePhoneNumbers/{country}/{kind}.json");
        let answer = self.call(reqwest::Method::GET, &rest, query, None).await?;
        if answer.status == 404 {
            return Ok(Vec::new());
        }
        let page: AvailablePage = answer.success(error_of)?.json()?;
        Ok(page
            .available_phone_numbers
            .into_iter()
            .filter_map(|a| a.phone_number)
            .collect())
    }

    /// Buys `phone_number` with our webhooks set (Twilio links at purchase).
    pub async fn buy(
        &self,
        phone_number: &str,
        urls: &NumberUrls,
    ) -> Result<TwilioNumber, RestError> {
        let form = [
            ("PhoneNumber", phone_number),
            ("VoiceUrl", urls.voice_url.as_str()),
            ("VoiceMethod", "POST"),
            ("StatusCallback", urls.status_callback.as_str()),
            ("StatusCallbackMethod", "POST"),
            ("SmsUrl", urls.sms_url.as_str()),
            ("SmsMethod", "POST"),
        ];
        let mut number: WireNumber = self
            .create("IncomingPhoneNumbers.json", &form)
            .await?
            .json()?;
        // The number is ours now; its number is the one asked for if the
        // answer leaves it out.
        number.phone_number = number
            .phone_number
            .or_else(|| Some(phone_number.to_string()));
        number.into_number().ok_or_else(|| {
            RestError::unavailable("Twilio sold the number but answered without its sid")
        })
    }

    /// Releases the number `sid` (`PN…`): 204.
    pub async fn release(&self, sid: &str) -> Result<(), RestError> {
        path_safe("the number's sid", sid)?;
        self.call(
            reqwest::Method::DELETE,
            &format!("IncomingPhoneNumbers/{sid}.json"),
            &[],
            None,
        )
        .await?
        .success(error_of)
        .map(drop)
    }

    /// Every number the account owns, following `next_page_uri`.
    pub async fn owned(&self) -> Result<Vec<TwilioNumber>, RestError> {
        let (sid, token) = self.credentials().await?;
        let first = self.account_url(sid, "IncomingPhoneNumbers.json");
        let mut url = Url::parse(&first)
            .map_err(|_| RestError::unavailable("TWILIO_API_BASE_URL is not a URL"))?;
        url.query_pairs_mut()
            .append_pair("PageSize", &PAGE_SIZE.to_string());
        let mut out = Vec::new();
        for _ in 0..crate::rest::MAX_PAGES {
            let answer = send(self.http.get(url.clone()).basic_auth(sid, Some(&*token))).await?;
            let page: OwnedPage = answer.success(error_of)?.json()?;
            out.extend(
                page.incoming_phone_numbers
                    .into_iter()
                    .filter_map(WireNumber::into_number),
            );
            match page.next_page_uri.filter(|u| !u.is_empty()) {
                None => return Ok(out),
                Some(next) => url = next_page(&url, sid, &next)?,
            }
        }
        Err(RestError::endless_list())
    }

    /// Sends a text; its sid (`SM…`).
    pub async fn send_message(
        &self,
        from: &str,
        to: &str,
        body: &str,
    ) -> Result<String, RestError> {
        let form = [("To", to), ("From", from), ("Body", body)];
        let created: Created = self.create("Messages.json", &form).await?.json()?;
        created
            .sid
            .filter(|s| !s.is_empty())
            .ok_or_else(|| RestError::unavailable("Twilio answered a message without its sid"))
    }
}

/// The next page: `next_page_uri` is a path on the API host. It must stay on
/// that host and in this account's numbers, since the credentials go with it.
fn next_page(current: &Url, sid: &str, next: &str) -> Result<Url, RestError> {
    let url = current
        .join(next)
        .map_err(|_| RestError::unavailable("Twilio's next page is not a URL"))?;
    let same_origin = url.origin() == current.origin();
    let same_list = url.path() == format!("/2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json");
    if same_origin && same_list {
        Ok(url)
    } else {
        Err(RestError::unavailable(
            "Twilio's next page leads outside this account's numbers",
        ))
    }
}

#[cfg(test)]
#[path = "rest_tests.rs"]
pub(crate) mod tests;
