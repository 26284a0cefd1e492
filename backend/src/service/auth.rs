//! Users, passwords, sessions and the login lockout.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rand_core::{OsRng, RngCore};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder,
};
use sha2::{Digest, Sha256};
use shared::Role;
use shared::api::SessionInfo;

use crate::config::AuthConfig;
use crate::service::ServiceError;
use crate::service::audit::{self, AuditEvent};
use crate::storage::entity::{session, user};

/// Shortest password the server accepts.
pub const MIN_PASSWORD_LEN: usize = 8;

/// The user behind a valid session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatedUser {
    pub user_id: i32,
    pub username: String,
    pub role: Role,
    pub session_id: String,
    pub expires_at: DateTime<Utc>,
}

impl AuthenticatedUser {
    pub fn session_info(&self) -> SessionInfo {
        SessionInfo {
            username: self.username.clone(),
            role: self.role,
            expires_at: self.expires_at,
        }
    }
}

/// A user as listed by `sms user list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSummary {
    pub username: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub locked_until: Option<DateTime<Utc>>,
}

/// Logs users in and out and manages accounts.
#[derive(Debug, Clone)]
pub struct Auth {
    db: DatabaseConnection,
    config: AuthConfig,
}

impl Auth {
    pub fn new(db: DatabaseConnection, config: AuthConfig) -> Self {
        Self { db, config }
    }

