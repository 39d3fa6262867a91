//! Handoffs for agents: list, read with the whole history and the team's notes, claim, reply,
//! transfer, release, resolve, notes and labels for the team.

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::domain::clock::rfc3339;
use crate::domain::handoff::{self, Action, Refusal, Status};
use crate::domain::upload;
use crate::domain::{MessageText, labels, search};
use crate::error::{ApiError, ApiResult, Code};
use crate::http::extract::{ApiJson, ApiQuery, Caller, FileUpload};
use crate::state::AppState;
use crate::store::{HandoffFilter, HandoffRecord, NewMessage, StoreError};
use crate::views::{HandoffView, MessageView, NoteView, messages_with_attachments};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/handoffs", get(list))
        .route("/handoffs/counts", get(counts))
        .route("/handoffs/{id}", get(read))
        .route("/handoffs/{id}/claim", post(claim))
        .route("/handoffs/{id}/release", post(release))
        .route("/handoffs/{id}/resolve", post(resolve))
        .route("/handoffs/{id}/transfer", post(transfer))
        .route("/handoffs/{id}/notes", post(add_note))
        .route("/handoffs/{id}/labels", put(set_labels))
        .route("/handoffs/{id}/messages", post(reply))
        .route(
            "/handoffs/{id}/attachments",
            post(send_file).layer(DefaultBodyLimit::max(upload::MAX_BYTES + 64 * 1024)),
        )
        .route("/handoffs/{id}/typing", post(typing))
        .route("/handoffs/{id}/messages/{message_id}/retry", post(resend))
}

#[derive(Deserialize)]
struct ListQuery {
    status: Option<String>,
    bot_id: Option<String>,
    /// Only those a member holds: `me` or a user id.
    holder: Option<String>,
    /// `newest` (default) or `oldest`.
    order: Option<String>,
    limit: Option<i64>,
    /// The next page: the handoffs after this one (the last of the previous page).
    after: Option<String>,
    /// Only those filed under this label.
    label: Option<String>,
    /// Only those whose customer or messages hold every word or "phrase" of it.
    q: Option<String>,
}

/// A handoff a search found, with the message that shows best where (`null` when the
/// customer's name or number matched and no message).
#[derive(Serialize)]
struct Found {
    #[serde(flatten)]
    handoff: HandoffView,
    #[serde(rename = "match")]
    matched: Option<Value>,
}

