//! People and their credentials: the owner made on first start, logins, agents, workspaces.

use std::time::Duration;

use anyhow::Context;

use crate::auth;
use crate::config::Config;
use crate::domain::{Clock, Email, Name, Password, Role};
use crate::state::FirstStart;
use crate::store::{NewUser, Store, StoreResult, UserRecord, WorkspaceRecord};

/// How long a dashboard login lasts.
pub const SESSION_TTL_MS: i64 = 30 * 24 * 60 * 60 * 1000;

const DEFAULT_OWNER_EMAIL: &str = "admin@baton.local";

/// Creates the instance owner and their workspace when the database has no user yet.
pub async fn ensure_owner(
    store: &Store,
    config: &Config,
    clock: &Clock,
) -> anyhow::Result<Option<FirstStart>> {
    if store.count_users().await? > 0 {
        return Ok(None);
    }
    let email = Email::parse(config.admin_email.as_deref().unwrap_or(DEFAULT_OWNER_EMAIL))
        .context("BATON_ADMIN_EMAIL")?;
    let (password, one_time) = match &config.admin_password {
        Some(given) => (
            Password::configured(given.expose()).context("BATON_ADMIN_PASSWORD")?,
            None,
        ),
        None => {
            let generated = auth::one_time_password();
            (Password::parse(&generated)?, Some(generated))
        }
    };
    let hash = hash(password).await;
    let owner = NewUser {
        email: &email,
        name: &Name::parse("name", "Owner")?,
        password_hash: &hash,
        role: Role::Owner,
        // A password printed to the log is the owner's only until they choose their own.
        must_change_password: one_time.is_some(),
    };
    let workspace = Name::parse("workspace", "My workspace")?;
    match store
        .create_workspace(&workspace, owner, true, clock.now_ms())
        .await
    {
        Ok(_) => {}
        // Another node sharing the database created the owner first.
        Err(crate::store::StoreError::Conflict(_)) => return Ok(None),
        Err(err) => return Err(err.into()),
    }
    Ok(Some(FirstStart {
        email: email.to_string(),
        one_time_password: one_time,
    }))
}

/// Why a password change was refused; the message is shown as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRefusal {
    #[error("the current password is wrong")]
    WrongCurrent,
    /// A password someone else knows (the printed one) must really be replaced.
    #[error("choose a password other than the current one")]
    Unchanged,
}

/// Checks the current password, sets the new one and ends every session of the user (they
/// log in again with it).
pub async fn change_password(
    state: &crate::state::AppState,
    user: &UserRecord,
    current: String,
    new: Password,
) -> StoreResult<Result<(), PasswordRefusal>> {
    if new.expose() == current {
        return Ok(Err(PasswordRefusal::Unchanged));
    }
    if check_login(&state.store, &user.email, current)
        .await?
        .is_none()
    {
        return Ok(Err(PasswordRefusal::WrongCurrent));
    }
    let hash = hash(new).await;
    state.store.set_password_hash(&user.id, &hash).await?;
    state.store.delete_sessions_of(&user.id).await?;
    Ok(Ok(()))
}

/// How many argon2 computations run at once. Each takes 19 MiB and tens of milliseconds of CPU
/// on purpose, and a login for an unknown email still runs one (so timing reveals nothing):
/// without a bound, a flood of logins with ever new emails would exhaust memory. They queue.
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

/// Runs argon2 work off the async threads, within [`HASHING`]. The permit goes with the work,
/// so a client that hangs up does not free it while the hash still runs.
async fn argon2<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    HASHING
        .acquire()
        .await
        .expect("the semaphore is never closed")
        .forget();
    // Moved into the work, so it is dropped — and the permit given back — when the work ends,
    // or with the work if it never runs.
    let release = Release;
    let task = tokio::task::spawn_blocking(move || {
        let _release = release;
        work()
    });
    task.await.expect("the hashing task does not panic")
}

/// Gives a [`HASHING`] permit back when the blocking work ends, however it ends.
struct Release;

