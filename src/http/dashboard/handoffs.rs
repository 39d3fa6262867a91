//! Tools → Handoffs: the queue with its tabs, and one handoff with its history and the team's
//! notes. Actions (claim, reply, note, transfer, release, resolve) go to the JSON API from the
//! page's script, so the page stays live.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;

use super::{Flash, Nav, Page, json_for_script, layout};
use crate::domain::clock::rfc3339;
use crate::domain::handoff::Status;
use crate::domain::{labels, rating, search};
use crate::error::ApiResult;
use crate::http::extract::Caller;
use crate::state::AppState;
use crate::store::{
    AttachmentRecord, HandoffFilter, HandoffRecord, MessageMatch, MessageRecord, NoteRecord,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/handoffs", get(list))
        .route("/handoffs/{id}", get(view))
}

#[derive(Deserialize)]
struct ListQuery {
    tab: Option<String>,
    bot: Option<String>,
    /// `me`: only the handoffs the viewer holds.
    holder: Option<String>,
    order: Option<String>,
    /// Older (or, oldest first, newer) handoffs: those after this one.
    after: Option<String>,
    /// Only those filed under this label.
    label: Option<String>,
    /// A search of what was said and who said it, over every tab.
    q: Option<String>,
}

/// Handoffs on one page of the queue.
const PAGE: usize = 200;

/// "4 min", "2 h", "3 d": how long someone has waited.
pub fn waited(from_ms: i64, now_ms: i64) -> String {
    let minutes = (now_ms - from_ms).max(0) / 60_000;
    match minutes {
        0 => "just now".to_owned(),
        m if m < 60 => format!("{m} min"),
        m if m < 48 * 60 => format!("{} h", m / 60),
        m => format!("{} d", m / (24 * 60)),
    }
}

/// The customer's name as a saved reply may greet them: not the placeholder of a visitor the
/// site did not name or of a WhatsApp customer without a profile name, nor a phone number.
fn known_name(name: &str) -> Option<&str> {
    let placeholder = [
        crate::http::widget::ANONYMOUS_NAME,
        crate::channels::whatsapp::UNNAMED_CUSTOMER,
    ]
    .contains(&name);
    let number = name
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-'));
    (!placeholder && !number).then_some(name)
}

/// "just now", "4 min ago", "3 d ago": how long ago something happened.
pub fn ago(from_ms: i64, now_ms: i64) -> String {
    match waited(from_ms, now_ms) {
        now if now_ms - from_ms < 60_000 => now,
        span => format!("{span} ago"),
    }
}

fn hhmm(ms: i64) -> String {
    rfc3339(ms)[11..16].to_owned()
}

fn reason_label(reason: &str) -> &'static str {
    match reason {
        "customer_request" => "Asked for a person",
        "kb_miss" => "No answer in KB",
        "bot_error" => "Bot error",
        _ => "Other",
    }
}

fn status_label(status: &str) -> &'static str {
    match status {
        "pending" => "Pending",
        "in_progress" => "In progress",
        _ => "Resolved",
    }
}

/// The first sentence of a summary, for the queue.
fn first_line(summary: &str) -> &str {
    summary.find(". ").map_or(summary, |end| &summary[..=end])
}

