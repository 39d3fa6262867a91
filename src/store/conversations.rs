//! Contacts, conversations and their messages. Customer messages are stored (and committed)
//! before anyone acknowledges them; bot messages are stored only while the conversation is
//! still the bot's.

use sqlx::FromRow;

use super::{NewDelivery, Store, StoreError, StoreResult, WorkspaceTx, turns};
use crate::domain::text::MessageText;
use crate::domain::upload::Upload;
use crate::domain::{new_id, rating, whatsapp_window_open};
use crate::views::message_event;

#[derive(Debug, Clone, FromRow)]
pub struct ContactRecord {
    pub id: String,
    pub workspace_id: String,
    pub channel: String,
    pub external_id: String,
    pub name: String,
    pub phone: Option<String>,
    pub last_inbound_at: Option<i64>,
    pub created_at: i64,
}

#[derive(Debug, Clone, FromRow)]
pub struct ConversationRecord {
    pub id: String,
    pub workspace_id: String,
    pub bot_id: String,
    pub contact_id: String,
    pub channel: String,
    pub channel_id: Option<String>,
    /// The open handoff; while set, the bot says nothing.
    pub active_handoff_id: Option<String>,
    /// The bot's context starts after this sequence number (it moves on every resolve).
    pub context_seq: i64,
    pub last_customer_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, FromRow)]
pub struct MessageRecord {
    pub id: String,
    pub workspace_id: String,
    pub conversation_id: String,
    pub seq: i64,
    pub author: String,
    pub author_name: String,
    pub user_id: Option<String>,
    pub kind: String,
    pub text: String,
    pub external_id: Option<String>,
    pub delivery_status: Option<String>,
    pub delivery_error: Option<String>,
    pub created_at: i64,
}

/// A message about to be stored.
#[derive(Clone, Copy)]
pub struct NewMessage<'a> {
    pub author: &'a str,
    pub author_name: &'a str,
    pub user_id: Option<&'a str>,
    pub kind: &'a str,
    pub text: &'a str,
    pub external_id: Option<&'a str>,
    pub delivery_status: Option<&'a str>,
    /// For a WhatsApp template message: `{name, language, parameters}`.
    pub template: Option<&'a serde_json::Value>,
    /// A file uploaded with it (the message's text names it), stored with it.
    pub file: Option<&'a Upload>,
}

impl<'a> NewMessage<'a> {
    pub fn text(author: &'a str, author_name: &'a str, text: &'a str) -> Self {
        NewMessage {
            author,
            author_name,
            user_id: None,
            kind: "text",
            text,
            external_id: None,
            delivery_status: None,
            template: None,
            file: None,
        }
    }

    /// The same message with other text.
    fn with_text(self, text: &'a str) -> Self {
        NewMessage { text, ..self }
    }
}

/// A customer message as stored, with the conversation as it stood at that moment.
#[derive(Debug)]
pub struct CustomerMessage {
    pub message: MessageRecord,
    pub conversation: ConversationRecord,
    /// Whether the bot is to answer it (the bot holds the conversation and it is not a
    /// reaction): its turn was written with it, leased to this node.
    pub needs_answer: bool,
}

const CONVERSATION_COLUMNS: &str = "id, workspace_id, bot_id, contact_id, channel, channel_id, \
    active_handoff_id, context_seq, last_customer_at, created_at, updated_at";
pub(super) const MESSAGE_COLUMNS: &str = "id, workspace_id, conversation_id, seq, author, \
    author_name, user_id, kind, text, external_id, delivery_status, delivery_error, created_at";

