//! The providers' REST APIs as the core uses them: buy and link numbers,
//! release them, list what the account owns, send a text, validate a number.
//! Each provider's wire format stays in its adapter (`vonage::rest`,
//! `twilio::rest`); this module only chooses which one and keeps the pool.

use std::sync::Arc;

use aws_config::SdkConfig;

use crate::aws::Timeouts;
use crate::config::{ConfigError, MessagingConfig, TwilioConfig, VonageConfig};
use crate::core::Core;
use crate::domain::{PoolNumber, Provider};
use crate::phone::PhoneNumber;
use crate::rest::{http_client, RestError};
use crate::twilio::rest::{NumberUrls, TwilioRest};
use crate::usecases::opening::{Insight, NumberCheck};
use crate::usecases::pool::{Bought, NumberProvider, Offer, Offers, Order, Owned};
use crate::usecases::relay::{SendError, SmsSender};
use crate::usecases::{Port, PortError};
use crate::vonage::rest::VonageRest;

/// The REST clients of the providers this deployment has credentials for
/// (cheap to clone).
#[derive(Clone)]
pub struct Providers {
    vonage: Option<Arc<VonageRest>>,
    vonage_app_id: Option<String>,
    twilio: Option<Arc<TwilioRest>>,
}

impl std::fmt::Debug for Providers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Providers")
            .field("vonage", &self.vonage.is_some())
            .field("twilio", &self.twilio.is_some())
            .finish()
    }
}

impl Providers {
    pub fn from_env(core: &Core, sdk: &SdkConfig, timeouts: Timeouts) -> Result<Self, ConfigError> {
        let messaging = MessagingConfig::from_env()?;
        let vonage = VonageConfig::from_env()?;
        let twilio = TwilioConfig::from_env()?;
        Ok(Self::build(
            core, &messaging, &vonage, &twilio, sdk, timeouts,
        ))
    }

    pub fn build(
        core: &Core,
        messaging: &MessagingConfig,
        vonage: &VonageConfig,
        twilio: &TwilioConfig,
        sdk: &SdkConfig,
        timeouts: Timeouts,
    ) -> Self {
        let http = http_client();
        let vonage_rest = vonage_client(&http, core, messaging, vonage, sdk, timeouts);
        let twilio_rest = twilio.account_sid.as_ref().and_then(|_| {
            let token = core.twilio_auth_token(twilio, sdk, timeouts);
            TwilioRest::new(http.clone(), twilio, token)
                .inspect_err(|e| {
                    // The settings check the URL first: only a config built
                    // by hand gets here.
                    tracing::error!(error = %crate::telemetry::chain(e), "TWILIO_API_BASE_URL is not a URL: no Twilio REST client");
                })
                .ok()
        });
        Self {
            vonage: vonage_rest.map(Arc::new),
            vonage_app_id: vonage.application_id.clone(),
            twilio: twilio_rest.map(Arc::new),
        }
    }

    /// Clients given directly (tests).
    pub fn new(
        vonage: Option<VonageRest>,
        vonage_app_id: Option<String>,
        twilio: Option<TwilioRest>,
    ) -> Self {
        Self {
            vonage: vonage.map(Arc::new),
            vonage_app_id,
            twilio: twilio.map(Arc::new),
        }
    }

    pub fn vonage(&self) -> Result<&VonageRest, RestError> {
        self.vonage
            .as_deref()
            .ok_or(RestError::NotConfigured("VONAGE_API_KEY"))
    }

    pub fn twilio(&self) -> Result<&TwilioRest, RestError> {
        self.twilio
            .as_deref()
            .ok_or(RestError::NotConfigured("TWILIO_ACCOUNT_SID"))
    }

