//! Files in conversations. One a customer sent on WhatsApp is fetched from the channel after
//! the message was stored: its row is `pending` until the delivery worker has the file, then
//! `stored` (with its bytes) or `failed` (with the reason); rows are claimed with a lease, as
//! deliveries are. One uploaded to Baton (the chat window, the dashboard) is `stored` with its
//! message, in the same transaction.

use sqlx::FromRow;

use super::{Store, StoreError, StoreResult};
use crate::domain::new_id;
use crate::domain::upload::Upload;

/// What an inbound message says about its file.
#[derive(Debug, Clone)]
pub struct NewAttachment<'a> {
    pub workspace_id: &'a str,
    pub message_id: &'a str,
    pub conversation_id: &'a str,
    pub channel_id: &'a str,
    pub media_id: &'a str,
    pub kind: &'a str,
    pub mime_type: &'a str,
    pub filename: Option<&'a str>,
    pub sha256: Option<&'a str>,
}

/// An attachment without its bytes: what the history shows and the worker needs.
#[derive(Debug, Clone, FromRow)]
pub struct AttachmentRecord {
    pub id: String,
    pub workspace_id: String,
    pub message_id: String,
    pub conversation_id: String,
    /// The WhatsApp number to fetch a customer's file with, or that an agent's file was
    /// uploaded from (with `media_id`); `None` for a file not (yet) on WhatsApp.
    pub channel_id: Option<String>,
    /// WhatsApp's id of the file, once it has one.
    pub media_id: Option<String>,
    pub kind: String,
    pub mime_type: String,
    pub filename: Option<String>,
    pub sha256: Option<String>,
    pub status: String,
    pub size: Option<i64>,
    pub attempts: i64,
    pub last_error: Option<String>,
}

const COLUMNS: &str = "id, workspace_id, message_id, conversation_id, channel_id, media_id, \
                       kind, mime_type, filename, sha256, status, size, attempts, last_error";

impl Store {
    /// Records a file to fetch, with its `message.attachment` event; a redelivered message's
    /// file is recorded once.
    pub async fn add_attachment(&self, new: NewAttachment<'_>, now: i64) -> StoreResult<()> {
        let mut tx = self.workspace_tx(new.workspace_id).await?;
        let added: Option<AttachmentRecord> = sqlx::query_as(&format!(
            "INSERT INTO attachments (id, workspace_id, message_id, conversation_id, channel_id, \
                 media_id, kind, mime_type, filename, sha256, status, next_attempt_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending', $11, $11) \
             ON CONFLICT (message_id) DO NOTHING RETURNING {COLUMNS}"
        ))
        .bind(new_id("att"))
        .bind(new.workspace_id)
        .bind(new.message_id)
        .bind(new.conversation_id)
        .bind(new.channel_id)
        .bind(new.media_id)
        .bind(new.kind)
        .bind(new.mime_type)
        .bind(new.filename)
        .bind(new.sha256)
        .bind(now)
        .fetch_optional(tx.conn())
        .await?;
        commit_change(tx, added, now).await
    }

