//! Vonage's REST APIs as the core uses them: the Numbers API (search, buy,
//! link to our application, cancel, list), the SMS API and Number Insight
//! Basic. All authenticate with `api_key` and `api_secret` parameters: in
//! the query string of a GET, in the form body of a POST. Vonage writes
//! numbers as E.164 digits without `+`.

use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::rest::{credential, send, Answer, RestError, MAX_PAGES};
use crate::secrets::Secret;

/// Numbers per page when listing the account's (Vonage's maximum).
const PAGE_SIZE: u32 = 100;

pub struct VonageRest {
    http: reqwest::Client,
    rest_base: String,
    api_base: String,
    api_key: Option<String>,
    api_secret: Secret,
}

impl std::fmt::Debug for VonageRest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VonageRest")
            .field("rest_base", &self.rest_base)
            .field("api_base", &self.api_base)
            .finish_non_exhaustive()
    }
}

/// A number Vonage offers or the account owns.
#[derive(Debug, Clone)]
pub struct VonageNumber {
    pub msisdn: String,
    pub country: String,
    pub features: Vec<String>,
    /// `landline`, `mobile-lvn`, `landline-toll-free`.
    pub kind: Option<String>,
    /// The application the number is linked to (owned numbers only).
    pub app_id: Option<String>,
}

/// What Number Insight Basic says about a number. `status` 0 is success;
/// any other is Vonage's answer too (3: not a valid number), not an error.
#[derive(Debug, Clone)]
pub struct Insight {
    pub status: i64,
    pub status_message: Option<String>,
    pub international_format_number: Option<String>,
    pub country_code: Option<String>,
}

#[derive(Deserialize)]
struct NumbersPage {
    #[serde(default)]
    count: Option<u64>,
    #[serde(default)]
    numbers: Vec<WireNumber>,
}

#[derive(Deserialize)]
struct WireNumber {
    msisdn: Option<String>,
    #[serde(default)]
    country: Option<String>,
    #[serde(default)]
    features: Vec<String>,
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    app_id: Option<String>,
}

impl WireNumber {
    /// An entry without a number is of no use to anyone: dropped.
    fn into_number(self) -> Option<VonageNumber> {
        Some(VonageNumber {
            msisdn: self.msisdn.filter(|m| !m.is_empty())?,
            country: self.country.unwrap_or_default(),
            features: self.features,
            kind: self.kind,
            app_id: self.app_id,
        })
    }
}

/// The Numbers API's answer to buy, cancel and update (and its failures).
#[derive(Deserialize, Default)]
struct NumbersStatus {
    #[serde(rename = "error-code")]
    code: Option<String>,
    #[serde(rename = "error-code-label")]
    label: Option<String>,
}

#[derive(Deserialize)]
struct SmsAnswer {
    #[serde(default)]
    messages: Vec<SmsPart>,
}

#[derive(Deserialize)]
struct SmsPart {
    status: Option<String>,
    #[serde(rename = "message-id")]
    message_id: Option<String>,
    #[serde(rename = "error-text")]
    error_text: Option<String>,
}

#[derive(Deserialize)]
struct WireInsight {
    status: Option<i64>,
    status_message: Option<String>,
    international_format_number: Option<String>,
    country_code: Option<String>,
}

/// What a failure's body says, in either of the forms Vonage uses: the
/// Numbers API's `error-code`/`error-code-label`, or the newer problem
/// details (`type`, `title`, `detail`).
fn error_of(answer: &Answer) -> RestError {
    #[derive(Deserialize, Default)]
    struct Body {
        #[serde(rename = "error-code")]
        code: Option<String>,
        #[serde(rename = "error-code-label")]
        label: Option<String>,
        title: Option<String>,
        detail: Option<String>,
    }
    let body: Body = answer.failure_body();
    answer.error(body.code, body.label.or(body.detail).or(body.title))
}

