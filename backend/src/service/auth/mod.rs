//! Users, passwords and sessions; logins are throttled by [`crate::service::throttle`], and
//! passwords are hashed and tokens made in `secrets.rs`.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
};
use shared::Role;
use shared::api::SessionInfo;

use crate::service::ServiceError;
use crate::service::audit::{self, AuditEvent};
use crate::service::throttle::{Attempt, LoginThrottle, ThrottleLimits};
use crate::storage::db::Db;
use crate::storage::entity::{session, user};

mod secrets;
mod settings;

use secrets::{
    HASH_WAIT, HashSlots, hash_password, new_token, token_hash, validate_password, verify_password,
};
pub use secrets::{MAX_PASSWORD_LEN, MIN_PASSWORD_LEN, generate_password, secrets_match};
pub use settings::AuthConfig;

/// Longest user name.
pub const MAX_USERNAME_LEN: usize = 64;

/// The user behind a valid session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatedUser {
    pub user_id: i32,
    pub username: String,
    pub role: Role,
    pub session_id: String,
    pub expires_at: DateTime<Utc>,
    /// The user must choose a new password before anything else.
    pub must_change_password: bool,
}

impl AuthenticatedUser {
    pub fn session_info(&self) -> SessionInfo {
        SessionInfo {
            username: self.username.clone(),
            role: self.role,
            expires_at: self.expires_at,
            must_change_password: self.must_change_password,
        }
    }
}

/// A user as listed by `sms user list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSummary {
    pub username: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

/// Logs users in and out and manages accounts.
#[derive(Debug, Clone)]
pub struct Auth {
    db: Db,
    config: AuthConfig,
    throttle: LoginThrottle,
    hashing: HashSlots,
}

impl Auth {
    pub fn new(db: Db, config: AuthConfig) -> Self {
        Self {
            db,
            throttle: LoginThrottle::new(ThrottleLimits {
                per_user_and_address: config.lockout_threshold,
                per_address: config.address_lockout_threshold,
                block: config.lockout,
                window: config.failure_window,
            }),
            hashing: HashSlots::new(config.parallel_hashes, HASH_WAIT),
            config,
        }
    }

    /// A guess of `username`'s password from `source` begins: refused (429) while the throttle
    /// holds that name or address back, or (503) when every hashing slot stays taken. The
    /// attempt must then be judged, and the permit held while the password is hashed.
    async fn begin_guess(
        &self,
        username: &str,
        source: Option<&str>,
    ) -> Result<(Attempt, tokio::sync::OwnedSemaphorePermit), ServiceError> {
        let address = source.and_then(|s| s.parse().ok());
        let attempt = self.throttle.begin(username, address).map_err(|refused| {
            tracing::debug!(source = ?source, "password guess refused: throttled");
            ServiceError::LoginLocked {
                retry_after_secs: refused.retry_after.as_secs().max(1),
            }
        })?;
        match self.hashing.acquire().await {
            Ok(permit) => Ok((attempt, permit)),
            Err(busy) => {
                self.throttle.not_judged(attempt);
                Err(busy)
            }
        }
    }

