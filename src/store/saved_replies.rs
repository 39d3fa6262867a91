//! Saved replies: a workspace's ready answers, each found by its shortcut.

use sqlx::FromRow;

use super::{Store, StoreError, StoreResult, conflict_on_unique};
use crate::domain::{MessageText, Shortcut, new_id};

/// The most saved replies a workspace keeps: every handoff page carries them all.
pub const MAX_SAVED_REPLIES: i64 = 300;

#[derive(Debug, Clone, FromRow)]
pub struct SavedReplyRecord {
    pub id: String,
    pub workspace_id: String,
    pub shortcut: String,
    pub text: String,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, workspace_id, shortcut, text, created_by, created_at, updated_at";

fn taken(err: sqlx::Error, shortcut: &Shortcut) -> StoreError {
    conflict_on_unique(
        err,
        &format!(
            "another saved reply has the shortcut /{}",
            shortcut.as_str()
        ),
    )
}

impl Store {
    /// The workspace's saved replies, by shortcut.
    pub async fn saved_replies(&self, workspace_id: &str) -> StoreResult<Vec<SavedReplyRecord>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM saved_replies WHERE workspace_id = $1 ORDER BY shortcut"
        ))
        .bind(workspace_id)
        .fetch_all(self.pool())
        .await?)
    }

    /// Adds a saved reply, unless its shortcut is taken or the workspace has its fill.
    pub async fn add_saved_reply(
        &self,
        workspace_id: &str,
        created_by: &str,
        shortcut: &Shortcut,
        text: &MessageText,
        now: i64,
    ) -> StoreResult<SavedReplyRecord> {
        let id = new_id("rpl");
        // Under the workspace's lock, so two admins adding at once cannot pass the limit.
        let mut tx = self.workspace_tx(workspace_id).await?;
        let added = sqlx::query(
            "INSERT INTO saved_replies (id, workspace_id, shortcut, text, created_by, created_at, \
             updated_at) SELECT $1, $2, $3, $4, $5, $6, $6 \
             WHERE (SELECT COUNT(*) FROM saved_replies WHERE workspace_id = $2) < $7",
        )
        .bind(&id)
        .bind(workspace_id)
        .bind(shortcut.as_str())
        .bind(text.as_str())
        .bind(created_by)
        .bind(now)
        .bind(MAX_SAVED_REPLIES)
        .execute(tx.conn())
        .await
        .map_err(|err| taken(err, shortcut))?;
        if added.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "a workspace keeps at most {MAX_SAVED_REPLIES} saved replies: delete one first"
            )));
        }
        tx.commit().await?;
        self.saved_reply(workspace_id, &id).await
    }

    pub async fn saved_reply(&self, workspace_id: &str, id: &str) -> StoreResult<SavedReplyRecord> {
        sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM saved_replies WHERE workspace_id = $1 AND id = $2"
        ))
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound("saved reply"))
    }

    /// Changes a saved reply's shortcut, text or both.
    pub async fn change_saved_reply(
        &self,
        workspace_id: &str,
        id: &str,
        shortcut: Option<&Shortcut>,
        text: Option<&MessageText>,
        now: i64,
    ) -> StoreResult<SavedReplyRecord> {
        let changed = sqlx::query(
            "UPDATE saved_replies SET shortcut = COALESCE($1, shortcut), \
             text = COALESCE($2, text), updated_at = $3 WHERE workspace_id = $4 AND id = $5",
        )
        .bind(shortcut.map(Shortcut::as_str))
        .bind(text.map(MessageText::as_str))
        .bind(now)
        .bind(workspace_id)
        .bind(id)
        .execute(self.pool())
        .await
        .map_err(|err| match shortcut {
            Some(shortcut) => taken(err, shortcut),
            None => err.into(),
        })?;
        if changed.rows_affected() == 0 {
            return Err(StoreError::NotFound("saved reply"));
        }
        self.saved_reply(workspace_id, id).await
    }

    pub async fn delete_saved_reply(&self, workspace_id: &str, id: &str) -> StoreResult<()> {
        let deleted = sqlx::query("DELETE FROM saved_replies WHERE workspace_id = $1 AND id = $2")
            .bind(workspace_id)
            .bind(id)
            .execute(self.pool())
            .await?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::NotFound("saved reply"));
        }
        Ok(())
    }
}
