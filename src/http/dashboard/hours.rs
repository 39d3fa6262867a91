//! Settings → Business hours: when the team is at work, and what a customer handed off outside
//! them is told.

use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use maud::{Markup, html};
use serde::Deserialize;

use super::{Flash, Nav, Page, back, check_csrf, csrf_field, layout, refused, require_admin};
use crate::domain::hours::{self, BusinessHours, Span, Week};
use crate::error::{ApiError, ApiResult};
use crate::http::api::settings;
use crate::http::extract::Caller;
use crate::state::AppState;

pub const PATH: &str = "/settings/business-hours";

pub fn router() -> Router<AppState> {
    Router::new().route(PATH, get(page).post(save))
}

/// A day's spans as the form shows them: `09:00–12:30, 13:30–17:00`.
fn spans_text(spans: &[Span]) -> String {
    spans
        .iter()
        .map(|s| format!("{}–{}", s.from, s.to))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A day's field back into spans; a dash, en dash or "to" between the times.
fn parse_spans(day: &str, text: &str) -> ApiResult<Vec<Span>> {
    text.split([',', ';'])
        .map(str::trim)
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (from, to) = piece
                .split_once(['–', '-'])
                .or_else(|| piece.split_once(" to "))
                .ok_or_else(|| {
                    ApiError::validation(format!(
                        "{day}: {piece:?} is not a span of time like 09:00–17:00"
                    ))
                })?;
            Ok(Span::new(from.trim(), to.trim()))
        })
        .collect()
}

fn day_label(day: &str) -> &'static str {
    match day {
        "mon" => "Monday",
        "tue" => "Tuesday",
        "wed" => "Wednesday",
        "thu" => "Thursday",
        "fri" => "Friday",
        "sat" => "Saturday",
        _ => "Sunday",
    }
}

/// Where the team stands now, in a sentence.
fn now_text(hours: &BusinessHours, now_ms: i64) -> String {
    let Some(schedule) = hours.schedule() else {
        return "Off: the team counts as always at work, and customers are promised each bot's \
                response time."
            .to_owned();
    };
    let outlook = schedule.outlook(now_ms);
    let now = match (outlook.open, outlook.away) {
        (true, Some((from, _))) => format!("Now: at work, until {}.", schedule.local_time(from)),
        (true, None) => "Now: at work, around the clock.".to_owned(),
        (false, Some((_, back))) => format!(
            "Now: away. A customer handed off now is told the team is back {}.",
            schedule.when(back)
        ),
        (false, None) => "Now: away.".to_owned(),
    };
    match schedule.next_closed_day(now_ms) {
        Some(day) => format!("{now} Next closed day: {}.", day.format("%A %-d %B %Y")),
        None => now,
    }
}

