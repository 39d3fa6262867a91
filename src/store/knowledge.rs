//! Knowledge-base documents and the chunks they are cut into. The database is the source of
//! truth; search indexes are rebuilt from these rows.

use sqlx::FromRow;

use super::{Store, StoreError, StoreResult};
use crate::domain::{KbLanguage, new_id};

#[derive(Debug, Clone, FromRow)]
pub struct DocumentRecord {
    pub id: String,
    pub bot_id: String,
    pub title: String,
    pub format: String,
    pub chunks: i64,
    pub created_at: i64,
}

#[derive(Debug, Clone, FromRow)]
pub struct ChunkRecord {
    pub id: String,
    pub document_id: String,
    pub title: String,
    pub heading: String,
    pub body: String,
}

/// A document about to be stored, already cut into `(heading, body)` chunks.
pub struct NewDocument<'a> {
    pub title: &'a str,
    pub format: &'a str,
    pub content: &'a str,
    pub chunks: &'a [(String, String)],
}

/// What storing a document does to the bot's documents with the same title.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameTitle {
    /// Both stay (the API: two uploads are two documents).
    Keep,
    /// The new one replaces them (an import run again after the files changed).
    Replace,
}

impl Store {
    /// Stores a document and its chunks, and marks the bot's index stale.
    pub async fn add_document(
        &self,
        workspace_id: &str,
        bot_id: &str,
        document: NewDocument<'_>,
        now: i64,
    ) -> StoreResult<DocumentRecord> {
        let (record, _) = self
            .put_document(workspace_id, bot_id, document, SameTitle::Keep, now)
            .await?;
        Ok(record)
    }

    /// Stores a document as [`Store::add_document`] does; with [`SameTitle::Replace`] the
    /// bot's documents with the same title go in the same transaction, so a search sees the
    /// old version or the new one, never both or neither. Returns how many were replaced.
    pub async fn put_document(
        &self,
        workspace_id: &str,
        bot_id: &str,
        document: NewDocument<'_>,
        same_title: SameTitle,
        now: i64,
    ) -> StoreResult<(DocumentRecord, u64)> {
        let NewDocument {
            title,
            format,
            content,
            chunks,
        } = document;
        let mut tx = self.pool().begin().await?;
        let bumped = sqlx::query(
            "UPDATE bots SET kb_version = kb_version + 1 WHERE workspace_id = $1 AND id = $2",
        )
        .bind(workspace_id)
        .bind(bot_id)
        .execute(&mut *tx)
        .await?;
        if bumped.rows_affected() == 0 {
            return Err(StoreError::NotFound("bot"));
        }
        let replaced = match same_title {
            SameTitle::Keep => 0,
            SameTitle::Replace => sqlx::query(
                "DELETE FROM documents WHERE workspace_id = $1 AND bot_id = $2 AND title = $3",
            )
            .bind(workspace_id)
            .bind(bot_id)
            .bind(title)
            .execute(&mut *tx)
            .await?
            .rows_affected(),
        };
        let id = new_id("doc");
        sqlx::query(
            "INSERT INTO documents (id, workspace_id, bot_id, title, format, content, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&id)
        .bind(workspace_id)
        .bind(bot_id)
        .bind(title)
        .bind(format)
        .bind(content)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        for (ordinal, (heading, body)) in chunks.iter().enumerate() {
            sqlx::query(
                "INSERT INTO chunks (id, document_id, bot_id, ordinal, heading, body) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(new_id("chk"))
            .bind(&id)
            .bind(bot_id)
            .bind(i64::try_from(ordinal).unwrap_or(i64::MAX))
            .bind(heading)
            .bind(body)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        let record = DocumentRecord {
            id,
            bot_id: bot_id.to_owned(),
            title: title.to_owned(),
            format: format.to_owned(),
            chunks: i64::try_from(chunks.len()).unwrap_or(i64::MAX),
            created_at: now,
        };
        Ok((record, replaced))
    }

    pub async fn list_documents(
        &self,
        workspace_id: &str,
        bot_id: &str,
    ) -> StoreResult<Vec<DocumentRecord>> {
        Ok(sqlx::query_as(
            "SELECT d.id, d.bot_id, d.title, d.format, \
               (SELECT COUNT(*) FROM chunks c WHERE c.document_id = d.id) AS chunks, d.created_at \
             FROM documents d WHERE d.workspace_id = $1 AND d.bot_id = $2 \
             ORDER BY d.created_at, d.id",
        )
        .bind(workspace_id)
        .bind(bot_id)
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn delete_document(
        &self,
        workspace_id: &str,
        bot_id: &str,
        document_id: &str,
    ) -> StoreResult<()> {
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "UPDATE bots SET kb_version = kb_version + 1 WHERE workspace_id = $1 AND id = $2",
        )
        .bind(workspace_id)
        .bind(bot_id)
        .execute(&mut *tx)
        .await?;
        let deleted = sqlx::query(
            "DELETE FROM documents WHERE workspace_id = $1 AND bot_id = $2 AND id = $3",
        )
        .bind(workspace_id)
        .bind(bot_id)
        .bind(document_id)
        .execute(&mut *tx)
        .await?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::NotFound("document"));
        }
        tx.commit().await?;
        Ok(())
    }

    /// What a bot's search index is built from, besides its chunks: the knowledge-base version,
    /// which changes whenever a document is added or removed, and the language it is analysed
    /// in. An index built for other values is stale.
    pub async fn kb_state(&self, bot_id: &str) -> StoreResult<(i64, KbLanguage)> {
        let (version, language): (i64, String) =
            sqlx::query_as("SELECT kb_version, kb_language FROM bots WHERE id = $1")
                .bind(bot_id)
                .fetch_optional(self.pool())
                .await?
                .ok_or(StoreError::NotFound("bot"))?;
        let language = KbLanguage::parse(&language)
            .map_err(|err| StoreError::Database(sqlx::Error::Decode(Box::new(err))))?;
        Ok((version, language))
    }

    /// Every chunk of a bot's knowledge base, with its document's title.
    pub async fn bot_chunks(&self, bot_id: &str) -> StoreResult<Vec<ChunkRecord>> {
        Ok(sqlx::query_as(
            "SELECT c.id, c.document_id, d.title, c.heading, c.body FROM chunks c \
             JOIN documents d ON d.id = c.document_id WHERE c.bot_id = $1 \
             ORDER BY d.created_at, c.document_id, c.ordinal",
        )
        .bind(bot_id)
        .fetch_all(self.pool())
        .await?)
    }
}
