//! STUB
use crate::rest::RestError;
use crate::secrets::Secret;
pub struct TwilioRest;
pub struct NumberUrls { pub voice_url: String, pub status_callback: String, pub sms_url: String }
#[derive(Debug, Clone)]
pub struct TwilioNumber { pub sid: String, pub phone_number: String, pub iso_country: Option<String> }
#[allow(unused_variables)]
impl TwilioRest {
    pub fn new(http: reqwest::Client, api_base_url: &str, account_sid: Option<String>, auth_token: Secret) -> Self { TwilioRest }
    pub async fn available(&self, country: &str, features: &[&str], count: u32) -> Result<Vec<String>, RestError> { todo!() }
    pub async fn buy(&self, phone_number: &str, urls: &NumberUrls) -> Result<TwilioNumber, RestError> { todo!() }
    pub async fn release(&self, sid: &str) -> Result<(), RestError> { todo!() }
    pub async fn owned(&self) -> Result<Vec<TwilioNumber>, RestError> { todo!() }
    pub async fn send_message(&self, from: &str, to: &str, body: &str) -> Result<String, RestError> { todo!() }
}