    /// Takes up to `limit` pending files that are due, for `lease_ms`.
    pub async fn claim_attachments(
        &self,
        now: i64,
        lease_ms: i64,
        limit: i64,
    ) -> StoreResult<Vec<AttachmentRecord>> {
        Ok(sqlx::query_as(&format!(
            "UPDATE attachments SET locked_until = $1, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM attachments WHERE status = 'pending' \
                 AND next_attempt_at <= $2 AND (locked_until IS NULL OR locked_until < $2) \
                 ORDER BY next_attempt_at LIMIT $3) \
               AND status = 'pending' AND (locked_until IS NULL OR locked_until < $2) \
             RETURNING {COLUMNS}"
        ))
        .bind(now + lease_ms)
        .bind(now)
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }

    /// Keeps the fetched file; a row another worker already finished is left alone.
    pub async fn store_attachment(
        &self,
        attachment: &AttachmentRecord,
        mime_type: &str,
        content: &[u8],
        now: i64,
    ) -> StoreResult<()> {
        // The bytes first, outside the workspace's lock (they may be megabytes); then the
        // status and its event under it.
        sqlx::query(
            "UPDATE attachments SET content = $1, size = $2 WHERE id = $3 AND status = 'pending'",
        )
        .bind(content)
        .bind(content.len() as i64)
        .bind(&attachment.id)
        .execute(self.pool())
        .await?;
        let mut tx = self.workspace_tx(&attachment.workspace_id).await?;
        let stored: Option<AttachmentRecord> = sqlx::query_as(&format!(
            "UPDATE attachments SET status = 'stored', mime_type = $1, locked_until = NULL, \
                 last_error = NULL WHERE id = $2 AND status = 'pending' AND content IS NOT NULL \
             RETURNING {COLUMNS}"
        ))
        .bind(mime_type)
        .bind(&attachment.id)
        .fetch_optional(tx.conn())
        .await?;
        commit_change(tx, stored, now).await
    }

    /// Tries again at `retry_at`, or gives up (`None`), remembering why.
    pub async fn attachment_failed(
        &self,
        attachment: &AttachmentRecord,
        retry_at: Option<i64>,
        error: &str,
        now: i64,
    ) -> StoreResult<()> {
        let status = if retry_at.is_some() {
            "pending"
        } else {
            "failed"
        };
        let mut tx = self.workspace_tx(&attachment.workspace_id).await?;
        let failed: Option<AttachmentRecord> = sqlx::query_as(&format!(
            "UPDATE attachments SET status = $1, next_attempt_at = COALESCE($2, next_attempt_at), \
                 locked_until = NULL, last_error = $3 WHERE id = $4 AND status = 'pending' \
             RETURNING {COLUMNS}"
        ))
        .bind(status)
        .bind(retry_at)
        .bind(error)
        .bind(&attachment.id)
        .fetch_optional(tx.conn())
        .await?;
        commit_change(tx, failed, now).await
    }

    /// Keeps the WhatsApp media id an agent's file was uploaded as, from the number of
    /// `channel_id` (the one that may send it).
    pub async fn set_media_id(
        &self,
        id: &str,
        channel_id: &str,
        media_id: &str,
    ) -> StoreResult<()> {
        sqlx::query("UPDATE attachments SET channel_id = $1, media_id = $2 WHERE id = $3")
            .bind(channel_id)
            .bind(media_id)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// How much the customer's own files in a conversation since `since` (ms) weigh together,
    /// in bytes.
    pub async fn customer_file_bytes(
        &self,
        workspace_id: &str,
        conversation_id: &str,
        since: i64,
    ) -> StoreResult<i64> {
        let (bytes,): (i64,) = sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(a.size), 0) AS BIGINT) FROM attachments a \
             JOIN messages m ON m.id = a.message_id \
             WHERE a.workspace_id = $1 AND a.conversation_id = $2 AND m.author = 'customer' \
               AND a.created_at >= $3",
        )
        .bind(workspace_id)
        .bind(conversation_id)
        .bind(since)
        .fetch_one(self.pool())
        .await?;
        Ok(bytes)
    }

    /// A file without its bytes; another workspace's id is not found.
    pub async fn attachment(&self, workspace_id: &str, id: &str) -> StoreResult<AttachmentRecord> {
        sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM attachments WHERE workspace_id = $1 AND id = $2"
        ))
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound("attachment"))
    }

    /// The files of a conversation's messages, without their bytes.
    pub async fn attachments_of(
        &self,
        workspace_id: &str,
        conversation_id: &str,
    ) -> StoreResult<Vec<AttachmentRecord>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM attachments WHERE workspace_id = $1 AND conversation_id = $2"
        ))
        .bind(workspace_id)
        .bind(conversation_id)
        .fetch_all(self.pool())
        .await?)
    }

    /// A stored file and its bytes; another workspace's id is not found.
    pub async fn attachment_content(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> StoreResult<(AttachmentRecord, Option<Vec<u8>>)> {
        #[derive(FromRow)]
        struct Row {
            #[sqlx(flatten)]
            record: AttachmentRecord,
            content: Option<Vec<u8>>,
        }
        let row: Row = sqlx::query_as(&format!(
            "SELECT {COLUMNS}, content FROM attachments WHERE workspace_id = $1 AND id = $2"
        ))
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound("attachment"))?;
        Ok((row.record, row.content))
    }
}

/// Stores a file uploaded with `message`, in its transaction (before its `message.created`
/// event, which carries it).
pub(super) async fn insert_upload(
    tx: &mut super::WorkspaceTx,
    message: &super::MessageRecord,
    file: &Upload,
    now: i64,
) -> StoreResult<AttachmentRecord> {
    Ok(sqlx::query_as(&format!(
        "INSERT INTO attachments (id, workspace_id, message_id, conversation_id, kind, \
             mime_type, filename, status, size, content, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'stored', $8, $9, $10, $10) RETURNING {COLUMNS}"
    ))
    .bind(new_id("att"))
    .bind(&message.workspace_id)
    .bind(&message.id)
    .bind(&message.conversation_id)
    .bind(file.kind)
    .bind(file.mime_type)
    .bind(&file.filename)
    .bind(file.bytes.len() as i64)
    .bind(&file.bytes)
    .bind(now)
    .fetch_one(tx.conn())
    .await?)
}

/// Commits, telling the conversation's watchers where the file now stands when it changed:
/// recorded, stored, failed, or failing and to be tried again (`last_error` set while
/// `pending`). `None` (nothing changed) commits nothing new.
async fn commit_change(
    mut tx: super::WorkspaceTx,
    changed: Option<AttachmentRecord>,
    now: i64,
) -> StoreResult<()> {
    if let Some(attachment) = changed {
        let seq = tx.next_seq().await?;
        let payload = serde_json::json!({
            "conversation_id": attachment.conversation_id,
            "message_id": attachment.message_id,
            "attachment": crate::views::AttachmentView::from(&attachment),
        });
        tx.record(
            seq,
            "message.attachment",
            Some(&attachment.conversation_id),
            payload,
            now,
        )
        .await?;
    }
    tx.commit().await
}
