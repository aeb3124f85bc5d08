//! `/lines/{number}`: masked lines.
//!
//! - `PUT /lines/{number}` → 201 (new line) / 200 (updated); 400 with a
//!   reason; 404 if the number is not in the pool; 409 while it routes
//!   active sessions.
//! - `GET /lines/{number}` → 200 / 404; `DELETE /lines/{number}` → 204 / 404.
//! - `GET /lines/{number}/voicemails` → newest first, with presigned links.
//! - `GET /voicemails/{recording_sid}/recording?token=` → the link a
//!   voicemail email carries ([`crate::api::voicemail_link`]).

use http::Method;
use lambda_http::{Request, RequestExt};
use serde_json::{json, Value};

use crate::api::http::{empty, json, json_body, path_param, sub_resource, ApiError, HttpResponse};
use crate::api::RecordingsState;
use crate::clock::rfc3339;
use crate::domain::line::{
    CallerIdMode, Line, Owner, Period, Plan, SmsSettings, VoicemailSettings, DEFAULT_GREETING,
};
use crate::domain::PoolNumber;
use crate::phone::PhoneNumber;
use crate::store::PutLine;

/// Links in the voicemail list work this long.
const LIST_LINK_SECONDS: u64 = 3600;

pub async fn handle(state: &RecordingsState, req: Request) -> HttpResponse {
    // The emailed voicemail links: public, checked by their token.
    let link = req.path_parameters().first("recording_sid").is_some()
        || req.uri().path().starts_with("/voicemails/");
    if link {
        return crate::api::voicemail_link::handle(state, &req).await;
    }
    let number = path_param(&req, "number", "lines");
    let sub = sub_resource(&req, "lines");
    let result = match (req.method().clone(), number, sub.as_deref()) {
        (_, None, _) => Err(ApiError::not_found("name a line: /lines/{number}")),
        (Method::PUT, Some(n), None) => put(state, &req, &n).await,
        (Method::GET, Some(n), None) => show(state, &n).await,
        (Method::DELETE, Some(n), None) => delete(state, &n).await,
        (Method::GET, Some(n), Some("voicemails")) => voicemails(state, &n).await,
        (_, Some(_), Some("voicemails")) => Err(ApiError::method_not_allowed("GET")),
        (_, Some(_), Some(_)) => Err(ApiError::not_found("no such resource")),
        (_, Some(_), None) => Err(ApiError::method_not_allowed("GET, PUT, DELETE")),
    };
    result.unwrap_or_else(ApiError::into_response)
}

fn parse_number(raw: &str) -> Result<PhoneNumber, ApiError> {
    PhoneNumber::parse(raw)
        .map_err(|e| ApiError::bad_request("invalid_number", format!("number: {e}")))
}

fn bad(field: &str, why: impl std::fmt::Display) -> ApiError {
    ApiError::invalid("invalid_line", field, format!("{field}: {why}"))
}

/// `PUT /lines/{number}`'s body as sent: any JSON object, checked field by
/// field into a [`Line`].
#[derive(Debug, serde::Deserialize)]
#[serde(transparent)]
pub struct LineBody(pub Value);

impl TryFrom<LineBody> for Line {
    type Error = ApiError;

    fn try_from(body: LineBody) -> Result<Self, ApiError> {
        parse_line(&body.0)
    }
}

fn uint(v: Option<&Value>, field: &str, default: u32, min: u32, max: u32) -> Result<u32, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(x) if (min as u64..=max as u64).contains(&x) => Ok(x as u32),
            _ => Err(bad(field, format!("a whole number from {min} to {max}"))),
        },
        Some(_) => Err(bad(field, "must be a number")),
    }
}

fn boolean(v: Option<&Value>, field: &str, default: bool) -> Result<bool, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(bad(field, "must be true or false")),
    }
}

fn text<'a>(v: Option<&'a Value>, field: &str) -> Result<Option<&'a str>, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(bad(field, "must be a string")),
    }
}

