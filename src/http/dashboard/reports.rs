//! Reports (admins): the last week, month or quarter at a glance — what the bot handled alone,
//! how long customers waited for the team, who answered, and the questions to add to the
//! knowledge base.

use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use maud::{Markup, html};
use serde::Deserialize;

use super::handoffs::ago;
use super::{Nav, Page, layout};
use crate::domain::rating::Score;
use crate::error::ApiResult;
use crate::http::api::reports::{ReportQuery, report_for};
use crate::reports::{Report, Satisfaction, Waits, wait_text};
use crate::state::AppState;

const PATH: &str = "/reports";

/// The spans the page offers, in days.
const SPANS: [(i64, &str); 3] = [
    (7, "Last 7 days"),
    (30, "Last 30 days"),
    (90, "Last 90 days"),
];

pub fn router() -> Router<AppState> {
    Router::new().route(PATH, get(page))
}

#[derive(Deserialize)]
struct PageQuery {
    days: Option<i64>,
    bot: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    Page(caller): Page,
    Query(query): Query<PageQuery>,
) -> ApiResult<Markup> {
    let ws = caller.workspace_id();
    let (pending, _, _) = state.store.handoff_counts(ws).await?;
    if !caller.is_admin() {
        let content = html! {
            div class="header" { h1 { "Reports" } }
            p class="muted" { "Only admins can see reports." }
        };
        return Ok(layout(&caller, Nav::Reports, "Reports", pending, content));
    }
    let days = query
        .days
        .filter(|d| SPANS.iter().any(|(days, _)| days == d))
        .unwrap_or(crate::reports::DEFAULT_DAYS);
    let bots = state.store.list_bots(ws).await?;
    let bot = query.bot.filter(|id| bots.iter().any(|b| &b.id == id));
    let report = report_for(
        &state,
        ws,
        ReportQuery {
            days: Some(days),
            bot_id: bot.clone(),
            ..ReportQuery::default()
        },
    )
    .await?;
    let now = state.clock.now_ms();
    let content = html! {
        div class="header" {
            h1 { "Reports" }
            form class="actions" method="get" action=(PATH) id="report-span" {
                select name="days" aria-label="Span" {
                    @for (d, label) in SPANS {
                        option value=(d) selected[d == days] { (label) }
                    }
                }
                select name="bot" aria-label="Bot" {
                    option value="" { "All bots" }
                    @for b in &bots {
                        option value=(b.id) selected[bot.as_deref() == Some(b.id.as_str())] { (b.name) }
                    }
                }
                button class="btn" type="submit" { "Show" }
            }
        }
        p class="muted small" {
            "From " (rfc3339_day(&report.from)) " to " (rfc3339_day(&report.to))
            ". A handoff counts in the span it was opened in; waits are of the handoffs that got that far, "
            "and a claim is the current holder's (after a release, the claim that followed)."
        }
        (figures(&report))
        div class="grid2" {
            (team(&report))
            (questions(&report, bot.as_deref(), now))
        }
        @if report.satisfaction.asked > 0 { (feedback(&report, now)) }
    };
    Ok(layout(&caller, Nav::Reports, "Reports", pending, content))
}

/// "2026-11-24" of an RFC 3339 time.
fn rfc3339_day(time: &str) -> &str {
    time.get(..10).unwrap_or(time)
}

fn figures(report: &Report) -> Markup {
    let c = &report.conversations;
    let h = &report.handoffs;
    let share = c.bot_only_rate.map(|rate| format!("{:.0}%", rate * 100.0));
    html! {
        div class="stats" id="report-figures" {
            div class="card stat" data-figure="conversations" {
                div class="muted small" { "Conversations" }
                div class="figure" { (c.active) }
                div class="muted small" { (report.messages.customer) " customer messages" }
            }
            div class="card stat" data-figure="bot-only" {
                div class="muted small" { "Handled by the bot alone" }
                div class="figure" { (share.as_deref().unwrap_or("—")) }
                div class="muted small" { (c.bot_only) " of " (c.active) " · " (report.messages.bot) " bot messages" }
            }
            div class="card stat" data-figure="handoffs" {
                div class="muted small" { "Handed to the team" }
                div class="figure" { (h.opened) }
                div class="muted small" {
                    (h.customer_request) " asked for a person · " (h.kb_miss) " not in the KB"
                    @if h.bot_error > 0 { " · " (h.bot_error) " bot errors" }
                }
                div class="muted small" {
                    (h.pending) " pending · " (h.in_progress) " in progress · " (h.resolved) " resolved"
                }
                @if let Some(b) = &report.business_hours {
                    div class="muted small" data-figure="after-hours" { (b.opened_after_hours) " opened outside business hours" }
                }
            }
            @let open = report.business_hours.as_ref();
            (wait("Waited to be claimed", "claim", &h.time_to_claim, open.map(|b| &b.time_to_claim)))
            (wait("Waited for a first reply", "first-reply", &h.time_to_first_reply, open.map(|b| &b.time_to_first_reply)))
            (wait("Time to resolve", "resolve", &h.time_to_resolve, open.map(|b| &b.time_to_resolve)))
            @let s = &report.satisfaction;
            div class="card stat" data-figure="satisfaction" {
                div class="muted small" { "Customer satisfaction" }
                div class="figure" { (csat(s)) }
                div class="muted small" {
                    @if s.asked == 0 {
                        "no one was asked (the Satisfaction Survey asks after a person helped)"
                    } @else {
                        "share rated Great · " (s.rated) " of " (s.asked) " asked answered"
                    }
                }
                @if s.rated > 0 {
                    div class="muted small" { (s.great) " great · " (s.okay) " okay · " (s.poor) " poor" }
                }
            }
        }
    }
}

