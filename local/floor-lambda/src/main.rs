//! The floor a function's cold start is measured against: a `lambda_http`
//! function that builds a DynamoDB client and makes only the storage
//! requests asked for (`?pk=..&sk=..` of `TABLE_NAME`): one consistent
//! GetItem; with `&op=update` the one conditional UpdateItem a signed
//! call's routing read is; with `&op=both&then=SK` the GetItem and then
//! that UpdateItem of `then` (a Twilio line call's two requests, one after
//! the other). Nothing else. Built with the same profile as the functions.
//! With `FLOOR_TRUST=amazon` its client trusts Amazon's roots as the
//! functions' clients do (`callmask::aws::sdk_config`), instead of the
//! SDK's default of parsing the system store.

use aws_sdk_dynamodb::types::AttributeValue;
use lambda_http::{service_fn, Body, Request, RequestExt, Response};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let sdk = if std::env::var("FLOOR_TRUST").is_ok_and(|v| v == "amazon") {
        callmask::aws::sdk_config(None).await
    } else {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .load()
            .await
    };
    // Leaked as callmask::api::lambda::run leaks its state.
    let client: &'static aws_sdk_dynamodb::Client =
        Box::leak(Box::new(aws_sdk_dynamodb::Client::new(&sdk)));
    let table: &'static str = Box::leak(
        std::env::var("TABLE_NAME")
            .unwrap_or_default()
            .into_boxed_str(),
    );
    lambda_http::run(service_fn(move |req: Request| async move {
        let q = req.query_string_parameters();
        let key = |k: &str| AttributeValue::S(q.first(k).unwrap_or_default().to_string());
        let get = || async {
            client
                .get_item()
                .table_name(table)
                .key("pk", key("pk"))
                .key("sk", key("sk"))
                .consistent_read(true)
                .send()
                .await
                .map(|out| out.item.is_some())
                .map_err(|_| ())
        };
        // The one request a signed call makes: read the leg and record the
        // token in one conditional UpdateItem.
        let update = |sk: AttributeValue| async move {
            let id = format!(
                "{}",
                std::time::UNIX_EPOCH
                    .elapsed()
                    .map(|d| d.as_nanos())
                    .unwrap_or(0)
            );
            client
                .update_item()
                .table_name(table)
                .key("pk", key("pk"))
                .key("sk", sk)
                .update_expression("ADD #t :id")
                .condition_expression("attribute_exists(pk) AND NOT contains(#t, :idv)")
                .expression_attribute_names("#t", "seen_tokens")
                .expression_attribute_values(":id", AttributeValue::Ss(vec![id.clone()]))
                .expression_attribute_values(":idv", AttributeValue::S(id))
                .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
                .send()
                .await
                .map(|out| out.attributes.is_some())
                .map_err(|_| ())
        };
        let found = match q.first("op") {
            Some("update") => update(key("sk")).await,
            // Two requests one after the other, as a Twilio line call makes
            // (the line, then the call's record): the floor of a
            // two-request function.
            Some("both") => match get().await {
                Ok(true) => update(key("then")).await,
                other => other,
            },
            _ => get().await,
        };
        let (status, text) = match found {
            Ok(true) => (200, "found"),
            Ok(false) => (404, "missing"),
            Err(_) => (503, "unavailable"),
        };
        Ok::<_, std::convert::Infallible>(
            Response::builder()
                .status(status)
                .body(Body::Text(text.into()))
                .unwrap_or_default(),
        )
    }))
    .await
}