async fn list(
    State(state): State<AppState>,
    Page(caller): Page,
    Query(query): Query<ListQuery>,
    Query(flash): Query<Flash>,
) -> ApiResult<Markup> {
    let asked_tab = query.tab.as_deref().and_then(Status::parse);
    let tab = asked_tab.unwrap_or(Status::Pending);
    let oldest_first = query.order.as_deref() == Some("oldest");
    let bot = query.bot.filter(|b| !b.is_empty());
    let mine = query.holder.as_deref() == Some("me");
    // A label no handoff can have (mistyped in the address) filters nothing.
    let label = query
        .label
        .as_deref()
        .filter(|l| !l.is_empty())
        .and_then(|l| labels::label(l).ok());
    let q = query.q.unwrap_or_default();
    // A search that cannot be run says why and finds nothing.
    let (terms, search_error) = match search::terms(&q) {
        Ok(terms) => (terms, None),
        Err(err) => (Vec::new(), Some(format!("Search: {}.", err.problem))),
    };
    let searching = !terms.is_empty() || search_error.is_some();
    // A search looks in every state unless a tab narrows it; the queue is always one tab.
    let shown_tab = if searching { asked_tab } else { Some(tab) };
    let filter = HandoffFilter {
        status: shown_tab,
        bot_id: bot.clone(),
        holder: mine.then(|| caller.user.id.clone()),
        oldest_first,
        limit: PAGE as i64,
        after: query.after.filter(|a| !a.is_empty()),
        label: label.clone(),
        terms,
    };
    let ws = caller.workspace_id();
    let handoffs = match search_error {
        Some(_) => Vec::new(),
        None => state.store.list_handoffs(ws, &filter).await?,
    };
    let ids: Vec<&str> = handoffs.iter().map(|h| h.id.as_str()).collect();
    let matches = state.store.handoff_matches(ws, &ids, &filter.terms).await?;
    let (pending, in_progress, resolved) = state.store.handoff_counts(ws).await?;
    let bots = state.store.list_bots(ws).await?;
    let seq = state.store.workspace_seq(ws).await?;
    let now = state.clock.now_ms();
    // This page with another tab (none: every state, when searching), label or search.
    let link = |status: Option<Status>, label: Option<&str>, q: &str| {
        format!(
            "/handoffs?tab={}&bot={}&holder={}&order={}&label={}&q={}",
            status.map_or("", Status::as_str),
            bot.as_deref().unwrap_or(""),
            if mine { "me" } else { "" },
            if oldest_first { "oldest" } else { "newest" },
            label.unwrap_or(""),
            super::urlencode(q),
        )
    };
    let here = |status: Option<Status>| link(status, label.as_deref(), &q);
    let next_link = handoffs
        .last()
        .filter(|_| handoffs.len() == PAGE)
        .map(|last| format!("{}&after={}", here(shown_tab), last.id));
    // While searching the counts would be the queue's, not the search's: left out.
    let tab_link = |status: Option<Status>, count: i64| {
        let active = status == shown_tab;
        html! {
            a href=(here(status)) class=[active.then_some("active")] data-tab=(status.map_or("all", Status::as_str)) {
                (status.map_or("All", |s| status_label(s.as_str())))
                @if let Some(status) = status.filter(|_| !searching) {
                    span class="count" id=(format!("count-{}", status.as_str())) { (count) }
                }
            }
        }
    };
    let content = html! {
        div class="header" {
            h1 { "Handoffs" }
            div class="actions" {
                button class="btn" id="enable-alerts" type="button" { "Enable alerts" }
            }
        }
        (flash.render())
        div class="tabs" role="tablist" {
            @if searching { (tab_link(None, 0)) }
            (tab_link(Some(Status::Pending), pending))
            (tab_link(Some(Status::InProgress), in_progress))
            (tab_link(Some(Status::Resolved), resolved))
        }
        div class="actions" style="margin-bottom:1rem" {
        form class="actions" method="get" action="/handoffs" {
            @if let Some(tab) = shown_tab {
                input type="hidden" name="tab" value=(tab.as_str());
            }
            @if searching {
                input type="hidden" name="q" value=(q);
            }
            select name="bot" aria-label="Filter by bot" style="width:auto" data-autosubmit {
                option value="" { "All bots" }
                @for b in &bots {
                    option value=(b.id) selected[bot.as_deref() == Some(b.id.as_str())] { (b.name) }
                }
            }
            select name="holder" aria-label="Whose" style="width:auto" data-autosubmit {
                option value="" { "Everyone's" }
                option value="me" selected[mine] { "Mine" }
            }
            select name="order" aria-label="Order" style="width:auto" data-autosubmit {
                option value="newest" selected[!oldest_first] { "Newest first" }
                option value="oldest" selected[oldest_first] { "Oldest waiting first" }
            }
            @if let Some(label) = &label {
                input type="hidden" name="label" value=(label);
                a class="badge label" id="label-filter" href=(link(shown_tab, None, &q)) title="Show every label" { "#" (label) " ✕" }
            }
        }
        // Its own form: a new search looks in every state, with the filters above.
        form class="actions" method="get" action="/handoffs" role="search" style="flex:1" {
            @if let Some(bot) = &bot { input type="hidden" name="bot" value=(bot); }
            @if mine { input type="hidden" name="holder" value="me"; }
            @if oldest_first { input type="hidden" name="order" value="oldest"; }
            @if let Some(label) = &label { input type="hidden" name="label" value=(label); }
            input type="search" name="q" id="search" value=(q) style="width:auto;flex:1;min-width:12rem"
                placeholder="Search messages, names, numbers" aria-label="Search handoffs";
            @if searching {
                a class="btn" id="clear-search" href=(link(Some(tab), label.as_deref(), "")) { "Clear search" }
            }
        }
        }
        @if let Some(error) = &search_error {
            div class="flash error" role="alert" id="search-error" { (error) }
        }
        div class="card" style="padding:0" {
            table {
                thead {
                    tr {
                        th { "Customer" }
                        @if searching { th { "Status" } th { "Found" } th { "Opened" } }
                        @else { th { "Reason" } th { "Summary" } th { "Waiting" } }
                        th { "Holder" }
                    }
                }
                tbody id="handoff-list" data-seq=(seq) {
                    @for h in &handoffs {
                        @if searching {
                            (found_row(h, matches.get(&h.id), &filter.terms, now))
                        } @else {
                            (row(h, now, &|label| link(shown_tab, Some(label), &q)))
                        }
                    }
                    @if handoffs.is_empty() {
                        tr { td colspan="5" class="empty" {
                            @if searching { "No handoff holds all of that." }
                            @else { "Nothing here. New requests appear live." }
                        } }
                    }
                    // In the list, so a live refresh moves it with the rows.
                    @if let Some(next) = &next_link {
                        tr { td colspan="5" { a class="btn" id="next-page" href=(next) { "Next " (PAGE) " →" } } }
                    }
                }
            }
        }
    };
    Ok(layout(&caller, Nav::Handoffs, "Handoffs", pending, content))
}