impl Store {
    /// The contact with this channel identity, created on first sight. Either way they count
    /// as active now, before their message is stored: a retention sweep that reaches them in
    /// between finds them active (it checks under the workspace lock) and keeps them.
    pub async fn upsert_contact(
        &self,
        workspace_id: &str,
        channel: &str,
        external_id: &str,
        name: &str,
        phone: Option<&str>,
        now: i64,
    ) -> StoreResult<ContactRecord> {
        sqlx::query(
            "INSERT INTO contacts (id, workspace_id, channel, external_id, name, phone, \
             search_text, created_at, last_active_at) VALUES ($1, $2, $3, $4, $5, $6, $8, $7, $7) \
             ON CONFLICT (workspace_id, channel, external_id) \
             DO UPDATE SET last_active_at = excluded.last_active_at, \
             search_text = COALESCE(contacts.search_text, excluded.search_text)",
        )
        .bind(new_id("cus"))
        .bind(workspace_id)
        .bind(channel)
        .bind(external_id)
        .bind(name)
        .bind(phone)
        .bind(now)
        .bind(super::contacts::search_text(name, external_id))
        .execute(self.pool())
        .await?;
        Ok(sqlx::query_as(
            "SELECT id, workspace_id, channel, external_id, name, phone, last_inbound_at, \
             created_at FROM contacts WHERE workspace_id = $1 AND channel = $2 AND external_id = $3",
        )
        .bind(workspace_id)
        .bind(channel)
        .bind(external_id)
        .fetch_one(self.pool())
        .await?)
    }

    /// Whether the workspace knows a contact of this channel by this id.
    pub async fn has_contact(
        &self,
        workspace_id: &str,
        channel: &str,
        external_id: &str,
    ) -> StoreResult<bool> {
        let found: Option<(String,)> = sqlx::query_as(
            "SELECT id FROM contacts WHERE workspace_id = $1 AND channel = $2 AND external_id = $3",
        )
        .bind(workspace_id)
        .bind(channel)
        .bind(external_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(found.is_some())
    }

    pub async fn contact(&self, workspace_id: &str, id: &str) -> StoreResult<ContactRecord> {
        sqlx::query_as(
            "SELECT id, workspace_id, channel, external_id, name, phone, last_inbound_at, \
             created_at FROM contacts WHERE workspace_id = $1 AND id = $2",
        )
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound("contact"))
    }

    /// The contact's conversation with this bot, started on first contact. Two first messages
    /// arriving at once (a WhatsApp album, a double tap) must not start two conversations —
    /// the bot would answer in one while an agent holds the other — so the conversation is
    /// created under the workspace's lock, after looking again.
    pub async fn conversation_for(
        &self,
        contact: &ContactRecord,
        bot_id: &str,
        channel_id: Option<&str>,
        now: i64,
    ) -> StoreResult<ConversationRecord> {
        if let Some(conversation) = find_conversation(self.pool(), &contact.id, bot_id).await? {
            return Ok(conversation);
        }
        let mut tx = self.workspace_tx(&contact.workspace_id).await?;
        if let Some(conversation) = find_conversation(tx.conn(), &contact.id, bot_id).await? {
            return Ok(conversation);
        }
        let conversation = ConversationRecord {
            id: new_id("cnv"),
            workspace_id: contact.workspace_id.clone(),
            bot_id: bot_id.to_owned(),
            contact_id: contact.id.clone(),
            channel: contact.channel.clone(),
            channel_id: channel_id.map(str::to_owned),
            active_handoff_id: None,
            context_seq: 0,
            last_customer_at: None,
            created_at: now,
            updated_at: now,
        };
        sqlx::query(&format!(
            "INSERT INTO conversations ({CONVERSATION_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, NULL, 0, NULL, $7, $7)"
        ))
        .bind(&conversation.id)
        .bind(&conversation.workspace_id)
        .bind(&conversation.bot_id)
        .bind(&conversation.contact_id)
        .bind(&conversation.channel)
        .bind(&conversation.channel_id)
        .bind(now)
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
        Ok(conversation)
    }

