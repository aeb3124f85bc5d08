//! Why a storage request failed: the operation, a kind a caller can act on,
//! and the SDK's error kept as the source (so the log line that reports the
//! chain names the cause; nothing here is formatted from a `Debug` dump).

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

type Source = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
#[error("{op}: {kind}")]
pub struct StoreError {
    /// The DynamoDB operation (`GetItem`, `TransactWriteItems`, …) or what
    /// was being read.
    pub op: &'static str,
    pub kind: StoreErrorKind,
    #[source]
    source: Option<Source>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StoreErrorKind {
    /// Provisioned or on-demand throughput exceeded: try again shortly.
    #[error("throttled")]
    Throttled,
    /// No answer in time.
    #[error("timed out")]
    Timeout,
    /// The endpoint could not be reached.
    #[error("unreachable")]
    Unreachable,
    /// Other requests kept winning the same item; we gave up retrying.
    #[error("too contended")]
    Contended,
    /// A condition we did not expect to fail.
    #[error("conditional check failed")]
    ConditionFailed,
    /// The function's role may not do this.
    #[error("access denied")]
    Denied,
    /// DynamoDB refused or failed the request for another reason.
    #[error("service error")]
    Service,
    /// An item did not have the shape we write.
    #[error("stored item is malformed")]
    MalformedItem,
    /// The request could not be built (a required field missing).
    #[error("request could not be built")]
    RequestBuild,
}

/// What a malformed item lacked.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Malformed(String);

impl StoreError {
    /// A failed SDK request, by the error's code and failure kind.
    pub(crate) fn sdk<E, R>(op: &'static str, err: SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        let kind = match &err {
            SdkError::TimeoutError(_) => StoreErrorKind::Timeout,
            SdkError::DispatchFailure(d) if d.is_timeout() => StoreErrorKind::Timeout,
            SdkError::DispatchFailure(_) => StoreErrorKind::Unreachable,
            SdkError::ServiceError(s) => match s.err().code() {
                Some(
                    "ProvisionedThroughputExceededException"
                    | "ThrottlingException"
                    | "RequestLimitExceeded",
                ) => StoreErrorKind::Throttled,
                Some("ConditionalCheckFailedException") => StoreErrorKind::ConditionFailed,
                Some("AccessDeniedException" | "UnrecognizedClientException") => {
                    StoreErrorKind::Denied
                }
                _ => StoreErrorKind::Service,
            },
            SdkError::ConstructionFailure(_) => StoreErrorKind::RequestBuild,
            _ => StoreErrorKind::Service,
        };
        Self {
            op,
            kind,
            source: Some(Box::new(err)),
        }
    }

    /// An item that is not as we write it; `what` names the attribute.
    pub(crate) fn malformed(what: impl Into<String>) -> Self {
        Self {
            op: "reading an item",
            kind: StoreErrorKind::MalformedItem,
            source: Some(Box::new(Malformed(what.into()))),
        }
    }

    /// Retries that ran out (`Throttled` for keys DynamoDB left
    /// unprocessed, `Contended` for a hot item).
    pub(crate) fn gave_up(op: &'static str, kind: StoreErrorKind) -> Self {
        Self {
            op,
            kind,
            source: None,
        }
    }

    /// A value that could not be encoded for storage.
    pub(crate) fn encode(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self {
            op: "encoding an item",
            kind: StoreErrorKind::RequestBuild,
            source: Some(Box::new(e)),
        }
    }

    /// A request (or a transaction part) the SDK's builder refused.
    pub(crate) fn request(op: &'static str, e: aws_sdk_dynamodb::error::BuildError) -> Self {
        Self {
            op,
            kind: StoreErrorKind::RequestBuild,
            source: Some(Box::new(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_item_names_its_attribute_in_the_chain() {
        let e = StoreError::malformed("attribute line missing");
        assert_eq!(e.kind, StoreErrorKind::MalformedItem);
        assert_eq!(e.to_string(), "reading an item: stored item is malformed");
        assert_eq!(
            crate::telemetry::chain(&e),
            "reading an item: stored item is malformed: attribute line missing"
        );
    }

    #[test]
    fn a_request_build_failure_is_not_called_malformed() {
        let build = aws_sdk_dynamodb::types::Put::builder().build().unwrap_err();
        let e = StoreError::request("TransactWriteItems", build);
        assert_eq!(e.kind, StoreErrorKind::RequestBuild);
        assert!(std::error::Error::source(&e).is_some());
    }
}