/// A handoff in the queue; each of its labels links to the queue filtered by it.
fn row(h: &HandoffRecord, now: i64, filtered: &dyn Fn(&str) -> String) -> Markup {
    html! {
        tr class="row" data-handoff=(h.id) {
            td {
                a class="open" href=(format!("/handoffs/{}", h.id)) { (h.customer_name) }
                div {
                    span class="badge channel" { (h.channel) }
                    @for label in labels::from_stored(&h.labels) {
                        " " a class="badge label" href=(filtered(&label)) { "#" (label) }
                    }
                }
            }
            td { span class="badge reason" { (reason_label(&h.reason)) } }
            td class="summary-line" { (first_line(&h.summary)) }
            td class="waiting" data-since=(h.created_at) { (waited(h.created_at, now)) }
            td { @match &h.claimed_by_name { Some(name) => (name), None => span class="muted" { "—" } } }
        }
    }
}

/// A handoff a search found: the message that shows where, its terms marked, opening the
/// handoff at that message; the summary when the customer's name or number matched.
fn found_row(
    h: &HandoffRecord,
    found: Option<&MessageMatch>,
    terms: &[String],
    now: i64,
) -> Markup {
    let href = match found {
        Some(m) => format!("/handoffs/{}#m-{}", h.id, m.message_id),
        None => format!("/handoffs/{}", h.id),
    };
    html! {
        tr class="row" data-handoff=(h.id) {
            td {
                a class="open" href=(href) { (h.customer_name) }
                div { span class="badge channel" { (h.channel) } }
            }
            td { span class=(format!("badge {}", h.status)) { (status_label(&h.status)) } }
            td class="summary-line found" {
                @match found {
                    Some(m) => {
                        span class="muted" { (m.author_name) ": " }
                        @for (text, hit) in search::excerpt(&m.text, terms).parts() {
                            @if hit { mark { (text) } } @else { (text) }
                        }
                    }
                    None => (first_line(&h.summary)),
                }
            }
            td title=(rfc3339(h.created_at)) { (ago(h.created_at, now)) }
            td { @match &h.claimed_by_name { Some(name) => (name), None => span class="muted" { "—" } } }
        }
    }
}

