//! The write shapes every aggregate shares: a Put or Delete of one item,
//! a write whose condition may fail (a claim, a lease: its failure is an
//! answer, not an error), and a transaction with the reasons DynamoDB gives
//! for cancelling it (their positions tell the caller which part refused).

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::TransactWriteItem;

use crate::store::attr::s;
use crate::store::keys;
use crate::store::{Store, StoreError};

/// The condition of a write that only creates: no item (pk, sk) yet.
pub(crate) const NEW_ITEM: &str = "attribute_not_exists(pk)";

/// A request builder's failure (a required field left out: our bug, never
/// the caller's), reported as the transaction it was for.
pub(crate) fn build<T>(r: Result<T, aws_sdk_dynamodb::error::BuildError>) -> Result<T, StoreError> {
    r.map_err(|e| StoreError::request("TransactWriteItems", e))
}

/// A cancelled transaction's reason for a part whose condition failed.
const CONDITION_FAILED: &str = "ConditionalCheckFailed";

/// `Ok(Some(output))` when a conditional write happened, `Ok(None)` when
/// its condition did not hold; anything else is an error.
pub(crate) fn kept<T, E, R>(
    op: &'static str,
    res: Result<T, SdkError<E, R>>,
) -> Result<Option<T>, StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match res {
        Ok(out) => Ok(Some(out)),
        Err(e)
            if e.as_service_error().and_then(|e| e.code())
                == Some("ConditionalCheckFailedException") =>
        {
            Ok(None)
        }
        Err(e) => Err(StoreError::sdk(op, e)),
    }
}

/// `Ok(true)` when a conditional write happened, `Ok(false)` when its
/// condition did not hold; anything else is an error.
pub(crate) fn written<T, E, R>(
    op: &'static str,
    res: Result<T, SdkError<E, R>>,
) -> Result<bool, StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    kept(op, res).map(|out| out.is_some())
}

/// Whether a cancelled transaction failed only on its conditions (each
/// reason `ConditionalCheckFailed` or `None`, at least one of the former).
fn only_failed_conditions(codes: &[&str]) -> bool {
    codes.contains(&CONDITION_FAILED)
        && codes
            .iter()
            .all(|c| matches!(*c, CONDITION_FAILED | "None"))
}

/// How a transaction DynamoDB answered ended.
pub(crate) enum Transacted {
    Written,
    Cancelled(Cancelled),
}

/// A transaction DynamoDB cancelled, kept whole so that a cancellation the
/// caller does not expect is reported with its cause.
pub(crate) struct Cancelled(Box<SdkError<TransactWriteItemsError>>);

impl Cancelled {
    /// Each part's reason, in the parts' order (`None` for a part that was
    /// not the cause).
    fn codes(&self) -> Vec<&str> {
        match self.0.as_service_error() {
            Some(TransactWriteItemsError::TransactionCanceledException(c)) => c
                .cancellation_reasons()
                .iter()
                .map(|r| r.code().unwrap_or("None"))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Whether part `i`'s condition failed.
    pub(crate) fn failed(&self, i: usize) -> bool {
        self.codes().get(i) == Some(&CONDITION_FAILED)
    }

    /// For each part, whether its condition failed (all `false` when the
    /// transaction lost to a concurrent one).
    pub(crate) fn failed_parts(&self) -> Vec<bool> {
        self.codes()
            .iter()
            .map(|c| *c == CONDITION_FAILED)
            .collect()
    }

    /// Whether only conditions failed (no conflict, no throttling).
    pub(crate) fn only_conditions(&self) -> bool {
        only_failed_conditions(&self.codes())
    }

    pub(crate) fn into_error(self) -> StoreError {
        StoreError::sdk("TransactWriteItems", *self.0)
    }
}

impl Store {
    /// A PutItem of the item (pk, sk), to fill and send.
    pub(crate) fn put(&self, pk: String, sk: impl Into<String>) -> PutItemFluentBuilder {
        self.client
            .put_item()
            .table_name(&self.table)
            .item(keys::PK, s(pk))
            .item(keys::SK, s(sk))
    }

    /// Sends a PutItem that only creates its item: `false` when the item
    /// was there (a claim made before), which is then left as it was.
    pub(crate) async fn put_new(put: PutItemFluentBuilder) -> Result<bool, StoreError> {
        written("PutItem", put.condition_expression(NEW_ITEM).send().await)
    }

    /// Deletes the item (pk, sk), whether or not it is there.
    pub(crate) async fn delete(&self, pk: String, sk: impl Into<String>) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(keys::PK, s(pk))
            .key(keys::SK, s(sk))
            .send()
            .await
            .map_err(|e| StoreError::sdk("DeleteItem", e))?;
        Ok(())
    }

    /// Sends a transaction of `items`: written, or cancelled (the caller
    /// reads which parts refused); any other failure is the SDK's error,
    /// for the caller to tell apart (a transaction in progress) or report.
    pub(crate) async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
    ) -> Result<Transacted, SdkError<TransactWriteItemsError>> {
        let res = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        match res {
            Ok(_) => Ok(Transacted::Written),
            Err(e)
                if matches!(
                    e.as_service_error(),
                    Some(TransactWriteItemsError::TransactionCanceledException(_))
                ) =>
            {
                Ok(Transacted::Cancelled(Cancelled(Box::new(e))))
            }
            Err(e) => Err(e),
        }
    }

    /// Sends a transaction: `None` when it committed, else which of its
    /// items' conditions failed (all `false` when it lost to a concurrent
    /// transaction).
    pub(crate) async fn transact_conditions(
        &self,
        items: Vec<TransactWriteItem>,
    ) -> Result<Option<Vec<bool>>, StoreError> {
        match self.transact(items).await {
            Ok(Transacted::Written) => Ok(None),
            Ok(Transacted::Cancelled(cancelled)) => Ok(Some(cancelled.failed_parts())),
            Err(e) => Err(StoreError::sdk("TransactWriteItems", e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::only_failed_conditions;

    #[test]
    fn only_failed_conditions_are_benign() {
        assert!(only_failed_conditions(&["ConditionalCheckFailed", "None"]));
        assert!(only_failed_conditions(&["None", "ConditionalCheckFailed"]));
        assert!(!only_failed_conditions(&["None", "TransactionConflict"]));
        assert!(!only_failed_conditions(&[
            "ConditionalCheckFailed",
            "ThrottlingError"
        ]));
        assert!(!only_failed_conditions(&[]));
    }
}
