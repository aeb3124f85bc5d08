//! Twilio's REST API as the core uses them: available numbers, buying a
//! number with our webhook URLs, releasing it, listing the account's, and
//! sending a text. HTTP Basic auth (account SID, auth token), everything
//! under `{api}/2010-04-01/Accounts/{Sid}/`. Twilio writes numbers as
//! `+E.164`.

use serde::Deserialize;
use url::Url;

use crate::rest::{send, Answer, RestError};
use crate::secrets::Secret;

/// Numbers per page when listing the account's.
const PAGE_SIZE: u32 = 100;

/// Pages listed at most (50,000 numbers): past that the paging is looping.
const MAX_PAGES: u32 = 500;

pub struct TwilioRest {
    http: reqwest::Client,
    api_base: String,
    account_sid: Option<String>,
    auth_token: Secret,
}

impl std::fmt::Debug for TwilioRest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwilioRest")
            .field("api_base", &self.api_base)
            .field("account_sid", &self.account_sid)
            .finish_non_exhaustive()
    }
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
}

impl WireNumber {
    fn into_number(self) -> Option<TwilioNumber> {
        Some(TwilioNumber {
            sid: self.sid.filter(|s| !s.is_empty())?,
            phone_number: self.phone_number.filter(|n| !n.is_empty())?,
            iso_country: self.iso_country,
        })
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
fn error_of(answer: &Answer) -> RestError {
    #[derive(Deserialize, Default)]
    struct Body {
        code: Option<serde_json::Value>,
        message: Option<String>,
    }
    let body: Body = serde_json::from_slice(&answer.body).unwrap_or_default();
    let code = body.code.and_then(|c| match c {
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::String(s) => Some(s),
        _ => None,
    });
    answer.error(code, body.message)
}

/// A value put in a URL path: Twilio's ids and country codes are
/// alphanumeric, and anything else could lead the request elsewhere.
fn path_safe(what: &str, value: &str) -> Result<(), RestError> {
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
    pub fn new(
        http: reqwest::Client,
        api_base_url: &str,
        account_sid: Option<String>,
        auth_token: Secret,
    ) -> Self {
        Self {
            http,
            api_base: api_base_url.trim_end_matches('/').to_string(),
            account_sid,
            auth_token,
        }
    }

    /// The account SID and auth token; the token may have to be fetched,
    /// and a failure to read it names the secret, never its value.
    async fn credentials(&self) -> Result<(&str, String), RestError> {
        let sid = self
            .account_sid
            .as_deref()
            .ok_or(RestError::NotConfigured("TWILIO_ACCOUNT_SID"))?;
        path_safe("the account SID", sid)?;
        let token = self
            .auth_token
            .get()
            .await
            .map_err(|e| RestError::Unavailable(format!("the Twilio auth token: {e}")))?
            .ok_or(RestError::NotConfigured("TWILIO_AUTH_TOKEN"))?;
        Ok((sid, token.to_string()))
    }

    fn account_url(&self, sid: &str, rest: &str) -> String {
        format!("{}/2010-04-01/Accounts/{sid}/{rest}", self.api_base)
    }

    async fn call(
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
            .basic_auth(sid, Some(token));
        if !query.is_empty() {
            req = req.query(query);
        }
        if let Some(form) = form {
            req = req.form(form);
        }
        send(req).await
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
        for kind in ["Local", "Mobile"] {
            let answer = self
                .call(
                    reqwest::Method::GET,
                    &format!("AvailablePhoneNumbers/{country}/{kind}.json"),
                    &query,
                    None,
                )
                .await?;
            if answer.status == 404 {
                continue;
            }
            if !answer.is_success() {
                return Err(error_of(&answer));
            }
            let page: AvailablePage = answer.json()?;
            let numbers: Vec<String> = page
                .available_phone_numbers
                .into_iter()
                .filter_map(|a| a.phone_number)
                .collect();
            if !numbers.is_empty() {
                return Ok(numbers);
            }
        }
        Ok(Vec::new())
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
        let answer = self
            .call(
                reqwest::Method::POST,
                "IncomingPhoneNumbers.json",
                &[],
                Some(&form),
            )
            .await?;
        if !answer.is_success() {
            return Err(error_of(&answer));
        }
        let mut number: WireNumber = answer.json()?;
        // The number is ours now; its number is the one asked for if the
        // answer leaves it out.
        number.phone_number = number
            .phone_number
            .or_else(|| Some(phone_number.to_string()));
        number.into_number().ok_or_else(|| {
            RestError::Unavailable("Twilio sold the number but answered without its sid".into())
        })
    }

    /// Releases the number `sid` (`PN…`): 204.
    pub async fn release(&self, sid: &str) -> Result<(), RestError> {
        path_safe("the number's sid", sid)?;
        let answer = self
            .call(
                reqwest::Method::DELETE,
                &format!("IncomingPhoneNumbers/{sid}.json"),
                &[],
                None,
            )
            .await?;
        if answer.is_success() {
            Ok(())
        } else {
            Err(error_of(&answer))
        }
    }

    /// Every number the account owns, following `next_page_uri`.
    pub async fn owned(&self) -> Result<Vec<TwilioNumber>, RestError> {
        let (sid, token) = self.credentials().await?;
        let first = self.account_url(sid, "IncomingPhoneNumbers.json");
        let mut url = Url::parse(&first)
            .map_err(|_| RestError::Unavailable("TWILIO_API_BASE_URL is not a URL".into()))?;
        url.query_pairs_mut()
            .append_pair("PageSize", &PAGE_SIZE.to_string());
        let mut out = Vec::new();
        for _ in 0..MAX_PAGES {
            let answer = send(self.http.get(url.clone()).basic_auth(sid, Some(&token))).await?;
            if !answer.is_success() {
                return Err(error_of(&answer));
            }
            let page: OwnedPage = answer.json()?;
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
        Err(RestError::Unavailable(format!(
            "the account's numbers did not end after {MAX_PAGES} pages"
        )))
    }

    /// Sends a text; its sid (`SM…`).
    pub async fn send_message(
        &self,
        from: &str,
        to: &str,
        body: &str,
    ) -> Result<String, RestError> {
        let form = [("To", to), ("From", from), ("Body", body)];
        let answer = self
            .call(reqwest::Method::POST, "Messages.json", &[], Some(&form))
            .await?;
        if !answer.is_success() {
            return Err(error_of(&answer));
        }
        let created: Created = answer.json()?;
        created.sid.filter(|s| !s.is_empty()).ok_or_else(|| {
            RestError::Unavailable("Twilio answered a message without its sid".into())
        })
    }
}

/// The next page: `next_page_uri` is a path on the API host. It must stay on
/// that host and in this account's numbers, since the credentials go with it.
fn next_page(current: &Url, sid: &str, next: &str) -> Result<Url, RestError> {
    let url = current
        .join(next)
        .map_err(|_| RestError::Unavailable("Twilio's next page is not a URL".into()))?;
    let same_origin = url.origin() == current.origin();
    let same_list = url.path() == format!("/2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json");
    if same_origin && same_list {
        Ok(url)
    } else {
        Err(RestError::Unavailable(
            "Twilio's next page leads outside this account's numbers".into(),
        ))
    }
}

#[cfg(test)]
#[path = "rest_tests.rs"]
mod tests;
