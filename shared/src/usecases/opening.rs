//! Opening a session, `POST /sessions`'s use case: validate both numbers
//! (offline, or by Vonage Number Insight, which never refuses a session
//! when it is down or unsure), allocate and commit (`sessions::create`),
//! grow the pool by one number when a country ran out
//! (`POOL_AUTO_PROVISION_MAX`), and text each participant the number that
//! reaches the other. A failed notice is reported, never fatal.

use std::future::Future;

use crate::domain::{Notification, NotificationStatus, Provider, Session};
use crate::phone::PhoneNumber;
use crate::usecases::pool::{NumberProvider, Order, Pool, PoolStore};
use crate::usecases::relay::SmsSender;
use crate::usecases::sessions::{create, CreateError, NewSession, SessionStore, Terms};
use crate::usecases::Port;

/// What Number Insight made of a number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Insight {
    Valid(PhoneNumber),
    Invalid,
    /// Down, unsure or not configured: validate offline.
    Unknown,
}

/// A number lookup service (Vonage Number Insight Basic).
pub trait NumberCheck: Sync {
    /// `digits`: the international number, digits only.
    fn insight(&self, digits: &str) -> impl Future<Output = Insight> + Send;
}

/// Where a session's notices' outcome is kept.
pub trait NoticeStore: Sync {
    fn set_notifications(
        &self,
        session_id: &str,
        notifications: &[Notification],
    ) -> impl Future<Output = Port<()>> + Send;
}

/// A participant as requested: a number as typed, and a label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requested {
    pub number: String,
    pub label: Option<String>,
    /// The country (ISO 3166 alpha-2) of a number written without `+` or
    /// `00`; without one such a number is refused.
    pub country: Option<String>,
}

/// A session to open.
#[derive(Debug, Clone)]
pub struct OpenSession {
    pub participants: [Requested; 2],
    pub provider: Provider,
    pub notify: bool,
    pub terms: Terms,
}

/// The deployment's settings that shape an opening.
#[derive(Debug, Clone, Copy)]
pub struct Policy<'a> {
    pub number_insight: bool,
    /// `{counterpart}` is the other side's label.
    pub notice_text: &'a str,
    /// `POOL_AUTO_PROVISION_MAX`: 0 never buys.
    pub auto_provision_max: u64,
    /// This deployment's public base URL, for numbers bought.
    pub webhooks: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("participant {}: {reason}", participant + 1)]
    InvalidNumber { participant: usize, reason: String },
    #[error("the two participants must be different numbers")]
    Identical,
    #[error(transparent)]
    Create(#[from] CreateError),
}

/// Opening sessions on a table and the providers.
pub struct Opening<'a, S, P> {
    pub store: &'a S,
    pub providers: &'a P,
}

impl<S, P> Opening<'_, S, P>
where
    S: SessionStore + PoolStore + NoticeStore,
    P: NumberProvider + SmsSender + NumberCheck,
{
    pub async fn open(
        &self,
        req: OpenSession,
        policy: &Policy<'_>,
        id: String,
        now: i64,
    ) -> Result<Session, OpenError> {
        let [p0, p1] = &req.participants;
        let (a, b) = tokio::join!(self.validate(p0, 0, policy), self.validate(p1, 1, policy));
        let (a, b) = (a?, b?);
        if a == b {
            return Err(OpenError::Identical);
        }
        let new = NewSession {
            participants: [a, b],
            labels: [p0.label.clone(), p1.label.clone()],
            provider: req.provider,
            terms: req.terms.clone(),
        };
        let mut result = create(self.store, new.clone(), id.clone(), now).await;
        // A number bought joins the default service, so only its sessions
        // can grow the pool.
        let grows = new.terms.service.is_default();
        if let (true, Err(CreateError::PoolExhausted { country, .. })) = (grows, &result) {
            let order = Order {
                deadline: None,
                provider: new.provider,
                country,
                features: &["voice", "sms"],
                count: 1,
                webhooks: policy.webhooks,
            };
            let pool = Pool {
                store: self.store,
                providers: self.providers,
            };
            if pool.grow(policy.auto_provision_max, order, now).await {
                result = create(self.store, new, id, now).await;
            }
        }
        let mut session = result?;
        tracing::info!(session = %session.id, provider = session.provider.as_str(), "session created");
        crate::metrics::session_created();
        if req.notify {
            session.notifications = self.notify(&session, policy.notice_text).await;
            // The notices went out whether or not this is kept.
            if let Err(e) = self
                .store
                .set_notifications(&session.id, &session.notifications)
                .await
            {
                tracing::warn!(session = %session.id, error = %crate::telemetry::chain(&e), "could not keep the notices' outcome");
            }
        }
        Ok(session)
    }

    /// A participant's number: offline from the phone table, or by Number
    /// Insight first when the deployment asks for it.
    async fn validate(
        &self,
        requested: &Requested,
        participant: usize,
        policy: &Policy<'_>,
    ) -> Result<PhoneNumber, OpenError> {
        let invalid = |reason: String| OpenError::InvalidNumber {
            participant,
            reason,
        };
        let (raw, country) = (requested.number.as_str(), requested.country.as_deref());
        if policy.number_insight {
            // Number Insight reads digits calling code first: a national
            // number is made international in its country before it asks.
            // Bare digits with no country go unasked, and offline parsing
            // refuses them below.
            let digits = insight_digits(raw).or_else(|| {
                PhoneNumber::parse_in(raw, country?)
                    .ok()
                    .map(|n| n.digits().to_string())
            });
            if let Some(digits) = digits {
                match self.providers.insight(&digits).await {
                    Insight::Valid(n) => return Ok(n),
                    Insight::Invalid => return Err(invalid("not a valid phone number".into())),
                    Insight::Unknown => {}
                }
            }
        }
        PhoneNumber::parse_written(raw, country).map_err(|e| invalid(e.to_string()))
    }

    /// Texts each participant the number that reaches the other one, from
    /// that number.
    async fn notify(&self, session: &Session, notice_text: &str) -> Vec<Notification> {
        let send = |i: usize| {
            let me = &session.participants[i];
            let other = &session.participants[1 - i];
            let counterpart = other.label.as_deref().unwrap_or("your contact");
            let text = notice_text.replace("{counterpart}", counterpart);
            async move {
                let sent = self
                    .providers
                    .send_sms(session.provider, &me.proxy_number, &me.number, &text)
                    .await;
                match sent {
                    Ok(()) => Notification {
                        participant: i,
                        status: NotificationStatus::Sent,
                        reason: None,
                    },
                    Err(e) => {
                        tracing::warn!(session = %session.id, participant = i, error = %crate::telemetry::chain(&e), "session notice failed");
                        Notification {
                            participant: i,
                            status: NotificationStatus::Failed,
                            reason: Some(e.to_string()),
                        }
                    }
                }
            }
        };
        let (a, b) = tokio::join!(send(0), send(1));
        vec![a, b]
    }
}

/// Number Insight takes the international number as digits: a leading
/// `00` is the international prefix unless the number starts with `+`.
/// `None` when no number could be made of it.
pub fn insight_digits(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    let mut digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    if !trimmed.starts_with('+') {
        // Without `+` or `00` the digits are national: not for Number Insight.
        digits = digits.strip_prefix("00")?.to_string();
    }
    (!digits.is_empty() && digits.len() <= 15).then_some(digits)
}

#[cfg(test)]
#[path = "opening_tests.rs"]
mod tests;