/// Validates a line body, field by field, with reasons a client can act on.
pub fn parse_line(body: &Value) -> Result<Line, ApiError> {
    let obj = body
        .as_object()
        .ok_or_else(|| ApiError::bad_request("invalid_json", "body must be a JSON object"))?;
    let owner = obj
        .get("owner")
        .and_then(Value::as_object)
        .ok_or_else(|| bad("owner", "an object with phone and email is required"))?;
    let phone = text(owner.get("phone"), "owner.phone")?
        .ok_or_else(|| bad("owner.phone", "is required"))?;
    let country = crate::api::body::country(owner.get("country"), "owner.country")?;
    let phone =
        PhoneNumber::parse_written(phone, country.as_deref()).map_err(|e| bad("owner.phone", e))?;
    let email = text(owner.get("email"), "owner.email")?
        .ok_or_else(|| bad("owner.email", "is required"))?
        .trim();
    if !crate::config::is_plausible_email(email) {
        return Err(bad("owner.email", "is not an email address"));
    }
    let caller_id = match text(obj.get("caller_id"), "caller_id")? {
        None | Some("caller") => CallerIdMode::Caller,
        Some("line") => CallerIdMode::Line,
        Some(_) => return Err(bad("caller_id", "must be \"caller\" or \"line\"")),
    };
    let empty = serde_json::Map::new();
    let vm = match obj.get("voicemail") {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(o)) => o,
        Some(_) => return Err(bad("voicemail", "must be an object")),
    };
    let transcribe = boolean(vm.get("transcribe"), "voicemail.transcribe", false)?;
    // Twilio transcribes recordings of at most 120 seconds.
    let max_len_cap = if transcribe { 120 } else { 3600 };
    let greeting = text(vm.get("greeting"), "voicemail.greeting")?
        .map(str::trim)
        .unwrap_or("");
    if greeting.chars().count() > 1000 {
        return Err(bad("voicemail.greeting", "at most 1000 characters"));
    }
    let voicemail = VoicemailSettings {
        enabled: boolean(vm.get("enabled"), "voicemail.enabled", true)?,
        max_length_seconds: uint(
            vm.get("max_length_seconds"),
            "voicemail.max_length_seconds",
            120,
            1,
            max_len_cap,
        )?,
        transcribe,
        greeting: if greeting.is_empty() {
            DEFAULT_GREETING.to_string()
        } else {
            greeting.to_string()
        },
    };
    let language = text(obj.get("language"), "language")?
        .unwrap_or("en-US")
        .to_string();
    let lang_ok = {
        let mut parts = language.split('-');
        let first = parts.next().unwrap_or("");
        (2..=3).contains(&first.len())
            && first.chars().all(|c| c.is_ascii_alphabetic())
            && parts
                .all(|p| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
    };
    if !lang_ok {
        return Err(bad("language", "a language tag such as en-US"));
    }
    let plan = match obj.get("plan") {
        None | Some(Value::Null) => Plan {
            active: true,
            calls_per_period: None,
            period: Period::Month,
        },
        Some(Value::Object(p)) => Plan {
            active: boolean(p.get("active"), "plan.active", true)?,
            calls_per_period: match p.get("calls_per_period") {
                None | Some(Value::Null) => None,
                v => Some(uint(v, "plan.calls_per_period", 0, 0, 10_000_000)?),
            },
            period: match text(p.get("period"), "plan.period")? {
                None | Some("month") => Period::Month,
                Some("week") => Period::Week,
                Some("day") => Period::Day,
                Some(_) => {
                    return Err(bad("plan.period", "must be \"day\", \"week\" or \"month\""))
                }
            },
        },
        Some(_) => return Err(bad("plan", "must be an object")),
    };
    let sms = match obj.get("sms") {
        None | Some(Value::Null) => SmsSettings::default(),
        Some(Value::Object(o)) => SmsSettings {
            email: boolean(o.get("email"), "sms.email", false)?,
        },
        Some(_) => return Err(bad("sms", "must be an object")),
    };
    Ok(Line {
        sms,
        owner: Owner {
            phone,
            email: email.to_string(),
        },
        dial_timeout_seconds: uint(
            obj.get("dial_timeout_seconds"),
            "dial_timeout_seconds",
            20,
            5,
            600,
        )?,
        caller_id,
        voicemail,
        language,
        plan,
    })
}

async fn put(state: &RecordingsState, req: &Request, raw: &str) -> Result<HttpResponse, ApiError> {
    let number = parse_number(raw)?;
    let line: Line = json_body::<LineBody>(req)?.try_into()?;
    let now = state.core.clock.now();
    let status = match state.core.store.put_line(&number, &line, now).await? {
        PutLine::Created => 201,
        PutLine::Updated => 200,
        PutLine::NotFound => {
            return Err(ApiError::not_found(format!(
                "{number} is not in the pool; add it with POST /numbers first"
            )))
        }
        PutLine::InUse => {
            return Err(ApiError::new(
                409,
                "number_in_use",
                format!("{number} routes active sessions; close them first"),
            ))
        }
    };
    tracing::info!(line = %number.masked(), created = status == 201, "line saved");
    let Some((rec, line)) = state.core.store.get_line(&number).await? else {
        return Err(ApiError::not_found(format!("{number} is no longer a line")));
    };
    Ok(json(status, &view(state, &rec, &line, now).await?))
}