    /// Checks the password and opens a session. Returns the cookie token and who logged in.
    /// Every judged attempt, good or bad, is audited; a throttled one is refused before its
    /// password is looked at (429), and so is one that finds every hashing slot taken (503).
    #[tracing::instrument(skip_all, fields(username = %username))]
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        source: Option<String>,
    ) -> Result<(String, AuthenticatedUser), ServiceError> {
        if username.is_empty() || username.len() > MAX_USERNAME_LEN {
            return Err(ServiceError::InvalidInput(format!(
                "the username must be 1 to {MAX_USERNAME_LEN} bytes long"
            )));
        }
        if password.len() > MAX_PASSWORD_LEN {
            return Err(ServiceError::InvalidInput(format!(
                "the password is longer than {MAX_PASSWORD_LEN} bytes, so it cannot be right"
            )));
        }
        let (attempt, permit) = self.begin_guess(username, source.as_deref()).await?;
        let now = Utc::now();
        let found = user::Entity::find()
            .filter(user::Column::Username.eq(username))
            .one(&self.db)
            .await?;
        let Some(account) = found else {
            // Spend the same time as a real check, so timing does not reveal which names exist.
            // Only the time spent matters here, not the (always failing) result.
            let _ = verify_password(password.to_owned(), None).await;
            drop(permit);
            self.audit_login_failure(username, source, "unknown user")
                .await?;
            return Err(ServiceError::InvalidCredentials);
        };
        let right =
            verify_password(password.to_owned(), Some(account.password_hash.clone())).await?;
        drop(permit);
        if !right {
            self.audit_login_failure(username, source, "wrong password")
                .await?;
            return Err(ServiceError::InvalidCredentials);
        }
        self.throttle.succeeded(attempt);

        let role = parse_role(&account)?;
        let token = new_token();
        let session_id = token_hash(&token);
        let expires_at = (now + self.config.session_ttl).min(now + self.config.session_max_age);
        let txn = crate::storage::db::begin_write(&self.db).await?;
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
                must_change_password: account.must_change_password,
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
        let ends_at = found.created_at + self.config.session_max_age;
        if found.expires_at <= now || ends_at <= now {
            let removed = session::Entity::delete_by_id(session_id)
                .exec(&self.db)
                .await;
            // An ended session is refused either way; the purge removes it later.
            if let Err(err) = removed {
                tolerate_full_disk(err, "cannot remove an ended session")?;
            }
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
        let renewed = (now + self.config.session_ttl).min(ends_at);
        if renewed - expires_at > chrono::Duration::minutes(1) {
            let slid = session::Entity::update_many()
                .col_expr(session::Column::ExpiresAt, Expr::value(renewed))
                .filter(session::Column::Id.eq(session_id.clone()))
                .exec(&self.db)
                .await;
            // On a full disk the session keeps its expiry for now: reading the panel (and its
            // warning) must not need a write.
            match slid {
                Ok(_) => expires_at = renewed,
                Err(err) => tolerate_full_disk(err, "cannot extend a session")?,
            }
        }
        Ok(Some(AuthenticatedUser {
            user_id: account.id,
            username: account.username,
            role,
            session_id,
            expires_at,
            must_change_password: account.must_change_password,
        }))
    }

    /// Whether the session `session_id` is still valid, without extending it: what an open
    /// event stream checks, so it ends soon after its session (logout, expiry, a password
    /// change, the user removed).
    pub async fn session_alive(&self, session_id: &str) -> Result<bool, ServiceError> {
        let now = Utc::now();
        let Some(found) = session::Entity::find_by_id(session_id.to_owned())
            .one(&self.db)
            .await?
        else {
            return Ok(false);
        };
        if found.expires_at <= now || found.created_at + self.config.session_max_age <= now {
            return Ok(false);
        }
        Ok(user::Entity::find_by_id(found.user_id)
            .one(&self.db)
            .await?
            .is_some())
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
        let permit = self.hashing.acquire().await?;
        let hash = hash_password(password.to_owned()).await?;
        drop(permit);
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
            must_change_password: Set(false),
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

    /// Sets a user's password and ends the user's sessions.
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
        let permit = self.hashing.acquire().await?;
        let hash = hash_password(password.to_owned()).await?;
        drop(permit);
        let txn = crate::storage::db::begin_write(&self.db).await?;
        replace_password(&txn, account.id, hash, None).await?;
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

    /// The logged-in user changes their own password: `current` must be the one they have,
    /// `new` a valid other one. Their other sessions end (this one goes on), and the password
    /// no longer needs changing. Audited either way.
    pub async fn change_own_password(
        &self,
        who: &AuthenticatedUser,
        current: &str,
        new: &str,
        source: Option<String>,
    ) -> Result<AuthenticatedUser, ServiceError> {
        validate_password(new)?;
        let account = user::Entity::find_by_id(who.user_id)
            .one(&self.db)
            .await?
            .ok_or_else(|| ServiceError::UserNotFound(who.username.clone()))?;
        // Guesses of the current password count with the logins' guesses of the same name from
        // the same address: a stolen session does not make an unthrottled password oracle.
        let (attempt, permit) = self.begin_guess(&who.username, source.as_deref()).await?;
        let right = current.len() <= MAX_PASSWORD_LEN
            && verify_password(current.to_owned(), Some(account.password_hash)).await?;
        if right {
            self.throttle.succeeded(attempt);
        } else {
            drop(permit);
            audit::record_with(
                &self.db,
                AuditEvent::failure("user_password_change", &who.username)
                    .target(&who.username)
                    .source(source)
                    .details("wrong current password"),
            )
            .await?;
            return Err(ServiceError::WrongPassword);
        }
        // Only once the current one is proven: the answer says nothing about it before.
        if new == current {
            return Err(ServiceError::SamePassword);
        }
        let hash = hash_password(new.to_owned()).await?;
        drop(permit);
        let txn = crate::storage::db::begin_write(&self.db).await?;
        replace_password(&txn, account.id, hash, Some(&who.session_id)).await?;
        audit::record_with(
            &txn,
            AuditEvent::success("user_password_change", &who.username)
                .target(&who.username)
                .source(source),
        )
        .await?;
        txn.commit().await?;
        Ok(AuthenticatedUser {
            must_change_password: false,
            ..who.clone()
        })
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
                })
            })
            .collect()
    }

    /// On a database without users, creates `admin` with `password`, or with a generated one.
    /// Returns the password when one was generated (the caller prints it). A generated password
    /// must be changed at the first login, except in demo mode (`demo`), where the server prints
    /// it at every start and the newcomer's first screen is the panel.
    pub async fn ensure_bootstrap_admin(
        &self,
        password: Option<&str>,
        demo: bool,
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
        if generated && !demo {
            // Printed once, to a log: the admin chooses their own at the first login.
            user::Entity::update_many()
                .col_expr(user::Column::MustChangePassword, Expr::value(true))
                .filter(user::Column::Username.eq(BOOTSTRAP_ADMIN))
                .exec(&self.db)
                .await?;
        }
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
        let _permit = self.hashing.acquire().await?;
        verify_password(password.to_owned(), Some(account.password_hash)).await
    }

    /// Removes the sessions that ended (idle too long, or older than their absolute lifetime).
    pub async fn purge_expired_sessions(&self) -> Result<u64, ServiceError> {
        let now = Utc::now();
        let done = session::Entity::delete_many()
            .filter(
                sea_orm::Condition::any()
                    .add(session::Column::ExpiresAt.lte(now))
                    .add(session::Column::CreatedAt.lte(now - self.config.session_max_age)),
            )
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
    let ok = (1..=MAX_USERNAME_LEN).contains(&username.len())
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

/// Stores `hash` as the password of `user_id` (which then needs no change) and ends the user's
/// sessions: all of them, or all but `keep`.
async fn replace_password(
    db: &impl sea_orm::ConnectionTrait,
    user_id: i32,
    hash: String,
    keep: Option<&str>,
) -> Result<(), ServiceError> {
    user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(hash))
        .col_expr(user::Column::MustChangePassword, Expr::value(false))
        .col_expr(user::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    let mut ended = session::Entity::delete_many().filter(session::Column::UserId.eq(user_id));
    if let Some(keep) = keep {
        ended = ended.filter(session::Column::Id.ne(keep));
    }
    ended.exec(db).await?;
    Ok(())
}

/// Logs a write that found the disk full and goes on without it; any other error is returned.
fn tolerate_full_disk(err: sea_orm::DbErr, what: &str) -> Result<(), ServiceError> {
    if crate::storage::space::db_is_full(&err).is_none() {
        return Err(err.into());
    }
    tracing::warn!("{what}: {err}; going on without it");
    Ok(())
}

#[cfg(test)]
mod tests;
