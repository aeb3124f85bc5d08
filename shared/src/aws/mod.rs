//! AWS clients, each built only by the functions that use it, from one
//! shared SDK configuration loaded from the standard environment.
//! `AWS_ENDPOINT_URL` (or an explicit endpoint in tests) points them at the
//! local emulator.

use std::time::Duration;

use aws_config::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::SdkConfig;

mod counter;

pub use counter::RequestCounter;

mod storage;
pub use storage::{AwsError, Bucket, Ses};

/// Time limits for one kind of work.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    /// One try of a request.
    pub attempt: Duration,
    /// All tries of a request together.
    pub operation: Duration,
}

/// A call is waiting: Vonage wants its answer within ~5 s and retries, then
/// asks the fallback URL; give up well before, so the fallback can still
/// apologise within its own time.
pub const CALL_PATH: Timeouts = Timeouts {
    connect: Duration::from_millis(1000),
    attempt: Duration::from_millis(1200),
    operation: Duration::from_millis(2500),
};

/// Admin APIs and callbacks: nobody is on the line, but API Gateway stops
/// waiting at 30 s and the function at its own timeout (10 s).
pub const BACKGROUND: Timeouts = Timeouts {
    connect: Duration::from_secs(2),
    attempt: Duration::from_secs(3),
    operation: Duration::from_secs(8),
};

/// The voicemail worker moves whole recordings (up to ~100 MB) to S3.
pub const BULK: Timeouts = Timeouts {
    connect: Duration::from_secs(3),
    attempt: Duration::from_secs(20),
    operation: Duration::from_secs(50),
};

/// The local stack and tests: the emulator serialises every request, so
/// under a test run's load one can wait seconds behind the others.
pub const EMULATOR: Timeouts = Timeouts {
    connect: Duration::from_secs(5),
    attempt: Duration::from_secs(30),
    operation: Duration::from_secs(60),
};

/// The roots of Amazon Trust Services, which sign every AWS endpoint
/// (`shared/certs/README.md`).
const AMAZON_ROOTS: &[u8] = include_bytes!("../../certs/amazon-trust-services.pem");

/// The HTTPS client of every AWS SDK client: the SDK's own (hyper, rustls),
/// trusting Amazon's five roots instead of parsing the system store on each
/// cold start (`TLS_NATIVE_ROOTS=true` trusts the system store instead).
fn https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
    use aws_smithy_http_client::{Builder, ConnectorBuilder};
    let native = std::env::var("TLS_NATIVE_ROOTS").is_ok_and(|v| v == "true");
    let store = if native {
        TrustStore::default()
    } else {
        TrustStore::empty().with_pem_certificate(AMAZON_ROOTS)
    };
    let context = TlsContext::builder()
        .with_trust_store(store)
        .build()
        .unwrap_or_default();
    // As the SDK's default client builds its connector, with our roots.
    Builder::new().build_with_connector_fn(move |settings, components| {
        let mut conn = ConnectorBuilder::default()
            .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
            .tls_context(context.clone());
        conn.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            conn.set_sleep_impl(components.sleep_impl());
        }
        conn.set_proxy_config(Some(ProxyConfig::from_env()));
        conn.build()
    })
}

/// The SDK configuration (credentials, region, endpoint), loaded once.
pub async fn sdk_config(endpoint: Option<&str>) -> SdkConfig {
    let mut loader =
        aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(https_client());
    if let Some(endpoint) = endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    loader.load().await
}

fn timeouts(t: Timeouts) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(t.connect)
        .operation_attempt_timeout(t.attempt)
        .operation_timeout(t.operation)
        .build()
}

pub fn dynamodb(
    sdk: &SdkConfig,
    t: Timeouts,
    counter: Option<RequestCounter>,
) -> aws_sdk_dynamodb::Client {
    // Stalled-stream protection watches the throughput of every body with a
    // timer per poll; a DynamoDB answer is a few KB and each attempt already
    // has a deadline, so it is only work on the call path.
    let mut b = aws_sdk_dynamodb::config::Builder::from(sdk)
        .timeout_config(timeouts(t))
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled());
    if let Some(counter) = counter {
        b = b.interceptor(counter);
    }
    aws_sdk_dynamodb::Client::from_conf(b.build())
}

pub fn secrets_manager(sdk: &SdkConfig, t: Timeouts) -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::from_conf(
        aws_sdk_secretsmanager::config::Builder::from(sdk)
            .timeout_config(timeouts(t))
            // As for DynamoDB: small answers, attempts with deadlines.
            .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
            .build(),
    )
}

pub fn s3(sdk: &SdkConfig, t: Timeouts) -> aws_sdk_s3::Client {
    // An emulator on 127.0.0.1/localhost cannot serve bucket subdomains.
    let path_style = sdk.endpoint_url().is_some();
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(path_style)
            .timeout_config(timeouts(t))
            .build(),
    )
}

pub fn ses(sdk: &SdkConfig, t: Timeouts) -> aws_sdk_ses::Client {
    aws_sdk_ses::Client::from_conf(
        aws_sdk_ses::config::Builder::from(sdk)
            .timeout_config(timeouts(t))
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_amazon_roots_load() {
        // The connector, with its trust store, is built for the first
        // request: a store that did not parse would panic here, not fail
        // to connect.
        let sdk = sdk_config(Some("https://127.0.0.1:9")).await;
        let client = dynamodb(&sdk, BACKGROUND, None);
        let err = client
            .list_tables()
            .send()
            .await
            .expect_err("nothing listens on port 9");
        assert!(
            matches!(err, aws_sdk_dynamodb::error::SdkError::DispatchFailure(_)),
            "{err:?}"
        );
    }
}