/// The CSAT score as a percentage, or a dash when no one answered.
fn csat(satisfaction: &Satisfaction) -> String {
    satisfaction
        .score
        .map_or_else(|| "—".to_owned(), |score| format!("{:.0}%", score * 100.0))
}

/// A wait's card; with business hours on, the same wait counting only the hours at work below.
fn wait(label: &str, key: &str, waits: &Waits, in_business_hours: Option<&Waits>) -> Markup {
    html! {
        div class="card stat" data-figure=(key) {
            div class="muted small" { (label) }
            div class="figure" { (median(waits)) }
            div class="muted small" {
                @match waits.p90_seconds {
                    Some(p90) => { "median · 90% within " (wait_text(p90)) " · " (waits.count) " handoffs" }
                    None => "no handoffs got this far",
                }
            }
            @if let Some(open) = in_business_hours.filter(|w| w.count > 0) {
                div class="muted small" data-figure=(format!("{key}-business")) {
                    "in business hours: " (median(open)) " median"
                    @if let Some(p90) = open.p90_seconds { " · 90% within " (wait_text(p90)) }
                }
            }
            @if let Some(waiting) = waits.still_waiting.filter(|n| *n > 0) {
                div class="small waiting" { (waiting) " still waiting" }
            }
        }
    }
}

fn median(waits: &Waits) -> String {
    waits
        .median_seconds
        .map_or_else(|| "—".to_owned(), wait_text)
}

fn team(report: &Report) -> Markup {
    html! {
        div class="card" style="padding:0" {
            h2 style="padding:1.1rem 1.25rem 0" { "Team" }
            table id="report-team" {
                thead { tr {
                    th { "Person" } th { "Claimed" } th { "Resolved" } th { "Replies" }
                    th title="Median wait of the handoffs they answered first" { "First reply" }
                    th title="Share of Great among their customers' ratings" { "Satisfaction" }
                } }
                tbody {
                    @for p in &report.people {
                        tr data-user=(p.user_id) {
                            td { (p.name) div class="muted small" { (p.role) } }
                            td { (p.claimed) }
                            td { (p.resolved) }
                            td { (p.replies) }
                            td { (median(&p.first_replies)) }
                            td title=(format!("{} ratings", p.satisfaction.rated)) { (csat(&p.satisfaction)) }
                        }
                    }
                }
            }
        }
    }
}

/// The Satisfaction Survey's answers to read: short of Great, or with a comment.
fn feedback(report: &Report, now: i64) -> Markup {
    html! {
        div class="card" id="report-feedback" style="margin-top:1rem" {
            h2 { "Customer feedback" }
            p class="muted small" { "The " (crate::reports::FEEDBACK) " latest answers given in this span that were short of Great or came with a comment." }
            @if report.feedback.is_empty() {
                p class="empty" { "None in this span." }
            }
            ul style="padding-left:1.1rem" {
                @for f in &report.feedback {
                    li style="margin-bottom:.5rem" data-handoff=(f.handoff_id) {
                        a href=(format!("/handoffs/{}", f.handoff_id)) {
                            (Score::parse(&f.score).map(Score::label).unwrap_or("?"))
                        }
                        @if let Some(comment) = &f.comment { " — “" (comment) "”" }
                        div class="muted small" { (f.agent_name) " · " (ago(f.rated_ms, now)) }
                    }
                }
            }
        }
    }
}

fn questions(report: &Report, bot: Option<&str>, now: i64) -> Markup {
    html! {
        div class="card" id="report-questions" {
            h2 { "Questions the bot could not answer" }
            p class="muted small" {
                "What customers asked when the knowledge base had nothing, most asked first. "
                @match bot {
                    Some(bot) => { a href=(format!("/bots/{bot}")) { "Add the answers to the knowledge base" } "." }
                    None => "Add the answers to the bot's knowledge base.",
                }
            }
            @if report.unanswered.is_empty() {
                p class="empty" { "None in this span." }
            }
            ul style="padding-left:1.1rem" {
                @for q in &report.unanswered {
                    li style="margin-bottom:.5rem" {
                        a href=(format!("/handoffs/{}", q.handoff_id)) { (q.text) }
                        div class="muted small" {
                            @if q.count > 1 { "asked " (q.count) " times · " }
                            "last " (ago(q.last_asked_ms, now))
                        }
                    }
                }
            }
        }
    }
}
