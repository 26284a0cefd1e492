//! Tests of the authentication service.

use super::*;

#[test]
fn usernames_are_checked() {
    assert!(validate_username("admin").is_ok());
    assert!(validate_username("ops.team-1_b").is_ok());
    assert!(validate_username("").is_err());
    assert!(validate_username("a b").is_err());
    assert!(validate_username(&"x".repeat(65)).is_err());
}

#[test]
fn short_passwords_are_refused() {
    assert!(validate_password("1234567").is_err());
    assert!(validate_password("12345678").is_ok());
}

#[test]
fn tokens_are_random_and_stored_hashed() {
    let a = new_token();
    let b = new_token();
    assert_ne!(a, b);
    assert_eq!(a.len(), 43);
    assert_ne!(token_hash(&a), a);
    assert_eq!(token_hash(&a), token_hash(&a));
}

#[tokio::test]
async fn passwords_verify_against_their_hash_only() {
    let hash = hash_password("correct horse".into()).await.unwrap();
    assert!(
        verify_password("correct horse".into(), Some(hash.clone()))
            .await
            .unwrap()
    );
    assert!(
        !verify_password("wrong horse".into(), Some(hash))
            .await
            .unwrap()
    );
}
