//! Recording URLs, redirects, downloads and deletes, against a local fake
//! that checks each request as Twilio documents it.

use super::*;
use crate::rest::tests::{
    assert_refused_without_url, json, mount, nothing_received, on, refused_url,
};
use crate::secrets::Secret;
use crate::twilio::rest::tests::{account, client, client_on, twilio, TOKEN};
use wiremock::{MockServer, ResponseTemplate};

/// Whether `url` may be fetched for account AC1 on the API host `base`.
fn fetched(base: &str, url: &str) -> bool {
    let config = TwilioConfig {
        api_base_url: base.into(),
        account_sid: Some("AC1".into()),
        ..TwilioConfig::default()
    };
    recording_url(&config, url).is_ok()
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
    for good in [
        "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1",
        "https://api.twilio.com:443/2010-04-01/Accounts/AC1/Recordings/RE1",
    ] {
        assert!(fetched("https://api.twilio.com", good), "{good}");
    }
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
        assert!(!fetched("https://api.twilio.com", bad), "{bad}");
    }
}

#[test]
fn plain_http_only_for_a_local_fake() {
    assert!(fetched(
        "http://127.0.0.1:4010",
        "http://127.0.0.1:4010/2010-04-01/Accounts/AC1/Recordings/RE1"
    ));
    assert!(!fetched(
        "http://api.twilio.example",
        "http://api.twilio.example/2010-04-01/Accounts/AC1/Recordings/RE1"
    ));
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
    mount(&server, twilio("GET", "Recordings/RE1"), wav(b"RIFF-1"), 1).await;
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
    let to_media = redirect(&format!("{uri}/media/RE1"));
    mount(&server, twilio("GET", "Recordings/RE1"), to_media, 1).await;
    mount(&server, on("GET", "/media/RE1"), wav(b"RIFF-1"), 1).await;
    // Another host (the same machine by another name): not followed.
    let other = elsewhere.uri().replace("127.0.0.1", "localhost");
    let away = redirect(&format!("{other}/x"));
    mount(&server, twilio("GET", "Recordings/RE2"), away, 1).await;
    // A loop: three requests, then the redirect is the answer.
    let again = redirect(&account("Recordings/RE3"));
    mount(&server, twilio("GET", "Recordings/RE3"), again, 3).await;
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
    nothing_received(&elsewhere).await;
}

#[tokio::test]
async fn a_failed_download_says_what_twilio_said() {
    let server = MockServer::start().await;
    let gone = json(
        404,
        serde_json::json!({"code": 20404, "message": "The requested resource was not found"}),
    );
    mount(&server, twilio("GET", "Recordings/RE404"), gone, 1).await;
    let broken = ResponseTemplate::new(500);
    mount(&server, twilio("GET", "Recordings/RE500"), broken, 1).await;
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
    nothing_received(&server).await;
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
        let delete = twilio("DELETE", &format!("Recordings/{sid}.json"));
        mount(&server, delete, ResponseTemplate::new(status), 1).await;
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
