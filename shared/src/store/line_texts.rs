//! Texts to a masked line that its owner also wants by email: the webhook
//! writes the email's facts into the text's own item (the write that counts
//! the quota, so no request is added), and the worker sends it. The item is
//! pending in the same sparse index as voicemails, so the worker's stream
//! and its sweep both find it and SES failures are retried, never lost.

use crate::domain::TextEmail;
use crate::store::attr::*;
use crate::store::keys;
use crate::store::{Store, StoreError};

/// Attributes a text's item gets when its owner wants it emailed.
pub(crate) fn pending_attributes(email: &TextEmail, item: &mut Item) {
    item.insert("from".into(), s(email.from.e164()));
    item.insert("email_to".into(), s(&email.owner_email));
    item.insert("body".into(), s(&email.body));
    item.insert("attempts".into(), n(0));
    item.insert("email_status".into(), s("pending"));
    // The worker's stream filter takes items with a `kick`.
    item.insert("kick".into(), s(uuid::Uuid::new_v4().to_string()));
    item.insert(keys::PENDING_PK.into(), s(keys::PENDING));
    item.insert(
        keys::PENDING_SK.into(),
        s(keys::at(email.at, &email.message_sid)),
    );
}

fn text_email_from(item: &Item) -> Result<TextEmail, StoreError> {
    let pk = get_s(item, keys::PK)?;
    Ok(TextEmail {
        message_sid: keys::line_message_sid(pk).unwrap_or(pk).to_string(),
        line: get_phone(item, "line")?,
        from: get_phone(item, "from")?,
        owner_email: get_s(item, "email_to")?.to_string(),
        body: get_s(item, "body")?.to_string(),
        at: get_n(item, "at")?,
        attempts: opt_n(item, "attempts").unwrap_or(0).max(0) as u32,
    })
}

impl Store {
    /// Takes a pending text email for `lease` seconds (stream and sweep may
    /// both fire): `None` when it is sent, failed or held by another worker.
    pub async fn claim_text_email(
        &self,
        message_sid: &str,
        now: i64,
        lease: i64,
    ) -> Result<Option<TextEmail>, StoreError> {
        self.take_lease(keys::line_message(message_sid), "email_status", now, lease)
            .await?
            .as_ref()
            .map(text_email_from)
            .transpose()
    }

    /// Sent: the body and the addresses are dropped with the pending state.
    pub async fn text_emailed(&self, sid: &str, now: i64) -> Result<(), StoreError> {
        let update = "SET email_status = :sent, emailed_at = :now REMOVE body, email_to, #from, lease_until, gsi4pk, gsi4sk";
        let values = [(":sent", s("sent")), (":now", n(now))];
        Store::updated(self.change(keys::line_message(sid), update, None, values)).await
    }
    /// Not sent this time: due again at `at`.
    pub async fn text_email_later(&self, sid: &str, at: i64, tries: u32) -> Result<(), StoreError> {
        let update = "SET attempts = :a, gsi4sk = :due REMOVE lease_until";
        let values = [(":a", n(tries.into())), (":due", s(keys::at(at, sid)))];
        Store::updated(self.change(keys::line_message(sid), update, None, values)).await
    }
    /// The retry budget is spent: no longer pending, nothing kept to send.
    pub async fn text_email_failed(&self, sid: &str, tries: u32) -> Result<(), StoreError> {
        let update = "SET email_status = :failed, attempts = :a REMOVE body, email_to, #from, lease_until, gsi4pk, gsi4sk";
        let values = [(":failed", s("failed")), (":a", n(tries.into()))];
        Store::updated(self.change(keys::line_message(sid), update, None, values)).await
    }
}