    /// Numbers on offer for `order`. A search that finds nothing is
    /// `NoneAvailable`; a search the provider refuses is that error.
    async fn offers(&self, order: Order<'_>) -> Result<Offers, RestError> {
        let Order {
            provider,
            country,
            features,
            count,
            ..
        } = order;
        let mut out = Offers::default();
        let raw: Vec<(String, String)> = match provider {
            Provider::Vonage => {
                let offered = self
                    .vonage()?
                    .search(country, features, count, None)
                    .await?;
                offered
                    .into_iter()
                    .map(|n| {
                        let c = if n.country.is_empty() {
                            country.to_string()
                        } else {
                            n.country.to_ascii_uppercase()
                        };
                        (format!("+{}", n.msisdn), c)
                    })
                    .collect()
            }
            Provider::Twilio => {
                let offered = self.twilio()?.available(country, features, count).await?;
                offered
                    .into_iter()
                    .map(|n| (n, country.to_string()))
                    .collect()
            }
        };
        if raw.is_empty() {
            return Err(RestError::NoneAvailable);
        }
        for (raw, country) in raw.into_iter().take(count as usize) {
            match PhoneNumber::from_e164(&raw) {
                Ok(number) => out.offers.push(Offer { number, country }),
                Err(_) => out.failed.push((
                    raw,
                    RestError::unavailable("the provider offered a malformed number").reason(),
                )),
            }
        }
        Ok(out)
    }

    /// Buys one number on offer and links it to this deployment: Vonage
    /// links it to the application after the purchase; Twilio sets its
    /// webhook URLs (from `order.webhooks`) in the purchase itself.
    async fn buy_one(&self, order: Order<'_>, offer: &Offer) -> Result<Bought, RestError> {
        let Offer { number, country } = offer;
        match order.provider {
            Provider::Vonage => {
                let api = self.vonage()?;
                let msisdn = number.e164().trim_start_matches('+');
                api.buy(country, msisdn).await?;
                let link_error = match &self.vonage_app_id {
                    Some(app) => api.link(country, msisdn, app).await.err(),
                    None => Some(RestError::NotConfigured("VONAGE_APPLICATION_ID")),
                }
                .map(PortError::new);
                Ok(Bought {
                    number: number.clone(),
                    country: country.clone(),
                    provider_sid: None,
                    link_error,
                })
            }
            Provider::Twilio => {
                let urls = twilio_urls(order.webhooks);
                let bought = self.twilio()?.buy(number.e164(), &urls).await?;
                Ok(Bought {
                    number: number.clone(),
                    country: country.clone(),
                    provider_sid: Some(bought.sid),
                    link_error: None,
                })
            }
        }
    }

    /// Cancels the rental of a pool number.
    async fn cancel(&self, rec: &PoolNumber) -> Result<(), RestError> {
        match rec.provider {
            Provider::Vonage => {
                let digits = rec.number.e164().trim_start_matches('+');
                self.vonage()?.cancel(&rec.country, digits).await
            }
            Provider::Twilio => {
                let api = self.twilio()?;
                let sid = match &rec.provider_sid {
                    Some(sid) => sid.clone(),
                    // Added by hand before sids were kept: find it.
                    None => api
                        .owned()
                        .await?
                        .into_iter()
                        .find(|n| n.phone_number == rec.number.e164())
                        .map(|n| n.sid)
                        .ok_or_else(|| RestError::Refused {
                            status: 404,
                            code: "not_owned".into(),
                            reason: "the account does not own this number".into(),
                        })?,
                };
                api.release(&sid).await
            }
        }
    }

