//! Workspaces, users, sessions and API keys.

use sqlx::FromRow;

use super::{Store, StoreError, StoreResult, conflict_on_unique};
use crate::domain::{Email, Name, Role, new_id};

#[derive(Debug, Clone, FromRow)]
pub struct WorkspaceRecord {
    pub id: String,
    pub name: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, FromRow)]
pub struct UserRecord {
    pub id: String,
    pub workspace_id: String,
    pub email: String,
    pub name: String,
    pub role: String,
    /// 1 for the first owner of the installation, the only one who may create workspaces.
    pub instance_owner: i64,
    pub whatsapp_number: Option<String>,
    pub created_at: i64,
    /// 1 while the password is one someone else knows (the printed one-time password).
    pub must_change_password: i64,
    /// 1 while they take no automatically assigned handoffs ([`crate::domain::assignment`]).
    pub away: i64,
    /// When their dashboard last showed a sign of life (its event stream), ms.
    pub seen_at: Option<i64>,
}

impl UserRecord {
    pub fn is_instance_owner(&self) -> bool {
        self.instance_owner == 1
    }

    /// Whether the user must choose their own password before doing anything else.
    pub fn must_change_password(&self) -> bool {
        self.must_change_password == 1
    }

    /// Whether they take no automatically assigned handoffs.
    pub fn is_away(&self) -> bool {
        self.away == 1
    }

    pub fn role(&self) -> Role {
        // The CHECK constraint keeps the column to the three known values.
        Role::parse(&self.role).unwrap_or(Role::Agent)
    }
}

/// A user found by email, with the hash to check their password against.
#[derive(Debug, Clone, FromRow)]
struct UserWithHash {
    #[sqlx(flatten)]
    user: UserRecord,
    password_hash: String,
}

#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub user: UserRecord,
    /// Sent back in forms and `X-CSRF-Token` by the dashboard.
    pub csrf_token: String,
}

#[derive(Debug, Clone, FromRow)]
pub struct ApiKeyRecord {
    pub id: String,
    pub name: String,
    /// The first characters of the key, so a user can tell keys apart without the secret.
    pub prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

const USER_COLUMNS: &str = "u.id, u.workspace_id, u.email, u.name, u.role, u.is_instance_owner AS instance_owner, \
                            u.whatsapp_number, u.created_at, u.must_change_password, u.away, u.seen_at";

/// What is needed to create a user; the password is already hashed.
pub struct NewUser<'a> {
    pub email: &'a Email,
    pub name: &'a Name,
    pub password_hash: &'a str,
    pub role: Role,
    /// The password is one someone else knows: it must be changed at the first login.
    pub must_change_password: bool,
}

impl Store {
    pub async fn count_users(&self) -> StoreResult<i64> {
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users")
            .fetch_one(self.pool())
            .await?;
        Ok(count)
    }

    /// Creates a workspace and its owner in one transaction.
    pub async fn create_workspace(
        &self,
        name: &Name,
        owner: NewUser<'_>,
        instance_owner: bool,
        now: i64,
    ) -> StoreResult<(WorkspaceRecord, UserRecord)> {
        let mut tx = self.pool().begin().await?;
        let workspace = WorkspaceRecord {
            id: new_id("ws"),
            name: name.as_str().to_owned(),
            created_at: now,
        };
        sqlx::query(
            "INSERT INTO workspaces (id, name, event_seq, created_at) VALUES ($1, $2, 0, $3)",
        )
        .bind(&workspace.id)
        .bind(&workspace.name)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let user = insert_user(&mut tx, &workspace.id, owner, instance_owner, now).await?;
        tx.commit().await?;
        Ok((workspace, user))
    }

    pub async fn create_user(
        &self,
        workspace_id: &str,
        user: NewUser<'_>,
        now: i64,
    ) -> StoreResult<UserRecord> {
        let mut tx = self.pool().begin().await?;
        let user = insert_user(&mut tx, workspace_id, user, false, now).await?;
        tx.commit().await?;
        Ok(user)
    }