impl Drop for Release {
    fn drop(&mut self) {
        HASHING.add_permits(1);
    }
}

/// An argon2 hash of a new password.
pub async fn hash(password: Password) -> String {
    argon2(move || auth::hash_password(&password)).await
}

/// How a caller proved who they are, kept by a long-lived stream so it can ask again.
#[derive(Debug, Clone)]
pub enum Credential {
    /// The digest of a session cookie.
    Session(String),
    /// The digest of an API key.
    ApiKey(String),
}

impl Credential {
    /// The user this credential stands for now, for a request (a key's use is noted):
    /// `None` once the session has ended (logout, a password change, expiry, the member
    /// removed) or the key was deleted.
    pub async fn user(&self, store: &Store, now: i64) -> StoreResult<Option<UserRecord>> {
        match self {
            Credential::ApiKey(digest) => store.api_key_user(digest, now).await,
            Credential::Session(_) => self.holder(store, now).await,
        }
    }

    /// The same, for a stream checking it still may read: nothing is written.
    pub async fn holder(&self, store: &Store, now: i64) -> StoreResult<Option<UserRecord>> {
        match self {
            Credential::Session(digest) => Ok(store
                .session(digest, now)
                .await?
                .map(|session| session.user)),
            Credential::ApiKey(digest) => store.api_key_holder(digest).await,
        }
    }
}

/// What a login attempt came to.
pub enum Login {
    User(UserRecord),
    /// Wrong email or password; counted against the email.
    Refused,
    /// Too many wrong passwords for this email of late: nothing was checked. The wait is how
    /// long until an attempt may be made.
    Throttled(Duration),
}

/// Checks an email and password, unless this email has had ten wrong passwords in the last
/// minute; a wrong one counts towards that, a right one costs nothing.
pub async fn log_in(
    state: &crate::state::AppState,
    email: &str,
    password: String,
) -> StoreResult<Login> {
    let key = email.trim().to_lowercase();
    if let Err(wait) = state.limits.logins.attempt(&key) {
        return Ok(Login::Throttled(wait));
    }
    Ok(match check_login(&state.store, email, password).await? {
        Some(user) => {
            state.limits.logins.succeeded(&key);
            Login::User(user)
        }
        None => Login::Refused,
    })
}

/// The user whose email and password these are, taking the same time whether or not the email
/// exists.
pub async fn check_login(
    store: &Store,
    email: &str,
    password: String,
) -> StoreResult<Option<UserRecord>> {
    let found = match Email::parse(email) {
        Ok(email) => store.user_for_login(&email).await?,
        Err(_) => None,
    };
    let hash = found
        .as_ref()
        .map(|(_, hash)| hash.clone())
        .unwrap_or_else(|| auth::decoy_hash().to_owned());
    let ok = argon2(move || auth::verify_password(&password, &hash)).await;
    Ok(found.filter(|_| ok).map(|(user, _)| user))
}

/// Starts a session; answers the token for the cookie and the CSRF token for forms.
pub async fn open_session(
    store: &Store,
    clock: &Clock,
    user: &UserRecord,
) -> StoreResult<(String, String)> {
    let token = auth::random_token();
    let csrf = auth::random_token();
    let now = clock.now_ms();
    store
        .create_session(
            &auth::digest(&token),
            &user.id,
            &csrf,
            now,
            now + SESSION_TTL_MS,
        )
        .await?;
    Ok((token, csrf))
}

/// A new workspace with its own owner, made by the instance owner.
pub async fn create_workspace(
    store: &Store,
    clock: &Clock,
    name: Name,
    email: Email,
    owner_name: Name,
    password: Password,
) -> StoreResult<(WorkspaceRecord, UserRecord)> {
    let hash = hash(password).await;
    let owner = NewUser {
        email: &email,
        name: &owner_name,
        password_hash: &hash,
        role: Role::Owner,
        must_change_password: false,
    };
    store
        .create_workspace(&name, owner, false, clock.now_ms())
        .await
}