    /// Every number the account owns, all pages, each with where it
    /// points: Vonage numbers at an application, Twilio numbers at URLs.
    async fn account_numbers(
        &self,
        provider: Provider,
        webhooks: &str,
    ) -> Result<Vec<Owned>, RestError> {
        let mut out = Vec::new();
        match provider {
            Provider::Vonage => {
                for n in self.vonage()?.owned().await? {
                    if let Ok(number) = PhoneNumber::from_e164(&format!("+{}", n.msisdn)) {
                        let elsewhere = match (&self.vonage_app_id, n.app_id.as_deref()) {
                            (None, _) => Some("VONAGE_APPLICATION_ID is not set: callmask cannot tell where it points".into()),
                            (Some(ours), Some(app)) if app == ours => None,
                            (Some(_), Some(_)) => Some("linked to another Vonage application; link it to VONAGE_APPLICATION_ID, then import again".into()),
                            (Some(_), None) => Some("linked to no Vonage application; link it to VONAGE_APPLICATION_ID, then import again".into()),
                        };
                        out.push(Owned {
                            number,
                            country: n.country.to_ascii_uppercase(),
                            provider_sid: None,
                            elsewhere,
                        });
                    }
                }
            }
            Provider::Twilio => {
                let ours = twilio_urls(webhooks);
                for n in self.twilio()?.owned().await? {
                    if let Ok(number) = PhoneNumber::from_e164(&n.phone_number) {
                        let country = n.iso_country.clone().unwrap_or_else(|| number.country());
                        let here = n.voice_url.as_deref() == Some(ours.voice_url.as_str())
                            && n.sms_url.as_deref() == Some(ours.sms_url.as_str());
                        let elsewhere = (!here).then(|| {
                            format!(
                                "its voice and SMS URLs are not this deployment's ({} and {}); set them, then import again",
                                ours.voice_url, ours.sms_url
                            )
                        });
                        out.push(Owned {
                            number,
                            country: country.to_ascii_uppercase(),
                            provider_sid: Some(n.sid),
                            elsewhere,
                        });
                    }
                }
            }
        }
        Ok(out)
    }

    /// Sends one text from one of our numbers.
    async fn text(
        &self,
        provider: Provider,
        from: &PhoneNumber,
        to: &PhoneNumber,
        text: &str,
    ) -> Result<(), RestError> {
        match provider {
            Provider::Vonage => vonage_text(self.vonage()?, from, to, text).await?,
            Provider::Twilio => {
                self.twilio()?
                    .send_message(from.e164(), to.e164(), text)
                    .await?;
            }
        }
        Ok(())
    }
}

/// The pool's numbers API: the provider's errors kept as the source (the
/// admin API reads their kind back to choose its status).
impl NumberProvider for Providers {
    async fn search(&self, order: Order<'_>) -> Port<Offers> {
        self.offers(order).await.map_err(PortError::new)
    }

    async fn buy(&self, order: Order<'_>, offer: &Offer) -> Port<Bought> {
        self.buy_one(order, offer).await.map_err(PortError::new)
    }

    async fn owned(&self, provider: Provider, webhooks: &str) -> Port<Vec<Owned>> {
        self.account_numbers(provider, webhooks)
            .await
            .map_err(PortError::new)
    }

    async fn release(&self, rec: &PoolNumber) -> Port<()> {
        self.cancel(rec).await.map_err(PortError::new)
    }
}

/// Number Insight Basic for session opening: anything but a clear answer
/// (no Vonage credentials, unreachable, unsure) is `Unknown`, so the number
/// is validated offline and a session is never refused for it.
impl NumberCheck for Providers {
    async fn insight(&self, digits: &str) -> Insight {
        let api = match self.vonage() {
            Ok(api) => api,
            Err(e) => {
                tracing::warn!(error = %crate::telemetry::chain(&e), "NUMBER_VALIDATION=number-insight without Vonage credentials: validating offline");
                return Insight::Unknown;
            }
        };
        match api.number_insight_basic(digits).await {
            Ok(ins) if ins.status == 0 => match ins
                .international_format_number
                .as_deref()
                .and_then(|n| PhoneNumber::from_e164(&format!("+{n}")).ok())
            {
                Some(n) => Insight::Valid(n),
                None => {
                    tracing::warn!(
                        "Number Insight answered without a usable number: validating offline"
                    );
                    Insight::Unknown
                }
            },
            Ok(ins) if ins.status == 3 => Insight::Invalid,
            Ok(ins) => {
                tracing::warn!(
                    status = ins.status,
                    "Number Insight could not validate: validating offline"
                );
                Insight::Unknown
            }
            Err(e) => {
                tracing::warn!(error = %crate::telemetry::chain(&e), "Number Insight unreachable: validating offline");
                Insight::Unknown
            }
        }
    }
}

