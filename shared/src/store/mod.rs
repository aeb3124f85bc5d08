//! DynamoDB storage, one module per aggregate: the routing reads
//! (`routing`: exactly one request), webhook tokens (`tokens`), line quotas
//! (`quota`), sessions, numbers, lines, calls, messages, voicemails, texts
//! to email and recordings. Keys are built and parsed only in `keys`;
//! queries that read every page go through `query`; the write shapes
//! every aggregate shares (a new item, a delete, a transaction) are in `write`.

mod attr;
mod call_history;
mod calls;
mod error;
pub mod keys;
mod legs;
mod line_texts;
mod lines;
mod listing;
mod messages;
mod numbers;
mod orders;
mod query;
mod quota;
mod recordings;
mod replies;
mod routing;
pub mod schema;
mod service_numbers;
mod services;
mod sessions;
mod tokens;
mod voicemails;
mod write;

use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;

pub use attr::Item;
pub use call_history::{CallEventRecord, CallHistory, LineCall};
pub use calls::{Claim, EventKept};
pub use error::{StoreError, StoreErrorKind};
pub use legs::{LegRead, Once, Undo};
pub use lines::{Admission, PutLine};
pub use listing::{SessionFilter, SessionPosition, SessionsPage, StatusFilter};
pub use messages::LineMessage;
pub use numbers::PoolEntry;
pub use orders::OrderClaim;
pub use recordings::{valid_cursor, RecordingsPage};
pub use replies::ReplyClaim;
pub use routing::Inbound;
pub use service_numbers::JoinService;
pub use services::{DeleteService, SaveService, ServicesPage, StoredService};
pub use sessions::CloseSession;
pub use voicemails::VoicemailLink;
pub(crate) use write::{build, kept, written, Transacted, NEW_ITEM};

impl From<StoreError> for crate::usecases::PortError {
    fn from(e: StoreError) -> Self {
        crate::usecases::PortError::new(e)
    }
}

/// The table and the client that reaches it.
#[derive(Clone, Debug)]
pub struct Store {
    client: Client,
    table: String,
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// An UpdateItem of the item (pk, sk), to finish and send.
    pub(crate) fn update(&self, pk: String, sk: impl Into<String>) -> UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, attr::s(pk))
            .key(keys::SK, attr::s(sk))
    }

    /// An UpdateItem of `pk`'s META item from its expressions and values,
    /// to send. `#st`, `#from` and `#ttl` in them stand for `status`,
    /// `from` and `ttl` (words DynamoDB reserves).
    pub(crate) fn change(
        &self,
        pk: String,
        update: &str,
        condition: Option<&str>,
        values: impl IntoIterator<Item = (&'static str, AttributeValue)>,
    ) -> UpdateItemFluentBuilder {
        self.change_item(pk, keys::META, update, condition, values)
    }

    /// [`Store::change`] of any item (pk, sk); `#lease` also stands for
    /// `lease_until`.
    pub(crate) fn change_item(
        &self,
        pk: String,
        sk: impl Into<String>,
        update: &str,
        condition: Option<&str>,
        values: impl IntoIterator<Item = (&'static str, AttributeValue)>,
    ) -> UpdateItemFluentBuilder {
        let mut req = self.update(pk, sk).update_expression(update);
        if let Some(c) = condition {
            req = req.condition_expression(c);
        }
        let names = [
            ("#st", "status"),
            ("#from", "from"),
            ("#ttl", keys::TTL),
            ("#lease", "lease_until"),
        ];
        for (name, attr) in names {
            if update.contains(name) || condition.is_some_and(|c| c.contains(name)) {
                req = req.expression_attribute_names(name, attr);
            }
        }
        for (name, value) in values {
            req = req.expression_attribute_values(name, value);
        }
        req
    }

    /// Sends an UpdateItem (built by [`Store::update`]) whose condition, if
    /// any, is expected to hold.
    pub(crate) async fn updated(req: UpdateItemFluentBuilder) -> Result<(), StoreError> {
        req.send()
            .await
            .map_err(|e| StoreError::sdk("UpdateItem", e))?;
        Ok(())
    }

    /// A consistent GetItem of the item (pk, sk).
    pub(crate) async fn get_item(
        &self,
        pk: String,
        sk: impl Into<String>,
    ) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(keys::PK, attr::s(pk))
            .key(keys::SK, attr::s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::sdk("GetItem", e))?;
        Ok(out.item)
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }
}
