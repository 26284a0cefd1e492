//! Passwords and tokens: the password rules, argon2 hashing (a few hashes at once), session
//! tokens and their stored hashes, and comparing secrets in constant time.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

use crate::service::ServiceError;

/// Shortest password the server accepts.
pub const MIN_PASSWORD_LEN: usize = 8;
/// Longest password the server accepts (and hashes).
pub const MAX_PASSWORD_LEN: usize = 1024;
/// How long a login waits for a hashing slot before it is answered `busy`.
pub(super) const HASH_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// At most a few password hashes at once (argon2 takes a core for tens of milliseconds): a
/// login flood waits for a slot, briefly, or is answered `busy`, and the rest of the server
/// keeps its cores.
#[derive(Debug, Clone)]
pub(super) struct HashSlots {
    slots: std::sync::Arc<tokio::sync::Semaphore>,
    wait: std::time::Duration,
}

impl HashSlots {
    pub(super) fn new(slots: usize, wait: std::time::Duration) -> Self {
        Self {
            slots: std::sync::Arc::new(tokio::sync::Semaphore::new(slots.max(1))),
            wait,
        }
    }

    pub(super) async fn acquire(&self) -> Result<tokio::sync::OwnedSemaphorePermit, ServiceError> {
        match tokio::time::timeout(self.wait, self.slots.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_)) | Err(_) => Err(ServiceError::Busy {
                retry_after_secs: 1,
            }),
        }
    }
}

pub(super) fn validate_password(password: &str) -> Result<(), ServiceError> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(ServiceError::InvalidInput(format!(
            "the password is too short: use at least {MIN_PASSWORD_LEN} characters"
        )));
    }
    if password.len() > MAX_PASSWORD_LEN {
        return Err(ServiceError::InvalidInput(format!(
            "the password is too long: use at most {MAX_PASSWORD_LEN} bytes"
        )));
    }
    Ok(())
}

/// 32 random bytes, URL-safe base64: the session cookie's value.
pub(super) fn new_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A generated password: 18 random bytes in URL-safe base64 (24 characters).
pub fn generate_password() -> String {
    let mut bytes = [0u8; 18];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What the database stores for a session token.
pub(super) fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub(super) async fn hash_password(password: String) -> Result<String, ServiceError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|err| ServiceError::Hashing(err.to_string()))
    })
    .await
    .map_err(|err| ServiceError::Hashing(err.to_string()))?
}

/// Whether `password` matches `hash`; with no hash, a check against a dummy one that spends the
/// same time and always fails.
pub(super) async fn verify_password(
    password: String,
    hash: Option<String>,
) -> Result<bool, ServiceError> {
    tokio::task::spawn_blocking(move || {
        let hash = hash.unwrap_or_else(dummy_hash);
        let parsed = PasswordHash::new(&hash)
            .map_err(|err| ServiceError::Corrupt(format!("stored password hash: {err}")))?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await
    .map_err(|err| ServiceError::Hashing(err.to_string()))?
}

/// A valid argon2 hash of a random password, for timing-equal checks of unknown users.
fn dummy_hash() -> String {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY
        .get_or_init(|| {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default()
                .hash_password(generate_password().as_bytes(), &salt)
                .map(|hash| hash.to_string())
                .unwrap_or_default()
        })
        .clone()
}

/// Whether a secret given by a caller is the expected one, compared in constant time (over
/// their SHA-256, so the length does not show either).
pub fn secrets_match(given: &str, expected: &str) -> bool {
    use sha2::{Digest, Sha256};
    let a = Sha256::digest(given.as_bytes());
    let b = Sha256::digest(expected.as_bytes());
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}