async fn show(state: &RecordingsState, raw: &str) -> Result<HttpResponse, ApiError> {
    let number = parse_number(raw)?;
    let (rec, line) = state
        .core
        .store
        .get_line(&number)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("{number} is not a line")))?;
    Ok(json(
        200,
        &view(state, &rec, &line, state.core.clock.now()).await?,
    ))
}

async fn delete(state: &RecordingsState, raw: &str) -> Result<HttpResponse, ApiError> {
    let number = parse_number(raw)?;
    if state.core.store.delete_line(&number).await? {
        tracing::info!(line = %number.masked(), "line removed");
        Ok(empty(204))
    } else {
        Err(ApiError::not_found(format!("{number} is not a line")))
    }
}

async fn voicemails(state: &RecordingsState, raw: &str) -> Result<HttpResponse, ApiError> {
    let number = parse_number(raw)?;
    if state.core.store.get_line(&number).await?.is_none() {
        return Err(ApiError::not_found(format!("{number} is not a line")));
    }
    let list = state.core.store.line_voicemails(&number, 100).await?;
    let mut out = Vec::with_capacity(list.len());
    for vm in list {
        let link = match &vm.s3_key {
            Some(key) => state.recordings.presign(key, LIST_LINK_SECONDS).await.ok(),
            None => None,
        };
        out.push(json!({
            "id": vm.recording_sid,
            "call_sid": vm.call_sid,
            "caller": vm.caller,
            "received_at": rfc3339(vm.recorded_at),
            "duration_seconds": vm.duration_seconds,
            "transcription": vm.transcription,
            "status": vm.status,
            "attempts": vm.attempts,
            "emailed_at": vm.emailed_at.map(rfc3339),
            "recording_link": link,
        }));
    }
    Ok(json(200, &json!({ "voicemails": out })))
}

async fn view(
    state: &RecordingsState,
    rec: &PoolNumber,
    line: &Line,
    now: i64,
) -> Result<Value, ApiError> {
    let period = line.plan.period.key(now);
    let used = state.core.store.quota_used(&rec.number, &period).await?;
    let mut v = json!({
        "number": rec.number.e164(),
        "provider": rec.provider.as_str(),
        "country": rec.country,
    });
    if let (Value::Object(out), Ok(Value::Object(cfg))) = (&mut v, serde_json::to_value(line)) {
        out.extend(cfg);
    }
    v["usage"] = json!({"period": period, "calls": used, "remaining": line.plan.calls_per_period.map(|l| l.saturating_sub(used))});
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok() -> Value {
        json!({"owner": {"phone": "+15551230001", "email": "owner@example.com"}, "dial_timeout_seconds": 15,
               "caller_id": "line", "voicemail": {"enabled": true, "max_length_seconds": 60, "transcribe": true, "greeting": "Hi"},
               "language": "en-US", "plan": {"active": true, "calls_per_period": 100, "period": "month"}})
    }

    #[test]
    fn parses_a_full_line() {
        let l = parse_line(&ok()).unwrap();
        assert_eq!(l.caller_id, CallerIdMode::Line);
        assert_eq!(l.plan.calls_per_period, Some(100));
        assert_eq!(l.voicemail.greeting, "Hi");
        let mut body = ok();
        body["owner"] =
            json!({"phone": "555 123 0001", "country": "US", "email": "owner@example.com"});
        assert_eq!(
            parse_line(&body).unwrap().owner.phone.e164(),
            "+15551230001"
        );
    }

    #[test]
    fn rejects_bad_fields_by_name() {
        for (path, value, field) in [
            ("/owner/email", json!("nope"), "owner.email"),
            ("/owner/phone", json!("12"), "owner.phone"),
            // Bare digits: +55 123 0001 (Brazil) was read.
            ("/owner/phone", json!("5551230001"), "owner.phone"),
            ("/dial_timeout_seconds", json!(2), "dial_timeout_seconds"),
            ("/caller_id", json!("other"), "caller_id"),
            (
                "/voicemail/max_length_seconds",
                json!(600),
                "voicemail.max_length_seconds",
            ),
            ("/plan/period", json!("year"), "plan.period"),
            ("/language", json!("english please"), "language"),
        ] {
            let mut body = ok();
            *body.pointer_mut(path).unwrap() = value;
            let err = parse_line(&body).unwrap_err();
            assert_eq!(err.status, 400);
            assert!(err.message.starts_with(field), "{field}: {}", err.message);
        }
    }
}
