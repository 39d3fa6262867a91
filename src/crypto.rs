//! Encryption of secrets at rest (channel access tokens, app secrets) with AES-256-GCM under a
//! key derived from `BATON_SECRET_KEY`. Stored as `enc:v1:<base64(nonce ‖ ciphertext)>`.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::config::Secret;

const PREFIX: &str = "enc:v1:";

#[derive(Debug, thiserror::Error)]
#[error("a stored secret cannot be decrypted (was BATON_SECRET_KEY changed?)")]
pub struct DecryptError;

fn cipher(key: &Secret) -> Aes256Gcm {
    let digest = Sha256::digest(format!("secrets:{}", key.expose()).as_bytes());
    Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&digest))
}

pub fn encrypt(key: &Secret, plaintext: &str) -> String {
    let mut nonce = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let sealed = cipher(key)
        .encrypt(Nonce::from_slice(&nonce), plaintext.as_bytes())
        .expect("AES-GCM encryption of a short secret cannot fail");
    let mut bytes = nonce.to_vec();
    bytes.extend(sealed);
    format!("{PREFIX}{}", STANDARD.encode(bytes))
}

pub fn decrypt(key: &Secret, stored: &str) -> Result<String, DecryptError> {
    let encoded = stored.strip_prefix(PREFIX).ok_or(DecryptError)?;
    let bytes = STANDARD.decode(encoded).map_err(|_| DecryptError)?;
    if bytes.len() < 12 {
        return Err(DecryptError);
    }
    let (nonce, sealed) = bytes.split_at(12);
    let plain = cipher(key)
        .decrypt(Nonce::from_slice(nonce), sealed)
        .map_err(|_| DecryptError)?;
    String::from_utf8(plain).map_err(|_| DecryptError)
}

/// `••••1234`: enough to recognise a secret, not to use it.
pub fn hint(secret: &str) -> String {
    let tail: String = secret
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("••••{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_round_trips_only_under_its_key() {
        let key = Secret::new("k1");
        let sealed = encrypt(&key, "EAAG-token");
        assert!(sealed.starts_with(PREFIX) && !sealed.contains("EAAG"));
        assert_eq!(decrypt(&key, &sealed).unwrap(), "EAAG-token");
        assert!(decrypt(&Secret::new("k2"), &sealed).is_err());
        assert_ne!(
            encrypt(&key, "same"),
            encrypt(&key, "same"),
            "fresh nonce each time"
        );
        assert_eq!(hint("EAAG-token-1234"), "••••1234");
    }
}
