//! Notes: what a team writes about a conversation for each other. They live in their own table,
//! so nothing that reads messages — the widget, WhatsApp's outbox, the bot's context, the
//! handoff summary — can ever pick one up and show it to the customer.

use sqlx::FromRow;

use super::{Store, StoreError, StoreResult, WorkspaceTx};
use crate::domain::{MessageText, new_id};
use crate::views::note_event;

#[derive(Debug, Clone, FromRow)]
pub struct NoteRecord {
    pub id: String,
    pub workspace_id: String,
    pub conversation_id: String,
    /// The handoff it was written on; `None` once that handoff is gone.
    pub handoff_id: Option<String>,
    /// `None` once the author has been removed from the workspace; their name stays.
    pub user_id: Option<String>,
    pub author_name: String,
    pub text: String,
    /// Its event's sequence number: where it sits among the conversation's messages.
    pub seq: i64,
    pub created_at: i64,
}

const COLUMNS: &str =
    "id, workspace_id, conversation_id, handoff_id, user_id, author_name, text, seq, created_at";

/// A member of the workspace acting: who writes a note, who changes a handoff.
#[derive(Debug, Clone, Copy)]
pub struct Member<'a> {
    pub user_id: &'a str,
    pub name: &'a str,
}

impl<'a> Member<'a> {
    /// The member behind a handoff action, by name.
    pub fn acting(actor: crate::domain::handoff::Actor<'a>, name: &'a str) -> Self {
        Member {
            user_id: actor.user_id,
            name,
        }
    }
}

impl Store {
    /// Adds a note to the conversation of a handoff of this workspace, whatever the handoff's
    /// status: any member may write one.
    pub async fn add_note(
        &self,
        workspace_id: &str,
        handoff_id: &str,
        author: Member<'_>,
        text: &MessageText,
        now: i64,
    ) -> StoreResult<NoteRecord> {
        let mut tx = self.workspace_tx(workspace_id).await?;
        let conversation_id: String = sqlx::query_scalar(
            "SELECT conversation_id FROM handoffs WHERE workspace_id = $1 AND id = $2",
        )
        .bind(workspace_id)
        .bind(handoff_id)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(StoreError::NotFound("handoff"))?;
        let note = insert_note(&mut tx, &conversation_id, handoff_id, author, text, now).await?;
        tx.commit().await?;
        Ok(note)
    }

    /// A conversation's notes, oldest first.
    pub async fn notes_of(
        &self,
        workspace_id: &str,
        conversation_id: &str,
    ) -> StoreResult<Vec<NoteRecord>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM notes WHERE workspace_id = $1 AND conversation_id = $2 \
             ORDER BY seq"
        ))
        .bind(workspace_id)
        .bind(conversation_id)
        .fetch_all(self.pool())
        .await?)
    }
}

/// Writes a note and its `note.created` event inside the caller's transaction.
pub(super) async fn insert_note(
    tx: &mut WorkspaceTx,
    conversation_id: &str,
    handoff_id: &str,
    author: Member<'_>,
    text: &MessageText,
    now: i64,
) -> StoreResult<NoteRecord> {
    let seq = tx.next_seq().await?;
    let note = NoteRecord {
        id: new_id("nte"),
        workspace_id: tx.workspace_id().to_owned(),
        conversation_id: conversation_id.to_owned(),
        handoff_id: Some(handoff_id.to_owned()),
        user_id: Some(author.user_id.to_owned()),
        author_name: author.name.to_owned(),
        text: text.as_str().to_owned(),
        seq,
        created_at: now,
    };
    sqlx::query(&format!(
        "INSERT INTO notes ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    ))
    .bind(&note.id)
    .bind(&note.workspace_id)
    .bind(&note.conversation_id)
    .bind(&note.handoff_id)
    .bind(&note.user_id)
    .bind(&note.author_name)
    .bind(&note.text)
    .bind(note.seq)
    .bind(note.created_at)
    .execute(tx.conn())
    .await?;
    tx.record(
        seq,
        "note.created",
        Some(conversation_id),
        note_event(&note),
        now,
    )
    .await?;
    Ok(note)
}
