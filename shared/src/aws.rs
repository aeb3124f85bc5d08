//! AWS clients, built once per process from the standard environment.
//! `AWS_ENDPOINT_URL` (or an explicit endpoint in tests) points them at the
//! local emulator.

use crate::store::RequestCounter;

#[derive(Clone, Debug)]
pub struct Clients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub s3: aws_sdk_s3::Client,
    pub ses: aws_sdk_ses::Client,
}

pub async fn clients(counter: Option<RequestCounter>, endpoint: Option<&str>) -> Clients {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(endpoint) = endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    let sdk = loader.load().await;
    let mut ddb = aws_sdk_dynamodb::config::Builder::from(&sdk);
    if let Some(counter) = counter {
        ddb = ddb.interceptor(counter);
    }
    // An emulator on 127.0.0.1/localhost cannot serve bucket subdomains.
    let path_style = sdk.endpoint_url().is_some();
    let s3 = aws_sdk_s3::config::Builder::from(&sdk)
        .force_path_style(path_style)
        .build();
    Clients {
        dynamodb: aws_sdk_dynamodb::Client::from_conf(ddb.build()),
        s3: aws_sdk_s3::Client::from_conf(s3),
        ses: aws_sdk_ses::Client::new(&sdk),
    }
}
