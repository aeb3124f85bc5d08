//! Recording URLs, redirects, downloads and deletes, against a local fake
//! that checks each request as Twilio documents it.

use super::*;
use crate::rest::tests::{assert_refused_without_url, refused_url};
use crate::secrets::Secret;
use crate::twilio::rest::tests::{account, client, client_on, twilio, TOKEN};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn config(base: &str) -> TwilioConfig {
    TwilioConfig {
        api_base_url: base.into(),
        account_sid: Some("AC1".into()),
        ..TwilioConfig::default()
    }
}

/// The URL Twilio gives for the account's recording `sid` on `server`.
fn recording(server: &str, sid: &str) -> String {
    format!("{server}{}", account(&format!("Recordings/{sid}")))
}

fn wav(body: &[u8]) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("content-type", "audio/x-wav")
        .set_body_bytes(body.to_vec())
}

fn redirect(to: &str) -> ResponseTemplate {
    ResponseTemplate::new(302).insert_header("location", to)
}

#[test]
fn only_this_accounts_recordings_on_the_api_host_are_fetched() {
    let c = config("https://api.twilio.com");
    assert!(recording_url(
        &c,
        "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1"
    )
    .is_ok());
    assert!(recording_url(
        &c,
        "https://api.twilio.com:443/2010-04-01/Accounts/AC1/Recordings/RE1"
    )
    .is_ok());
    for bad in [
        "https://evil.example.com/2010-04-01/Recordings/RE1",
        "http://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1",
        "https://api.twilio.com.evil.example/x",
        "https://user:pw@api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1",
        "https://api.twilio.com:8443/2010-04-01/Accounts/AC1/Recordings/RE1",
        "https://api.twilio.com/2010-04-01/Accounts/AC2/Recordings/RE1",
        "https://api.twilio.com/2010-04-01/Accounts/AC1/Calls/CA1",
        "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/",
        "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/../../AC2/Recordings/RE1",
        "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1/../../../x",
        "file:///etc/passwd",
        "not a url",
    ] {
        assert!(recording_url(&c, bad).is_err(), "{bad}");
    }
}

#[test]
fn plain_http_only_for_a_local_fake() {
    let local = config("http://127.0.0.1:4010");
    assert!(recording_url(
        &local,
        "http://127.0.0.1:4010/2010-04-01/Accounts/AC1/Recordings/RE1"
    )
    .is_ok());
    let remote = config("http://api.twilio.example");
    assert!(recording_url(
        &remote,
        "http://api.twilio.example/2010-04-01/Accounts/AC1/Recordings/RE1"
    )
    .is_err());
}

#[test]
fn redirects_stay_with_twilio_and_s3() {
    let base = Url::parse("https://api.twilio.com").unwrap();
    let ok = |u: &str| redirect_allowed(&base, &Url::parse(u).unwrap());
    assert!(ok("https://media.twilio.com/x"));
    assert!(ok("https://bucket.s3.amazonaws.com/x"));
    assert!(!ok("http://media.twilio.com/x"));
    assert!(!ok("https://evil.example/x"));
    assert!(!ok("https://twilio.com.evil.example/x"));
}

#[tokio::test]
async fn a_recording_is_downloaded_with_basic_auth() {
    let server = MockServer::start().await;
    twilio("GET", "Recordings/RE1")
        .respond_with(wav(b"RIFF-1"))
        .expect(1)
        .mount(&server)
        .await;
    let got = client(&server)
        .download(&recording(&server.uri(), "RE1"))
        .await
        .unwrap();
    assert_eq!(got.bytes, b"RIFF-1");
    assert_eq!(got.content_type, "audio/x-wav");
    server.verify().await;
}