impl VonageRest {
    /// `rest_base_url` serves the Numbers and SMS APIs
    /// (`https://rest.nexmo.com`), `api_base_url` Number Insight
    /// (`https://api.nexmo.com`).
    pub fn new(
        http: reqwest::Client,
        rest_base_url: &str,
        api_base_url: &str,
        api_key: Option<String>,
        api_secret: Secret,
    ) -> Self {
        Self {
            http,
            rest_base: rest_base_url.trim_end_matches('/').to_string(),
            api_base: api_base_url.trim_end_matches('/').to_string(),
            api_key,
            api_secret,
        }
    }

    /// The `api_key` and `api_secret` parameters. The secret may have to be
    /// fetched; a failure to read it says which secret, never its value.
    async fn auth(&self) -> Result<[(&'static str, String); 2], RestError> {
        let key = self
            .api_key
            .clone()
            .ok_or(RestError::NotConfigured("VONAGE_API_KEY"))?;
        let secret = credential(
            self.api_secret.get().await,
            "the Vonage API secret",
            "VONAGE_API_SECRET",
        )?;
        Ok([("api_key", key), ("api_secret", secret.to_string())])
    }

    /// A POST with the credentials in the form; its answer when a success.
    async fn post(&self, url: String, params: &[(&str, String)]) -> Result<Answer, RestError> {
        let auth = self.auth().await?;
        let form: Vec<(&str, &str)> = auth
            .iter()
            .chain(params)
            .map(|(k, v)| (*k, v.as_str()))
            .collect();
        send(self.http.post(url).form(&form))
            .await?
            .success(error_of)
    }

    /// A GET with the credentials in the query; its JSON when a success.
    async fn get<T: DeserializeOwned>(
        &self,
        url: String,
        params: &[(&str, String)],
    ) -> Result<T, RestError> {
        let auth = self.auth().await?;
        send(self.http.get(url).query(&auth).query(params))
            .await?
            .success(error_of)?
            .json()
    }

    /// Numbers on sale in `country` with all of `features` (`voice`, `sms`),
    /// at most `size`, optionally containing `pattern`. None is an empty list.
    pub async fn search(
        &self,
        country: &str,
        features: &[&str],
        size: u32,
        pattern: Option<&str>,
    ) -> Result<Vec<VonageNumber>, RestError> {
        let mut params = vec![
            ("country", country.to_ascii_uppercase()),
            // Vonage pages searches at 100 at most.
            ("size", size.clamp(1, PAGE_SIZE).to_string()),
        ];
        if !features.is_empty() {
            let features: Vec<String> = features.iter().map(|f| f.to_ascii_uppercase()).collect();
            params.push(("features", features.join(",")));
        }
        if let Some(p) = pattern.filter(|p| !p.is_empty()) {
            params.push(("pattern", p.to_string()));
        }
        let page: NumbersPage = self
            .get(format!("{}/number/search", self.rest_base), &params)
            .await?;
        if page.count == Some(0) {
            return Ok(Vec::new());
        }
        Ok(page
            .numbers
            .into_iter()
            .filter_map(WireNumber::into_number)
            .collect())
    }

    /// Rents `msisdn` (digits) in `country`.
    pub async fn buy(&self, country: &str, msisdn: &str) -> Result<(), RestError> {
        self.numbers_call("buy", country, msisdn, None).await
    }

    /// Points the number's voice and SMS at our Vonage application.
    pub async fn link(&self, country: &str, msisdn: &str, app_id: &str) -> Result<(), RestError> {
        self.numbers_call("update", country, msisdn, Some(app_id))
            .await
    }

    /// Ends the rental of `msisdn`.
    pub async fn cancel(&self, country: &str, msisdn: &str) -> Result<(), RestError> {
        self.numbers_call("cancel", country, msisdn, None).await
    }

    /// `POST /number/{action}`: success is HTTP 200 with `error-code` 200;
    /// a refusal comes as HTTP 420 (or another 4xx) with the code and label.
    async fn numbers_call(
        &self,
        action: &str,
        country: &str,
        msisdn: &str,
        app_id: Option<&str>,
    ) -> Result<(), RestError> {
        let mut params = vec![
            ("country", country.to_ascii_uppercase()),
            ("msisdn", msisdn.to_string()),
        ];
        if let Some(app) = app_id {
            params.push(("app_id", app.to_string()));
        }
        let answer = self
            .post(format!("{}/number/{action}", self.rest_base), &params)
            .await?;
        // An HTTP 200 is trusted unless its body names another outcome.
        let status: NumbersStatus = answer.failure_body();
        match status.code.as_deref() {
            None | Some("200") => Ok(()),
            Some(code) => Err(RestError::Refused {
                status: answer.status,
                code: code.to_string(),
                reason: crate::rest::redact(status.label.as_deref().unwrap_or("refused")),
            }),
        }
    }

    /// Every number the account owns, all pages (`index` 1, 2, …).
    pub async fn owned(&self) -> Result<Vec<VonageNumber>, RestError> {
        let mut out = Vec::new();
        for index in 1..=MAX_PAGES {
            let params = [
                ("size", PAGE_SIZE.to_string()),
                ("index", index.to_string()),
            ];
            let page: NumbersPage = self
                .get(format!("{}/account/numbers", self.rest_base), &params)
                .await?;
            let got = page.numbers.len();
            out.extend(page.numbers.into_iter().filter_map(WireNumber::into_number));
            // `count` is the total: pages may be smaller than asked for, so
            // it decides when it is given; otherwise a short page is the last.
            let done = match page.count {
                Some(total) => got == 0 || out.len() as u64 >= total,
                None => got < PAGE_SIZE as usize,
            };
            if done {
                return Ok(out);
            }
        }
        Err(RestError::endless_list())
    }

    /// Sends a text; the message ids (one per part). Vonage answers HTTP
    /// 200 even when it refuses: each part's `status` says, and any part
    /// not `"0"` makes the send a failure. A text with a character outside
    /// GSM 03.38 goes as `type=unicode`: sent as the default `text`, the
    /// SMS API would turn it into `?`s.
    pub async fn send_sms(
        &self,
        from: &str,
        to: &str,
        text: &str,
    ) -> Result<Vec<String>, RestError> {
        let mut params = vec![
            ("from", from.to_string()),
            ("to", to.to_string()),
            ("text", text.to_string()),
        ];
        if !super::gsm::is_gsm(text) {
            params.push(("type", "unicode".to_string()));
        }
        let sms: SmsAnswer = self
            .post(format!("{}/sms/json", self.rest_base), &params)
            .await?
            .json()?;
        if sms.messages.is_empty() {
            return Err(RestError::unavailable(
                "the SMS API answered without a message",
            ));
        }
        let mut ids = Vec::with_capacity(sms.messages.len());
        for part in sms.messages {
            match part.status.as_deref() {
                Some("0") => ids.extend(part.message_id),
                status => return Err(sms_error(status, part.error_text.as_deref())),
            }
        }
        Ok(ids)
    }

    /// Number Insight Basic for `number` (international, digits only).
    pub async fn number_insight_basic(&self, number: &str) -> Result<Insight, RestError> {
        let w: WireInsight = self
            .get(
                format!("{}/ni/basic/json", self.api_base),
                &[("number", number.to_string())],
            )
            .await?;
        let status = w
            .status
            .ok_or_else(|| RestError::unavailable("Number Insight answered without a status"))?;
        Ok(Insight {
            status,
            status_message: w.status_message,
            international_format_number: w.international_format_number,
            country_code: w.country_code,
        })
    }
}

/// A refused part of a text. 1 (throttled) and 5 (Vonage's internal error)
/// are worth another try later; the rest will not change on retry.
fn sms_error(status: Option<&str>, error_text: Option<&str>) -> RestError {
    match status {
        Some("1") => RestError::RateLimited {
            retry_after_seconds: None,
        },
        Some("5") => RestError::unavailable(format!(
            "SMS API status 5: {}",
            crate::rest::redact(error_text.unwrap_or("internal error"))
        )),
        Some(code) => RestError::Refused {
            status: 200,
            code: code.to_string(),
            reason: crate::rest::redact(error_text.unwrap_or("message refused")),
        },
        None => RestError::unavailable("the SMS API answered a part without a status"),
    }
}

#[cfg(test)]
#[path = "rest_tests.rs"]
mod tests;
