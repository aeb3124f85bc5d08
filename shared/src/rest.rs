//! STUB (replaced by the helper's module).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RestError {
    #[error("the provider refused our credentials: {0}")]
    AuthRefused(String),
    #[error("the provider has no numbers matching the search")]
    NoneAvailable,
    #[error("the provider is rate limiting us; retry after {retry_after_seconds:?} s")]
    RateLimited { retry_after_seconds: Option<u64> },
    #[error("the provider refused the request ({code}): {reason}")]
    Refused { status: u16, code: String, reason: String },
    #[error("the provider is unavailable: {0}")]
    Unavailable(String),
    #[error("{0} is not configured")]
    NotConfigured(&'static str),
}
impl RestError {
    pub fn reason(&self) -> String {
        self.to_string()
    }
}
pub fn http_client() -> reqwest::Client {
    reqwest::Client::new()
}