    /// Checks the password and opens a session. Returns the cookie token and who logged in.
    /// Every attempt, good or bad, is audited.
    #[tracing::instrument(skip_all, fields(username = %username))]
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        source: Option<String>,
    ) -> Result<(String, AuthenticatedUser), ServiceError> {
        let now = Utc::now();
        let found = user::Entity::find()
            .filter(user::Column::Username.eq(username))
            .one(&self.db)
            .await?;
        let Some(account) = found else {
            // Spend the same time as a real check, so timing does not reveal which names exist.
            // Only the time spent matters here, not the (always failing) result.
            let _ = verify_password(password.to_owned(), dummy_hash()).await;
            self.audit_login_failure(username, source, "unknown user")
                .await?;
            return Err(ServiceError::InvalidCredentials);
        };

        if let Some(until) = account.locked_until
            && until > now
        {
            let retry_after_secs = (until - now).num_seconds().max(1).unsigned_abs();
            self.audit_login_failure(username, source, "refused: too many failed logins")
                .await?;
            return Err(ServiceError::LoginLocked { retry_after_secs });
        }

        if !verify_password(password.to_owned(), account.password_hash.clone()).await? {
            self.note_failed_login(&account, now).await?;
            self.audit_login_failure(username, source, "wrong password")
                .await?;
            return Err(ServiceError::InvalidCredentials);
        }

        let role = parse_role(&account)?;
        let token = new_token();
        let session_id = token_hash(&token);
        let expires_at = now + self.config.session_ttl;
        let txn = crate::storage::db::begin_write(&self.db).await?;
        user::Entity::update_many()
            .col_expr(user::Column::FailedLogins, Expr::value(0))
            .col_expr(
                user::Column::LockedUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(user::Column::Id.eq(account.id))
            .exec(&txn)
            .await?;
        session::ActiveModel {
            id: Set(session_id.clone()),
            user_id: Set(account.id),
            created_at: Set(now),
            expires_at: Set(expires_at),
            source: Set(source.clone()),
        }
        .insert(&txn)
        .await?;
        audit::record_with(&txn, AuditEvent::success("login", username).source(source)).await?;
        txn.commit().await?;

        Ok((
            token,
            AuthenticatedUser {
                user_id: account.id,
                username: account.username,
                role,
                session_id,
                expires_at,
            },
        ))
    }

    async fn audit_login_failure(
        &self,
        username: &str,
        source: Option<String>,
        why: &str,
    ) -> Result<(), ServiceError> {
        audit::record_with(
            &self.db,
            AuditEvent::failure("login", username)
                .source(source)
                .details(why),
        )
        .await
    }

    /// Counts a failed login; the threshold-th failure in a row locks the account for a while.
    async fn note_failed_login(
        &self,
        account: &user::Model,
        now: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        let failures = account.failed_logins.saturating_add(1);
        let threshold = i32::try_from(self.config.lockout_threshold).unwrap_or(i32::MAX);
        let (failures, locked_until) = if failures >= threshold {
            (0, Some(now + self.config.lockout))
        } else {
            (failures, None)
        };
        user::Entity::update_many()
            .col_expr(user::Column::FailedLogins, Expr::value(failures))
            .col_expr(user::Column::LockedUntil, Expr::value(locked_until))
            .filter(user::Column::Id.eq(account.id))
            .exec(&self.db)
            .await?;
        if locked_until.is_some() {
            tracing::warn!(
                username = %account.username,
                "login locked after {threshold} failed attempts"
            );
        }
        Ok(())
    }

    /// The user behind a session token, if the session is valid. Using a session extends it.
    pub async fn authenticate(
        &self,
        token: &str,
    ) -> Result<Option<AuthenticatedUser>, ServiceError> {
        let now = Utc::now();
        let session_id = token_hash(token);
        let Some(found) = session::Entity::find_by_id(session_id.clone())
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        if found.expires_at <= now {
            session::Entity::delete_by_id(session_id)
                .exec(&self.db)
                .await?;
            return Ok(None);
        }
        let Some(account) = user::Entity::find_by_id(found.user_id)
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let role = parse_role(&account)?;

        // Slide the expiry, but write at most about once a minute per session.
        let mut expires_at = found.expires_at;
        let renewed = now + self.config.session_ttl;
        if renewed - expires_at > chrono::Duration::minutes(1) {
            session::Entity::update_many()
                .col_expr(session::Column::ExpiresAt, Expr::value(renewed))
                .filter(session::Column::Id.eq(session_id.clone()))
                .exec(&self.db)
                .await?;
            expires_at = renewed;
        }
        Ok(Some(AuthenticatedUser {
            user_id: account.id,
            username: account.username,
            role,
            session_id,
            expires_at,
        }))
    }

    /// Ends the session and audits the logout.
    pub async fn logout(
        &self,
        who: &AuthenticatedUser,
        source: Option<String>,
    ) -> Result<(), ServiceError> {
        let txn = crate::storage::db::begin_write(&self.db).await?;
        session::Entity::delete_by_id(who.session_id.clone())
            .exec(&txn)
            .await?;
        audit::record_with(
            &txn,
            AuditEvent::success("logout", &who.username).source(source),
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Creates a user. `actor` and `source` say who did it, for the audit log.
    pub async fn add_user(
        &self,
        username: &str,
        role: Role,
        password: &str,
        actor: &str,
        source: Option<String>,
    ) -> Result<(), ServiceError> {
        validate_username(username)?;
        validate_password(password)?;
        let exists = user::Entity::find()
            .filter(user::Column::Username.eq(username))
            .one(&self.db)
            .await?
            .is_some();
        if exists {
            return Err(ServiceError::UserExists(username.to_owned()));
        }
        let hash = hash_password(password.to_owned()).await?;
        let now = Utc::now();
        let txn = crate::storage::db::begin_write(&self.db).await?;
        user::ActiveModel {
            username: Set(username.to_owned()),
            password_hash: Set(hash),
            role: Set(role.as_str().to_owned()),
            failed_logins: Set(0),
            locked_until: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        audit::record_with(
            &txn,
            AuditEvent::success("user_add", actor)
                .target(username)
                .source(source)
                .details(format!("role {role}")),
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Sets a user's password, lifts any lockout and ends the user's sessions.
    pub async fn set_password(
        &self,
        username: &str,
        password: &str,
        actor: &str,
        source: Option<String>,
    ) -> Result<(), ServiceError> {
        validate_password(password)?;
        let account = user::Entity::find()
            .filter(user::Column::Username.eq(username))
            .one(&self.db)
            .await?
            .ok_or_else(|| ServiceError::UserNotFound(username.to_owned()))?;
        let hash = hash_password(password.to_owned()).await?;
        let txn = crate::storage::db::begin_write(&self.db).await?;
        user::Entity::update_many()
            .col_expr(user::Column::PasswordHash, Expr::value(hash))
            .col_expr(user::Column::FailedLogins, Expr::value(0))
            .col_expr(
                user::Column::LockedUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(user::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(user::Column::Id.eq(account.id))
            .exec(&txn)
            .await?;
        session::Entity::delete_many()
            .filter(session::Column::UserId.eq(account.id))
            .exec(&txn)
            .await?;
        audit::record_with(
            &txn,
            AuditEvent::success("user_password_change", actor)
                .target(username)
                .source(source),
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Every user, by name.
    pub async fn list_users(&self) -> Result<Vec<UserSummary>, ServiceError> {
        let rows = user::Entity::find()
            .order_by_asc(user::Column::Username)
            .all(&self.db)
            .await?;
        rows.into_iter()
            .map(|row| {
                Ok(UserSummary {
                    role: parse_role(&row)?,
                    username: row.username,
                    created_at: row.created_at,
                    locked_until: row.locked_until,
                })
            })
            .collect()
    }

    /// On a database without users, creates `admin` with `password`, or with a generated one.
    /// Returns the password when one was generated (the caller prints it once).
    pub async fn ensure_bootstrap_admin(
        &self,
        password: Option<&str>,
    ) -> Result<Option<BootstrapAdmin>, ServiceError> {
        let any_user = user::Entity::find().one(&self.db).await?.is_some();
        if any_user {
            return Ok(None);
        }
        let (password, generated) = match password {
            Some(given) => (given.to_owned(), false),
            None => (generate_password(), true),
        };
        self.add_user(BOOTSTRAP_ADMIN, Role::Admin, &password, "system", None)
            .await?;
        Ok(Some(BootstrapAdmin {
            password,
            generated,
        }))
    }

    /// Whether `username` currently has `password` (no lockout, no audit: for start-up messages).
    pub async fn password_matches(
        &self,
        username: &str,
        password: &str,
    ) -> Result<bool, ServiceError> {
        let Some(account) = user::Entity::find()
            .filter(user::Column::Username.eq(username))
            .one(&self.db)
            .await?
        else {
            return Ok(false);
        };
        verify_password(password.to_owned(), account.password_hash).await
    }

    /// Removes expired sessions.
    pub async fn purge_expired_sessions(&self) -> Result<u64, ServiceError> {
        let done = session::Entity::delete_many()
            .filter(session::Column::ExpiresAt.lte(Utc::now()))
            .exec(&self.db)
            .await?;
        Ok(done.rows_affected)
    }
}

/// The name of the admin created on the first start.
pub const BOOTSTRAP_ADMIN: &str = "admin";

/// The first admin's password, and whether the server made it up.
#[derive(Debug, Clone)]
pub struct BootstrapAdmin {
    pub password: String,
    pub generated: bool,
}

fn parse_role(account: &user::Model) -> Result<Role, ServiceError> {
    account.role.parse().map_err(|_| {
        ServiceError::Corrupt(format!(
            "user `{}` has the unknown role `{}`",
            account.username, account.role
        ))
    })
}

fn validate_username(username: &str) -> Result<(), ServiceError> {
    let ok = (1..=64).contains(&username.len())
        && username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(ServiceError::InvalidInput(format!(
            "`{username}` is not a valid username: use 1 to 64 letters, digits, `.`, `_` or `-`"
        )))
    }
}

fn validate_password(password: &str) -> Result<(), ServiceError> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(ServiceError::InvalidInput(format!(
            "the password is too short: use at least {MIN_PASSWORD_LEN} characters"
        )));
    }
    if password.len() > 1024 {
        return Err(ServiceError::InvalidInput(
            "the password is too long: use at most 1024 bytes".into(),
        ));
    }
    Ok(())
}

/// 32 random bytes, URL-safe base64: the session cookie's value.
fn new_token() -> String {
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
fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

async fn hash_password(password: String) -> Result<String, ServiceError> {
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

async fn verify_password(password: String, hash: String) -> Result<bool, ServiceError> {
    tokio::task::spawn_blocking(move || {
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

#[cfg(test)]
mod tests {
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
            verify_password("correct horse".into(), hash.clone())
                .await
                .unwrap()
        );
        assert!(!verify_password("wrong horse".into(), hash).await.unwrap());
    }
}