/// One page of handoffs; a full page links to the next (`Link: <…>; rel="next"`).
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<Response> {
    let status = match query.status.as_deref() {
        None | Some("") => None,
        Some(raw) => Some(Status::parse(raw).ok_or_else(|| {
            ApiError::validation("status: must be pending, in_progress or resolved")
        })?),
    };
    // As asked (for the next page's link), and as the member it names.
    let asked_holder = query.holder.filter(|h| !h.is_empty());
    let filter = HandoffFilter {
        status,
        bot_id: query.bot_id,
        holder: asked_holder.as_deref().map(|holder| match holder {
            "me" => caller.user.id.clone(),
            id => id.to_owned(),
        }),
        oldest_first: query.order.as_deref() == Some("oldest"),
        limit: query.limit.unwrap_or(100).clamp(1, 500),
        after: query.after.filter(|a| !a.is_empty()),
        label: query
            .label
            .as_deref()
            .filter(|l| !l.is_empty())
            .map(labels::label)
            .transpose()?,
        terms: search::terms(query.q.as_deref().unwrap_or_default())?,
    };
    let handoffs = state
        .store
        .list_handoffs(caller.workspace_id(), &filter)
        .await
        .map_err(|err| match err {
            StoreError::NotFound(_) => {
                ApiError::validation("after: no such handoff in this workspace")
            }
            err => err.into(),
        })?;
    let next = match handoffs.last() {
        Some(last) if handoffs.len() as i64 == filter.limit => {
            let mut params = Vec::new();
            if let Some(status) = filter.status {
                params.push(("status", status.as_str().to_owned()));
            }
            if let Some(bot_id) = &filter.bot_id {
                params.push(("bot_id", bot_id.clone()));
            }
            if let Some(holder) = &asked_holder {
                params.push(("holder", holder.clone()));
            }
            if let Some(label) = &filter.label {
                params.push(("label", label.clone()));
            }
            if let Some(q) = query.q.as_ref().filter(|_| !filter.terms.is_empty()) {
                params.push(("q", q.clone()));
            }
            if filter.oldest_first {
                params.push(("order", "oldest".to_owned()));
            }
            params.push(("limit", filter.limit.to_string()));
            params.push(("after", last.id.clone()));
            Some(super::next_page("/api/v1/handoffs", &params))
        }
        _ => None,
    };
    if filter.terms.is_empty() {
        let handoffs: Vec<HandoffView> = handoffs.iter().map(HandoffView::from).collect();
        return Ok(super::with_next_link(Json(handoffs).into_response(), next));
    }
    let ids: Vec<&str> = handoffs.iter().map(|h| h.id.as_str()).collect();
    let mut matches = state
        .store
        .handoff_matches(caller.workspace_id(), &ids, &filter.terms)
        .await?;
    let found: Vec<Found> = handoffs
        .iter()
        .map(|h| Found {
            handoff: HandoffView::from(h),
            matched: matches.remove(&h.id).map(|m| {
                json!({
                    "message_id": m.message_id,
                    "author": m.author,
                    "author_name": m.author_name,
                    "created_at": rfc3339(m.created_at),
                    "excerpt": search::excerpt(&m.text, &filter.terms).text,
                })
            }),
        })
        .collect();
    Ok(super::with_next_link(Json(found).into_response(), next))
}

async fn counts(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let (pending, in_progress, resolved) =
        state.store.handoff_counts(caller.workspace_id()).await?;
    Ok(Json(
        json!({"pending": pending, "in_progress": in_progress, "resolved": resolved}),
    ))
}

async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let handoff = state.store.handoff(caller.workspace_id(), &id).await?;
    let messages = state.store.all_messages(&handoff.conversation_id).await?;
    let notifications = state
        .store
        .handoff_deliveries(caller.workspace_id(), &handoff.id)
        .await?;
    let attachments = state
        .store
        .attachments_of(caller.workspace_id(), &handoff.conversation_id)
        .await?;
    let mut body = json!(HandoffView::from(&handoff));
    body["messages"] = json!(crate::views::messages_with_attachments(
        &messages,
        &attachments
    ));
    let notes = state
        .store
        .notes_of(caller.workspace_id(), &handoff.conversation_id)
        .await?;
    body["notes"] = json!(notes.iter().map(NoteView::from).collect::<Vec<_>>());
    body["notifications"] = json!(
        notifications
            .iter()
            .map(|n| {
                let payload: Value = serde_json::from_str(&n.payload).unwrap_or_default();
                let status = crate::views::notification_status(n);
                json!({"to": payload["to"], "status": status, "error": n.last_error,
                   "by_template": payload.get("template").is_some(), "attempts": n.attempts})
            })
            .collect::<Vec<_>>()
    );
    Ok(Json(body))
}

/// Runs one state-machine action for the caller.
async fn act(
    state: &AppState,
    caller: &Caller,
    id: &str,
    action: Action,
) -> ApiResult<Json<HandoffView>> {
    let actor = caller.actor();
    let now = state.clock.now_ms();
    let handoff = state
        .store
        .act_on_handoff(
            caller.workspace_id(),
            id,
            actor,
            &caller.user.name,
            action,
            now,
        )
        .await;
    // The note the customer reads ("… joined") is on its way on WhatsApp.
    state.outbox_wake.notify_one();
    if matches!(action, Action::Release | Action::Resolve) {
        // Back in the queue, or its holder freed up: automatic assignment looks again.
        state.assign_wake.notify_one();
    }
    match handoff {
        Ok(handoff) => Ok(Json(HandoffView::from(&handoff))),
        Err(err) => Err(name_holder(state, caller, err).await),
    }
}

