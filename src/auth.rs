//! Secrets that prove who someone is: password hashes (argon2), session tokens and API keys
//! (random, stored only as SHA-256 digests, so a database leak does not leak credentials).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

use hmac::{Hmac, Mac};

use crate::config::Secret;
use crate::domain::Password;

/// Hashes a password with argon2id; slow on purpose, so call it off the async threads.
pub fn hash_password(password: &Password) -> String {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.expose().as_bytes(), &salt)
        .expect("argon2 hashing with default parameters cannot fail")
        .to_string()
}

/// Checks a password against a stored hash; an unreadable hash never matches.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash of nothing in particular, checked when the email is unknown so that a login for a
/// missing account takes as long as one with a wrong password.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password(&Password::parse("decoy password").expect("valid")))
}

/// 32 random bytes as URL-safe text: session tokens, API keys, widget keys.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What the database keeps of a bearer secret.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Prefix of every API key, so that leaked keys are easy to find in code and logs.
pub const API_KEY_PREFIX: &str = "baton_";

pub fn new_api_key() -> String {
    format!("{API_KEY_PREFIX}{}", random_token())
}

/// A readable password for the owner when none was configured.
pub fn one_time_password() -> String {
    random_token()[..20].to_owned()
}

/// Who a widget visitor is: the token a browser keeps so a returning visitor gets their own
/// conversation back, and nobody else's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visitor {
    pub workspace_id: String,
    pub bot_id: String,
    pub contact_id: String,
    pub conversation_id: String,
}

fn visitor_mac(key: &Secret) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(format!("visitor:{}", key.expose()).as_bytes())
        .expect("HMAC takes keys of any length")
}

/// `payload.signature`, both base64url; the payload is the ids joined by spaces.
pub fn sign_visitor(key: &Secret, visitor: &Visitor) -> String {
    let payload = format!(
        "v1 {} {} {} {}",
        visitor.workspace_id, visitor.bot_id, visitor.contact_id, visitor.conversation_id
    );
    let mut mac = visitor_mac(key);
    mac.update(payload.as_bytes());
    let signature = mac.finalize().into_bytes();
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(payload),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

/// The visitor a token names, if its signature is ours (checked in constant time).
pub fn verify_visitor(key: &Secret, token: &str) -> Option<Visitor> {
    let (payload, signature) = token.split_once('.')?;
    let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    let mut mac = visitor_mac(key);
    mac.update(&payload);
    mac.verify_slice(&signature).ok()?;
    let payload = String::from_utf8(payload).ok()?;
    let mut parts = payload.split(' ');
    if parts.next()? != "v1" {
        return None;
    }
    let visitor = Visitor {
        workspace_id: parts.next()?.to_owned(),
        bot_id: parts.next()?.to_owned(),
        contact_id: parts.next()?.to_owned(),
        conversation_id: parts.next()?.to_owned(),
    };
    parts.next().is_none().then_some(visitor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visitor_tokens_verify_only_with_our_key_and_untouched() {
        let key = Secret::new("k1");
        let visitor = Visitor {
            workspace_id: "ws_1".into(),
            bot_id: "bot_1".into(),
            contact_id: "cus_1".into(),
            conversation_id: "cnv_1".into(),
        };
        let token = sign_visitor(&key, &visitor);
        assert_eq!(verify_visitor(&key, &token), Some(visitor));
        assert_eq!(verify_visitor(&Secret::new("k2"), &token), None);
        let forged = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode("v1 ws_2 bot_1 cus_1 cnv_9"),
            token.split_once('.').unwrap().1
        );
        assert_eq!(verify_visitor(&key, &forged), None);
        assert_eq!(verify_visitor(&key, "garbage"), None);
    }

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let hash = hash_password(&Password::parse("correct horse").unwrap());
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn tokens_are_random_and_digests_stable() {
        assert_ne!(random_token(), random_token());
        assert_eq!(digest("abc"), digest("abc"));
        assert_eq!(digest("abc").len(), 64);
        assert!(new_api_key().starts_with(API_KEY_PREFIX));
    }
}