    /// The WhatsApp channel a conversation's answers go out through.
    pub async fn set_conversation_channel(
        &self,
        workspace_id: &str,
        id: &str,
        channel_id: &str,
    ) -> StoreResult<()> {
        sqlx::query("UPDATE conversations SET channel_id = $3 WHERE workspace_id = $1 AND id = $2")
            .bind(workspace_id)
            .bind(id)
            .bind(channel_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn conversation(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> StoreResult<ConversationRecord> {
        sqlx::query_as(&format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE workspace_id = $1 AND id = $2"
        ))
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound("conversation"))
    }

    /// Stores a customer's message durably, with its `message.created` event. `None` means it
    /// is a redelivery of a message already stored (same channel id) and nothing was written.
    pub async fn add_customer_message(
        &self,
        conversation: &ConversationRecord,
        message: NewMessage<'_>,
        now: i64,
    ) -> StoreResult<Option<CustomerMessage>> {
        let mut tx = self.workspace_tx(&conversation.workspace_id).await?;
        if let Some(external_id) = message.external_id {
            let seen: Option<(String,)> = sqlx::query_as(
                "SELECT id FROM messages WHERE conversation_id = $1 AND external_id = $2",
            )
            .bind(&conversation.id)
            .bind(external_id)
            .fetch_optional(tx.conn())
            .await?;
            if seen.is_some() {
                return Ok(None);
            }
        }
        let current = load_conversation(&mut tx, &conversation.id).await?;
        let stored = insert_message(&mut tx, &current, message, now).await?;
        // A reaction or a rating needs no answer.
        let needs_answer = current.active_handoff_id.is_none()
            && stored.kind != "reaction"
            && stored.kind != rating::TAP_KIND;
        if needs_answer {
            turns::open_turn(&mut tx, &stored.id, &self.node_id, now).await?;
        }
        sqlx::query(
            "UPDATE conversations SET last_customer_at = $1, updated_at = $1 WHERE id = $2",
        )
        .bind(now)
        .bind(&current.id)
        .execute(tx.conn())
        .await?;
        sqlx::query("UPDATE contacts SET last_inbound_at = $1 WHERE id = $2")
            .bind(now)
            .bind(&current.contact_id)
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(Some(CustomerMessage {
            message: stored,
            conversation: current,
            needs_answer,
        }))
    }

    /// Stores the bot's answer to the customer message `answering` only if the conversation is
    /// still the bot's, in the context the reply was computed for, and the message's turn is
    /// still there to take. `None` means the reply was dropped: a handoff began (or ended) while
    /// the bot was thinking, or another node answered the message first.
    pub async fn add_bot_message(
        &self,
        conversation: &ConversationRecord,
        answering: &str,
        message: NewMessage<'_>,
        now: i64,
    ) -> StoreResult<Option<MessageRecord>> {
        let mut tx = self.workspace_tx(&conversation.workspace_id).await?;
        let current = load_conversation(&mut tx, &conversation.id).await?;
        if !bot_may_speak(conversation, &current) || !turns::take_turn(&mut tx, answering).await? {
            return Ok(None);
        }
        let stored = insert_message(&mut tx, &current, message, now).await?;
        tx.commit().await?;
        Ok(Some(stored))
    }

    /// One message of a conversation; another conversation's is not found.
    pub async fn conversation_message(
        &self,
        conversation_id: &str,
        id: &str,
    ) -> StoreResult<MessageRecord> {
        sqlx::query_as(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = $1 AND conversation_id = $2"
        ))
        .bind(id)
        .bind(conversation_id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound("message"))
    }

