//! STUB
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsSignatureMethod {
    Md5Hash,
    Md5,
    Sha1,
    Sha256,
    Sha512,
}
impl SmsSignatureMethod {
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "md5hash" => Some(Self::Md5Hash),
            "md5" => Some(Self::Md5),
            "sha1" => Some(Self::Sha1),
            "sha256" => Some(Self::Sha256),
            "sha512" => Some(Self::Sha512),
            _ => None,
        }
    }
}
#[allow(unused_variables)]
pub fn verify(params: &[(String, String)], secret: &str, method: SmsSignatureMethod) -> bool {
    false
}
#[allow(unused_variables)]
pub fn sign(params: &[(String, String)], secret: &str, method: SmsSignatureMethod) -> String {
    String::new()
}
