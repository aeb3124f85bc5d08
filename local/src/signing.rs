//! Webhooks signed as the providers sign them, for the tests and
//! `make bench`.

use sha2::Digest;

/// `Authorization` for a Vonage webhook: HS256 over claims whose
/// `payload_hash` is the SHA-256 of `payload`, issued now, a fresh `jti`.
pub fn vonage_bearer(secret: &str, payload: &[u8]) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let claims = serde_json::json!({"iat": now, "jti": uuid::Uuid::new_v4().to_string(),
        "iss": "Vonage", "payload_hash": hex::encode(sha2::Sha256::digest(payload))});
    vonage_bearer_of(secret, &claims)
}

/// `Authorization` for a Vonage webhook whose claims are given whole: for
/// tokens no honest signer makes (odd `iat`, huge `jti`).
pub fn vonage_bearer_of(secret: &str, claims: &serde_json::Value) -> String {
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap_or_default();
    format!("Bearer {token}")
}