    pub async fn workspace(&self, id: &str) -> StoreResult<WorkspaceRecord> {
        sqlx::query_as("SELECT id, name, created_at FROM workspaces WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound("workspace"))
    }

    /// The user with this email and their password hash, if any.
    pub async fn user_for_login(&self, email: &Email) -> StoreResult<Option<(UserRecord, String)>> {
        let found: Option<UserWithHash> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.email = $1"
        ))
        .bind(email.as_str())
        .fetch_optional(self.pool())
        .await?;
        Ok(found.map(|f| (f.user, f.password_hash)))
    }

    pub async fn user(&self, workspace_id: &str, user_id: &str) -> StoreResult<UserRecord> {
        sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE u.workspace_id = $1 AND u.id = $2"
        ))
        .bind(workspace_id)
        .bind(user_id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound("user"))
    }

    pub async fn list_users(&self, workspace_id: &str) -> StoreResult<Vec<UserRecord>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE u.workspace_id = $1 ORDER BY u.created_at, u.id"
        ))
        .bind(workspace_id)
        .fetch_all(self.pool())
        .await?)
    }

    /// Links a WhatsApp number to a user (`None` unlinks it): a handoff notification's
    /// Accept tapped from that number claims for them. One member per number in a workspace.
    pub async fn set_whatsapp_number(
        &self,
        workspace_id: &str,
        user_id: &str,
        number: Option<&str>,
    ) -> StoreResult<UserRecord> {
        let updated = sqlx::query(
            "UPDATE users SET whatsapp_number = $1 WHERE workspace_id = $2 AND id = $3",
        )
        .bind(number)
        .bind(workspace_id)
        .bind(user_id)
        .execute(self.pool())
        .await
        .map_err(|e| {
            conflict_on_unique(
                e,
                "another member of the workspace has this WhatsApp number",
            )
        })?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound("user"));
        }
        self.user(workspace_id, user_id).await
    }

    /// Sets whether a member is away: given no handoffs automatically.
    pub async fn set_away(
        &self,
        workspace_id: &str,
        user_id: &str,
        away: bool,
    ) -> StoreResult<UserRecord> {
        let updated = sqlx::query("UPDATE users SET away = $1 WHERE workspace_id = $2 AND id = $3")
            .bind(i64::from(away))
            .bind(workspace_id)
            .bind(user_id)
            .execute(self.pool())
            .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound("user"));
        }
        self.user(workspace_id, user_id).await
    }

    /// Notes that a member's dashboard closed: their last sign of life becomes `expired` (as
    /// long ago as presence lasts), unless a stream marked them after `marked`, this one's
    /// last mark.
    pub async fn mark_gone(&self, user_id: &str, marked: i64, expired: i64) -> StoreResult<()> {
        sqlx::query(
            "UPDATE users SET seen_at = $1 WHERE id = $2 AND seen_at <= $3 AND seen_at > $1",
        )
        .bind(expired)
        .bind(user_id)
        .bind(marked)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Notes that a member's dashboard is open at `now`.
    pub async fn mark_seen(&self, user_id: &str, now: i64) -> StoreResult<()> {
        sqlx::query("UPDATE users SET seen_at = $1 WHERE id = $2")
            .bind(now)
            .bind(user_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// The member of the workspace with this WhatsApp number, if any.
    pub async fn user_by_whatsapp(
        &self,
        workspace_id: &str,
        number: &str,
    ) -> StoreResult<Option<UserRecord>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE u.workspace_id = $1 AND u.whatsapp_number = $2"
        ))
        .bind(workspace_id)
        .bind(number)
        .fetch_optional(self.pool())
        .await?)
    }

    /// Every workspace, oldest first, for the command line.
    pub async fn workspaces(&self) -> StoreResult<Vec<WorkspaceRecord>> {
        Ok(
            sqlx::query_as("SELECT id, name, created_at FROM workspaces ORDER BY created_at, id")
                .fetch_all(self.pool())
                .await?,
        )
    }

    /// Every user of every workspace, for the command line.
    pub async fn all_users(&self) -> StoreResult<Vec<UserRecord>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users u ORDER BY u.workspace_id, u.created_at, u.id"
        ))
        .fetch_all(self.pool())
        .await?)
    }

    /// Gives a user a password someone else chose (`baton user reset-password`): they must
    /// replace it at their next login, and every session of theirs ends now.
    pub async fn reset_password(&self, user_id: &str, hash: &str) -> StoreResult<()> {
        let mut tx = self.pool().begin().await?;
        let updated = sqlx::query(
            "UPDATE users SET password_hash = $1, must_change_password = 1 WHERE id = $2",
        )
        .bind(hash)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound("user"));
        }
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.access_changed(user_id);
        Ok(())
    }

    /// Sets a password the user chose (which lifts any demand to change it).
    pub async fn set_password_hash(&self, user_id: &str, hash: &str) -> StoreResult<()> {
        sqlx::query("UPDATE users SET password_hash = $1, must_change_password = 0 WHERE id = $2")
            .bind(hash)
            .bind(user_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: &str,
        csrf_token: &str,
        now: i64,
        expires_at: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(csrf_token)
        .bind(now)
        .bind(expires_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The user behind a live session token hash.
    pub async fn session(&self, token_hash: &str, now: i64) -> StoreResult<Option<SessionRecord>> {
        #[derive(FromRow)]
        struct Row {
            #[sqlx(flatten)]
            user: UserRecord,
            csrf_token: String,
        }
        let row: Option<Row> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS}, s.csrf_token FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2"
        ))
        .bind(token_hash)
        .bind(now)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|r| SessionRecord {
            user: r.user,
            csrf_token: r.csrf_token,
        }))
    }

    pub async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        let ended: Option<(String,)> =
            sqlx::query_as("DELETE FROM sessions WHERE token_hash = $1 RETURNING user_id")
                .bind(token_hash)
                .fetch_optional(self.pool())
                .await?;
        if let Some((user_id,)) = ended {
            self.access_changed(&user_id);
        }
        Ok(())
    }

    pub async fn delete_sessions_of(&self, user_id: &str) -> StoreResult<()> {
        let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(self.pool())
            .await?;
        if done.rows_affected() > 0 {
            self.access_changed(user_id);
        }
        Ok(())
    }

    /// Tells this node's open streams of this user to check their credentials again (see
    /// [`super::Live::AccessChanged`]).
    pub(super) fn access_changed(&self, user_id: &str) {
        let _ = self.hub.send(super::Live::AccessChanged {
            user_id: user_id.into(),
        });
    }

    pub async fn create_api_key(
        &self,
        user: &UserRecord,
        name: &Name,
        key_hash: &str,
        prefix: &str,
        now: i64,
    ) -> StoreResult<ApiKeyRecord> {
        let record = ApiKeyRecord {
            id: new_id("key"),
            name: name.as_str().to_owned(),
            prefix: prefix.to_owned(),
            created_at: now,
            last_used_at: None,
        };
        sqlx::query(
            "INSERT INTO api_keys (id, workspace_id, user_id, name, key_hash, prefix, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&record.id)
        .bind(&user.workspace_id)
        .bind(&user.id)
        .bind(&record.name)
        .bind(key_hash)
        .bind(prefix)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(record)
    }

    /// A workspace's keys; only those `made_by` that user, when given.
    pub async fn list_api_keys(
        &self,
        workspace_id: &str,
        made_by: Option<&str>,
    ) -> StoreResult<Vec<ApiKeyRecord>> {
        Ok(sqlx::query_as(
            "SELECT id, name, prefix, created_at, last_used_at FROM api_keys \
             WHERE workspace_id = $1 AND ($2 IS NULL OR user_id = $2) ORDER BY created_at, id",
        )
        .bind(workspace_id)
        .bind(made_by)
        .fetch_all(self.pool())
        .await?)
    }

    /// Deletes a key of the workspace (one `made_by` that user, when given); another's is
    /// not found.
    pub async fn delete_api_key(
        &self,
        workspace_id: &str,
        id: &str,
        made_by: Option<&str>,
    ) -> StoreResult<()> {
        let deleted: Option<(String,)> = sqlx::query_as(
            "DELETE FROM api_keys WHERE workspace_id = $1 AND id = $2 \
             AND ($3 IS NULL OR user_id = $3) RETURNING user_id",
        )
        .bind(workspace_id)
        .bind(id)
        .bind(made_by)
        .fetch_optional(self.pool())
        .await?;
        let (user_id,) = deleted.ok_or(StoreError::NotFound("api key"))?;
        self.access_changed(&user_id);
        Ok(())
    }

    /// The user an API key acts for, without counting it as a use.
    pub async fn api_key_holder(&self, key_hash: &str) -> StoreResult<Option<UserRecord>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM api_keys k JOIN users u ON u.id = k.user_id \
             WHERE k.key_hash = $1"
        ))
        .bind(key_hash)
        .fetch_optional(self.pool())
        .await?)
    }

    /// The user an API key acts for (the key's own workspace is the user's), noting the use.
    pub async fn api_key_user(&self, key_hash: &str, now: i64) -> StoreResult<Option<UserRecord>> {
        let user = self.api_key_holder(key_hash).await?;
        if user.is_some() {
            sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE key_hash = $2")
                .bind(now)
                .bind(key_hash)
                .execute(self.pool())
                .await?;
        }
        Ok(user)
    }
}

async fn insert_user(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    workspace_id: &str,
    user: NewUser<'_>,
    instance_owner: bool,
    now: i64,
) -> StoreResult<UserRecord> {
    let record = UserRecord {
        id: new_id("usr"),
        workspace_id: workspace_id.to_owned(),
        email: user.email.as_str().to_owned(),
        name: user.name.as_str().to_owned(),
        role: user.role.as_str().to_owned(),
        instance_owner: i64::from(instance_owner),
        whatsapp_number: None,
        created_at: now,
        must_change_password: i64::from(user.must_change_password),
        away: 0,
        seen_at: None,
    };
    sqlx::query(
        "INSERT INTO users (id, workspace_id, email, name, password_hash, role, \
         is_instance_owner, created_at, must_change_password) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&record.id)
    .bind(&record.workspace_id)
    .bind(&record.email)
    .bind(&record.name)
    .bind(user.password_hash)
    .bind(&record.role)
    .bind(record.instance_owner)
    .bind(now)
    .bind(record.must_change_password)
    .execute(&mut **tx)
    .await
    .map_err(|e| conflict_on_unique(e, "a user with this email already exists"))?;
    Ok(record)
}
