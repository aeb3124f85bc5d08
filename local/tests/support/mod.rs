//! Test helpers: a fresh table on the emulator per test, and requests that
//! go through the same routing as the local stack.
#![allow(dead_code)]

use callmask::api::AppState;
use callmask::config::Config;
use callmask::store::{schema, RequestCounter};
use serde_json::Value;

pub struct TestEnv {
    pub state: AppState,
    pub counter: RequestCounter,
}

pub struct Reply {
    pub status: u16,
    pub body: String,
    pub headers: http::HeaderMap,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// The emulator `scripts/stack.py exec` started for this test run.
pub fn endpoint() -> String {
    std::env::var("CALLMASK_TEST_AWS_ENDPOINT").unwrap_or_else(|_| {
        panic!("CALLMASK_TEST_AWS_ENDPOINT is not set: run the tests with `make test` (it starts the emulator)")
    })
}

pub async fn env_with(config: Config) -> TestEnv {
    let endpoint = endpoint();
    let counter = RequestCounter::default();
    let table = format!("t-{}", uuid::Uuid::new_v4().simple());
    let bucket = format!("b-{}", uuid::Uuid::new_v4().simple());
    let config = Config {
        table_name: table.clone(),
        recordings_bucket: bucket,
        ..config
    };
    let state = AppState::build(config, Some(counter.clone()), Some(&endpoint))
        .await
        .expect("state");
    schema::create_table(state.store.client(), &table)
        .await
        .expect("create table on the emulator");
    TestEnv { state, counter }
}

pub async fn env() -> TestEnv {
    env_with(Config::default()).await
}

impl TestEnv {
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut b = http::Request::builder()
            .method(method)
            .uri(format!("http://127.0.0.1:3000{path}"))
            .header("host", "127.0.0.1:3000");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let (parts, ()) = b.body(()).expect("request").into_parts();
        let resp = match callmask_local::route(method, parts.uri.path()) {
            Err(e) => e.into_response(),
            Ok((function, params)) => {
                let req = callmask_local::to_lambda_request(
                    parts,
                    body.unwrap_or("").as_bytes().to_vec(),
                    params,
                );
                function.handle(&self.state, req).await
            }
        };
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = String::from_utf8_lossy(resp.body().as_ref()).into_owned();
        Reply {
            status,
            body,
            headers,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.request("GET", path, None, &[]).await
    }

    pub async fn post(&self, path: &str, body: &str) -> Reply {
        self.request(
            "POST",
            path,
            Some(body),
            &[("content-type", "application/json")],
        )
        .await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.request("DELETE", path, None, &[]).await
    }

    pub async fn add_number(&self, number: &str) {
        let r = self
            .post(
                "/numbers",
                &format!(r#"{{"number":"{number}","provider":"vonage"}}"#),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }

    pub async fn create_session(&self, a: &str, b: &str, ttl: u64) -> Reply {
        self.post(
            "/sessions",
            &format!(r#"{{"participants":["{a}","{b}"],"ttl_seconds":{ttl}}}"#),
        )
        .await
    }

    /// Answer webhook as Vonage calls it by default (GET, digits without +).
    pub async fn answer(&self, to: &str, from: &str) -> Value {
        let r = self
            .get(&format!(
                "/vonage/answer?to={to}&from={from}&uuid=u-{}&conversation_uuid=CON-1",
                uuid::Uuid::new_v4()
            ))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()
    }
}

/// The connect action of an NCCO, if any.
pub fn connect_of(ncco: &Value) -> Option<&Value> {
    ncco.as_array()?.iter().find(|a| a["action"] == "connect")
}

pub fn proxy_of(session: &Value, i: usize) -> String {
    session["participants"][i]["proxy_number"]
        .as_str()
        .expect("proxy_number")
        .to_string()
}