    /// A conversation's message carrying this channel id: what a customer's retry had sent.
    pub async fn message_with_external_id(
        &self,
        conversation_id: &str,
        external_id: &str,
    ) -> StoreResult<Option<MessageRecord>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 \
             AND external_id = $2"
        ))
        .bind(conversation_id)
        .bind(external_id)
        .fetch_optional(self.pool())
        .await?)
    }

    /// Every conversation the contact has had, one per bot, oldest first.
    pub async fn conversations_of_contact(
        &self,
        workspace_id: &str,
        contact_id: &str,
    ) -> StoreResult<Vec<ConversationRecord>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations \
             WHERE workspace_id = $1 AND contact_id = $2 ORDER BY created_at, id"
        ))
        .bind(workspace_id)
        .bind(contact_id)
        .fetch_all(self.pool())
        .await?)
    }

    /// Every message of a conversation, oldest first, read a page at a time.
    pub async fn all_messages(&self, conversation_id: &str) -> StoreResult<Vec<MessageRecord>> {
        const PAGE: i64 = 1000;
        let mut messages = Vec::new();
        loop {
            let after = messages.last().map_or(0, |m: &MessageRecord| m.seq);
            let page = self.messages_after(conversation_id, after, PAGE).await?;
            let full = page.len() as i64 == PAGE;
            messages.extend(page);
            if !full {
                return Ok(messages);
            }
        }
    }

    /// A conversation's messages after `after`, oldest first, at most `limit`.
    pub async fn messages_after(
        &self,
        conversation_id: &str,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<MessageRecord>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 AND seq > $2 \
             ORDER BY seq LIMIT $3"
        ))
        .bind(conversation_id)
        .bind(after)
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }

    /// The latest `limit` messages after `after`, oldest first: the recent history a bot
    /// turn reads, however long the conversation has run.
    pub async fn latest_messages_after(
        &self,
        conversation_id: &str,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<MessageRecord>> {
        let mut messages: Vec<MessageRecord> = sqlx::query_as(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 AND seq > $2 \
             ORDER BY seq DESC LIMIT $3"
        ))
        .bind(conversation_id)
        .bind(after)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        messages.reverse();
        Ok(messages)
    }

    /// The channel's id (a WhatsApp `wamid`) of the customer's latest message in a
    /// conversation (a reaction is not a message to answer), when it came from a channel that
    /// gives one.
    pub async fn latest_customer_external_id(
        &self,
        conversation_id: &str,
    ) -> StoreResult<Option<String>> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT external_id FROM messages WHERE conversation_id = $1 \
             AND author = 'customer' AND external_id IS NOT NULL AND kind <> 'reaction' \
             ORDER BY seq DESC LIMIT 1",
        )
        .bind(conversation_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|(id,)| id))
    }

    /// Marks agent messages as delivered to the customer, with a `message.status` event each.
    /// Only messages still `sent` change, so repeated deliveries add nothing.
    pub async fn mark_delivered(
        &self,
        workspace_id: &str,
        message_ids: &[String],
        now: i64,
    ) -> StoreResult<()> {
        if message_ids.is_empty() {
            return Ok(());
        }
        let mut tx = self.workspace_tx(workspace_id).await?;
        for id in message_ids {
            let updated: Option<(String, String)> = sqlx::query_as(
                "UPDATE messages SET delivery_status = 'delivered' \
                 WHERE id = $1 AND workspace_id = $2 AND delivery_status = 'sent' \
                 RETURNING id, conversation_id",
            )
            .bind(id)
            .bind(workspace_id)
            .fetch_optional(tx.conn())
            .await?;
            if let Some((id, conversation_id)) = updated {
                let seq = tx.next_seq().await?;
                let payload = serde_json::json!({
                    "conversation_id": conversation_id,
                    "message_id": id,
                    "delivery_status": "delivered",
                });
                tx.record(seq, "message.status", Some(&conversation_id), payload, now)
                    .await?;
            }
        }
        tx.commit().await
    }
}

/// A bot reply computed for `seen` may be sent only if nothing has changed hands since.
pub(super) fn bot_may_speak(seen: &ConversationRecord, now: &ConversationRecord) -> bool {
    now.active_handoff_id.is_none() && now.context_seq == seen.context_seq
}

pub(super) async fn load_conversation(
    tx: &mut WorkspaceTx,
    id: &str,
) -> StoreResult<ConversationRecord> {
    let workspace_id = tx.workspace_id().to_owned();
    sqlx::query_as(&format!(
        "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE workspace_id = $1 AND id = $2"
    ))
    .bind(workspace_id)
    .bind(id)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(StoreError::NotFound("conversation"))
}

/// Inserts a message and its `message.created` event. Bot and agent messages in a WhatsApp
/// conversation are queued for delivery in the same transaction, so none is ever stored
/// without also being on its way; one longer than WhatsApp takes (a long model answer or
/// handoff message) is stored and sent as several, and the last is returned.
pub(super) async fn insert_message(
    tx: &mut WorkspaceTx,
    conversation: &ConversationRecord,
    message: NewMessage<'_>,
    now: i64,
) -> StoreResult<MessageRecord> {
    // The customer's last activity, once per message however many pieces it is sent in.
    sqlx::query("UPDATE contacts SET last_active_at = $1 WHERE id = $2")
        .bind(now)
        .bind(&conversation.contact_id)
        .execute(tx.conn())
        .await?;
    if outbound_whatsapp(conversation, &message, now)
        && message.template.is_none()
        && message.file.is_none()
    {
        // Trimmed even when it is one piece: trailing blank lines would not fit either.
        let pieces = MessageText::pieces(message.text);
        if let [first, rest @ ..] = pieces.as_slice() {
            let mut last = insert_one(tx, conversation, message.with_text(first), now).await?;
            for piece in rest {
                last = insert_one(tx, conversation, message.with_text(piece), now).await?;
            }
            return Ok(last);
        }
    }
    insert_one(tx, conversation, message, now).await
}