/// The form's fields as text: the saved hours, or what an admin typed that was refused.
struct Shown {
    enabled: bool,
    timezone: String,
    /// Each day's key and spans as typed, Monday first.
    days: Vec<(&'static str, String)>,
    away_message: String,
    /// The closed days, comma-separated.
    closed_on: String,
}

impl From<&BusinessHours> for Shown {
    fn from(hours: &BusinessHours) -> Self {
        Shown {
            enabled: hours.enabled,
            timezone: hours.timezone.clone(),
            days: hours
                .week
                .days()
                .iter()
                .map(|(_, day, spans)| (*day, spans_text(spans)))
                .collect(),
            away_message: hours.away_message.clone(),
            closed_on: hours.closed_on.join(", "),
        }
    }
}

async fn page(
    State(state): State<AppState>,
    Page(caller): Page,
    Query(flash): Query<Flash>,
) -> ApiResult<Markup> {
    render(&state, &caller, flash.render(), None).await
}

/// The page, with `typed` in the form in place of the saved hours when it was refused.
async fn render(
    state: &AppState,
    caller: &Caller,
    notice: Markup,
    typed: Option<Shown>,
) -> ApiResult<Markup> {
    let ws = caller.workspace_id();
    let hours = state.store.business_hours(ws).await?;
    let (pending, _, _) = state.store.handoff_counts(ws).await?;
    let disabled = !caller.is_admin();
    let shown = typed.unwrap_or_else(|| Shown::from(&hours));
    let content = html! {
        div class="header" { h1 { "Settings → Business hours" } }
        (notice)
        form class="card" method="post" action=(PATH) {
            p id="hours-now" { (now_text(&hours, state.clock.now_ms())) }
            p class="muted small" { "Outside these hours, a customer the bot hands to the team is told when you are back instead of the bot's response time, the chat window says the team is away, and Reports also measure waits in business hours." }
            (csrf_field(caller))
            div class="toggle" {
                label for="hours-enabled" style="margin:0" { "Use business hours" }
                input id="hours-enabled" type="checkbox" name="enabled" value="true" checked[shown.enabled] disabled[disabled];
            }
            label for="hours-timezone" { "Time zone" }
            input id="hours-timezone" type="text" name="timezone" list="timezones" value=(shown.timezone) placeholder="Europe/Madrid" disabled[disabled];
            datalist id="timezones" {
                @for tz in chrono_tz::TZ_VARIANTS { option value=(tz.name()) {} }
            }
            div class="hint" { "The hours below are read in this zone, daylight saving included." }
            @for (day, spans) in &shown.days {
                label for=(format!("hours-{day}")) { (day_label(day)) }
                input id=(format!("hours-{day}")) type="text" name=(day) value=(spans) placeholder="closed" disabled[disabled];
            }
            div class="hint" { "Like 09:00–17:00, or 09:00–13:00, 14:00–18:00; empty when closed. A night shift is two spans: 22:00–24:00, then 00:00–06:00 the next day." }
            label for="hours-closed" { "Closed on" }
            input id="hours-closed" type="text" name="closed_on" value=(shown.closed_on) placeholder="2026-12-25, 2027-01-01" disabled[disabled];
            div class="hint" { "Whole days the team is off whatever the week says, like public holidays: dates such as 2026-12-25, separated by commas. A customer handed off on one is told the day you are back." }
            label for="hours-away" { "Away message" }
            textarea id="hours-away" name="away_message" maxlength=(hours::MAX_AWAY) disabled[disabled] { (shown.away_message) }
            div class="hint" { "Said after the bot's handoff message outside business hours; {back} becomes when the team is back, like “on Monday 30 November at 09:00 (CET)”." }
            @if !disabled { div style="margin-top:1rem" { button class="btn primary" type="submit" { "Save" } } }
        }
    };
    Ok(layout(
        caller,
        Nav::BusinessHours,
        "Business hours",
        pending,
        content,
    ))
}

#[derive(Deserialize)]
struct HoursForm {
    csrf_token: String,
    enabled: Option<String>,
    timezone: String,
    mon: String,
    tue: String,
    wed: String,
    thu: String,
    fri: String,
    sat: String,
    sun: String,
    away_message: String,
    #[serde(default)]
    closed_on: String,
}

impl HoursForm {
    fn hours(&self) -> ApiResult<BusinessHours> {
        Ok(BusinessHours {
            enabled: self.enabled.as_deref() == Some("true"),
            timezone: self.timezone.trim().to_owned(),
            week: Week {
                mon: parse_spans("mon", &self.mon)?,
                tue: parse_spans("tue", &self.tue)?,
                wed: parse_spans("wed", &self.wed)?,
                thu: parse_spans("thu", &self.thu)?,
                fri: parse_spans("fri", &self.fri)?,
                sat: parse_spans("sat", &self.sat)?,
                sun: parse_spans("sun", &self.sun)?,
            },
            away_message: self.away_message.clone(),
            closed_on: self
                .closed_on
                .split([',', ';', ' ', '\n', '\r', '\t'])
                .filter(|day| !day.is_empty())
                .map(str::to_owned)
                .collect(),
        })
    }

    /// The form as it was sent.
    fn typed(self) -> Shown {
        Shown {
            enabled: self.enabled.as_deref() == Some("true"),
            timezone: self.timezone,
            days: vec![
                ("mon", self.mon),
                ("tue", self.tue),
                ("wed", self.wed),
                ("thu", self.thu),
                ("fri", self.fri),
                ("sat", self.sat),
                ("sun", self.sun),
            ],
            away_message: self.away_message,
            closed_on: self.closed_on,
        }
    }
}

async fn save(
    State(state): State<AppState>,
    Page(caller): Page,
    axum::Form(form): axum::Form<HoursForm>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &form.csrf_token)?;
    require_admin(&caller)?;
    let saved = match form.hours() {
        Ok(hours) => settings::save_hours(&state, caller.workspace_id(), hours).await,
        Err(err) => Err(err),
    };
    match saved {
        Ok(_) => Ok(back(PATH, Ok("Saved."))),
        // The page again with the reason on top and what was typed, to fix.
        Err(err) => {
            refused(err, |notice| {
                render(&state, &caller, notice, Some(form.typed()))
            })
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_is_typed_as_spans_with_a_dash() {
        let spans = parse_spans("mon", " 09:00–12:30, 13:30 - 17:00 ;").unwrap();
        assert_eq!(
            spans,
            [Span::new("09:00", "12:30"), Span::new("13:30", "17:00")]
        );
        assert_eq!(spans_text(&spans), "09:00–12:30, 13:30–17:00");
        assert_eq!(parse_spans("sun", "  ").unwrap(), []);
        assert_eq!(
            parse_spans("sat", "10:00 to 14:00").unwrap(),
            [Span::new("10:00", "14:00")]
        );
        let err = parse_spans("tue", "9am").unwrap_err();
        assert!(err.message.contains("tue"), "{}", err.message);
    }
}