#[tokio::test]
async fn redirects_are_followed_on_the_api_host_only_and_not_far() {
    let server = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    let uri = server.uri();
    // The fake's own host (a local fake's media path): followed.
    twilio("GET", "Recordings/RE1")
        .respond_with(redirect(&format!("{uri}/media/RE1")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/media/RE1"))
        .respond_with(wav(b"RIFF-1"))
        .expect(1)
        .mount(&server)
        .await;
    // Another host (the same machine by another name): not followed.
    let other = elsewhere.uri().replace("127.0.0.1", "localhost");
    twilio("GET", "Recordings/RE2")
        .respond_with(redirect(&format!("{other}/x")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(wav(b"RIFF-2"))
        .expect(0)
        .mount(&elsewhere)
        .await;
    // A loop: three requests, then the redirect is the answer.
    twilio("GET", "Recordings/RE3")
        .respond_with(redirect(&account("Recordings/RE3")))
        .expect(3)
        .mount(&server)
        .await;
    let api = client(&server);
    let got = api.download(&recording(&uri, "RE1")).await.unwrap();
    assert_eq!(got.bytes, b"RIFF-1");
    for sid in ["RE2", "RE3"] {
        let e = api.download(&recording(&uri, sid)).await.unwrap_err();
        assert!(
            matches!(&e, RestError::Unavailable(u) if u.what() == "unexpected HTTP 302"),
            "{sid}: {e:?}"
        );
    }
    server.verify().await;
    elsewhere.verify().await;
}

#[tokio::test]
async fn a_failed_download_says_what_twilio_said() {
    let server = MockServer::start().await;
    twilio("GET", "Recordings/RE404")
        .respond_with(ResponseTemplate::new(404).set_body_json(serde_json::json!({
            "code": 20404, "message": "The requested resource was not found", "status": 404})))
        .mount(&server)
        .await;
    twilio("GET", "Recordings/RE500")
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let api = client(&server);
    let e = api.download(&recording(&server.uri(), "RE404")).await;
    assert!(
        matches!(&e, Err(RestError::Refused { status: 404, code, .. }) if code == "20404"),
        "{e:?}"
    );
    let e = api.download(&recording(&server.uri(), "RE500")).await;
    assert!(matches!(&e, Err(RestError::Unavailable(_))), "{e:?}");
}

#[tokio::test]
async fn nothing_is_fetched_off_the_account_or_without_a_token() {
    let server = MockServer::start().await;
    let api = client(&server);
    let foreign = format!("{}/2010-04-01/Accounts/AC2/Recordings/RE1", server.uri());
    assert!(matches!(
        api.download(&foreign).await,
        Err(RestError::Refused { status: 400, code, .. }) if code == "foreign_recording_url"
    ));
    let no_token = client_on(&server.uri(), Secret::missing());
    assert!(matches!(
        no_token.download(&recording(&server.uri(), "RE1")).await,
        Err(RestError::NotConfigured("TWILIO_AUTH_TOKEN"))
    ));
    assert!(server
        .received_requests()
        .await
        .unwrap_or_default()
        .is_empty());
}

#[tokio::test]
async fn an_unreachable_host_keeps_the_cause_and_no_credentials() {
    let base = refused_url("");
    let api = client_on(&base, Secret::value(TOKEN));
    let e = api.download(&recording(&base, "RE1")).await.unwrap_err();
    assert_refused_without_url(&e, &[TOKEN, "Recordings"]);
    // Through the pipeline's port, the adapter's error is still there.
    let e = RecordingSource::download(&api, &recording(&base, "RE1"))
        .await
        .unwrap_err();
    assert!(e.downcast_ref::<RestError>().is_some(), "{e:?}");
}

#[tokio::test]
async fn deleting_twilios_copy() {
    let server = MockServer::start().await;
    for (sid, status) in [("RE1", 204), ("RE2", 404), ("RE3", 500)] {
        twilio("DELETE", &format!("Recordings/{sid}.json"))
            .respond_with(ResponseTemplate::new(status))
            .expect(1)
            .mount(&server)
            .await;
    }
    let api = client(&server);
    api.delete_recording("RE1").await.unwrap();
    // Already gone is what we wanted.
    api.delete_recording("RE2").await.unwrap();
    let e = RecordingSource::delete(&api, "RE3").await.unwrap_err();
    assert!(
        matches!(
            e.downcast_ref::<RestError>(),
            Some(RestError::Unavailable(_))
        ),
        "{e:?}"
    );
    // A sid that is not one is not put in a path.
    assert!(matches!(
        api.delete_recording("../RE1").await,
        Err(RestError::Refused { status: 400, .. })
    ));
    server.verify().await;
}
