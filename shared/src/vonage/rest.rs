//! Vonage's REST APIs as the core uses them: the Numbers API (search, buy,
//! link to our application, cancel, list), the SMS API and Number Insight
//! Basic. All authenticate with `api_key` and `api_secret` parameters: in
//! the query string of a GET, in the form body of a POST. Vonage writes
//! numbers as E.164 digits without `+`.

use serde::Deserialize;

use crate::rest::{send, Answer, RestError};
use crate::secrets::Secret;

/// Numbers per page when listing the account's (Vonage's maximum).
const PAGE_SIZE: u32 = 100;

/// Pages listed at most: 50,000 numbers, far past any pool; a provider
/// that keeps answering full pages past that is looping.
const MAX_PAGES: u32 = 500;

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
    let body: Body = serde_json::from_slice(&answer.body).unwrap_or_default();
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
        let secret = self
            .api_secret
            .get()
            .await
            .map_err(|e| RestError::Unavailable(format!("the Vonage API secret: {e}")))?
            .ok_or(RestError::NotConfigured("VONAGE_API_SECRET"))?;
        Ok([("api_key", key), ("api_secret", secret.to_string())])
    }

    async fn get(&self, url: String, params: &[(&str, String)]) -> Result<Answer, RestError> {
        let auth = self.auth().await?;
        send(self.http.get(url).query(&auth).query(params)).await
    }

    async fn post(&self, url: String, params: &[(&str, String)]) -> Result<Answer, RestError> {
        let auth = self.auth().await?;
        let form: Vec<(&str, &str)> = auth
            .iter()
            .chain(params)
            .map(|(k, v)| (*k, v.as_str()))
            .collect();
        send(self.http.post(url).form(&form)).await
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
        let answer = self
            .get(format!("{}/number/search", self.rest_base), &params)
            .await?;
        if !answer.is_success() {
            return Err(error_of(&answer));
        }
        let page: NumbersPage = answer.json()?;
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
        if !answer.is_success() {
            return Err(error_of(&answer));
        }
        // An HTTP 200 is trusted unless its body names another outcome.
        let status: NumbersStatus = serde_json::from_slice(&answer.body).unwrap_or_default();
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
            let answer = self
                .get(format!("{}/account/numbers", self.rest_base), &params)
                .await?;
            if !answer.is_success() {
                return Err(error_of(&answer));
            }
            let page: NumbersPage = answer.json()?;
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
        Err(RestError::Unavailable(format!(
            "the account's numbers did not end after {MAX_PAGES} pages"
        )))
    }

    /// Sends a text; the message ids (one per part). Vonage answers HTTP
    /// 200 even when it refuses: each part's `status` says, and any part
    /// not `"0"` makes the send a failure.
    pub async fn send_sms(
        &self,
        from: &str,
        to: &str,
        text: &str,
    ) -> Result<Vec<String>, RestError> {
        let params = [
            ("from", from.to_string()),
            ("to", to.to_string()),
            ("text", text.to_string()),
        ];
        let answer = self
            .post(format!("{}/sms/json", self.rest_base), &params)
            .await?;
        if !answer.is_success() {
            return Err(error_of(&answer));
        }
        let sms: SmsAnswer = answer.json()?;
        if sms.messages.is_empty() {
            return Err(RestError::Unavailable(
                "the SMS API answered without a message".into(),
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
        let answer = self
            .get(
                format!("{}/ni/basic/json", self.api_base),
                &[("number", number.to_string())],
            )
            .await?;
        if !answer.is_success() {
            return Err(error_of(&answer));
        }
        let w: WireInsight = answer.json()?;
        let status = w.status.ok_or_else(|| {
            RestError::Unavailable("Number Insight answered without a status".into())
        })?;
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
        Some("5") => RestError::Unavailable(format!(
            "SMS API status 5: {}",
            crate::rest::redact(error_text.unwrap_or("internal error"))
        )),
        Some(code) => RestError::Refused {
            status: 200,
            code: code.to_string(),
            reason: crate::rest::redact(error_text.unwrap_or("message refused")),
        },
        None => RestError::Unavailable("the SMS API answered a part without a status".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, Request, ResponseTemplate};

    const KEY: &str = "key-1";
    const SECRET: &str = "secret-1";

    fn client(server: &MockServer) -> VonageRest {
        VonageRest::new(
            crate::rest::http_client(),
            &server.uri(),
            &format!("{}/", server.uri()),
            Some(KEY.into()),
            Secret::value(SECRET),
        )
    }

    fn query(r: &Request) -> HashMap<String, String> {
        r.url.query_pairs().into_owned().collect()
    }

    fn form(r: &Request) -> HashMap<String, String> {
        url::form_urlencoded::parse(&r.body).into_owned().collect()
    }

    fn authed(p: &HashMap<String, String>) -> bool {
        p.get("api_key").map(String::as_str) == Some(KEY)
            && p.get("api_secret").map(String::as_str) == Some(SECRET)
    }

    fn ok() -> ResponseTemplate {
        ResponseTemplate::new(200)
            .set_body_json(serde_json::json!({"error-code": "200", "error-code-label": "success"}))
    }

    /// The one request the server received (a test sends one).
    async fn only_request(server: &MockServer) -> Request {
        let mut all = server.received_requests().await.unwrap_or_default();
        assert_eq!(all.len(), 1, "{all:?}");
        all.remove(0)
    }

    #[tokio::test]
    async fn search_sends_the_parameters_and_reads_the_numbers() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/number/search"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "count": 1,
                "numbers": [{"country": "GB", "msisdn": "447700900001", "type": "mobile-lvn",
                    "cost": "1.25", "features": ["VOICE", "SMS"]}, {"country": "GB"}]
            })))
            .mount(&server)
            .await;
        let found = client(&server)
            .search("gb", &["voice", "sms"], 3, Some("7700"))
            .await
            .unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].msisdn, "447700900001");
        assert_eq!(found[0].country, "GB");
        assert_eq!(found[0].kind.as_deref(), Some("mobile-lvn"));
        assert_eq!(found[0].features, ["VOICE", "SMS"]);
        let q = query(&only_request(&server).await);
        assert!(authed(&q), "{q:?}");
        assert_eq!(q["country"], "GB");
        assert_eq!(q["features"], "VOICE,SMS");
        assert_eq!(q["size"], "3");
        assert_eq!(q["pattern"], "7700");
    }

    #[tokio::test]
    async fn search_finding_nothing_is_empty() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/number/search"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"count": 0})))
            .mount(&server)
            .await;
        let found = client(&server)
            .search("GB", &["sms"], 1, None)
            .await
            .unwrap();
        assert!(found.is_empty());
        let q = query(&only_request(&server).await);
        assert_eq!(q["features"], "SMS");
        assert!(!q.contains_key("pattern"));
    }

    #[tokio::test]
    async fn buy_link_and_cancel_post_forms() {
        let server = MockServer::start().await;
        for p in ["/number/buy", "/number/update", "/number/cancel"] {
            Mock::given(method("POST"))
                .and(path(p))
                .respond_with(ok())
                .expect(1)
                .mount(&server)
                .await;
        }
        let api = client(&server);
        api.buy("GB", "447700900001").await.unwrap();
        api.link("GB", "447700900001", "app-1").await.unwrap();
        api.cancel("GB", "447700900001").await.unwrap();
        let all = server.received_requests().await.unwrap_or_default();
        assert_eq!(all.len(), 3);
        for r in &all {
            let f = form(r);
            assert!(authed(&f), "{f:?}");
            assert!(r.url.query().is_none(), "the secret stays out of the URL");
            assert_eq!(
                r.headers.get("content-type").and_then(|v| v.to_str().ok()),
                Some("application/x-www-form-urlencoded")
            );
            assert_eq!(f["country"], "GB");
            assert_eq!(f["msisdn"], "447700900001");
            assert_eq!(
                f.get("app_id").map(String::as_str),
                (r.url.path() == "/number/update").then_some("app-1")
            );
        }
        server.verify().await;
    }

    #[tokio::test]
    async fn a_refused_purchase_is_refused_with_vonages_code() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/number/buy"))
            .respond_with(ResponseTemplate::new(420).set_body_json(
                serde_json::json!({"error-code": "420", "error-code-label": "method failed"}),
            ))
            .mount(&server)
            .await;
        let e = client(&server).buy("GB", "447700900001").await.unwrap_err();
        assert_eq!(
            e,
            RestError::Refused {
                status: 420,
                code: "420".into(),
                reason: "method failed".into()
            }
        );
    }

    #[tokio::test]
    async fn bad_credentials_and_rate_limits() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/number/cancel"))
            .respond_with(ResponseTemplate::new(401).set_body_json(
                serde_json::json!({"error-code": "401", "error-code-label": "authentication failed"}),
            ))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/account/numbers"))
            .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "5"))
            .mount(&server)
            .await;
        let api = client(&server);
        assert!(matches!(
            api.cancel("GB", "447700900001").await,
            Err(RestError::AuthRefused(r)) if r.contains("authentication failed")
        ));
        assert_eq!(
            api.owned().await.unwrap_err(),
            RestError::RateLimited {
                retry_after_seconds: Some(5)
            }
        );
    }

    #[tokio::test]
    async fn owned_reads_every_page_until_the_count() {
        let server = MockServer::start().await;
        // Pages of 2 whatever the size asked: `count` says when it ends.
        Mock::given(method("GET"))
            .and(path("/account/numbers"))
            .respond_with(|r: &Request| {
                let index: usize = query(r)
                    .get("index")
                    .and_then(|i| i.parse().ok())
                    .unwrap_or(0);
                let all = ["447700900001", "447700900002", "447700900003"];
                let page: Vec<_> = all
                    .iter()
                    .skip(index.saturating_sub(1) * 2)
                    .take(2)
                    .map(|m| {
                        serde_json::json!({"country": "GB", "msisdn": m, "type": "mobile-lvn",
                        "features": ["VOICE", "SMS"], "app_id": "app-1"})
                    })
                    .collect();
                ResponseTemplate::new(200)
                    .set_body_json(serde_json::json!({"count": 3, "numbers": page}))
            })
            .expect(2)
            .mount(&server)
            .await;
        let owned = client(&server).owned().await.unwrap();
        let msisdns: Vec<_> = owned.iter().map(|n| n.msisdn.as_str()).collect();
        assert_eq!(msisdns, ["447700900001", "447700900002", "447700900003"]);
        assert_eq!(owned[0].app_id.as_deref(), Some("app-1"));
        let requests = server.received_requests().await.unwrap_or_default();
        let indexes: Vec<_> = requests.iter().map(|r| query(r)["index"].clone()).collect();
        assert_eq!(indexes, ["1", "2"]);
        assert!(requests
            .iter()
            .all(|r| authed(&query(r)) && query(r)["size"] == "100"));
        server.verify().await;
    }

    #[tokio::test]
    async fn send_sms_returns_the_message_ids() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/sms/json"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "message-count": "1",
                "messages": [{"to": "447700900002", "message-id": "0A0000000123ABCD1", "status": "0",
                    "remaining-balance": "3.14", "message-price": "0.03", "network": "23410"}]
            })))
            .mount(&server)
            .await;
        let ids = client(&server)
            .send_sms("447700900001", "447700900002", "Hello & bye")
            .await
            .unwrap();
        assert_eq!(ids, ["0A0000000123ABCD1"]);
        let f = form(&only_request(&server).await);
        assert!(authed(&f), "{f:?}");
        assert_eq!(f["from"], "447700900001");
        assert_eq!(f["to"], "447700900002");
        assert_eq!(f["text"], "Hello & bye");
    }

    async fn sms_answering(status: &str, text: &str) -> Result<Vec<String>, RestError> {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/sms/json"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "message-count": "1",
                "messages": [{"status": status, "error-text": text}]
            })))
            .mount(&server)
            .await;
        client(&server)
            .send_sms("447700900001", "447700900002", "hi")
            .await
    }

    #[tokio::test]
    async fn an_http_200_with_a_failed_status_is_an_error() {
        assert_eq!(
            sms_answering("2", "Missing to param").await.unwrap_err(),
            RestError::Refused {
                status: 200,
                code: "2".into(),
                reason: "Missing to param".into()
            }
        );
        assert_eq!(
            sms_answering("1", "Throughput Rate Exceeded")
                .await
                .unwrap_err(),
            RestError::RateLimited {
                retry_after_seconds: None
            }
        );
        assert!(matches!(
            sms_answering("9", "Partner quota exceeded").await,
            Err(RestError::Refused { code, .. }) if code == "9"
        ));
        assert!(matches!(
            sms_answering("5", "Internal Error").await,
            Err(RestError::Unavailable(_))
        ));
    }

    #[tokio::test]
    async fn number_insight_basic_is_read_whatever_its_status() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/ni/basic/json"))
            .respond_with(|r: &Request| {
                let n = query(r).get("number").cloned().unwrap_or_default();
                let body = if n == "447700900000" {
                    serde_json::json!({"status": 0, "status_message": "Success", "request_id": "r1",
                        "international_format_number": n, "national_format_number": "07700 900000",
                        "country_code": "GB", "country_code_iso3": "GBR", "country_name": "United Kingdom",
                        "country_prefix": "44"})
                } else {
                    serde_json::json!({"status": 3, "status_message": "Invalid request"})
                };
                ResponseTemplate::new(200).set_body_json(body)
            })
            .mount(&server)
            .await;
        let api = client(&server);
        let ok = api.number_insight_basic("447700900000").await.unwrap();
        assert_eq!(ok.status, 0);
        assert_eq!(
            ok.international_format_number.as_deref(),
            Some("447700900000")
        );
        assert_eq!(ok.country_code.as_deref(), Some("GB"));
        assert_eq!(ok.status_message.as_deref(), Some("Success"));
        let bad = api.number_insight_basic("12").await.unwrap();
        assert_eq!(bad.status, 3);
        let requests = server.received_requests().await.unwrap_or_default();
        assert!(requests.iter().all(|r| authed(&query(r))));
    }

    #[tokio::test]
    async fn nothing_is_sent_without_credentials() {
        let server = MockServer::start().await;
        let no_secret = VonageRest::new(
            crate::rest::http_client(),
            &server.uri(),
            &server.uri(),
            Some(KEY.into()),
            Secret::missing(),
        );
        assert_eq!(
            no_secret.buy("GB", "447700900001").await.unwrap_err(),
            RestError::NotConfigured("VONAGE_API_SECRET")
        );
        let no_key = VonageRest::new(
            crate::rest::http_client(),
            &server.uri(),
            &server.uri(),
            None,
            Secret::value(SECRET),
        );
        assert_eq!(
            no_key.owned().await.unwrap_err(),
            RestError::NotConfigured("VONAGE_API_KEY")
        );
        assert!(server
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty());
    }
}