async fn view(
    State(state): State<AppState>,
    Page(caller): Page,
    Path(id): Path<String>,
) -> ApiResult<Markup> {
    let ws = caller.workspace_id();
    let handoff = state.store.handoff(ws, &id).await?;
    let messages = state.store.all_messages(&handoff.conversation_id).await?;
    let (pending, _, _) = state.store.handoff_counts(ws).await?;
    let seq = state.store.workspace_seq(ws).await?;
    let now = state.clock.now_ms();
    let notifications = state.store.handoff_deliveries(ws, &handoff.id).await?;
    let attachments = state
        .store
        .attachments_of(ws, &handoff.conversation_id)
        .await?;
    let whatsapp = handoff.channel == "whatsapp";
    let window_closes = handoff
        .last_customer_at
        .map(|at| at + crate::channels::notify::WINDOW_MS);
    let window_closed = whatsapp && window_closes.is_none_or(|closes| closes <= now);
    let saved_replies: Vec<_> = state
        .store
        .saved_replies(ws)
        .await?
        .into_iter()
        .map(|r| json!({"shortcut": r.shortcut, "text": r.text}))
        .collect();
    let notes = state.store.notes_of(ws, &handoff.conversation_id).await?;
    let members: Vec<_> = state
        .store
        .list_users(ws)
        .await?
        .into_iter()
        .map(|u| json!({"id": u.id, "name": u.name}))
        .collect();
    let known_name = known_name(&handoff.customer_name);
    let page = json!({
        "saved_replies": saved_replies,
        "members": members,
        "agent_name": caller.user.name,
        "customer_known_name": known_name,
        "window_closed": window_closed,
        "handoff_id": handoff.id,
        "conversation_id": handoff.conversation_id,
        "status": handoff.status,
        "holder_id": handoff.claimed_by,
        "holder_name": handoff.claimed_by_name,
        "contact_id": handoff.contact_id,
        "customer_name": handoff.customer_name,
        "labels": labels::from_stored(&handoff.labels),
        "seq": seq,
    });
    let content = html! {
        script type="application/json" id="page-data" { (json_for_script(&page)) }
        div class="header" {
            div {
                a href="/handoffs" class="small" { "← All handoffs" }
                h1 style="margin-top:.4rem" { (handoff.customer_name) }
                div class="actions" {
                    span class=(format!("badge {}", handoff.status)) id="status-badge" { (status_label(&handoff.status)) }
                    span class="badge reason" { (reason_label(&handoff.reason)) }
                    span class="badge channel" { (handoff.channel) }
                }
            }
            div class="actions" {
                button class="btn primary" id="claim" type="button" hidden[handoff.status != "pending"] { "Claim" }
                @if caller.is_admin() {
                    button class="btn" id="release" type="button" hidden[handoff.status != "in_progress"] { "Release" }
                }
                button class="btn ok" id="resolve" type="button" hidden[handoff.status == "resolved"] { "Resolve" }
                @if caller.is_admin() {
                    button class="btn danger" id="erase" type="button"
                        title="Delete everything kept about this customer, for a customer who asks to be forgotten" {
                        "Erase customer"
                    }
                }
            }
        }
        div class="banner" id="holder-banner" role="status" hidden[!claimed_by_other(&caller, &handoff)] {
            @if let Some(name) = &handoff.claimed_by_name { (name) " has claimed this handoff." }
        }
        div class="flash error" id="action-error" role="alert" hidden {}
        div class="grid2" style="grid-template-columns: 2fr 1fr" {
            div {
                div class="summary-box" {
                    h2 { "Summary" }
                    div id="summary" { (handoff.summary) }
                }
                div class="card" {
                    h2 { "Conversation" }
                    div class="conversation" id="conversation" aria-live="polite" {
                        (history(&messages, &notes, &attachments))
                    }
                    // Filled in while the customer types in the chat window (WhatsApp does not say).
                    @if !whatsapp {
                        div class="customer-typing small muted" id="customer-typing" role="status" hidden {}
                    }
                    form class="composer" id="composer" {
                        textarea id="reply-text" name="text" placeholder="Type your reply…" aria-label="Reply" {}
                        button class="btn" id="attach" type="button" title="Send a picture (JPEG, PNG) or a PDF, up to 5 MB" { "Attach" }
                        input id="reply-file" type="file" accept="image/jpeg,image/png,application/pdf" hidden;
                        button class="btn primary" id="send" type="submit" { "Send" }
                    }
                    ul class="suggestions" id="reply-suggestions" role="listbox" aria-label="Saved replies" hidden {}
                    div class="hint" id="composer-hint" {}
                    form class="note-form" id="note-form" {
                        label for="note-text" class="small muted" { "Note for the team — never shown in the customer's chat" }
                        div class="composer" style="margin-top:.3rem" {
                            textarea id="note-text" name="text" placeholder="Write a note…" {}
                            button class="btn" id="add-note" type="submit" { "Add note" }
                        }
                    }
                    @if whatsapp {
                        form class="card" id="template-form" hidden[!window_closed] style="margin-top:1rem;background:#fafbff" {
                            h2 { "Send an approved template" }
                            p class="muted small" { "The customer last wrote more than 24 hours ago, so WhatsApp accepts only an approved template until they write again." }
                            div class="grid2" {
                                div { label for="tpl-name" { "Template name" } input id="tpl-name" type="text" name="name" required; }
                                div { label for="tpl-language" { "Language" } input id="tpl-language" type="text" name="language" value="en_US" required; }
                            }
                            label for="tpl-params" { "Parameters (comma-separated)" }
                            input id="tpl-params" type="text" name="parameters";
                            div style="margin-top:.8rem" { button class="btn primary" type="submit" { "Send template" } }
                        }
                    }
                }
            }
            div class="card" {
                form id="transfer-form" class="transfer" hidden {
                    h2 id="transfer-title" { "Transfer" }
                    label for="transfer-to" { "To" }
                    select id="transfer-to" name="user_id" required {
                        option value="" { "Choose a teammate…" }
                    }
                    label for="transfer-note" { "Note for them (optional; never shown in the customer's chat)" }
                    textarea id="transfer-note" name="note" rows="2" {}
                    div style="margin-top:.6rem" { button class="btn" id="transfer" type="submit" { "Transfer" } }
                }
                h2 { "Details" }
                dl class="facts" {
                    dt { "Customer" } dd { (handoff.customer_name) }
                    @if let Some(phone) = &handoff.customer_phone { dt { "Phone" } dd { (phone) } }
                    dt { "Channel" } dd { (handoff.channel) }
                    dt { "Requested" } dd title=(rfc3339(handoff.created_at)) { (ago(handoff.created_at, now)) }
                    dt { "Holder" } dd id="holder" { (handoff.claimed_by_name.as_deref().unwrap_or("nobody yet")) }
                    @let asked = handoff.rating_requested_at.is_some();
                    dt id="rating-label" hidden[!asked] { "Customer rating" }
                    dd id="rating" hidden[!asked] { (rating_text(&handoff, now)) }
                    @if let Some(at) = handoff.last_customer_at {
                        dt { "Customer last wrote" } dd title=(rfc3339(at)) { (ago(at, now)) }
                    }
                    @if whatsapp {
                        dt { "WhatsApp window" }
                        dd id="window" {
                            @match window_closes {
                                Some(closes) if !window_closed => { "open for " (waited(now, closes)) }
                                _ => { "closed: templates only" }
                            }
                        }
                    }
                }
                h2 style="margin-top:1.2rem" { "Labels" }
                div class="labels" id="labels" {
                    @for label in labels::from_stored(&handoff.labels) {
                        span class="badge label" data-label=(label) { "#" (label) }
                    }
                }
                form class="composer" id="label-form" style="margin-top:.5rem" {
                    input id="label-text" type="text" name="label" maxlength="100" placeholder="Add a label, like refund" aria-label="Add a label";
                    button class="btn" id="add-label" type="submit" { "Add" }
                }
                @if !notifications.is_empty() {
                    h2 style="margin-top:1.2rem" { "Agents notified" }
                    ul class="small" style="padding-left:1.1rem" {
                        @for n in &notifications {
                            @let payload: serde_json::Value = serde_json::from_str(&n.payload).unwrap_or_default();
                            li {
                                (payload["to"].as_str().unwrap_or("?"))
                                " · "
                                @let error = n.last_error.as_deref().unwrap_or_default();
                                @match (crate::views::notification_status(n), error) {
                                    ("failed", _) => span class="badge pending" title=(error) { "failed: " (error) },
                                    ("pending", "") => span class="badge" { "queued" },
                                    ("pending", _) => span class="badge pending" title=(error) { "retrying" },
                                    (status, _) => span class="badge resolved" { (status) },
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(layout(
        &caller,
        Nav::Handoffs,
        &handoff.customer_name,
        pending,
        content,
    ))
}

/// The customer's rating as the details show it (dashboard.js writes the same when it changes).
fn rating_text(handoff: &HandoffRecord, now: i64) -> String {
    let score = handoff.rating_score.as_deref().map(rating::Score::parse);
    let closed = handoff
        .rating_requested_at
        .is_some_and(|at| !rating::is_open(at, now));
    match (score, &handoff.rating_comment) {
        (Some(Ok(score)), Some(comment)) => format!("{} — “{comment}”", score.label()),
        (Some(Ok(score)), None) => score.label().to_owned(),
        _ if closed => "asked, not answered".to_owned(),
        _ => "asked, no answer yet".to_owned(),
    }
}

fn claimed_by_other(caller: &Caller, handoff: &HandoffRecord) -> bool {
    handoff.status == "in_progress"
        && handoff.claimed_by.as_deref() != Some(caller.user.id.as_str())
}

/// A conversation as the team reads it: its messages, each with its file, and the team's notes
/// between them where they were written.
pub(super) fn history(
    messages: &[MessageRecord],
    notes: &[NoteRecord],
    attachments: &[AttachmentRecord],
) -> Markup {
    let mut notes = notes.iter().peekable();
    html! {
        @for m in messages {
            @while let Some(n) = notes.next_if(|n| n.seq < m.seq) { (note(n)) }
            (message(m, attachments.iter().find(|a| a.message_id == m.id)))
        }
        @for n in notes { (note(n)) }
    }
}

fn note(n: &NoteRecord) -> Markup {
    html! {
        div class="msg note" data-note=(n.id) {
            div class="meta" {
                span { "Note · " (n.author_name) }
                span title=(rfc3339(n.created_at)) { (hhmm(n.created_at)) }
            }
            div class="text" { (n.text) }
        }
    }
}

pub(super) fn message(m: &MessageRecord, attachment: Option<&AttachmentRecord>) -> Markup {
    html! {
        div class=(format!("msg {}", m.author)) id=(format!("m-{}", m.id)) data-message=(m.id) data-seq=(m.seq) {
            @if m.author != "system" {
                div class="meta" {
                    span { (m.author_name) }
                    span title=(rfc3339(m.created_at)) { (hhmm(m.created_at)) }
                    @if let Some(status) = &m.delivery_status {
                        span class="delivery" data-delivery=(m.id) title=[m.delivery_error.as_deref()] { (status) }
                    }
                }
            }
            div class="text" { (m.text) }
            @if let Some(a) = attachment {
                div class="attachment" data-attachment=(a.id) { (attachment_view(a, &m.author_name)) }
            }
        }
    }
}

/// A file in the history (`sender`'s): shown when the browser can show it safely, else a
/// download link; or why it is not there (yet).
fn attachment_view(a: &AttachmentRecord, sender: &str) -> Markup {
    let url = crate::views::attachment_url(&a.id);
    let name = a.filename.clone().unwrap_or_else(|| a.kind.clone());
    let essence = crate::http::api::attachments::media_type(&a.mime_type);
    let essence = essence.as_str();
    html! {
        @match a.status.as_str() {
            "stored" => {
                @if essence.starts_with("image/") && essence != "image/svg+xml" {
                    a href=(url) target="_blank" rel="noopener" {
                        img src=(url) alt=(format!("{} from {sender}", a.kind)) loading="lazy";
                    }
                } @else if essence.starts_with("audio/") {
                    audio controls preload="none" src=(url) {}
                } @else if essence.starts_with("video/") {
                    video controls preload="none" src=(url) {}
                }
                a href=(url) download=(name) {
                    "Download " (name) " (" (kib(a.size.unwrap_or(0))) ")"
                }
            }
            "failed" => {
                span class="hint" {
                    "The " (a.kind) " could not be fetched from WhatsApp: "
                    (a.last_error.as_deref().unwrap_or("unknown error"))
                }
            }
            _ => {
                span class="hint" {
                    "Fetching the " (a.kind) " from WhatsApp…"
                    @if let Some(error) = &a.last_error { " (the last try failed: " (error) "; trying again)" }
                }
            }
        }
    }
}

fn kib(bytes: i64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
    } else if bytes < 1024 {
        format!("{bytes} bytes")
    } else {
        format!("{} KiB", (bytes + 1023) / 1024)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_spans_and_the_last_minute_as_just_now() {
        assert_eq!(waited(0, 30_000), "just now");
        assert_eq!(ago(0, 30_000), "just now");
        assert_eq!(ago(0, 4 * 60_000), "4 min ago");
        assert_eq!(ago(0, 3 * 86_400_000), "3 d ago");
    }
}