/// The relay's SMS API: a rate limit or an outage is worth another try,
/// anything else is a refusal.
impl SmsSender for Providers {
    async fn send_sms(
        &self,
        provider: Provider,
        from: &PhoneNumber,
        to: &PhoneNumber,
        text: &str,
    ) -> Result<(), SendError> {
        self.text(provider, from, to, text)
            .await
            .map_err(send_error)
    }
}

/// A rate limit or an outage is worth another try, anything else is a
/// refusal.
fn send_error(e: RestError) -> SendError {
    match e {
        RestError::RateLimited { .. } | RestError::Unavailable(_) => {
            SendError::Transient(PortError::new(e))
        }
        e => SendError::Refused(PortError::new(e)),
    }
}

/// The Vonage REST client, when `VONAGE_API_KEY` is set.
fn vonage_client(
    http: &reqwest::Client,
    core: &Core,
    messaging: &MessagingConfig,
    vonage: &VonageConfig,
    sdk: &SdkConfig,
    timeouts: Timeouts,
) -> Option<VonageRest> {
    messaging.vonage_api_key.as_ref().map(|key| {
        VonageRest::new(
            http.clone(),
            &messaging.vonage_rest_base_url,
            &vonage.api_base_url,
            Some(key.clone()),
            core.secret(&messaging.vonage_api_secret, "api_secret", sdk, timeouts),
        )
    })
}

/// One text through Vonage's SMS API (numbers as digits, without `+`).
async fn vonage_text(
    api: &VonageRest,
    from: &PhoneNumber,
    to: &PhoneNumber,
    text: &str,
) -> Result<(), RestError> {
    let digits = |n: &PhoneNumber| n.e164().trim_start_matches('+').to_string();
    api.send_sms(&digits(from), &digits(to), text).await?;
    Ok(())
}

/// Vonage's SMS API alone, for `vonage-inbound-sms`: that function then
/// links no Twilio client (issue 6 keeps a webhook under 8 MB).
#[derive(Clone, Debug)]
pub struct VonageSms(Option<Arc<VonageRest>>);

impl VonageSms {
    pub fn build(
        core: &Core,
        messaging: &MessagingConfig,
        vonage: &VonageConfig,
        sdk: &SdkConfig,
        timeouts: Timeouts,
    ) -> Self {
        Self(vonage_client(&http_client(), core, messaging, vonage, sdk, timeouts).map(Arc::new))
    }

    /// The Vonage client of `providers` (the local router's states share it).
    pub fn of(providers: &Providers) -> Self {
        Self(providers.vonage.clone())
    }

    /// Sends one text from one of our Vonage numbers.
    pub async fn send(
        &self,
        from: &PhoneNumber,
        to: &PhoneNumber,
        text: &str,
    ) -> Result<(), RestError> {
        let api = self
            .0
            .as_deref()
            .ok_or(RestError::NotConfigured("VONAGE_API_KEY"))?;
        vonage_text(api, from, to, text).await
    }
}

/// The relay's SMS API on a Vonage number.
impl SmsSender for VonageSms {
    async fn send_sms(
        &self,
        _: Provider,
        from: &PhoneNumber,
        to: &PhoneNumber,
        text: &str,
    ) -> Result<(), SendError> {
        self.send(from, to, text).await.map_err(send_error)
    }
}

/// The URLs a Twilio number is bought with, under this deployment's base.
pub fn twilio_urls(base: &str) -> NumberUrls {
    let base = base.trim_end_matches('/');
    NumberUrls {
        voice_url: format!("{base}/twilio/voice"),
        status_callback: format!("{base}/twilio/status"),
        sms_url: format!("{base}/twilio/sms"),
    }
}
