//! STUB
use crate::rest::RestError;
use crate::secrets::Secret;
pub struct VonageRest;
#[derive(Debug, Clone)]
pub struct VonageNumber { pub msisdn: String, pub country: String, pub features: Vec<String>, pub kind: Option<String>, pub app_id: Option<String> }
#[derive(Debug, Clone)]
pub struct Insight { pub status: i64, pub status_message: Option<String>, pub international_format_number: Option<String>, pub country_code: Option<String> }
#[allow(unused_variables)]
impl VonageRest {
    pub fn new(http: reqwest::Client, rest_base_url: &str, api_base_url: &str, api_key: Option<String>, api_secret: Secret) -> Self { VonageRest }
    pub async fn search(&self, country: &str, features: &[&str], size: u32, pattern: Option<&str>) -> Result<Vec<VonageNumber>, RestError> { todo!() }
    pub async fn buy(&self, country: &str, msisdn: &str) -> Result<(), RestError> { todo!() }
    pub async fn link(&self, country: &str, msisdn: &str, app_id: &str) -> Result<(), RestError> { todo!() }
    pub async fn cancel(&self, country: &str, msisdn: &str) -> Result<(), RestError> { todo!() }
    pub async fn owned(&self) -> Result<Vec<VonageNumber>, RestError> { todo!() }
    pub async fn send_sms(&self, from: &str, to: &str, text: &str) -> Result<Vec<String>, RestError> { todo!() }
    pub async fn number_insight_basic(&self, number: &str) -> Result<Insight, RestError> { todo!() }
}