/// A refusal that names a holder says who, by name, so the agent knows whom to ask.
async fn name_holder(state: &AppState, caller: &Caller, err: StoreError) -> ApiError {
    let holder = match &err {
        StoreError::Refused(
            Refusal::AlreadyClaimed { holder }
            | Refusal::NotHolder { holder }
            | Refusal::AlreadyHolds { holder }
            | Refusal::ChangedHands {
                holder: Some(holder),
            },
        ) => Some(holder.clone()),
        _ => None,
    };
    let mut api_error = ApiError::from(err);
    if let Some(holder) = holder
        && let Ok(user) = state.store.user(caller.workspace_id(), &holder).await
    {
        let who = if user.id == caller.user.id {
            "you".to_owned()
        } else {
            user.name.clone()
        };
        api_error.message = format!("{} (held by {who})", api_error.message);
        api_error = api_error.with_details(json!({"holder": {"id": user.id, "name": user.name}}));
    }
    api_error
}

async fn claim(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<HandoffView>> {
    act(&state, &caller, &id, Action::Claim).await
}

async fn release(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<HandoffView>> {
    act(&state, &caller, &id, Action::Release).await
}

async fn resolve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<HandoffView>> {
    act(&state, &caller, &id, Action::Resolve).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TransferBody {
    /// The member who takes it over.
    user_id: String,
    /// A note for them (and the rest of the team), never shown in the customer's chat.
    note: Option<String>,
    /// Whom the caller saw holding it (`null`: nobody): when given, the transfer happens only
    /// if that is still so, as a claim does. The dashboard always sends it.
    #[serde(default, with = "super::bots::nullable")]
    from: Option<Option<String>>,
}

/// Hands the handoff to another member: its holder or an admin, while it is in progress; an
/// admin may also assign a pending one. The customer reads who is with them now.
async fn transfer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<TransferBody>,
) -> ApiResult<Json<Value>> {
    let note = match body.note.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(
            MessageText::parse(text)
                .map_err(|err| ApiError::validation(format!("note: {}", err.problem)))?,
        ),
    };
    let actor = caller.actor();
    let transferred = state
        .store
        .transfer_handoff(
            caller.workspace_id(),
            &id,
            actor,
            &caller.user.name,
            &body.user_id,
            body.from.as_ref().map(Option::as_deref),
            note.as_ref(),
            state.clock.now_ms(),
        )
        .await;
    // What the customer reads ("… passed the conversation to …") is on its way on WhatsApp;
    // whoever passed it on may be free for the next one.
    state.outbox_wake.notify_one();
    state.assign_wake.notify_one();
    match transferred {
        Ok((handoff, note)) => {
            // The receiver hears of it on WhatsApp too; a failure there undoes nothing.
            let by = (caller.user.id.as_str(), caller.user.name.as_str());
            let told = crate::channels::notify::handoff_given(&state, &handoff, Some(by)).await;
            if let Err(err) = told {
                tracing::warn!(error = %err, handoff_id = %handoff.id, "transfer notification not queued");
            }
            let mut body = json!(HandoffView::from(&handoff));
            body["note"] = json!(note.as_ref().map(NoteView::from));
            Ok(Json(body))
        }
        Err(StoreError::NotFound("member")) => Err(ApiError::validation(
            "user_id: no member of this workspace has this id (were they removed?)",
        )),
        Err(err) => Err(name_holder(&state, &caller, err).await),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteBody {
    text: String,
}

/// A note for the team on the handoff's conversation: any member, whatever the handoff's
/// status. It is never sent to the customer and never read by the bot.
async fn add_note(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NoteBody>,
) -> ApiResult<(StatusCode, Json<NoteView>)> {
    let text = MessageText::parse(&body.text)?;
    let author = caller.member();
    let note = state
        .store
        .add_note(
            caller.workspace_id(),
            &id,
            author,
            &text,
            state.clock.now_ms(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(NoteView::from(&note))))
}

#[derive(Deserialize)]
struct LabelsBody {
    labels: Vec<String>,
}

/// Files the handoff under these labels in place of its own (any member, whatever its state);
/// answers the handoff.
async fn set_labels(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<LabelsBody>,
) -> ApiResult<Json<HandoffView>> {
    let labels = labels::labels(&body.labels)?;
    let handoff = state
        .store
        .label_handoff(
            caller.workspace_id(),
            &id,
            &labels,
            caller.member(),
            state.clock.now_ms(),
        )
        .await?;
    Ok(Json(HandoffView::from(&handoff)))
}

#[derive(Deserialize)]
struct ReplyBody {
    text: Option<String>,
    /// An approved WhatsApp template, for when the 24-hour window is closed.
    template: Option<TemplateBody>,
}

#[derive(Deserialize, serde::Serialize)]
struct TemplateBody {
    name: String,
    language: String,
    #[serde(default)]
    parameters: Vec<String>,
}

/// Stores the agent's reply, then it is delivered on the customer's channel; the response
/// carries the message with its delivery status. On WhatsApp, free text is refused before
/// sending once the customer's 24-hour window has closed; a template may still go.
async fn reply(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReplyBody>,
) -> ApiResult<(StatusCode, Json<MessageView>)> {
    let handoff = state.store.handoff(caller.workspace_id(), &id).await?;
    // Who may reply comes before what may be sent: an agent who does not hold the handoff is
    // told so, not that the customer's window has closed. (The store checks again, atomically.)
    may_reply(&state, &caller, &handoff).await?;
    let now = state.clock.now_ms();
    let (text, kind, template) = match (body.text, body.template) {
        (_, Some(template)) => {
            if handoff.channel != "whatsapp" {
                return Err(ApiError::validation(
                    "template: templates are for WhatsApp conversations",
                ));
            }
            if template.name.trim().is_empty() || template.language.trim().is_empty() {
                return Err(ApiError::validation(
                    "template: needs a name and a language",
                ));
            }
            let fields = [&template.name, &template.language];
            if fields
                .into_iter()
                .chain(&template.parameters)
                .any(|f| f.contains('\0') || f.chars().count() > MessageText::MAX_CHARS)
            {
                return Err(ApiError::validation(
                    "template: a field contains a NUL character or is too long",
                ));
            }
            let text = format!("Template “{}” ({})", template.name, template.language);
            (text, "template", Some(json!(template)))
        }
        (Some(text), None) => {
            let text = MessageText::parse(&text)?;
            free_text_allowed(&handoff, now)?;
            (text.as_str().to_owned(), "text", None)
        }
        (None, None) => return Err(ApiError::validation("text: is required")),
    };
    let message = NewMessage {
        kind,
        template: template.as_ref(),
        ..NewMessage::text("agent", &caller.user.name, &text)
    };
    send_agent_message(&state, &caller, &id, message).await
}

/// `POST /handoffs/{id}/attachments`: the agent sends the customer a picture or a PDF
/// (multipart: `file`) — a reply like any other (the same rules, the same delivery; on
/// WhatsApp it is uploaded there first). 201 with the message and its file.
async fn send_file(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    FileUpload { upload, .. }: FileUpload,
) -> ApiResult<(StatusCode, Json<MessageView>)> {
    let handoff = state.store.handoff(caller.workspace_id(), &id).await?;
    may_reply(&state, &caller, &handoff).await?;
    free_text_allowed(&handoff, state.clock.now_ms())?;
    let text = upload.message_text();
    let message = NewMessage {
        kind: upload.kind,
        file: Some(&upload),
        ..NewMessage::text("agent", &caller.user.name, &text)
    };
    send_agent_message(&state, &caller, &id, message).await
}

/// Stores the caller's message to the handoff's customer (the store checks again, atomically,
/// that they may) and wakes the delivery.
async fn send_agent_message(
    state: &AppState,
    caller: &Caller,
    handoff_id: &str,
    message: NewMessage<'_>,
) -> ApiResult<(StatusCode, Json<MessageView>)> {
    let message = NewMessage {
        user_id: Some(&caller.user.id),
        delivery_status: Some("sent"),
        ..message
    };
    let has_file = message.file.is_some();
    let now = state.clock.now_ms();
    let stored = state
        .store
        .add_agent_message(
            caller.workspace_id(),
            handoff_id,
            caller.actor(),
            message,
            now,
        )
        .await;
    state.outbox_wake.notify_one();
    let message = match stored {
        Ok((_, message)) => message,
        Err(err) => return Err(name_holder(state, caller, err).await),
    };
    let attachments = if has_file {
        state
            .store
            .attachments_of(caller.workspace_id(), &message.conversation_id)
            .await?
    } else {
        Vec::new()
    };
    let mut views = messages_with_attachments(std::slice::from_ref(&message), &attachments);
    Ok((StatusCode::CREATED, Json(views.remove(0))))
}

/// `POST /handoffs/{id}/typing`: whoever may reply is writing one; the customer sees "Ana is
/// typing" for a few seconds. The dashboard sends it every few seconds while the reply box
/// has text; nothing is stored. 204, or the refusal a reply would get.
async fn typing(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let handoff = state.store.handoff(caller.workspace_id(), &id).await?;
    may_reply(&state, &caller, &handoff).await?;
    crate::channels::typing::show(&state, &handoff, &caller.user.name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whether the caller may write to the handoff's customer now (the holder, or an admin), or
/// the refusal naming who holds it.
async fn may_reply(state: &AppState, caller: &Caller, handoff: &HandoffRecord) -> ApiResult<()> {
    match handoff::decide(handoff.snapshot(), caller.actor(), Action::Reply) {
        Ok(_) => Ok(()),
        Err(refusal) => Err(name_holder(state, caller, StoreError::Refused(refusal)).await),
    }
}

/// WhatsApp takes free text only within 24 hours of the customer's last message: the agent
/// is told before anything is sent.
fn free_text_allowed(handoff: &HandoffRecord, now: i64) -> ApiResult<()> {
    if handoff.channel == "whatsapp"
        && !crate::domain::whatsapp_window_open(handoff.last_customer_at, now)
    {
        return Err(ApiError::new(
            Code::WindowClosed,
            "the customer last wrote more than 24 hours ago: WhatsApp only allows an approved \
             template now",
        )
        .with_details(json!({"last_customer_at": handoff.last_customer_at.map(rfc3339)})));
    }
    Ok(())
}

/// Sends a message whose delivery failed for good once more (after an outage longer than the
/// outbox's retries): the holder or an admin, while the handoff is in progress; free text
/// only while the customer's window is open.
async fn resend(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, message_id)): Path<(String, String)>,
) -> ApiResult<Json<MessageView>> {
    let handoff = state.store.handoff(caller.workspace_id(), &id).await?;
    let now = state.clock.now_ms();
    let message = state
        .store
        .conversation_message(&handoff.conversation_id, &message_id)
        .await?;
    if message.kind != "template" {
        free_text_allowed(&handoff, now)?;
    }
    let actor = caller.actor();
    let resent = state
        .store
        .resend_message(caller.workspace_id(), &id, &message_id, actor, now)
        .await;
    state.outbox_wake.notify_one();
    match resent {
        Ok(message) => Ok(Json(MessageView::from(&message))),
        Err(err) => Err(name_holder(&state, &caller, err).await),
    }
}