/// Whether a message goes out to a WhatsApp customer: what the bot and agents say, and the
/// notes on who is helping (joined, left, resolved) while WhatsApp takes free text — outside
/// the window a note would only fail, and no agent needs to see that.
fn outbound_whatsapp(
    conversation: &ConversationRecord,
    message: &NewMessage<'_>,
    now: i64,
) -> bool {
    conversation.channel == "whatsapp"
        && match message.author {
            "bot" | "agent" => true,
            "system" => system_notes_reach(conversation, now),
            _ => false,
        }
}

/// Whether a system note written now reaches the customer: always in the widget, on WhatsApp
/// only while it takes free text from us.
pub(super) fn system_notes_reach(conversation: &ConversationRecord, now: i64) -> bool {
    conversation.channel != "whatsapp"
        || (conversation.channel_id.is_some()
            && whatsapp_window_open(conversation.last_customer_at, now))
}

async fn insert_one(
    tx: &mut WorkspaceTx,
    conversation: &ConversationRecord,
    mut message: NewMessage<'_>,
    now: i64,
) -> StoreResult<MessageRecord> {
    let outbound_whatsapp = outbound_whatsapp(conversation, &message, now);
    if outbound_whatsapp {
        message.delivery_status = Some("queued");
    }
    let seq = tx.next_seq().await?;
    let record = MessageRecord {
        id: new_id("msg"),
        workspace_id: conversation.workspace_id.clone(),
        conversation_id: conversation.id.clone(),
        seq,
        author: message.author.to_owned(),
        author_name: message.author_name.to_owned(),
        user_id: message.user_id.map(str::to_owned),
        kind: message.kind.to_owned(),
        text: message.text.to_owned(),
        external_id: message.external_id.map(str::to_owned),
        delivery_status: message.delivery_status.map(str::to_owned),
        delivery_error: None,
        created_at: now,
    };
    sqlx::query(&format!(
        "INSERT INTO messages ({MESSAGE_COLUMNS}, search_text) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL, $12, $13)"
    ))
    .bind(&record.id)
    .bind(&record.workspace_id)
    .bind(&record.conversation_id)
    .bind(seq)
    .bind(&record.author)
    .bind(&record.author_name)
    .bind(&record.user_id)
    .bind(&record.kind)
    .bind(&record.text)
    .bind(&record.external_id)
    .bind(&record.delivery_status)
    .bind(now)
    .bind(crate::domain::search::search_text(&record.text))
    .execute(tx.conn())
    .await?;
    let attachment = match message.file {
        Some(file) => Some(super::attachments::insert_upload(tx, &record, file, now).await?),
        None => None,
    };
    tx.record(
        seq,
        "message.created",
        Some(&conversation.id),
        message_event(&record, attachment.as_ref()),
        now,
    )
    .await?;
    if outbound_whatsapp {
        let mut payload = serde_json::json!({
            "conversation_id": conversation.id,
            "text": record.text,
            "template": message.template,
        });
        if let Some(attachment) = &attachment {
            // Uploaded to WhatsApp and sent as a picture or document by the outbox.
            payload["attachment_id"] = attachment.id.clone().into();
        }
        if record.kind == rating::REQUEST_KIND {
            // `[[id, title], …]`, as the outbox sends reply buttons.
            payload["buttons"] = rating::Score::ALL
                .map(|score| [rating::button_id(&record.id, score), score.label().into()])
                .into();
        }
        let delivery = NewDelivery {
            kind: "whatsapp.message",
            message_id: Some(&record.id),
            handoff_id: None,
            payload: payload.to_string(),
        };
        super::channels::enqueue(tx, delivery, now).await?;
    }
    Ok(record)
}

/// A contact's conversation with a bot; the oldest if an older version of Baton made two.
async fn find_conversation<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    contact_id: &str,
    bot_id: &str,
) -> StoreResult<Option<ConversationRecord>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {CONVERSATION_COLUMNS} FROM conversations \
         WHERE contact_id = $1 AND bot_id = $2 ORDER BY created_at, id LIMIT 1"
    ))
    .bind(contact_id)
    .bind(bot_id)
    .fetch_optional(executor)
    .await?)
}
